"""Review and publication (C7): submitted versions, reviewers' comments, trust policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from txng.models.base import Base, BigIntPK, JSONType, TimestampMixin, UTCDateTime, utcnow


class ReviewItem(TimestampMixin, Base):
    """One submitted version of one thing; its state follows ``txng.review.state``."""

    __tablename__ = "review_item"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "version", name="uq_review_item_version"),
        Index("ix_review_item_entity", "entity_type", "entity_id", "state"),
        Index("ix_review_item_queue", "state", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # organisation | facility | product | event_batch | stamp_request
    entity_type: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[int] = mapped_column(BigIntPK)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    # What was submitted, as it will be shown to the public once published.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    # Copied at submission for the queues: the sector department and the commune that review it.
    sector: Mapped[str | None] = mapped_column(String(32), index=True)
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    submitted_by_label: Mapped[str] = mapped_column(String(300), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_by_label: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Approved by the organisation's trust policy rather than by a person.
    auto_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewComment(Base):
    """A remark of a reviewer or of the submitter on one review item."""

    __tablename__ = "review_comment"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("review_item.id", ondelete="CASCADE"), index=True
    )
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_label: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewPolicy(Base):
    """How an organisation's event batches are reviewed; no row means every batch is reviewed."""

    __tablename__ = "review_policy"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(16), default="every_batch")  # every_batch | trust
    # With mode "trust": batches are published without review after this many approved ones.
    trust_after: Mapped[int] = mapped_column(Integer, default=3)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
