"""Guidance documents and training materials (C8) that the provincial admin publishes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from txng.models.base import Base, BigIntPK, TimestampMixin, UTCDateTime


class GuidanceDocument(TimestampMixin, Base):
    """One file (PDF, DOCX or image) with its titles; public once published."""

    __tablename__ = "guidance_document"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # guide | training | legal | form (see txng.guidance.service.CATEGORY_LABELS)
    category: Mapped[str] = mapped_column(String(32), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within the category
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
