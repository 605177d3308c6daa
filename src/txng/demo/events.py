"""Diary history for the demo: two supply chains the trace engine follows end to end.

* a lychee lot from the cooperative's growing area Đồi Cao (planting, fertilising with one entry
  corrected, spraying with a withholding period that ends before the harvest) → the packing house
  in Phượng Sơn (processed into 5 kg cartons, packed) → the distributor's cold store → the
  supermarket in Kinh Bắc;
* a Bao Thai Hong rice lot from the Nam Dương rice cooperative → the Chũ noodle maker, which
  makes a lot of Mì Chũ from it → the supermarket.

Every event is a diary entry (:class:`~txng.diary.activities.Entry` →
:func:`~txng.diary.activities.build_event`), recorded by the organisation's own user and captured
with ``source="diary"``, one document per entry as the diary pages send them, at times in the
weeks before ``today`` (Vietnam time, +07:00). The correction goes the diary's way too: the
original is declared wrong (errorDeclaration) and the corrected entry captured with it.

Harvest lots have the numbers the harvest form suggests (``YYYYMMDD-01``); the packing house and
the noodle maker number their own lots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from txng.accounts.service import principal_of
from txng.demo.data import (
    ENTERPRISE_USERS,
    LYCHEE_BULK_GTIN,
    LYCHEE_CARTON_GTIN,
    MI_CHU_GTIN,
    RICE_GTIN,
)
from txng.diary import activities as act
from txng.diary.forms import suggest_lot
from txng.diary.repository import SOURCE
from txng.epcis import capture as capture_service
from txng.epcis import identifiers
from txng.kit.gs1 import normalize_gtin
from txng.kit.i18n import DISPLAY_TZ
from txng.models import Facility, Organisation, Product, User

SAVED_AFTER = timedelta(minutes=2)  # the phone sends an entry right after it is written
KGM, PIECES, MILLILITRE = "KGM", "H87", "MLT"
LYCHEE_HARVEST_DAYS_AGO = 5
RICE_HARVEST_DAYS_AGO = 26


def _at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), DISPLAY_TZ)


def _of(gtin: str, quantity: int | None = None, uom: str | None = None) -> act.Amount:
    """A product class (farm work), with a quantity when one was given."""
    amount = Decimal(quantity) if quantity is not None else None
    return act.Amount(identifiers.gtin_dl(normalize_gtin(gtin)), amount, uom if amount else None)


def _lot(gtin: str, lot: str, quantity: int, uom: str) -> act.Amount:
    return act.Amount(identifiers.lgtin_dl(normalize_gtin(gtin), lot), Decimal(quantity), uom)


def _party(org: Organisation) -> act.Party:
    return act.Party(org.id, org.name, org.gln, org.tax_code)


class _Diary:
    """One organisation's diary as one of its users writes in it."""

    def __init__(self, session: Session, org: Organisation, user: User) -> None:
        self.session = session
        self.org = _party(org)
        self.user = user
        facilities = session.scalars(
            select(Facility).where(Facility.organisation_id == org.id).order_by(Facility.id)
        )
        self.places = [
            act.Place(f.id, f.name, f.kind, f.gln, f.location_code, org.gln) for f in facilities
        ]
        products = session.scalars(select(Product).where(Product.organisation_id == org.id))
        self.items = {p.gtin: act.Item(p.id, p.name_vi, p.gtin) for p in products}

    def item(self, gtin: str) -> act.Item:
        return self.items[normalize_gtin(gtin)]

    def entry(self, code: str, when: datetime, **fields: Any) -> act.Entry:
        fields.setdefault("facility", self.places[0])
        return act.Entry(
            activity=act.ACTIVITIES[code],
            event_id=act.new_event_id(),
            event_time=when,
            recorded_by=self.user.full_name,
            **fields,
        )

    def write(self, code: str, when: datetime, **fields: Any) -> dict[str, Any]:
        """Record one entry as the diary page does; the event as captured."""
        event = act.build_event(self.entry(code, when, **fields), organisation=self.org)
        self.capture([event], when + SAVED_AFTER)
        return event

    def correct(
        self, original: dict[str, Any], fixed: act.Entry, *, at: datetime, reason: str
    ) -> dict[str, Any]:
        """Declare an entry wrong and capture its correction with it (as the diary does)."""
        fixed = act.correcting(fixed, str(original["eventID"]))
        declared = act.error_declaration(
            original, corrective_id=fixed.event_id, declared=at, reason=reason
        )
        event = act.build_event(fixed, organisation=self.org)
        self.capture([declared, event], at)
        return event

    def capture(self, events: list[dict[str, Any]], now: datetime) -> None:
        outcome = capture_service.capture(
            self.session,
            principal_of(self.user),
            act.document(*events, created=now),
            source=SOURCE,
            now=now.astimezone(UTC),
        )
        if outcome.errors:  # the demo is built to be valid: say loudly what is not
            raise RuntimeError(f"demo diary entry refused: {[e.message for e in outcome.errors]}")


def _users(session: Session) -> dict[str, User]:
    emails = {slug: email for slug, _, email, _, _ in ENTERPRISE_USERS}
    found = {
        u.email: u for u in session.scalars(select(User).where(User.email.in_(emails.values())))
    }
    return {slug: found[email] for slug, email in emails.items()}


def load_demo_events(session: Session, orgs: Mapping[str, Organisation], today: date) -> None:
    """Record the demo's diary history (after the registry and the users are loaded)."""
    users = _users(session)
    _lychee_chain(session, orgs, users, today - timedelta(days=LYCHEE_HARVEST_DAYS_AGO))
    _noodle_chain(session, orgs, users, today - timedelta(days=RICE_HARVEST_DAYS_AGO))
    session.flush()


# the lychee chain ----------------------------------------------------------------------------

MEMBER = "Hộ ông Nguyễn Văn Sơn, thôn Đồng Cống"  # the coop's member whose orchard it is


def _lychee_chain(
    session: Session, orgs: Mapping[str, Organisation], users: Mapping[str, User], day: date
) -> None:
    staff = _Diary(session, orgs["coop"], users["nhanvien"])
    coop = _Diary(session, orgs["coop"], users["vaithieu"])
    packing = _Diary(session, orgs["packing"], users["donggoi"])
    distributor = _Diary(session, orgs["distributor"], users["phanphoi"])
    shop = _Diary(session, orgs["shop"], users["sieuthi"])
    orchard = coop.places[0]  # Vùng trồng vải thiều Đồi Cao
    lychee = coop.item(LYCHEE_BULK_GTIN)
    cartons = packing.item(LYCHEE_CARTON_GTIN)

    # farm work in the weeks before the harvest, written by the cooperative's staff
    staff.write(
        "planting",
        _at(day - timedelta(days=45), "08:10"),
        facility=orchard,
        product=lychee,
        amounts=(_of(LYCHEE_BULK_GTIN, 40, PIECES),),
        details={"txng:variety": "Vải thiều Thanh Hà (cây ghép, 2 năm tuổi)"},
        recorded_for=MEMBER,
        note="Trồng dặm 40 cây thay những cây chết sau đợt rét đậm tháng Giêng.",
    )
    fertiliser = {"txng:input": "Phân bón NPK 12-5-10 Lâm Thao", "txng:doseUnit": KGM}
    fertilising = staff.entry(
        "fertilising",
        _at(day - timedelta(days=35), "07:30"),
        facility=orchard,
        product=lychee,
        amounts=(_of(LYCHEE_BULK_GTIN),),
        details={**fertiliser, "txng:dose": 1200},
        recorded_for=MEMBER,
        note="Bón thúc quả cho 120 cây, rạch rãnh quanh tán rồi lấp đất, tưới ẩm.",
    )
    typo = act.build_event(fertilising, organisation=staff.org)
    staff.capture([typo], fertilising.event_time + SAVED_AFTER)
    staff.correct(
        typo,
        replace(fertilising, event_id=act.new_event_id(), details={**fertiliser, "txng:dose": 120}),
        at=_at(day - timedelta(days=34), "19:45"),
        reason="Gõ thừa một số 0: bón 120 kg, không phải 1.200 kg.",
    )
    staff.write(
        "spraying",
        _at(day - timedelta(days=20), "06:15"),
        facility=orchard,
        product=lychee,
        amounts=(_of(LYCHEE_BULK_GTIN),),
        details={
            "txng:input": "Radiant 60SC (spinetoram)",
            "txng:dose": 600,
            "txng:doseUnit": MILLILITRE,
            "txng:withholdingDays": 10,
        },
        recorded_for=MEMBER,
        note="Phun trừ sâu đục cuống quả, pha 15 ml cho bình 16 lít; trời lặng gió.",
    )

    # the harvest: a new lot, then to the packing house the same morning
    harvest_lot = suggest_lot(day, set())
    coop.write(
        "harvest",
        _at(day, "09:00"),
        facility=orchard,
        product=lychee,
        lot_number=harvest_lot,
        amounts=(_lot(LYCHEE_BULK_GTIN, harvest_lot, 1200, KGM),),
        recorded_for=MEMBER,
        note="Thu hái từ 4 giờ sáng lúc trời mát, quả chín đều, để trong sọt có lót lá.",
    )
    note = f"PXK-{day:%y%m%d}-01"  # the cooperative's delivery note
    coop.write(
        "shipping",
        _at(day, "10:30"),
        facility=orchard,
        lot_number=harvest_lot,
        amounts=(_lot(LYCHEE_BULK_GTIN, harvest_lot, 1200, KGM),),
        partner=packing.org,
        delivery_note=note,
        note="Xe tải 2,5 tấn biển số 98C-214.57, 80 sọt.",
    )
    packing.write(
        "receiving",
        _at(day, "11:20"),
        lot_number=harvest_lot,
        amounts=(_lot(LYCHEE_BULK_GTIN, harvest_lot, 1200, KGM),),
        partner=coop.org,
        delivery_note=note,
        note="Nhận đủ 80 sọt; nhiệt độ quả khi nhận 27 °C.",
    )

    # sorted into class I cartons, packed and sent to the distributor's cold store
    carton_lot = f"PS-{day:%Y%m%d}-01"  # the packing house numbers its own lots
    packing.write(
        "processing",
        _at(day, "15:30"),
        inputs=(_lot(LYCHEE_BULK_GTIN, harvest_lot, 1200, KGM),),
        product=cartons,
        lot_number=carton_lot,
        amounts=(_lot(LYCHEE_CARTON_GTIN, carton_lot, 1100, KGM),),
        note="Cắt cuống, rửa, làm lạnh nhanh; loại 100 kg quả nứt, quả nhỏ không đạt loại 1.",
    )
    packing.write(
        "packing",
        _at(day, "17:00"),
        lot_number=carton_lot,
        amounts=(_lot(LYCHEE_CARTON_GTIN, carton_lot, 1100, KGM),),
        details={"txng:packageCount": 220, "txng:packageType": "Thùng carton 5 kg"},
    )
    note = f"PX-PS-{day:%y%m%d}-03"
    packing.write(
        "shipping",
        _at(day, "19:00"),
        lot_number=carton_lot,
        amounts=(_lot(LYCHEE_CARTON_GTIN, carton_lot, 1100, KGM),),
        partner=distributor.org,
        delivery_note=note,
        note="Xe lạnh 2–5 °C, biển số 98H-031.26.",
    )
    distributor.write(
        "receiving",
        _at(day, "20:30"),
        lot_number=carton_lot,
        amounts=(_lot(LYCHEE_CARTON_GTIN, carton_lot, 1100, KGM),),
        partner=packing.org,
        delivery_note=note,
        note="220 thùng vào kho lạnh số 2, nhiệt độ 4 °C.",
    )

    # the next morning, 60 cartons to the supermarket
    next_day = day + timedelta(days=1)
    note = f"BG-{next_day:%y%m%d}-117"
    distributor.write(
        "shipping",
        _at(next_day, "05:30"),
        lot_number=carton_lot,
        amounts=(_lot(LYCHEE_CARTON_GTIN, carton_lot, 300, KGM),),
        partner=shop.org,
        delivery_note=note,
        note="60 thùng theo đơn đặt hàng của siêu thị.",
    )
    shop.write(
        "receiving",
        _at(next_day, "07:00"),
        lot_number=carton_lot,
        amounts=(_lot(LYCHEE_CARTON_GTIN, carton_lot, 300, KGM),),
        partner=distributor.org,
        delivery_note=note,
        note="Kiểm tra cảm quan đạt; lên quầy trái cây tươi.",
    )


# the Mì Chũ chain ----------------------------------------------------------------------------


def _noodle_chain(
    session: Session, orgs: Mapping[str, Organisation], users: Mapping[str, User], day: date
) -> None:
    rice_coop = _Diary(session, orgs["rice"], users["namduong"])
    noodles = _Diary(session, orgs["noodles"], users["michu"])
    shop = _Diary(session, orgs["shop"], users["sieuthi"])

    rice_lot = suggest_lot(day, set())
    rice_coop.write(
        "harvest",
        _at(day, "16:00"),
        product=rice_coop.item(RICE_GTIN),
        lot_number=rice_lot,
        amounts=(_lot(RICE_GTIN, rice_lot, 3000, KGM),),
        recorded_for="Tổ hợp tác thôn Thượng",
        note="Gặt máy, phơi khô, xay xát tại hợp tác xã; độ ẩm hạt 13,5 %.",
    )
    shipped = day + timedelta(days=4)
    note = f"NDG-{shipped:%y%m%d}-02"
    rice_coop.write(
        "shipping",
        _at(shipped, "07:00"),
        lot_number=rice_lot,
        amounts=(_lot(RICE_GTIN, rice_lot, 2000, KGM),),
        partner=noodles.org,
        delivery_note=note,
        note="40 bao 50 kg.",
    )
    noodles.write(
        "receiving",
        _at(shipped, "09:30"),
        lot_number=rice_lot,
        amounts=(_lot(RICE_GTIN, rice_lot, 2000, KGM),),
        partner=rice_coop.org,
        delivery_note=note,
        note="Gạo khô, không mốc, độ ẩm 13,5 %.",
    )

    made = day + timedelta(days=7)
    noodle_lot = f"MC-{made:%Y%m%d}-01"
    noodles.write(
        "processing",
        _at(made, "17:00"),
        inputs=(_lot(RICE_GTIN, rice_lot, 1000, KGM),),
        product=noodles.item(MI_CHU_GTIN),
        lot_number=noodle_lot,
        amounts=(_lot(MI_CHU_GTIN, noodle_lot, 1700, PIECES),),
        note="Ngâm gạo, xay bột, tráng bánh, phơi nắng hai ngày, thái sợi, đóng gói 500 g.",
    )
    sold = day + timedelta(days=12)
    note = f"MC-{sold:%y%m%d}-05"
    noodles.write(
        "shipping",
        _at(sold, "06:00"),
        lot_number=noodle_lot,
        amounts=(_lot(MI_CHU_GTIN, noodle_lot, 400, PIECES),),
        partner=shop.org,
        delivery_note=note,
        note="20 thùng, mỗi thùng 20 gói.",
    )
    shop.write(
        "receiving",
        _at(sold, "09:00"),
        lot_number=noodle_lot,
        amounts=(_lot(MI_CHU_GTIN, noodle_lot, 400, PIECES),),
        partner=noodles.org,
        delivery_note=note,
        note="Lên kệ hàng OCOP Bắc Ninh.",
    )
