"""Stamp services on both databases: review, issuance, limits, activation, status, scoping."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal, Role, Sector
from txng.errors import Forbidden, NotFound, ValidationFailed
from txng.models import AuditEntry, EpcisEvent, EventIdent, Stamp
from txng.review import service as review_service
from txng.stamps import codes, service
from txng.stamps.exceptions import StampNotFound, StampStateConflict
from txng.stamps.schemas import ActivationIn, StampRequestIn

if TYPE_CHECKING:
    from conftest import World  # the fixture of tests/stamps/conftest.py

LIMITS = service.Limits(per_request=100_000, per_day=200_000)
AGRI = Principal(role=Role.SECTOR_REVIEWER, label="Sở NN&MT", sector=Sector.AGRICULTURE)
HEALTH = Principal(role=Role.SECTOR_REVIEWER, label="Sở Y tế", sector=Sector.HEALTH)
INSPECTOR = Principal(role=Role.INSPECTOR, label="Thanh tra")


def _stamps(db: Session, request_id: int) -> list[Stamp]:
    return list(db.scalars(select(Stamp).where(Stamp.request_id == request_id).order_by(Stamp.id)))


def test_approval_issues_the_codes(world: World) -> None:
    request_id = world.request(300, with_pin=True)
    req = service.get_request(world.db, actor=world.owner, request_id=request_id)
    assert req.state == "submitted"
    assert _stamps(world.db, request_id) == []
    world.approve(request_id)
    assert (req.state, req.issued_count) == ("issued", 300)
    stamps = _stamps(world.db, request_id)
    assert len(stamps) == 300
    assert len({s.serial for s in stamps}) == 300
    assert all(codes.is_serial(s.serial) and codes.is_short_code(s.short_code) for s in stamps)
    assert all(s.pin is not None and len(s.pin) == 6 for s in stamps)
    assert {s.gtin for s in stamps} == {world.product.gtin}
    assert {s.status for s in stamps} == {"issued"}
    actions = set(
        world.db.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "stamp_request"))
    )
    assert {"stamps.requested", "stamps.request_approved", "stamps.issued"} <= actions


def test_rejection_needs_a_reason_that_the_enterprise_sees(world: World) -> None:
    request_id = world.request(10)
    item = service.review_item_of(world.db, request_id)
    assert item is not None
    with pytest.raises(ValidationFailed):
        review_service.reject(world.db, actor=AGRI, item_id=item.id, reason=" ")
    review_service.reject(world.db, actor=AGRI, item_id=item.id, reason="Sản phẩm chưa có lô")
    req = service.get_request(world.db, actor=world.owner, request_id=request_id)
    assert (req.state, req.reason) == ("rejected", "Sản phẩm chưa có lô")
    assert _stamps(world.db, request_id) == []


def test_only_the_products_sector_reviewer_or_an_admin_decides(world: World) -> None:
    request_id = world.request(10)
    item = service.review_item_of(world.db, request_id)
    assert item is not None
    with pytest.raises(NotFound):
        review_service.approve(world.db, actor=HEALTH, item_id=item.id)
    commune = Principal(role=Role.COMMUNE_OFFICER, label="UBND xã", communes=frozenset({"07582"}))
    with pytest.raises(NotFound):
        review_service.approve(world.db, actor=commune, item_id=item.id)
    with pytest.raises(Forbidden):
        review_service.approve(world.db, actor=INSPECTOR, item_id=item.id)
    with pytest.raises(Forbidden):
        review_service.approve(world.db, actor=world.owner, item_id=item.id)
    admin = Principal(role=Role.PROVINCIAL_ADMIN, label="Sở KH&CN")
    review_service.approve(world.db, actor=admin, item_id=item.id)
    assert service.get_request(world.db, actor=admin, request_id=request_id).state == "issued"


def test_an_enterprise_cannot_request_for_anothers_product(world: World) -> None:
    data = StampRequestIn(product_id=world.other_product.id, quantity=5)
    with pytest.raises(ValidationFailed) as caught:
        service.request_stamps(world.db, actor=world.owner, data=data, limits=LIMITS)
    assert caught.value.errors[0].field == "/product_id"
    with pytest.raises(Forbidden):
        service.request_stamps(world.db, actor=AGRI, data=data, limits=LIMITS)


def test_limits_per_request_and_per_day(world: World) -> None:
    limits = service.Limits(per_request=1000, per_day=1500)
    data = StampRequestIn(product_id=world.product.id, quantity=1001)
    with pytest.raises(ValidationFailed) as caught:
        service.request_stamps(world.db, actor=world.owner, data=data, limits=limits)
    assert (caught.value.errors[0].field, caught.value.errors[0].params) == (
        "/quantity",
        {"limit": 1000},
    )
    ok = StampRequestIn(product_id=world.product.id, quantity=1000)
    service.request_stamps(world.db, actor=world.owner, data=ok, limits=limits)
    more = StampRequestIn(product_id=world.product.id, quantity=501)
    with pytest.raises(ValidationFailed) as caught:
        service.request_stamps(world.db, actor=world.owner, data=more, limits=limits)
    assert caught.value.errors[0].code == "daily_limit"
    assert caught.value.errors[0].params == {"limit": 1500, "already": 1000}
    # another organisation has its own daily allowance
    mine = StampRequestIn(product_id=world.other_product.id, quantity=1000)
    service.request_stamps(world.db, actor=world.other_owner, data=mine, limits=limits)


def test_requests_and_stamps_of_another_enterprise_are_not_found(world: World) -> None:
    request_id = world.issued(5)
    stamp = _stamps(world.db, request_id)[0]
    with pytest.raises(NotFound):
        service.get_request(world.db, actor=world.other_owner, request_id=request_id)
    with pytest.raises(NotFound):
        service.get_stamp(world.db, actor=world.other_owner, stamp_id=stamp.id)
    with pytest.raises(NotFound):
        service.get_request(world.db, actor=HEALTH, request_id=request_id)
    assert service.list_requests(world.db, actor=world.other_owner)[1] == 0
    world.declare_lot("L1", 100)
    with pytest.raises(StampNotFound):
        service.activate(
            world.db, actor=world.other_owner, data=ActivationIn(lot="L1", codes=[stamp.serial])
        )
    with pytest.raises(NotFound):
        service.activate(
            world.db,
            actor=world.other_owner,
            data=ActivationIn(lot="L1", request_id=request_id, count=1),
        )
    with pytest.raises(StampNotFound):
        service.change_status(
            world.db,
            actor=world.other_owner,
            action="deactivate",
            codes_=[stamp.short_code],
            reason="x",
        )
    assert stamp.status == "issued"


def test_activation_links_stamps_to_the_lot_through_an_epcis_event(world: World) -> None:
    request_id = world.issued(40)
    world.declare_lot("PS-01", 100)  # 100 kg, 5 kg per stamp: 20 stamps
    done = service.activate(
        world.db, actor=world.owner, data=ActivationIn(lot="PS-01", request_id=request_id, count=12)
    )
    assert (done.capacity.capacity, done.capacity.carried) == (20, 12)
    stamps = _stamps(world.db, request_id)
    active = [s for s in stamps if s.status == "active"]
    assert active == stamps[:12]
    assert {s.lot for s in active} == {"PS-01"}
    assert all(s.activated_at is not None for s in active)
    event = world.db.scalars(
        select(EpcisEvent).where(EpcisEvent.event_id == active[0].activation_event_id)
    ).one()
    assert event.biz_step == "commissioning"
    assert event.action == "ADD"
    assert event.body["ilmd"] == {"cbvmda:lotNumber": "PS-01"}
    assert len(event.body["epcList"]) == 12
    assert event.published_at is None  # it waits for review like every event
    lot_rows = world.db.scalar(
        select(func.count()).where(EventIdent.event_pk == event.id, EventIdent.role == "lot")
    )
    assert lot_rows == 1
    # a range and a list, by short code (formatted as printed) or serial
    service.activate(
        world.db,
        actor=world.owner,
        data=ActivationIn(
            lot="PS-01",
            first=codes.format_short_code(stamps[12].short_code),
            last=stamps[14].serial,
        ),
    )
    service.activate(
        world.db,
        actor=world.owner,
        data=ActivationIn(lot="PS-01", codes=[stamps[20].short_code.lower(), stamps[21].serial]),
    )
    assert service.status_counts(world.db, actor=world.owner, request_id=request_id) == {
        "active": 17,
        "issued": 23,
    }


def test_a_lot_cannot_carry_more_stamps_than_its_quantity_covers(world: World) -> None:
    request_id = world.issued(30)
    world.declare_lot("PS-02", 52)  # 52 kg at 5 kg a stamp: 10 stamps
    service.activate(
        world.db, actor=world.owner, data=ActivationIn(lot="PS-02", request_id=request_id, count=8)
    )
    with pytest.raises(ValidationFailed) as caught:
        service.activate(
            world.db,
            actor=world.owner,
            data=ActivationIn(lot="PS-02", request_id=request_id, count=3),
        )
    error = caught.value.errors[0]
    assert (error.field, error.code) == ("/lot", "over_quantity")
    assert error.params["capacity"] == 10
    assert error.params["carried"] == 8
    assert error.params["asked"] == 3
    assert service.status_counts(world.db, actor=world.owner, request_id=request_id)["active"] == 8
    # a deactivated stamp frees its place on the lot
    first = _stamps(world.db, request_id)[0]
    service.change_status(
        world.db, actor=world.owner, action="deactivate", codes_=[first.serial], reason="Rách tem"
    )
    service.activate(
        world.db, actor=world.owner, data=ActivationIn(lot="PS-02", request_id=request_id, count=3)
    )


def test_a_lot_without_a_recorded_quantity_is_refused(world: World) -> None:
    request_id = world.issued(3)
    with pytest.raises(ValidationFailed) as caught:
        service.activate(
            world.db,
            actor=world.owner,
            data=ActivationIn(lot="NO-LOT", request_id=request_id, count=1),
        )
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("/lot", "no_quantity")


def test_a_stamp_printed_for_one_lot_goes_on_no_other(world: World) -> None:
    request_id = world.issued(3, lot="L-A")
    world.declare_lot("L-B", 100)
    with pytest.raises(ValidationFailed) as caught:
        service.activate(
            world.db,
            actor=world.owner,
            data=ActivationIn(lot="L-B", request_id=request_id, count=1),
        )
    assert caught.value.errors[0].code == "printed_lot"


def test_status_changes_need_a_reason_and_follow_the_rules(world: World) -> None:
    request_id = world.issued(4)
    a, b, c, _ = _stamps(world.db, request_id)
    with pytest.raises(ValidationFailed):
        service.change_status(
            world.db, actor=world.owner, action="lost", codes_=[a.serial], reason=""
        )
    service.change_status(
        world.db, actor=world.owner, action="lost", codes_=[a.serial], reason="Mất cuộn tem"
    )
    assert (a.status, a.status_reason) == ("lost", "Mất cuộn tem")
    with pytest.raises(StampStateConflict):
        service.change_status(
            world.db, actor=world.owner, action="lost", codes_=[a.serial], reason="again"
        )
    with pytest.raises(Forbidden):
        service.change_status(
            world.db, actor=world.owner, action="suspend", codes_=[b.serial], reason="x"
        )
    with pytest.raises(NotFound):
        service.change_status(
            world.db, actor=HEALTH, action="suspend", codes_=[b.serial], reason="Nghi giả"
        )
    service.change_status(
        world.db,
        actor=INSPECTOR,
        action="suspend",
        codes_=[b.serial, c.short_code],
        reason="Nghi giả",
    )
    assert (b.status, c.status) == ("suspended", "suspended")
    world.declare_lot("L9", 100)
    with pytest.raises(StampStateConflict):
        service.activate(world.db, actor=world.owner, data=ActivationIn(lot="L9", codes=[b.serial]))
    audit = world.db.scalars(
        select(AuditEntry).where(AuditEntry.action == "stamps.suspended")
    ).one()
    assert audit.after is not None
    assert sorted(audit.after["serials"]) == sorted([b.serial, c.serial])
    assert audit.after["reason"] == "Nghi giả"


def test_issuance_in_chunks_retries_a_collision(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = world.issued(3)
    taken = _stamps(world.db, first)[0]
    request_id = world.request(6000)  # above the inline limit: approval leaves it to a thread
    req = service.get_request(world.db, actor=world.owner, request_id=request_id)
    world.approve(request_id)
    assert req.state == "approved"
    # Draw one serial already taken first: the chunk is drawn again, nothing is lost.
    real = codes.new_serial
    calls = iter([taken.serial])
    monkeypatch.setattr(codes, "new_serial", lambda: next(calls, None) or real())
    service.issue_stamps(world.db, request_id=request_id, chunk=2500)
    assert (req.state, req.issued_count) == ("issued", 6000)
    count = world.db.scalar(select(func.count()).where(Stamp.request_id == request_id))
    assert count == 6000


def test_twenty_thousand_stamps_are_issued_quickly(world: World) -> None:
    request_id = world.request(20_000)
    world.approve(request_id)
    started = time.perf_counter()
    service.issue_stamps(world.db, request_id=request_id)
    elapsed = time.perf_counter() - started
    assert world.db.scalar(select(func.count()).where(Stamp.request_id == request_id)) == 20_000
    assert elapsed < 20
