"""A published product with a lot, its journey and stamps: the consumer side's test world.

Stamps are created directly (the issuance side is another domain): ``stamp(...)``.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role, Sector
from txng.epcis import capture as capture_service
from txng.epcis import identifiers
from txng.kit.gs1 import with_check_digit
from txng.kit.i18n import DISPLAY_TZ
from txng.models import EpcisEvent, Organisation, Product
from txng.models.base import utcnow
from txng.models.stamps import Recall, RecallTarget, Stamp, StampRequest
from txng.registry import service as registry_service
from txng.registry.schemas import FacilityIn, ProductIn
from txng.review import service as review_service
from txng.stamps import service as stamps_service

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
AGRI = Principal(role=Role.SECTOR_REVIEWER, label="Sở NN&MT", sector=Sector.AGRICULTURE)
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
LOT = "VT-0610"
_seq = itertools.count(1)


@dataclass
class ConsumerWorld:
    org: Organisation
    product: Product
    gtin: str  # GTIN-14
    facility_gln: str
    request_id: int


def _document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-06-30T08:00:00.000+07:00",
        "epcisBody": {"eventList": list(events)},
    }


def world(db: Session, *, shelf_life_days: int = 3650, publish: bool = True) -> ConsumerWorld:
    """A published cooperative, farm and lychee product; a lot packed and shipped (published)."""
    org = f.organisation(db, name="HTX Vải thiều Thanh Hà")
    org.street_address = "Thôn Đồng Cốc, xã Lục Ngạn"
    owner = Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=org.id)
    gln = with_check_digit(f"89300010{next(_seq):04d}")
    facility = registry_service.create_facility(
        db,
        actor=f.ADMIN,
        organisation_id=org.id,
        data=FacilityIn.model_validate(
            {
                "kind": "farm",
                "name": "Vườn vải Thanh Hà",
                "gln": gln,
                "province_code": "24",
                "commune_code": f.LUC_NGAN,
            }
        ),
    )
    product = registry_service.create_product(
        db,
        actor=f.ADMIN,
        organisation_id=org.id,
        data=ProductIn.model_validate(
            {
                "gtin": f.gtin13(),
                "name_vi": "Vải thiều Lục Ngạn",
                "name_en": "Luc Ngan lychee",
                "brand": "Thanh Hà",
                "sector": "agriculture",
                "net_content": "2",
                "net_content_unit": "kg",
                "shelf_life_days": shelf_life_days,
                "standards": ["TCVN 11892-1:2017 (VietGAP)"],
                "ocop_stars": 4,
                "certifications": [
                    {
                        "scheme": "vietgap",
                        "number": "VG-24-0001",
                        "issuer": "Trung tâm Chứng nhận",
                        "valid_from": "2025-01-01",
                        "valid_to": "2099-12-31",
                    },
                    {
                        "scheme": "globalgap",
                        "number": "GG-2019",
                        "issuer": "Control Union",
                        "valid_from": "2019-01-01",
                        "valid_to": "2020-12-31",
                    },
                ],
            }
        ),
    )
    if publish:
        for item in (
            review_service.submit_product(db, actor=owner, product_id=product.id),
            review_service.submit_organisation(db, actor=owner, organisation_id=org.id),
            review_service.submit_facility(db, actor=owner, facility_id=facility.id),
        ):
            review_service.approve(db, actor=AGRI, item_id=item.id)
    site = f"https://id.gs1.org/414/{gln}"
    lot = identifiers.lgtin_dl(product.gtin, LOT)
    outcome = capture_service.capture(
        db,
        owner,
        _document(
            {
                "type": "ObjectEvent",
                "action": "OBSERVE",
                "eventTime": "2026-06-10T07:30:00.000+07:00",
                "eventTimeZoneOffset": "+07:00",
                "bizStep": "packing",
                "readPoint": {"id": site},
                "bizLocation": {"id": site},
                "quantityList": [{"epcClass": lot, "quantity": 100, "uom": "KGM"}],
            }
        ),
    )
    # The packing was recorded 3 days after it happened; the test checks the page says so.
    db.execute(
        update(EpcisEvent)
        .where(EpcisEvent.capture_job_id == outcome.job.id)
        .values(published_at=utcnow(), record_time=datetime.fromisoformat("2026-06-13T09:00Z"))
    )
    request = StampRequest(
        organisation_id=org.id,
        product_id=product.id,
        lot=None,
        quantity=10,
        label_template="a4-3x8",
        state="issued",
    )
    db.add(request)
    db.flush()
    return ConsumerWorld(org, product, product.gtin, gln, request.id)


def stamp(
    db: Session,
    w: ConsumerWorld,
    *,
    lot: str | None = LOT,
    status: str = "active",
    serial: str | None = None,
    activated_at: datetime | None = None,
) -> Stamp:
    """One stamp row as the issuance side would write it (serial random, short code unique)."""
    row = Stamp(
        request_id=w.request_id,
        organisation_id=w.org.id,
        product_id=w.product.id,
        gtin=w.gtin,
        serial=serial or secrets.token_hex(6).upper(),
        short_code=f"T{next(_seq):07d}",
        lot=lot,
        status=status,
        activated_at=activated_at or (utcnow() if status != "issued" else None),
    )
    db.add(row)
    db.flush()
    return row


def _publish(db: Session, w: ConsumerWorld, event: dict[str, Any]) -> None:
    owner = Principal(role=Role.ENTERPRISE_ADMIN, label="owner", organisation_id=w.org.id)
    event = {
        "action": "OBSERVE",
        "eventTime": "2026-07-01T09:00:00.000+07:00",
        "eventTimeZoneOffset": "+07:00",
        **event,
    }
    outcome = capture_service.capture(db, owner, _document({"type": "ObjectEvent", **event}))
    db.execute(
        update(EpcisEvent)
        .where(EpcisEvent.capture_job_id == outcome.job.id)
        .values(published_at=utcnow())
    )


def item_event(db: Session, w: ConsumerWorld, s: Stamp, biz_step: str = "retail_selling") -> None:
    """A published event that names the stamp's item itself (a unit sold, shipped alone)."""
    _publish(db, w, {"bizStep": biz_step, "epcList": [identifiers.sgtin_dl(w.gtin, s.serial)]})


def activation(db: Session, w: ConsumerWorld, *stamps: Stamp) -> None:
    """The commissioning event that activating ``stamps`` on the lot records (published)."""
    at = utcnow().astimezone(DISPLAY_TZ)
    serials = [s.serial for s in stamps]
    _publish(db, w, stamps_service.commissioning_event(w.gtin, LOT, serials, at))


def lot_event(db: Session, w: ConsumerWorld, biz_step: str = "receiving") -> None:
    """A published event of the whole lot (received by a shop, say)."""
    lot = identifiers.lgtin_dl(w.gtin, LOT)
    _publish(db, w, {"bizStep": biz_step, "quantityList": [{"epcClass": lot, "quantity": 10}]})


def url(s: Stamp, *, with_lot: bool = True) -> str:
    lot = f"/10/{s.lot}" if with_lot and s.lot else ""
    return f"/01/{s.gtin}{lot}/21/{s.serial}"


def recall(
    db: Session, w: ConsumerWorld, *, lot: str = LOT, state: str = "active", **kw: Any
) -> Recall:
    """An authority's recall of the lot, with the lot's Digital Link in its scope."""
    row = Recall(
        organisation_id=w.org.id,
        gtin=w.gtin,
        lot=lot,
        reason=kw.get("reason", "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng"),
        severity=kw.get("severity", "high"),
        instructions_vi=kw.get("instructions_vi", "Ngừng sử dụng và trả lại nơi mua."),
        instructions_en=kw.get("instructions_en", "Stop eating it and return it to the shop."),
        state=state,
        issued_at=utcnow() - timedelta(days=1),
    )
    db.add(row)
    db.flush()
    target = RecallTarget(
        recall_id=row.id,
        ident=identifiers.lgtin_dl(w.gtin, lot),
        kind="lot",
        organisation_id=w.org.id,
    )
    db.add(target)
    db.flush()
    return row
