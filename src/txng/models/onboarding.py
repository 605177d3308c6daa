"""Self-registration of organisations: e-mail verification, then approval by an authority."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from txng.models.base import Base, BigIntPK, TimestampMixin, UTCDateTime


class Registration(TimestampMixin, Base):
    """One application: a pending organisation and its inactive enterprise administrator.

    state: pending_verification → pending_approval → approved | rejected.
    """

    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # Copied from the organisation so that the commune officer's queue is one indexed read.
    commune_code: Mapped[str] = mapped_column(String(5), index=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    # SHA-256 of the e-mail verification token; cleared when used (single use).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the application was rejected; shown to the applicant.
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
