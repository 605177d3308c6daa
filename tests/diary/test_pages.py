"""The production diary through its pages: entries become EPCIS events, warnings, corrections,
who may see what, and errors next to their fields."""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Role
from txng.kit import i18n
from txng.kit.i18n import DISPLAY_TZ
from txng.models import CaptureJob, EpcisEvent, Facility, Organisation, Product
from txng.registry import service as registry_service
from txng.registry.schemas import FacilityIn


def vi(message: str, **params: object) -> str:
    """What the Vietnamese page says (the English msgid until the catalog has it)."""
    return i18n.gettext("vi", message, params)


def vi_start(message: str, **params: object) -> str:
    """The Vietnamese text up to the first parameter not given."""

    class Given(dict[str, object]):
        def __missing__(self, key: str) -> str:
            return "\x00"

    return str(i18n.translations("vi").gettext(message) % Given(params)).split("\x00")[0]


@dataclass
class World:
    ent: f.Enterprise
    farm: Facility
    pond: Facility
    factory: Facility
    lychee: Product
    dried: Product
    buyer: Organisation


def _facility(session: Session, org_id: int, kind: str, name: str, **extra: Any) -> Facility:
    data = {"kind": kind, "name": name, "province_code": "24", "commune_code": f.LUC_NGAN}
    return registry_service.create_facility(
        session,
        actor=f.ADMIN,
        organisation_id=org_id,
        data=FacilityIn.model_validate({**data, **extra}),
    )


def _world(session: Session, *, name: str = "HTX Vải thiều Lục Ngạn") -> World:
    ent = f.enterprise(session, name=name)
    org = ent.org.id
    world = World(
        ent=ent,
        farm=_facility(
            session, org, "growing_area", "Vùng trồng đồi Cẩm", growing_area_code="VT-24-001"
        ),
        pond=_facility(session, org, "pond", "Ao cá số 3"),
        factory=_facility(session, org, "factory", "Xưởng sấy vải"),
        lychee=f.product(session, organisation_id=org, name="Vải thiều tươi"),
        dried=f.product(session, organisation_id=org, name="Vải thiều sấy khô"),
        buyer=f.organisation(
            session, name="Công ty Xuất khẩu Nông sản Bắc Giang", kind="enterprise"
        ),
    )
    session.commit()
    return world


WARNING = (
    "Harvested within the withholding period of %(input)s "
    "(applied %(date)s, %(days)s days, until %(until)s)"
)
CORRECTING = (
    "You are correcting the entry of %(when)s. "
    "The original stays in the diary, marked as corrected."
)


def _signed_in(client: TestClient, session: Session) -> World:
    world = _world(session)
    f.login(client, world.ent.admin.email)
    return world


def _when(hours_ago: float = 1) -> dict[str, str]:
    moment = datetime.now(DISPLAY_TZ) - timedelta(hours=hours_ago)
    return {"date": moment.date().isoformat(), "time": moment.strftime("%H:%M")}


def _post(client: TestClient, path: str, files: Any = None, **data: str) -> Any:
    token = f.csrf_of(client, "/my/diary")
    return client.post(
        path, data={"csrf_token": token, **data}, files=files, follow_redirects=False
    )


def _record(client: TestClient, code: str, **data: str) -> int:
    response = _post(client, f"/my/diary/new/{code}", **{**_when(), **data})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/my/diary\?saved=(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _events(client: TestClient, key: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(
        "/epcis/events", params={"perPage": "200", **params}, headers=f.bearer(key)
    )
    assert response.status_code == 200, response.text
    return list(response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def _entry_html(html: str, pk: int) -> str:
    return html.split(f'id="entry-{pk}"')[1].split("</li>")[0]


# recording -----------------------------------------------------------------------------------


def test_each_kind_of_entry_is_listed_and_served_by_the_epcis_interface(
    client: TestClient, db_session: Session
) -> None:
    w = _signed_in(client, db_session)
    lychee, dried = str(w.lychee.id), str(w.dried.id)
    farm, pond, factory = str(w.farm.id), str(w.pond.id), str(w.factory.id)
    lot = f"{w.lychee.gtin}/20260612-01"
    entries = {
        "planting": {"facility": farm, "product": lychee, "variety": "Thanh Hà"},
        "fertilising": {
            "facility": farm,
            "product": lychee,
            "input": "NPK 16-16-8",
            "dose": "2,5",
            "dose_unit": "KGM",
        },
        "spraying": {
            "facility": farm,
            "product": lychee,
            "input": "Regent 800WG",
            "dose": "15",
            "dose_unit": "GRM",
            "withholding_days": "0",
        },
        "harvest": {
            "facility": farm,
            "product": lychee,
            "lot_number": "20260612-01",
            "quantity": "1250,5",
            "unit": "KGM",
        },
        "stocking": {"facility": pond, "product": lychee, "quantity": "5000", "unit": "H87"},
        "feeding": {
            "facility": pond,
            "product": lychee,
            "input": "Cám viên",
            "dose": "20",
            "dose_unit": "KGM",
        },
        "vaccination": {
            "facility": pond,
            "product": lychee,
            "input": "Vắc xin A",
            "head_count": "40",
        },
        "packing": {
            "facility": factory,
            "lot": lot,
            "quantity": "500",
            "unit": "KGM",
            "package_count": "50",
        },
        "processing": {
            "facility": factory,
            "in_lot_0": lot,
            "in_qty_0": "700",
            "in_unit_0": "KGM",
            "product": dried,
            "lot_number": "S-01",
            "quantity": "120",
            "unit": "KGM",
        },
        "shipping": {
            "facility": factory,
            "lot": f"{w.dried.gtin}/S-01",
            "quantity": "100",
            "unit": "KGM",
            "partner": f"o:{w.buyer.id}",
            "delivery_note": "PX-7",
        },
        "receiving": {
            "facility": factory,
            "partner": f"o:{w.buyer.id}",
            "product": lychee,
            "lot_number": "NCC-1",
            "quantity": "30",
            "unit": "KGM",
        },
    }
    pks = {code: _record(client, code, **data) for code, data in entries.items()}

    html = client.get(f"/my/diary?saved={pks['receiving']}").text
    assert vi("Entry saved.") in html
    for code, pk in pks.items():
        assert f'href="/my/diary/{pk}"' in html, code
        assert f'href="#i-{code}"' in _entry_html(html, pk)
    harvest = _entry_html(html, pks["harvest"])
    lot = vi("lot %(lot)s", lot="20260612-01")
    assert f"Vùng trồng đồi Cẩm · Vải thiều tươi · {lot} · 1.250,5 {vi('kg')}" in harvest
    assert vi("Recorded by %(name)s", name="Nguyễn Văn An") in harvest
    fertilising = _entry_html(html, pks["fertilising"])
    assert f"Vải thiều tươi · NPK 16-16-8 · 2,5 {vi('kg')}" in fertilising
    shipped_lot = vi("lot %(lot)s", lot="S-01")
    assert f"Vải thiều sấy khô · {shipped_lot} · 100 {vi('kg')} · Công ty Xuất khẩu" in html

    events = {e["eventID"]: e for e in _events(client, w.ent.key)}
    assert len(events) == len(entries)
    steps = sorted(str(e["bizStep"]) for e in events.values())
    assert steps == sorted(
        [
            "txng:planting",
            "txng:fertilising",
            "txng:spraying",
            "commissioning",
            "txng:stocking",
            "txng:feeding",
            "txng:vaccination",
            "packing",
            "commissioning",
            "shipping",
            "receiving",
        ]
    )
    shipped = next(e for e in events.values() if e["bizStep"] == "shipping")
    assert shipped["destinationList"] == [
        {"type": "owning_party", "destination": f"urn:txng:org:{w.buyer.id}"}
    ]
    assert shipped["bizTransactionList"][0]["bizTransaction"] == f"urn:txng:bt:{w.ent.org.id}:PX-7"
    made = next(e for e in events.values() if e["type"] == "TransformationEvent")
    assert made["inputQuantityList"] == [
        {
            "epcClass": f"https://id.gs1.org/01/{w.lychee.gtin}/10/20260612-01",
            "quantity": 700,
            "uom": "KGM",
        }
    ]
    # the lot made by processing is offered for shipping, a harvested lot for processing
    assert f"{w.dried.gtin}/S-01" in client.get("/my/diary/new/shipping").text
    # the diary is captured like any EPCIS document, marked as coming from the diary
    assert set(db_session.scalars(select(CaptureJob.source))) == {"diary"}
    stored = db_session.scalars(select(EpcisEvent)).all()
    assert {e.recorded_by_user_id for e in stored} == {w.ent.admin.id}


def test_the_same_entry_sent_twice_is_stored_once(client: TestClient, db_session: Session) -> None:
    w = _signed_in(client, db_session)
    form = {
        "facility": str(w.farm.id),
        "product": str(w.lychee.id),
        "lot_number": "20260612-01",
        "quantity": "10",
        "unit": "KGM",
        "entry_id": "0b8f4a52-4a8e-4f0e-9d39-5a6a4c2f7e11",
        **_when(),  # the same moment each time, as a phone sending it again would
    }
    first = _record(client, "harvest", **form)
    # a phone that lost the first answer sends it again: its own lot is no conflict
    assert _record(client, "harvest", **form) == first
    assert db_session.scalar(select(func.count()).select_from(EpcisEvent)) == 1
    # the same page sent again with other values is another entry, here with a taken lot
    changed = {**form, "quantity": "12"}
    again = _post(client, "/my/diary/new/harvest", **changed)
    assert again.status_code == 422
    assert 'aria-describedby="e-lot_number"' in again.text
    second = _record(client, "harvest", **{**changed, "lot_number": "20260612-02"})
    assert second != first
    assert db_session.scalar(select(func.count()).select_from(EpcisEvent)) == 2


def test_the_phone_time_of_the_tap_is_the_event_time(
    client: TestClient, db_session: Session
) -> None:
    w = _signed_in(client, db_session)
    tapped = (datetime.now(DISPLAY_TZ) - timedelta(hours=5)).replace(microsecond=250000)
    pk = _record(
        client,
        "planting",
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        event_time=tapped.isoformat(timespec="milliseconds"),
        date="2020-01-01",  # what the page showed when it was opened: the tap wins
    )
    event = db_session.get(EpcisEvent, pk)
    assert event is not None
    assert event.event_time == tapped
    assert event.body["eventTimeZoneOffset"] == "+07:00"
    assert event.record_time - event.event_time > timedelta(hours=4)
    assert vi_start("sent %(when)s") in _entry_html(client.get("/my/diary").text, pk)


def test_forms_prefill_only_the_time_the_single_facility_and_a_lot_number(
    client: TestClient, db_session: Session
) -> None:
    ent = f.enterprise(db_session)
    farm = _facility(db_session, ent.org.id, "farm", "Trang trại Hồng Giang")
    f.product(db_session, organisation_id=ent.org.id)
    db_session.commit()
    f.login(client, ent.admin.email)

    tiles = client.get("/my/diary/new").text  # one facility: its activities at once
    assert 'href="/my/diary/new/spraying?facility=' in tiles
    assert vi("Spraying") in tiles
    assert "/my/diary/new/processing" not in tiles  # a farm does not process

    spraying = client.get("/my/diary/new/spraying").text
    assert f'value="{farm.id}" checked' in spraying
    for name in ("withholding_days", "dose", "input", "quantity"):
        match = re.search(rf'name="{name}" type="text" value="([^"]*)"', spraying)
        assert match is None or match.group(1) == "", name
    assert 'name="dose_unit" value="MLT" checked' not in spraying
    assert 'name="product" value' in spraying
    assert " checked>" not in spraying.split('name="product"')[1].split("</fieldset>")[0]
    today = datetime.now(DISPLAY_TZ).date()
    assert f'name="date" type="date" value="{today.isoformat()}"' in spraying

    harvest = client.get("/my/diary/new/harvest").text
    assert f'value="{today:%Y%m%d}-01"' in harvest


# withholding periods -------------------------------------------------------------------------


def test_a_harvest_inside_a_withholding_period_is_saved_with_a_warning(
    client: TestClient, db_session: Session
) -> None:
    w = _signed_in(client, db_session)
    _record(
        client,
        "spraying",
        **{
            **_when(hours_ago=30),
            "facility": str(w.farm.id),
            "product": str(w.lychee.id),
            "input": "Regent 800WG",
            "dose": "15",
            "dose_unit": "GRM",
            "withholding_days": "7",
        },
    )

    form = client.get(f"/my/diary/new/harvest?facility={w.farm.id}").text
    running = (
        "Withholding period running: %(input)s at %(place)s, until %(until)s. "
        "Harvesting earlier is recorded with a warning."
    )
    assert vi_start(running, input="Regent 800WG", place="Vùng trồng đồi Cẩm") in form

    pk = _record(
        client,
        "harvest",
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        lot_number="L1",
        quantity="10",
        unit="KGM",
    )
    warning = vi_start(WARNING, input="Regent 800WG")
    row = _entry_html(client.get("/my/diary").text, pk)
    assert warning in row
    assert vi_start(WARNING, input="Regent 800WG", date="D", days=7).split("D")[1] in row
    assert warning in client.get(f"/my/diary/{pk}").text

    # the pond was not sprayed: no warning there
    other = _record(
        client,
        "harvest",
        facility=str(w.pond.id),
        product=str(w.lychee.id),
        lot_number="L2",
        quantity="10",
        unit="KGM",
    )
    assert warning not in _entry_html(client.get("/my/diary").text, other)


# corrections ---------------------------------------------------------------------------------


def test_a_correction_declares_the_original_wrong_and_the_list_strikes_it_through(
    client: TestClient, db_session: Session
) -> None:
    w = _signed_in(client, db_session)
    pk = _record(
        client,
        "harvest",
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        lot_number="20260612-01",
        quantity="100",
        unit="KGM",
        event_time=(datetime.now(DISPLAY_TZ) - timedelta(days=2)).isoformat(),
    )

    form = client.get(f"/my/diary/{pk}/correct").text
    assert 'name="lot_number" type="text" value="20260612-01"' in form
    assert 'name="quantity" type="text" value="100"' in form
    assert vi_start(CORRECTING) in form

    token = f.csrf_of(client, "/my/diary")
    values = re.search(r'name="entry_id" value="([^"]+)"', form)
    assert values
    # the date and time stay as shown: the correction keeps the original time
    day = re.search(r'name="date" type="date" value="([^"]+)"', form)
    clock = re.search(r'name="time" type="time" value="([^"]+)"', form)
    assert day
    assert clock
    response = client.post(
        f"/my/diary/{pk}/correct",
        data={
            "csrf_token": token,
            "entry_id": values.group(1),
            "facility": str(w.farm.id),
            "product": str(w.lychee.id),
            "lot_number": "20260612-01",
            "quantity": "1000",
            "unit": "KGM",
            "reason": "Thiếu một số 0",
            "date": day.group(1),
            "time": clock.group(1),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    new_pk = int(response.headers["location"].rsplit("=", 1)[1])

    db_session.expire_all()
    original = db_session.get(EpcisEvent, pk)
    corrected = db_session.get(EpcisEvent, new_pk)
    assert original is not None
    assert corrected is not None
    assert original.error_declared
    declaration = original.body["errorDeclaration"]
    assert declaration["reason"] == "incorrect_data"
    assert declaration["correctiveEventIDs"] == [corrected.event_id]
    assert declaration["txng:reason"] == "Thiếu một số 0"
    assert corrected.body["quantityList"][0]["quantity"] == 1000
    assert corrected.event_time == original.event_time
    assert corrected.body["eventTime"] == original.body["eventTime"]
    assert corrected.body["txng:corrects"] == original.event_id
    assert not corrected.error_declared

    html = client.get("/my/diary").text
    row = _entry_html(html, pk)
    assert 'class="entry is-corrected' in html.split(f'id="entry-{pk}"')[0].rsplit("<li", 1)[1]
    assert vi("Corrected") in row
    assert f'href="/my/diary/{new_pk}"' in row
    assert f'href="/my/diary/{pk}"' in _entry_html(html, new_pk)

    declared = _events(client, w.ent.key, EXISTS_errorDeclaration="true")
    assert [e["eventID"] for e in declared] == [original.event_id]

    # an entry is corrected once; correcting the correction is a new correction
    again = _post(
        client,
        f"/my/diary/{pk}/correct",
        **{
            "facility": str(w.farm.id),
            "product": str(w.lychee.id),
            "lot_number": "X",
            "quantity": "1",
            "unit": "KGM",
            **_when(),
        },
    )
    assert again.status_code == 409
    assert client.get(f"/my/diary/{pk}/correct", follow_redirects=False).status_code == 303


def test_staff_of_another_organisation_cannot_see_or_correct_an_entry(
    client: TestClient, db_session: Session
) -> None:
    w = _world(db_session)
    other = f.enterprise(db_session, name="Công ty Khác")
    staff = f.user(db_session, role=Role.ENTERPRISE_STAFF, organisation_id=other.org.id)
    officer = f.user(db_session, role=Role.PROVINCIAL_ADMIN)
    db_session.commit()
    f.login(client, w.ent.admin.email)
    pk = _record(client, "planting", facility=str(w.farm.id), product=str(w.lychee.id))
    client.cookies.clear()

    f.login(client, staff.email)
    assert client.get(f"/my/diary/{pk}").status_code == 404
    assert client.get(f"/my/diary/{pk}/correct").status_code == 404
    response = _post(
        client,
        f"/my/diary/{pk}/correct",
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        **_when(),
    )
    assert response.status_code == 404
    assert f"/my/diary/{pk}" not in client.get("/my/diary").text
    # nor record at a facility of the other organisation
    bad = _post(
        client,
        "/my/diary/new/planting",
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        **_when(),
    )
    assert bad.status_code == 422
    assert db_session.scalar(select(func.count()).select_from(EpcisEvent)) == 1
    client.cookies.clear()

    f.login(client, officer.email)  # authorities have no diary of their own
    assert client.get("/my/diary").status_code == 404


# errors --------------------------------------------------------------------------------------


def test_bad_input_is_refused_with_messages_next_to_the_fields_and_nothing_stored(
    client: TestClient, db_session: Session
) -> None:
    w = _signed_in(client, db_session)
    response = _post(
        client,
        "/my/diary/new/spraying",
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        input="Regent 800WG",
        dose="mười",
        dose_unit="GRM",
        **_when(),
    )
    assert response.status_code == 422
    html = response.text
    assert 'aria-describedby="e-dose"' in html
    assert html.split('id="e-dose"')[1].split("</p>")[0].endswith(vi("Enter a number"))
    required = html.split('id="e-withholding_days"')[1].split("</p>")[0]
    assert required.endswith(vi("This field is required"))
    assert 'value="Regent 800WG"' in html  # what was typed stays
    assert db_session.scalar(select(func.count()).select_from(EpcisEvent)) == 0
    assert db_session.scalar(select(func.count()).select_from(CaptureJob)) == 0

    client.cookies.set("txng_lang", "en")
    english = _post(
        client,
        "/my/diary/new/harvest",
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        lot_number="lô một",
        quantity="5",
        unit="KGM",
        **_when(),
    )
    assert english.status_code == 422
    message = english.text.split('id="e-lot_number"')[1].split("</p>")[0]
    assert "Use only letters without accents" in message


def test_an_unknown_activity_is_not_found(client: TestClient, db_session: Session) -> None:
    _signed_in(client, db_session)
    assert client.get("/my/diary/new/dancing").status_code == 404


# cooperatives and photos ---------------------------------------------------------------------


def test_a_cooperative_officer_records_for_a_member_household(
    client: TestClient, db_session: Session
) -> None:
    w = _signed_in(client, db_session)
    assert 'name="recorded_for"' in client.get("/my/diary/new/fertilising").text
    pk = _record(
        client,
        "fertilising",
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        input="Phân chuồng ủ",
        dose="200",
        dose_unit="KGM",
        recorded_for="Hộ ông Nguyễn Văn Bình",
    )
    row = _entry_html(client.get("/my/diary").text, pk)
    by = vi("Recorded by %(name)s", name="Nguyễn Văn An")
    assert f"{by} · {vi('for %(member)s', member='Hộ ông Nguyễn Văn Bình')}" in row
    event = _events(client, w.ent.key)[0]
    assert event["txng:recordedBy"] == "Nguyễn Văn An"
    assert event["txng:recordedFor"] == "Hộ ông Nguyễn Văn Bình"


GIF = {"photo": ("la.png", b"GIF89a...", "image/png")}


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x0b\x5d\x3b")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_photo_is_checked_stored_and_linked_from_the_event(
    client: TestClient, db_session: Session
) -> None:
    w = _signed_in(client, db_session)
    bad = _post(
        client,
        "/my/diary/new/planting",
        files=GIF,
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        **_when(),
    )
    assert bad.status_code == 422
    kinds = vi("Unsupported file type: use %(kinds)s", kinds="JPG, PNG, WEBP")
    assert bad.text.split('id="e-photo"')[1].split("</p>")[0].endswith(kinds)

    response = _post(
        client,
        "/my/diary/new/planting",
        files={"photo": ("la.png", _png(), "image/png")},
        facility=str(w.farm.id),
        product=str(w.lychee.id),
        **_when(),
    )
    assert response.status_code == 303
    pk = int(response.headers["location"].rsplit("=", 1)[1])
    event = db_session.get(EpcisEvent, pk)
    assert event is not None
    url = str(event.body["txng:photo"])
    assert re.fullmatch(r"http://testserver/diary/photos/\d+", url)
    photo = client.get(url)
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/png"
    assert photo.content == _png()
    assert f'src="{url}"' in client.get(f"/my/diary/{pk}").text

    other = f.enterprise(db_session, name="Công ty Khác")
    db_session.commit()
    client.cookies.clear()
    f.login(client, other.admin.email)
    assert client.get(url).status_code == 404
