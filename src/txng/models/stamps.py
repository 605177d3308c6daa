"""Stamps (tem truy xuất nguồn gốc, C5), their scans and consumers' problem reports (C6).

A stamp request goes through review (entity type ``stamp_request``); approval issues the codes.
A stamp is one GS1 Digital Link ``/01/{gtin}/21/{serial}`` (plus ``/10/{lot}`` once activated on
a lot). Scans and reports are kept apart from the stamp so that logging a scan never blocks the
consumer page on a row lock of the stamp.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from txng.models.base import Base, BigIntPK, UTCDateTime, utcnow


class StampRequest(Base):
    """An enterprise's request for N stamps of one product (optionally one lot)."""

    __tablename__ = "stamp_request"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    lot: Mapped[str | None] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    # The label sheet: an A4 grid or a roll (see txng.stamps.sheets).
    label_template: Mapped[str] = mapped_column(String(32))
    with_pin: Mapped[bool] = mapped_column(Boolean, default=False)
    # submitted | approved | rejected | issuing | issued | failed  (review_item holds the history)
    state: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)  # progress while issuing
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Stamp(Base):
    """One issued code. ``serial`` is random (≥ 60 bits); ``short_code`` is printed for typing."""

    __tablename__ = "stamp"
    __table_args__ = (
        UniqueConstraint("gtin", "serial", name="uq_stamp_gtin_serial"),
        Index("ix_stamp_gtin_lot", "gtin", "lot"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("stamp_request.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(BigIntPK, index=True)
    product_id: Mapped[int] = mapped_column(BigIntPK, index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str] = mapped_column(String(20))
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    # The anti-counterfeit PIN printed under the scratch layer (kept to reprint the sheets).
    pin: Mapped[str | None] = mapped_column(String(12))
    lot: Mapped[str | None] = mapped_column(String(20))
    # issued | active | deactivated | lost | suspended
    status: Mapped[str] = mapped_column(String(16), default="issued")
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activation_event_id: Mapped[str | None] = mapped_column(String(300))
    status_reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StampScan(Base):
    """One opening of a stamp's page. No IP address is kept: a salted hash of it only."""

    __tablename__ = "stamp_scan"
    __table_args__ = (Index("ix_stamp_scan_stamp_time", "stamp_id", "scanned_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    stamp_id: Mapped[int] = mapped_column(ForeignKey("stamp.id", ondelete="CASCADE"))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip_hash: Mapped[str] = mapped_column(String(64))
    # Only with the consumer's consent: the commune, and coordinates rounded to about 1 km.
    commune_code: Mapped[str | None] = mapped_column(String(5))
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()


class ProblemReport(Base):
    """A consumer's "report a problem": a case for the authority. Only what the consumer typed."""

    __tablename__ = "problem_report"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    stamp_id: Mapped[int | None] = mapped_column(
        ForeignKey("stamp.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(BigIntPK, index=True)
    product_id: Mapped[int | None] = mapped_column(BigIntPK)
    link: Mapped[str] = mapped_column(String(500))  # the Digital Link the consumer opened
    category: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(200), default="")
    photo_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    ip_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Recall(Base):
    """An authority's recall of one lot (C12): reason, severity, instructions to consumers."""

    __tablename__ = "recall"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(BigIntPK, index=True)  # the lot's owner
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))  # high | medium | low
    instructions_vi: Mapped[str] = mapped_column(Text, default="")
    instructions_en: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)  # active | lifted
    issued_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    issued_by_label: Mapped[str] = mapped_column(String(300), default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecallTarget(Base):
    """One identifier in a recall's scope (from the trace engine), canonical Digital Link form."""

    __tablename__ = "recall_target"
    __table_args__ = (UniqueConstraint("recall_id", "ident", name="uq_recall_target_ident"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recall.id", ondelete="CASCADE"))
    ident: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # lot | item | logistic_unit | stamp
    # The organisation holding it (a receiving organisation sees the recall on its dashboard).
    organisation_id: Mapped[int | None] = mapped_column(BigIntPK, index=True)
