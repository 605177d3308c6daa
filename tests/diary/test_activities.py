"""The diary's event builders, without a database: every activity gives a valid EPCIS 2.0 event
with the right business step, quantities, ILMD, sources and destinations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from txng.diary import activities as act
from txng.diary import forms
from txng.epcis import validate
from txng.errors import ValidationFailed
from txng.kit.gs1 import with_check_digit

NOW = datetime(2026, 6, 12, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
GTIN_LYCHEE = "0" + with_check_digit("893000100001")
GTIN_DRIED = "0" + with_check_digit("893000100002")
GTIN_OTHER = "0" + with_check_digit("893999900001")
GLN_FARM = with_check_digit("893000100010")
GLN_BUYER = with_check_digit("893555500001")

FARM = act.Place(1, "Vườn vải đồi Cẩm", "growing_area", GLN_FARM, GLN_FARM)
POND = act.Place(2, "Ao số 3", "pond", None, "VN07582-AB12CD")
FACTORY = act.Place(3, "Xưởng sấy", "factory", None, "VN07582-FF0001")
LYCHEE = act.Item(10, "Vải thiều Lục Ngạn", GTIN_LYCHEE)
DRIED = act.Item(11, "Vải sấy khô", GTIN_DRIED)
OWNER = act.Party(100, "HTX Vải thiều", None, "2400000001")
BUYER = act.Party(200, "Công ty Xuất khẩu Bắc Giang", GLN_BUYER, "2400000002")
TRADER = act.Party(201, "Hộ kinh doanh Lan", None, "2400000003")
HARVESTED = act.Lot(GTIN_LYCHEE, "20260610-01", "Vải thiều Lục Ngạn")
RECEIVED = act.Lot(GTIN_OTHER, "L-77", "Đường kính")

OPTIONS = act.Options(
    organisation=OWNER,
    facilities={p.id: p for p in (FARM, POND, FACTORY)},
    products={p.id: p for p in (LYCHEE, DRIED)},
    lots={lot.key: lot for lot in (HARVESTED, RECEIVED)},
    partners={p.id: p for p in (BUYER, TRADER)},
    taken_lots=frozenset({HARVESTED.key, RECEIVED.key}),
    cooperative=True,
)


def _entry(code: str, **form: str) -> act.Entry:
    base = {"date": "2026-06-12", "time": "07:30"}
    return forms.parse_entry(
        act.ACTIVITIES[code], {**base, **form}, OPTIONS, now=NOW, recorded_by="Nguyễn Văn An"
    )


def _event(code: str, **form: str) -> dict[str, Any]:
    event = act.build_event(_entry(code, **form), organisation=OWNER)
    document = act.document(event, created=NOW)
    errors, _ = validate.validate_document(document, now=NOW)
    assert errors == [], errors
    return event


def _errors(code: str, **form: str) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        _entry(code, **form)
    return {e.field: e.code for e in caught.value.errors}


# what is offered where -----------------------------------------------------------------------


def test_facility_kinds_offer_the_activities_of_their_product_group() -> None:
    def codes(kind: str) -> list[str]:
        return [a.code for a in act.activities_for(kind)]

    assert codes("growing_area") == [
        "planting",
        "fertilising",
        "spraying",
        "harvest",
        "shipping",
        "receiving",
    ]
    assert codes("farm") == codes("growing_area")
    assert codes("barn") == [
        "stocking",
        "feeding",
        "vaccination",
        "harvest",
        "shipping",
        "receiving",
    ]
    assert codes("pond") == codes("barn")
    assert codes("factory") == ["receiving", "processing", "packing", "shipping"]
    assert codes("packing_house") == codes("factory")
    assert codes("warehouse") == ["shipping", "receiving"]


# each activity's event -----------------------------------------------------------------------


def test_harvest_commissions_a_lot_with_its_quantity_and_ilmd() -> None:
    event = _event(
        "harvest",
        facility="1",
        product="10",
        lot_number="20260612-01",
        quantity="1250,5",
        unit="KGM",
    )
    assert event["type"] == "ObjectEvent"
    assert event["action"] == "ADD"
    assert event["bizStep"] == "commissioning"
    assert event["disposition"] == "active"
    assert event["quantityList"] == [
        {
            "epcClass": f"https://id.gs1.org/01/{GTIN_LYCHEE}/10/20260612-01",
            "quantity": 1250.5,
            "uom": "KGM",
        }
    ]
    assert event["ilmd"] == {
        "cbvmda:lotNumber": "20260612-01",
        "cbvmda:harvestStartDate": "2026-06-12",
        "cbvmda:harvestEndDate": "2026-06-12",
    }
    assert (
        event["readPoint"] == event["bizLocation"] == {"id": f"https://id.gs1.org/414/{GLN_FARM}"}
    )
    assert event["eventTime"] == "2026-06-12T07:30:00.000+07:00"
    assert event["eventTimeZoneOffset"] == "+07:00"
    assert event["eventID"].startswith("urn:uuid:")
    assert event["txng:recordedBy"] == "Nguyễn Văn An"


@pytest.mark.parametrize(
    "code", ["planting", "stocking", "fertilising", "spraying", "feeding", "vaccination"]
)
def test_farm_work_is_an_observation_with_a_namespaced_step(code: str) -> None:
    form = {
        "facility": "2" if code in ("stocking", "feeding", "vaccination") else "1",
        "product": "10",
        "input": "NPK 16-16-8",
        "dose": "2,5",
        "dose_unit": "KGM",
        "withholding_days": "7",
        "quantity": "5000",
        "unit": "H87",
        "variety": "Thanh Hà",
        "head_count": "40",
        "note": "Sau mưa",
    }
    event = _event(code, **form)
    assert event["type"] == "ObjectEvent"
    assert event["action"] == "OBSERVE"
    assert event["bizStep"] == f"txng:{code}"
    assert event["quantityList"][0]["epcClass"] == f"https://id.gs1.org/01/{GTIN_LYCHEE}"
    assert event["txng:note"] == "Sau mưa"
    assert "ilmd" not in event
    if code == "stocking":
        assert event["bizLocation"] == {"id": "urn:txng:loc:VN07582-AB12CD"}
        assert event["quantityList"][0]["quantity"] == 5000
        assert event["quantityList"][0]["uom"] == "H87"


def test_spraying_keeps_input_dose_and_withholding_period() -> None:
    event = _event(
        "spraying",
        facility="1",
        product="10",
        input="Regent 800WG",
        dose="15",
        dose_unit="GRM",
        withholding_days="14",
    )
    assert event["txng:input"] == "Regent 800WG"
    assert event["txng:dose"] == 15
    assert event["txng:doseUnit"] == "GRM"
    assert event["txng:withholdingDays"] == 14
    assert event["quantityList"] == [{"epcClass": f"https://id.gs1.org/01/{GTIN_LYCHEE}"}]


def test_packing_observes_the_lot_at_the_packing_step() -> None:
    event = _event(
        "packing",
        facility="3",
        lot=HARVESTED.key,
        quantity="500",
        unit="KGM",
        package_count="50",
        package_type="Thùng carton 10 kg",
    )
    assert event["bizStep"] == "packing"
    assert event["action"] == "OBSERVE"
    assert event["disposition"] == "in_progress"
    assert event["quantityList"] == [{"epcClass": HARVESTED.uri, "quantity": 500, "uom": "KGM"}]
    assert event["txng:packageCount"] == 50
    assert event["txng:packageType"] == "Thùng carton 10 kg"


def test_processing_transforms_input_lots_into_a_new_lot() -> None:
    event = _event(
        "processing",
        facility="3",
        in_lot_0=HARVESTED.key,
        in_qty_0="1000",
        in_unit_0="KGM",
        in_lot_1=RECEIVED.key,
        in_qty_1="20",
        in_unit_1="KGM",
        product="11",
        lot_number="S-20260612",
        quantity="180",
        unit="KGM",
    )
    assert event["type"] == "TransformationEvent"
    assert "action" not in event
    assert event["bizStep"] == "commissioning"  # CBV 2.0 has no "transforming"
    assert "transforming" not in act.ACTIVITIES
    assert event["inputQuantityList"] == [
        {"epcClass": HARVESTED.uri, "quantity": 1000, "uom": "KGM"},
        {"epcClass": RECEIVED.uri, "quantity": 20, "uom": "KGM"},
    ]
    assert event["outputQuantityList"] == [
        {
            "epcClass": f"https://id.gs1.org/01/{GTIN_DRIED}/10/S-20260612",
            "quantity": 180,
            "uom": "KGM",
        }
    ]
    assert event["ilmd"] == {"cbvmda:lotNumber": "S-20260612"}


def test_shipping_to_a_registered_buyer_names_owners_places_and_the_delivery_note() -> None:
    event = _event(
        "shipping",
        facility="1",
        lot=HARVESTED.key,
        quantity="2",
        unit="TNE",
        partner=f"o:{BUYER.id}",
        delivery_note="PX-0012",
    )
    assert event["bizStep"] == "shipping"
    assert event["disposition"] == "in_transit"
    assert event["action"] == "OBSERVE"
    assert event["sourceList"] == [
        {"type": "owning_party", "source": "urn:txng:org:100"},
        {"type": "location", "source": f"https://id.gs1.org/414/{GLN_FARM}"},
    ]
    assert event["destinationList"] == [
        {"type": "owning_party", "destination": f"https://id.gs1.org/417/{GLN_BUYER}"}
    ]
    assert event["bizTransactionList"] == [
        {"type": "desadv", "bizTransaction": "urn:txng:bt:100:PX-0012"}
    ]


def test_shipping_to_our_own_factory_moves_between_places_without_owners() -> None:
    event = _event(
        "shipping",
        facility="1",
        lot=HARVESTED.key,
        quantity="800",
        unit="KGM",
        partner=f"f:{FACTORY.id}",
    )
    assert event["sourceList"] == [
        {"type": "location", "source": f"https://id.gs1.org/414/{GLN_FARM}"}
    ]
    assert event["destinationList"] == [
        {"type": "location", "destination": "urn:txng:loc:VN07582-FF0001"}
    ]
    assert "bizTransactionList" not in event


def test_shipping_to_a_buyer_outside_the_registry_keeps_the_typed_name() -> None:
    event = _event(
        "shipping",
        facility="1",
        lot=HARVESTED.key,
        quantity="300",
        unit="KGM",
        partner_name="Chị Hoa, chợ Long Biên",
    )
    assert event["txng:partnerName"] == "Chị Hoa, chợ Long Biên"
    assert "destinationList" not in event
    assert event["sourceList"][0] == {"type": "owning_party", "source": "urn:txng:org:100"}


def test_receiving_from_a_supplier_with_its_own_gtin_and_delivery_note() -> None:
    event = _event(
        "receiving",
        facility="3",
        partner=f"o:{BUYER.id}",
        gtin=GTIN_OTHER[1:],
        lot_number="L-88",
        quantity="25",
        unit="KGM",
        delivery_note="GH/2026/7",
    )
    assert event["bizStep"] == "receiving"
    assert event["disposition"] == "in_progress"
    assert event["quantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{GTIN_OTHER}/10/L-88", "quantity": 25, "uom": "KGM"}
    ]
    assert event["sourceList"] == [
        {"type": "owning_party", "source": f"https://id.gs1.org/417/{GLN_BUYER}"}
    ]
    assert event["destinationList"] == [
        {"type": "owning_party", "destination": "urn:txng:org:100"},
        {"type": "location", "destination": "urn:txng:loc:VN07582-FF0001"},
    ]
    # the supplier issued the delivery note: its GLN qualifies the number
    assert event["bizTransactionList"] == [
        {"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{GLN_BUYER}:GH%2F2026%2F7"}
    ]


def test_a_cooperative_officer_records_for_a_member_household() -> None:
    event = _event(
        "fertilising",
        facility="1",
        product="10",
        input="Phân chuồng ủ",
        dose="200",
        dose_unit="KGM",
        recorded_for="Hộ ông Nguyễn Văn Bình",
    )
    assert event["txng:recordedBy"] == "Nguyễn Văn An"
    assert event["txng:recordedFor"] == "Hộ ông Nguyễn Văn Bình"


def test_recorded_for_is_ignored_outside_a_cooperative() -> None:
    options = act.Options(
        organisation=OWNER, facilities={1: FARM}, products={10: LYCHEE}, cooperative=False
    )
    entry = forms.parse_entry(
        act.ACTIVITIES["planting"],
        {
            "date": "2026-06-12",
            "time": "07:00",
            "facility": "1",
            "product": "10",
            "recorded_for": "X",
        },
        options,
        now=NOW,
        recorded_by="A",
    )
    assert entry.recorded_for is None


# when --------------------------------------------------------------------------------------


def test_the_moment_of_the_tap_wins_over_the_typed_date_and_keeps_its_offset() -> None:
    event = _event(
        "planting", facility="1", product="10", event_time="2026-06-12T06:05:09.123+07:00"
    )
    assert event["eventTime"] == "2026-06-12T06:05:09.123+07:00"
    assert event["eventTimeZoneOffset"] == "+07:00"


def test_typed_date_and_time_are_vietnam_time() -> None:
    entry = _entry("planting", facility="1", product="10", date="2026-06-11", time="18:45")
    assert entry.event_time.astimezone(UTC) == datetime(2026, 6, 11, 11, 45, tzinfo=UTC)


def test_a_time_in_the_future_is_refused() -> None:
    later = (NOW + timedelta(hours=2)).isoformat()
    assert _errors("planting", facility="1", product="10", event_time=later) == {"/date": "future"}


def test_the_same_entry_id_gives_the_same_event_id() -> None:
    entry_id = "7d6f3b0e-2f55-4d38-9a0e-6a3f5d1c2b10"
    first = _entry("planting", facility="1", product="10", entry_id=entry_id)
    again = _entry("planting", facility="1", product="10", entry_id=entry_id)
    assert first.event_id == again.event_id == f"urn:uuid:{entry_id}"
    assert _entry("planting", facility="1", product="10", entry_id="x").event_id != first.event_id


# errors --------------------------------------------------------------------------------------


def test_every_missing_field_is_reported_on_its_own_field() -> None:
    assert _errors("spraying", date="") == {
        "/facility": "required",
        "/date": "date",
        "/product": "required",
        "/input": "required",
        "/dose": "required",
        "/dose_unit": "unit",
        "/withholding_days": "required",
    }


def test_bad_numbers_choices_and_lots_are_refused() -> None:
    assert _errors(
        "harvest", facility="9", product="10", lot_number="lô 1", quantity="-3", unit="BAG"
    ) == {
        "/facility": "invalid_choice",
        "/lot_number": "lot_format",
        "/quantity": "too_small",
        "/unit": "unit",
    }
    assert _errors(
        "harvest",
        facility="1",
        product="10",
        lot_number="20260610-01",
        quantity="1,2345",
        unit="KGM",
    ) == {
        "/lot_number": "lot_taken",
        "/quantity": "too_precise",
    }
    assert _errors(
        "spraying",
        facility="1",
        product="10",
        input="X",
        dose="abc",
        dose_unit="MLT",
        withholding_days="400",
    ) == {
        "/dose": "not_a_number",
        "/withholding_days": "too_large",
    }


def test_trade_needs_a_partner_and_not_the_same_place() -> None:
    assert _errors("shipping", facility="1", lot=HARVESTED.key, quantity="1", unit="KGM") == {
        "/partner": "required"
    }
    assert _errors(
        "shipping", facility="1", lot=HARVESTED.key, quantity="1", unit="KGM", partner="f:1"
    ) == {"/partner": "same_place"}
    assert _errors("receiving", facility="3", partner="o:999", quantity="1", unit="KGM") == {
        "/partner": "invalid_choice",
        "/product": "required",
    }
    assert (
        _errors(
            "receiving",
            facility="3",
            partner="o:200",
            gtin="8930001000012",
            quantity="1",
            unit="KGM",
        )["/gtin"]
        == "bad_gtin"
    )


def test_processing_needs_an_input_lot() -> None:
    errors = _errors(
        "processing", facility="3", product="11", lot_number="A1", quantity="1", unit="KGM"
    )
    assert errors == {"/in_lot_0": "required"}


# reading back, corrections and withholding ---------------------------------------------------


@pytest.mark.parametrize(
    ("code", "form"),
    [
        (
            "harvest",
            {
                "facility": "1",
                "product": "10",
                "lot_number": "20260612-02",
                "quantity": "12,5",
                "unit": "KGM",
            },
        ),
        (
            "spraying",
            {
                "facility": "1",
                "product": "10",
                "input": "Regent",
                "dose": "1,5",
                "dose_unit": "LTR",
                "withholding_days": "7",
                "note": "Sâu đục quả",
            },
        ),
        (
            "processing",
            {
                "facility": "3",
                "in_lot_0": HARVESTED.key,
                "in_qty_0": "10",
                "in_unit_0": "KGM",
                "product": "11",
                "lot_number": "S1",
                "quantity": "2",
                "unit": "KGM",
            },
        ),
        (
            "shipping",
            {
                "facility": "1",
                "lot": HARVESTED.key,
                "quantity": "3",
                "unit": "TNE",
                "partner": "o:201",
                "delivery_note": "PX 9",
            },
        ),
        (
            "receiving",
            {
                "facility": "3",
                "partner": "o:200",
                "gtin": GTIN_OTHER,
                "lot_number": "L-9",
                "quantity": "4",
                "unit": "KGM",
            },
        ),
    ],
)
def test_an_event_reads_back_into_the_form_that_records_it_again(
    code: str, form: dict[str, str]
) -> None:
    event = _event(code, **form)
    again = forms.form_of(event, OPTIONS)
    rebuilt = act.build_event(
        forms.parse_entry(
            act.ACTIVITIES[code],
            {**again, "entry_id": event["eventID"].removeprefix("urn:uuid:")},
            OPTIONS,
            now=NOW,
            recorded_by="Nguyễn Văn An",
        ),
        organisation=OWNER,
    )
    assert rebuilt == event


def test_a_correction_declares_the_original_wrong_and_points_to_the_new_event() -> None:
    original = _event(
        "harvest", facility="1", product="10", lot_number="20260612-01", quantity="100", unit="KGM"
    )
    fixed = act.correcting(
        _entry(
            "harvest",
            facility="1",
            product="10",
            lot_number="20260612-01",
            quantity="1000",
            unit="KGM",
        ),
        original["eventID"],
    )
    corrected = act.build_event(fixed, organisation=OWNER)
    declared = act.error_declaration(
        original, corrective_id=corrected["eventID"], declared=NOW, reason="Thiếu một số 0"
    )
    assert declared["eventID"] == original["eventID"]
    assert declared["errorDeclaration"] == {
        "declarationTime": "2026-06-12T03:00:00.000+00:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": [corrected["eventID"]],
        "txng:reason": "Thiếu một số 0",
    }
    assert {k: v for k, v in declared.items() if k != "errorDeclaration"} == original
    assert corrected["eventID"] != original["eventID"]
    assert corrected["txng:corrects"] == original["eventID"]
    errors, _ = validate.validate_document(act.document(declared, corrected, created=NOW), now=NOW)
    assert errors == []


def test_a_harvest_inside_a_withholding_period_is_flagged() -> None:
    spray = _event(
        "spraying",
        facility="1",
        product="10",
        input="Regent",
        dose="1",
        dose_unit="LTR",
        withholding_days="7",
        date="2026-06-08",
        time="07:00",
    )
    period = act.withholding_of(spray)
    assert period is not None
    assert period.until == datetime(2026, 6, 15, 0, 0, tzinfo=UTC)
    early = _event(
        "harvest",
        facility="1",
        product="10",
        lot_number="A1",
        quantity="1",
        unit="KGM",
        date="2026-06-12",
    )
    assert act.harvest_conflicts(early, [period]) == [period]
    # elsewhere, another product, or after the period: no warning
    pond = _event(
        "harvest",
        facility="2",
        product="10",
        lot_number="A2",
        quantity="1",
        unit="KGM",
        date="2026-06-12",
    )
    other = _event(
        "harvest",
        facility="1",
        product="11",
        lot_number="A3",
        quantity="1",
        unit="KGM",
        date="2026-06-12",
    )
    assert act.harvest_conflicts(pond, [period]) == []
    assert act.harvest_conflicts(other, [period]) == []
    later = {**early, "eventTime": "2026-06-15T07:00:01.000+07:00"}
    assert act.harvest_conflicts(later, [period]) == []
    assert act.active_periods([period], now=NOW) == [period]
    assert act.active_periods([period], now=NOW + timedelta(days=3)) == []


def test_lot_numbers_are_suggested_from_the_date() -> None:
    day = datetime(2026, 6, 12, tzinfo=UTC).date()
    assert forms.suggest_lot(day, frozenset()) == "20260612-01"
    assert forms.suggest_lot(day, {"20260612-01", "20260612-02"}) == "20260612-03"


def test_activity_of_recognises_only_diary_events() -> None:
    assert act.activity_of({"bizStep": "txng:spraying"}) == act.ACTIVITIES["spraying"]
    assert act.activity_of({"bizStep": "commissioning", "type": "ObjectEvent"}).code == "harvest"
    assert act.activity_of({"bizStep": "inspecting"}) is None
    assert act.activity_of({"bizStep": "txng:dancing"}) is None


def test_a_day_without_a_time_is_midday_or_now_when_midday_is_still_to_come() -> None:
    yesterday = forms.parse_entry(
        act.ACTIVITIES["planting"],
        {"facility": "1", "product": "10", "date": "2026-06-11"},
        OPTIONS,
        now=NOW,
        recorded_by="A",
    )
    assert yesterday.event_time.astimezone(UTC) == datetime(2026, 6, 11, 5, 0, tzinfo=UTC)
    today = forms.parse_entry(
        act.ACTIVITIES["planting"],
        {"facility": "1", "product": "10", "date": "2026-06-12"},
        OPTIONS,
        now=NOW,
        recorded_by="A",
    )
    assert today.event_time == NOW


def test_a_tap_time_that_is_not_a_timestamp_falls_back_to_the_typed_time() -> None:
    for bad in ("yesterday", "2026-06-12T07:00:00", "2026-06-12T07:00:00+15:00"):
        entry = _entry("planting", facility="1", product="10", event_time=bad)
        assert act.timestamp_text(entry.event_time) == "2026-06-12T07:30:00.000+07:00"


def test_a_correction_keeps_the_original_time_unless_the_date_or_time_changed() -> None:
    event = {"eventTime": "2026-06-10T06:15:42.120+07:00"}
    same = {"date": "2026-06-10", "time": "06:15"}
    assert forms.keeping_time(same, event)["event_time"] == "2026-06-10T06:15:42.120+07:00"
    moved = {"date": "2026-06-10", "time": "06:45"}
    assert "event_time" not in forms.keeping_time(moved, event)


def test_a_facility_without_its_own_gln_is_named_under_the_organisations_gln() -> None:
    from txng.epcis import identifiers

    with_code = act.Place(1, "Vườn", "growing_area", None, "VT-DOICAO-01", "8930001000018")
    assert with_code.uri == "https://id.gs1.org/414/8930001000018/254/VT-DOICAO-01"
    assert identifiers.canonical_id(with_code.uri) == with_code.uri
    own = act.Place(2, "Kho", "warehouse", "8930001000025", "K1", "8930001000018")
    assert own.uri == "https://id.gs1.org/414/8930001000025"
    # A code a GLN extension cannot carry, or no GLN at all: our own URN.
    spaced = act.Place(3, "Ao", "pond", None, "AO SO 1", "8930001000018")
    assert spaced.uri.startswith("urn:txng:loc:")
    assert act.Place(4, "Ao", "pond", None, "AO1").uri == "urn:txng:loc:AO1"
