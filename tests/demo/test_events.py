"""The demo's diary history: the trace engine follows it end to end, and every entry is a valid
diary event recorded by the organisation's own user."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal, Role
from txng.accounts.service import principal_of
from txng.demo.data import (
    LYCHEE_BULK_GTIN,
    LYCHEE_CARTON_GTIN,
    MI_CHU_GTIN,
    RICE_GTIN,
    load_demo,
)
from txng.diary import activities as act
from txng.diary import service as diary_service
from txng.epcis import identifiers, validate
from txng.kit.gs1 import normalize_gtin
from txng.models import CaptureJob, EpcisEvent, Facility, Organisation, User
from txng.trace.api import trace_out
from txng.trace.engine import Trace, trace
from txng.trace.repository import EventInfo
from txng.trace.scope import Place

AUTHORITY = Principal(role=Role.PROVINCIAL_ADMIN, label="test: provincial administrator")


@dataclass
class Loaded:
    seconds: float
    events: list[EpcisEvent]


@pytest.fixture
def demo(db_session: Session) -> Loaded:
    start = time.perf_counter()
    load_demo(db_session)
    db_session.flush()
    seconds = time.perf_counter() - start
    # The diary's events (the demo's stamp activation is captured apart, source "stamps").
    diary = select(CaptureJob.id).where(CaptureJob.source == "diary")
    events = list(
        db_session.scalars(
            select(EpcisEvent)
            .where(EpcisEvent.capture_job_id.in_(diary))
            .order_by(EpcisEvent.event_time)
        )
    )
    return Loaded(seconds, events)


def _org(session: Session, name_prefix: str) -> Organisation:
    return session.scalars(
        select(Organisation).where(Organisation.name.startswith(name_prefix))
    ).one()


def _facility(session: Session, name: str) -> Facility:
    return session.scalars(select(Facility).where(Facility.name == name)).one()


def _body(event: EpcisEvent) -> dict[str, Any]:
    return dict(event.body)


def _lots(events: list[EpcisEvent], gtin: str, **where: Any) -> set[str]:
    """The lots of one product named by the events matching ``where`` (body fields)."""
    prefix = identifiers.gtin_dl(normalize_gtin(gtin)) + "/10/"
    found = set()
    for event in events:
        body = _body(event)
        if all(body.get(k) == v for k, v in where.items()):
            for element in body.get("quantityList", []) + body.get("outputQuantityList", []):
                if element["epcClass"].startswith(prefix):
                    found.add(element["epcClass"])
    return found


def _location(facility: Facility) -> str:
    assert facility.gln is not None
    return identifiers.sgln_dl(facility.gln)


def _one(values: set[str]) -> str:
    (value,) = values
    return value


def _place(result: Trace, ident: str) -> Place:
    place = result.nodes[ident].place
    assert place is not None
    return place


def _event(result: Trace, ident: str) -> EventInfo:
    event = result.nodes[ident].event
    assert event is not None
    return event


def _names(result: Trace) -> set[str]:
    return {p.name for p in result.places.values() if p.name}


def test_lychee_lot_from_growing_area_to_supermarket_shelf(
    db_session: Session, demo: Loaded
) -> None:
    harvested = _one(_lots(demo.events, LYCHEE_BULK_GTIN, bizStep="commissioning"))
    shop = _org(db_session, "Công ty TNHH Siêu thị Kinh Bắc Mart")
    on_shelf = _one(
        _lots(
            [e for e in demo.events if e.organisation_id == shop.id],
            LYCHEE_CARTON_GTIN,
            bizStep="receiving",
        )
    )
    orchard = _location(_facility(db_session, "Vùng trồng vải thiều Đồi Cao"))
    shelf = _location(_facility(db_session, "Siêu thị Kinh Bắc Mart – Ngô Gia Tự"))
    packing_house = _location(_facility(db_session, "Cơ sở sơ chế, đóng gói vải thiều Phượng Sơn"))

    back = trace(db_session, AUTHORITY, on_shelf, direction="backward")
    assert back.found
    assert not back.truncated
    assert harvested in back.nodes
    assert {orchard, packing_house, shelf} <= set(back.nodes)
    assert _place(back, orchard).facility_kind == "growing_area"
    assert "Vùng trồng vải thiều Đồi Cao" in _names(back)
    assert _event(back, harvested).location == orchard  # harvested there
    assert any(
        e.source == harvested and e.target == on_shelf and e.type == "transformation"
        for e in back.edges
    )
    out = trace_out(db_session, back)  # the API's shape
    assert {n.digital_link for n in out.nodes} >= {harvested, on_shelf, orchard}

    forward = trace(db_session, AUTHORITY, harvested, direction="forward")
    assert on_shelf in forward.nodes
    assert shelf in forward.nodes
    assert forward.nodes[shelf].received
    assert "Siêu thị Kinh Bắc Mart – Ngô Gia Tự" in _names(forward)


def test_chu_noodles_made_from_a_rice_lot(db_session: Session, demo: Loaded) -> None:
    rice_coop = _org(db_session, "Hợp tác xã Nông nghiệp Bao thai hồng")
    noodles = _one(_lots(demo.events, MI_CHU_GTIN, type="TransformationEvent"))
    rice = _one(_lots(demo.events, RICE_GTIN, bizStep="commissioning"))

    back = trace(db_session, AUTHORITY, noodles, direction="backward")
    assert rice in back.nodes
    assert _event(back, rice).organisation_id == rice_coop.id
    assert rice_coop.id in back.organisations
    field = _location(_facility(db_session, "Cánh đồng lúa Bao thai hồng Nam Dương"))
    assert field in back.nodes
    assert _place(back, field).organisation_id == rice_coop.id

    forward = trace(db_session, AUTHORITY, rice, direction="forward")
    shelf = _location(_facility(db_session, "Siêu thị Kinh Bắc Mart – Ngô Gia Tự"))
    assert noodles in forward.nodes
    assert forward.nodes[shelf].received


def test_every_entry_is_a_valid_diary_event_of_its_own_user(
    db_session: Session, demo: Loaded
) -> None:
    assert len(demo.events) == 19  # 13 entries of the lychee chain, 6 of the noodles'
    jobs = db_session.scalars(select(CaptureJob).where(CaptureJob.source != "stamps")).all()
    assert jobs
    assert all(j.source == "diary" and j.success and not j.errors for j in jobs)
    assert sum(j.stored_count for j in jobs) == len(demo.events)
    users = {u.id: u for u in db_session.scalars(select(User))}
    for event in demo.events:
        assert event.recorded_by_user_id is not None
        user = users[event.recorded_by_user_id]
        assert user.organisation_id == event.organisation_id
        assert event.body["txng:recordedBy"] == user.full_name
        assert act.activity_of(event.body) is not None
        assert event.event_time_zone_offset == "+07:00"
    document = act.document(*(e.body for e in demo.events), created=demo.events[-1].record_time)
    errors, _ = validate.validate_document(document)
    assert errors == []


def test_one_entry_was_corrected_through_an_error_declaration(
    db_session: Session, demo: Loaded
) -> None:
    (wrong,) = [_body(e) for e in demo.events if e.error_declared]
    declaration = wrong["errorDeclaration"]
    assert declaration["reason"] == "incorrect_data"
    (fixed,) = [_body(e) for e in demo.events if e.event_id in declaration["correctiveEventIDs"]]
    assert fixed["txng:corrects"] == wrong["eventID"]
    assert (wrong["txng:dose"], fixed["txng:dose"]) == (1200, 120)
    assert fixed["eventTime"] == wrong["eventTime"]
    assert fixed["txng:recordedBy"] == wrong["txng:recordedBy"] == "Thân Thị Mai"


def test_the_withholding_period_ends_before_the_harvest(db_session: Session, demo: Loaded) -> None:
    bodies = [e.body for e in demo.events if not e.error_declared]
    periods = [p for b in bodies if (p := act.withholding_of(b)) is not None]
    assert periods
    harvests = [b for b in bodies if (a := act.activity_of(b)) and a.code == "harvest"]
    assert len(harvests) == 2
    for harvest in harvests:
        assert act.harvest_conflicts(harvest, periods) == []
    coop_admin = db_session.scalars(
        select(User).where(User.email == "hoptacxa.vaithieu@txng.demo")
    ).one()
    entries = diary_service.list_entries(db_session, actor=principal_of(coop_admin))
    assert {e.activity.code for e in entries if e.activity} >= {
        "planting",
        "fertilising",
        "spraying",
        "harvest",
        "shipping",
    }
    assert all(not e.warnings for e in entries)


def test_every_public_fact_of_the_demo_passed_through_a_recorded_review(
    db_session: Session, demo: Loaded
) -> None:
    from txng.models import AuditEntry, Product, ReviewItem
    from txng.review import service as review_service

    assert demo.events
    assert all(e.published_at is not None for e in demo.events)
    items = list(db_session.scalars(select(ReviewItem)))
    assert {i.state for i in items} == {"published"}
    assert {i.entity_type for i in items} >= {"organisation", "product", "event_batch"}
    products = set(db_session.scalars(select(Product.id)))
    assert set(review_service.public_product_ids(db_session)) == products
    decisions = db_session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "review_item")
    ).all()
    reviewers = {d.actor_label for d in decisions if d.action == "review.approve"}
    assert reviewers
    assert all("sokhcn@txng.demo" in label for label in reviewers)
