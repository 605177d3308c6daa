"""Review services on the database: versions, publication, reasons, conflicts, audit, policies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role, Sector
from txng.epcis import capture as capture_service
from txng.errors import Forbidden, NotFound, ValidationFailed
from txng.models import AuditEntry, CaptureJob, EpcisEvent, Organisation, Product
from txng.registry import service as registry_service
from txng.registry.schemas import FacilityIn, ProductIn
from txng.review import service
from txng.review.diff import FieldChange, changed_only, diff
from txng.review.service import StateConflict
from txng.review.state import Action

AGRI = Principal(
    role=Role.SECTOR_REVIEWER, label="Sở NN&MT", user_id=None, sector=Sector.AGRICULTURE
)
HEALTH = Principal(role=Role.SECTOR_REVIEWER, label="Sở Y tế", sector=Sector.HEALTH)


def _owner(org: Organisation) -> Principal:
    return Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=org.id)


def _world(db: Session) -> tuple[Organisation, Product]:
    org = f.organisation(db)
    return org, f.product(db, organisation_id=org.id, name="Vải thiều Lục Ngạn")


def test_resubmission_supersedes_the_pending_version(db_session: Session) -> None:
    org, product = _world(db_session)
    first = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    second = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    assert (first.version, first.state) == (1, "superseded")
    assert (second.version, second.state) == (2, "submitted")
    assert second.sector == "agriculture"
    assert second.commune_code == f.LUC_NGAN
    assert second.snapshot["name_vi"] == "Vải thiều Lục Ngạn"


def test_publishing_a_new_version_supersedes_the_public_one(db_session: Session) -> None:
    org, product = _world(db_session)
    v1 = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    assert not service.is_public(db_session, entity_type="product", entity_id=product.id)
    assert service.public_product_ids(db_session) == []
    service.approve(db_session, actor=AGRI, item_id=v1.id)
    assert v1.state == "published"
    assert v1.published_at is not None
    assert service.public_product_ids(db_session) == [product.id]

    data = ProductIn.model_validate(
        {"gtin": product.gtin, "name_vi": "Vải thiều Lục Ngạn loại 1", "sector": "agriculture"}
    )
    registry_service.update_product(db_session, actor=_owner(org), product_id=product.id, data=data)
    v2 = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    detail = service.item_detail(db_session, actor=AGRI, item_id=v2.id)
    assert detail.published is not None
    assert detail.published.id == v1.id
    changed = {c.field: (c.before, c.after) for c in changed_only(detail.changes)}
    assert changed == {"name_vi": ("Vải thiều Lục Ngạn", "Vải thiều Lục Ngạn loại 1")}
    assert v1.state == "published"  # still public while v2 waits

    service.approve(db_session, actor=AGRI, item_id=v2.id)
    assert (v1.state, v2.state) == ("superseded", "published")
    public = service.public_version(db_session, entity_type="product", entity_id=product.id)
    assert public is not None
    assert public.snapshot["name_vi"] == "Vải thiều Lục Ngạn loại 1"


def test_reject_needs_a_reason_and_keeps_it(db_session: Session) -> None:
    org, product = _world(db_session)
    item = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    with pytest.raises(ValidationFailed) as caught:
        service.reject(db_session, actor=AGRI, item_id=item.id, reason="   ")
    assert [e.field for e in caught.value.errors] == ["/reason"]
    assert item.state == "submitted"
    service.reject(db_session, actor=AGRI, item_id=item.id, reason="Thiếu giấy chứng nhận")
    assert (item.state, item.reason) == ("rejected", "Thiếu giấy chứng nhận")
    assert item.decided_by_label == "Sở NN&MT"


def test_illegal_transitions_and_roles_are_refused(db_session: Session) -> None:
    org, product = _world(db_session)
    item = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    with pytest.raises(Forbidden):
        service.approve(db_session, actor=_owner(org), item_id=item.id)
    with pytest.raises(NotFound):  # out of the health department's scope
        service.approve(db_session, actor=HEALTH, item_id=item.id)
    service.approve(db_session, actor=AGRI, item_id=item.id)
    with pytest.raises(StateConflict) as caught:
        service.approve(db_session, actor=AGRI, item_id=item.id)
    assert caught.value.status_code == 409
    with pytest.raises(StateConflict):
        service.decide(db_session, actor=AGRI, item_id=item.id, action=Action.REINSTATE)


def test_suspend_reinstate_recall(db_session: Session) -> None:
    org, product = _world(db_session)
    item = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    service.approve(db_session, actor=f.ADMIN, item_id=item.id)
    inspector = Principal(role=Role.INSPECTOR, label="Thanh tra")
    service.decide(
        db_session, actor=inspector, item_id=item.id, action=Action.SUSPEND, reason="Kiểm tra"
    )
    assert not service.is_public(db_session, entity_type="product", entity_id=product.id)
    service.decide(db_session, actor=inspector, item_id=item.id, action=Action.REINSTATE)
    assert service.is_public(db_session, entity_type="product", entity_id=product.id)
    service.decide(
        db_session, actor=inspector, item_id=item.id, action=Action.RECALL, reason="Vi phạm"
    )
    assert item.state == "recalled"
    assert service.public_product_ids(db_session) == []


def test_every_change_of_state_is_audited(db_session: Session) -> None:
    org, product = _world(db_session)
    v1 = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    v2 = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    service.reject(db_session, actor=AGRI, item_id=v2.id, reason="Ảnh mờ")
    service.add_comment(db_session, actor=AGRI, item_id=v2.id, body="Chụp lại nhãn")
    db_session.flush()
    rows = db_session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "review_item").order_by(AuditEntry.id)
    ).all()
    trail = [
        (int(r.entity_id), r.action, (r.before or {}).get("state"), (r.after or {}).get("state"))
        for r in rows
    ]
    assert trail == [
        (v1.id, "review.submit", "draft", "submitted"),
        (v1.id, "review.supersede", "submitted", "superseded"),
        (v2.id, "review.submit", "draft", "submitted"),
        (v2.id, "review.reject", "submitted", "rejected"),
        (v2.id, "review.commented", None, None),
    ]
    assert rows[3].after is not None
    assert rows[3].after["reason"] == "Ảnh mờ"
    assert rows[3].actor_label == "Sở NN&MT"


def test_bulk_approve_gives_one_result_per_item(db_session: Session) -> None:
    org, product = _world(db_session)
    other = f.product(db_session, organisation_id=org.id, name="Gạo nếp cái hoa vàng")
    tea = f.product(db_session, organisation_id=org.id, name="Trà", sector=Sector.HEALTH)
    a = service.submit_product(db_session, actor=_owner(org), product_id=product.id)
    b = service.submit_product(db_session, actor=_owner(org), product_id=other.id)
    c = service.submit_product(db_session, actor=_owner(org), product_id=tea.id)
    service.approve(db_session, actor=AGRI, item_id=b.id)
    results = service.bulk_approve(db_session, actor=AGRI, item_ids=[a.id, b.id, c.id, a.id])
    assert [(r.id, r.ok, r.status) for r in results] == [
        (a.id, True, 200),
        (b.id, False, 409),
        (c.id, False, 404),
    ]
    assert a.state == "published"
    assert c.state == "submitted"


def test_diff_lists_every_field_with_its_kind() -> None:
    changes = diff({"name": "A", "gone": 1, "same": 2}, {"name": "B", "same": 2, "new": 3})
    assert changes == [
        FieldChange("name", "A", "B"),
        FieldChange("same", 2, 2),
        FieldChange("new", None, 3),
        FieldChange("gone", 1, None),
    ]
    assert [c.kind for c in changes] == ["changed", "same", "added", "removed"]
    assert [c.kind for c in diff(None, {"x": 1})] == ["added"]


def test_queue_is_scoped_oldest_first_with_counts(db_session: Session) -> None:
    farm = f.organisation(db_session, commune=f.LUC_NGAN)
    shop = f.organisation(db_session, commune=f.KINH_BAC, sector=Sector.INDUSTRY_TRADE)
    p1 = f.product(db_session, organisation_id=farm.id)
    p2 = f.product(db_session, organisation_id=shop.id, sector=Sector.INDUSTRY_TRADE)
    i1 = service.submit_product(db_session, actor=_owner(farm), product_id=p1.id)
    i2 = service.submit_product(db_session, actor=_owner(shop), product_id=p2.id)
    i3 = service.submit_organisation(db_session, actor=_owner(farm), organisation_id=farm.id)
    commune = Principal(role=Role.COMMUNE_OFFICER, label="UBND", communes=frozenset({f.KINH_BAC}))
    assert [i.id for i in service.queue(db_session, actor=f.ADMIN).items] == [i1.id, i2.id, i3.id]
    assert [i.id for i in service.queue(db_session, actor=AGRI).items] == [i1.id, i3.id]
    assert [i.id for i in service.queue(db_session, actor=commune).items] == [i2.id]
    assert [i.id for i in service.queue(db_session, actor=_owner(shop)).items] == [i2.id]
    only_orgs = service.queue(db_session, actor=f.ADMIN, entity_type="organisation")
    assert [i.id for i in only_orgs.items] == [i3.id]
    service.approve(db_session, actor=AGRI, item_id=i1.id)
    found = service.queue(db_session, actor=AGRI, state=None)
    assert found.counts["submitted"] == 1
    assert found.counts["published"] == 1
    assert found.total == 2


def test_trust_policy_publishes_batches_after_n_approved(db_session: Session) -> None:
    org = f.organisation(db_session)
    service.set_policy(
        db_session, actor=f.ADMIN, organisation_id=org.id, mode="trust", trust_after=2
    )

    def batch(n: int) -> CaptureJob:
        job = CaptureJob(
            capture_id=f"job-{org.id}-{n}",
            organisation_id=org.id,
            source="diary",
            event_count=1,
            stored_count=1,
        )
        db_session.add(job)
        db_session.flush()
        return job

    states = []
    for n in range(4):
        item = service.on_capture(db_session, batch(n))
        assert item is not None
        states.append(item.state)
        if item.state == "submitted":
            service.approve(db_session, actor=AGRI, item_id=item.id)
    assert states == ["submitted", "submitted", "published", "published"]
    empty = CaptureJob(capture_id="empty", organisation_id=org.id, event_count=1, stored_count=0)
    db_session.add(empty)
    db_session.flush()
    assert service.on_capture(db_session, empty) is None


def test_without_a_policy_every_batch_is_reviewed(db_session: Session) -> None:
    org = f.organisation(db_session)
    for n in range(5):
        job = CaptureJob(capture_id=f"b{n}", organisation_id=org.id, event_count=1, stored_count=1)
        db_session.add(job)
        db_session.flush()
        item = service.on_capture(db_session, job)
        assert item is not None
        assert item.state == "submitted"
        service.approve(db_session, actor=f.ADMIN, item_id=item.id)


def test_facility_and_organisation_submissions_carry_their_scope(db_session: Session) -> None:
    org = f.organisation(db_session, commune=f.LUC_NGAN)
    facility = registry_service.create_facility(
        db_session,
        actor=_owner(org),
        organisation_id=org.id,
        data=FacilityIn.model_validate(
            {
                "kind": "farm",
                "name": "Vườn vải Tân Sơn",
                "province_code": "24",
                "commune_code": f.KINH_BAC,
                "area_hectares": "1.5",
            }
        ),
    )
    item = service.submit_facility(db_session, actor=_owner(org), facility_id=facility.id)
    assert (item.entity_type, item.commune_code, item.sector) == (
        "facility",
        f.KINH_BAC,
        "agriculture",
    )
    assert Decimal(item.snapshot["area_hectares"]) == Decimal("1.5")
    profile = service.submit_organisation(db_session, actor=_owner(org), organisation_id=org.id)
    assert profile.snapshot["tax_code"] == org.tax_code
    stranger = f.organisation(db_session, name="Khác")
    with pytest.raises(NotFound):
        service.submit_organisation(db_session, actor=_owner(stranger), organisation_id=org.id)
    staff_elsewhere = Principal(role=Role.ENTERPRISE_STAFF, label="x", organisation_id=stranger.id)
    with pytest.raises(NotFound):
        service.submit_facility(db_session, actor=staff_elsewhere, facility_id=facility.id)


def test_the_hook_runs_inside_the_capture_transaction(db_session: Session) -> None:
    org = f.organisation(db_session)
    service.set_policy(
        db_session, actor=f.ADMIN, organisation_id=org.id, mode="trust", trust_after=1
    )
    staff = Principal(role=Role.ENTERPRISE_STAFF, label="staff", organisation_id=org.id)

    def capture(serial: str) -> CaptureJob:
        event = {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "eventTime": "2026-06-10T07:30:00.000+07:00",
            "eventTimeZoneOffset": "+07:00",
            "epcList": [f"urn:epc:id:sgtin:8930001.012345.{serial}"],
        }
        document = {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-20T08:00:00.000+07:00",
            "epcisBody": {"eventList": [event]},
        }
        return capture_service.capture(db_session, staff, document).job

    first = service.on_capture(db_session, capture("1"))
    assert first is not None
    assert first.snapshot["stored_count"] == 1
    assert len(first.snapshot["event_ids"]) == 1
    service.approve(db_session, actor=AGRI, item_id=first.id)
    second = service.on_capture(db_session, capture("2"))
    assert second is not None
    assert (second.state, second.auto_approved) == ("published", True)
    db_session.flush()
    published = db_session.scalars(
        select(EpcisEvent.published_at).where(EpcisEvent.organisation_id == org.id)
    ).all()
    assert len(published) == 2
    assert all(at is not None for at in published)
