"""EPCIS 2.0 events (C2): capture jobs, events and the index tables that queries and traces use.

An event is stored once, as the JSON-LD object that was captured (``body``), with the columns
queries filter on pulled out beside it. Every identifier an event names is also written to
``epcis_event_ident`` in its canonical form (a GS1 Digital Link on id.gs1.org for GS1 keys), so
that a query by EPC URN or by Digital Link finds the same event with one indexed lookup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from txng.models.base import Base, BigIntPK, BigIntRef, JSONType, UTCDateTime, utcnow


class CaptureJob(Base):
    """One call of the capture interface (or one diary submission): what came in, what was kept."""

    __tablename__ = "epcis_capture_job"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    capture_id: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | diary | demo
    error_behaviour: Mapped[str] = mapped_column(String(16), default="rollback")
    running: Mapped[bool] = mapped_column(Boolean, default=False)
    success: Mapped[bool] = mapped_column(Boolean, default=True)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    stored_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EpcisEvent(Base):
    __tablename__ = "epcis_event"
    __table_args__ = (
        Index("ix_epcis_event_org_time", "organisation_id", "event_time"),
        Index("ix_epcis_event_record_time", "record_time", "id"),
        Index("ix_epcis_event_event_time", "event_time", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(600), unique=True)
    # The CBV 2.0 hash of the event's content, also when the sender gave its own eventID: a
    # second capture of the same event with the same ID is recognised as a duplicate.
    content_hash: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(24))
    action: Mapped[str | None] = mapped_column(String(8))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime())
    event_time_zone_offset: Mapped[str] = mapped_column(String(6))
    record_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    biz_step: Mapped[str | None] = mapped_column(String(600), index=True)
    disposition: Mapped[str | None] = mapped_column(String(600))
    read_point: Mapped[str | None] = mapped_column(String(600), index=True)
    biz_location: Mapped[str | None] = mapped_column(String(600), index=True)
    # References without FOREIGN KEY constraints (ADR 0014): capture writes them in the same
    # transaction as the rows they name, organisations and users are never deleted.
    organisation_id: Mapped[int | None] = mapped_column(BigIntRef)  # organisation.id
    capture_job_id: Mapped[int] = mapped_column(BigIntRef, index=True)  # epcis_capture_job.id
    recorded_by_user_id: Mapped[int | None] = mapped_column(BigIntRef)  # user_account.id
    # Set by the review workflow; until then only the owner and authorised reviewers see it.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The declared error of a later errorDeclaration, or of the event itself.
    error_declared: Mapped[bool] = mapped_column(Boolean, default=False)
    # json, not jsonb, on PostgreSQL (ADR 0014): returned as captured; the few query filters on
    # extension fields cast it to jsonb per row, no index uses it.
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    # The document's own JSON-LD prefixes the body uses (prefix -> IRI).
    namespaces: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


# Roles of an identifier in an event (column ``role`` of EventIdent).
ROLE_EPC = "epc"  # epcList
ROLE_PARENT = "parent"  # parentID
ROLE_CHILD = "child"  # childEPCs
ROLE_INPUT = "input"  # inputEPCList
ROLE_OUTPUT = "output"  # outputEPCList
ROLE_QUANTITY = "qty"  # quantityList epcClass
ROLE_CHILD_QUANTITY = "cqty"  # childQuantityList epcClass
ROLE_INPUT_QUANTITY = "iqty"  # inputQuantityList epcClass
ROLE_OUTPUT_QUANTITY = "oqty"  # outputQuantityList epcClass
ROLE_LOT = "lot"  # the lot (ILMD lotNumber) that the items of a commissioning event belong to


class EventIdent(Base):
    """One identifier named by one event, canonicalised: the index of queries and traces."""

    __tablename__ = "epcis_event_ident"
    __table_args__ = (
        Index("ix_epcis_event_ident_ident_role", "ident", "role"),
        Index("ix_epcis_event_ident_event", "event_pk", "role"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_pk: Mapped[int] = mapped_column(BigIntRef)  # epcis_event.id (ADR 0014)
    role: Mapped[str] = mapped_column(String(8))
    ident: Mapped[str] = mapped_column(String(600))
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(8))


class EventLink(Base):
    """A business transaction, source or destination of an event (kind = bt | source | dest)."""

    __tablename__ = "epcis_event_link"
    __table_args__ = (
        Index("ix_epcis_event_link_value", "value", "kind"),
        Index("ix_epcis_event_link_event", "event_pk"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_pk: Mapped[int] = mapped_column(BigIntRef)  # epcis_event.id (ADR 0014)
    kind: Mapped[str] = mapped_column(String(8))
    type: Mapped[str | None] = mapped_column(String(600))
    value: Mapped[str] = mapped_column(String(600))


class NamedQuery(Base):
    """A saved EPCIS query (``/epcis/queries/{name}``), private to its owner."""

    __tablename__ = "epcis_named_query"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    owner: Mapped[str] = mapped_column(String(40))  # org:<id> or user:<id>
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[dict[str, str]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
