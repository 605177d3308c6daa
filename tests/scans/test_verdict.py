"""The authenticity verdict as a pure function: no database, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from txng.scans.verdict import (
    RecallNotice,
    Rules,
    ScanPoint,
    StampFacts,
    expiry_date,
    haversine_km,
    impossible_travel,
    judge,
)

NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
RULES = Rules(suspicious_count=30, max_speed_kmh=300)
HANOI = (21.03, 105.85)
HCMC = (10.78, 106.70)
LUC_NGAN = (21.38, 106.55)
RECALL = RecallNotice("Dư lượng thuốc BVTV", "high", "Trả lại nơi mua", NOW - timedelta(days=2))


def test_a_first_scan_is_genuine_and_first_verified_now() -> None:
    verdict = judge(StampFacts(), now=NOW, rules=RULES)
    assert verdict.tone == "green"
    assert verdict.headline == "Genuine — first verified now"
    assert verdict.warnings == ()


def test_later_scans_say_how_many_times_and_when_first() -> None:
    first = ScanPoint(NOW - timedelta(days=3), commune_code="07582")
    verdict = judge(StampFacts(scans_before=2, first_scan=first), now=NOW, rules=RULES)
    assert verdict.tone == "green"
    assert verdict.headline == "Genuine — verified %(count)s times before"
    assert verdict.params == {"count": 2}
    assert verdict.first_scan == first


def test_an_unknown_code_is_red() -> None:
    verdict = judge(StampFacts(known=False), now=NOW, rules=RULES)
    assert verdict.tone == "red"
    assert verdict.codes == ("unknown",)


def test_a_recall_is_red_and_carries_its_reason_before_any_other_warning() -> None:
    facts = StampFacts(recalls=(RECALL,), status="issued", product_suspended=True)
    verdict = judge(facts, now=NOW, rules=RULES)
    assert verdict.tone == "red"
    assert verdict.headline == "Recalled"
    assert verdict.codes == ("recalled", "not_activated", "suspended")
    assert verdict.recalls == (RECALL,)


@pytest.mark.parametrize(
    ("status", "code"),
    [("issued", "not_activated"), ("deactivated", "deactivated"), ("lost", "lost"),
     ("suspended", "suspended")],
)  # fmt: skip
def test_stamp_states_warn_in_amber(status: str, code: str) -> None:
    verdict = judge(StampFacts(status=status), now=NOW, rules=RULES)
    assert verdict.tone == "amber"
    assert verdict.codes == (code,)


@pytest.mark.parametrize("who", ["product_suspended", "organisation_suspended"])
def test_a_suspended_product_or_producer_warns(who: str) -> None:
    verdict = judge(StampFacts(**{who: True}), now=NOW, rules=RULES)  # type: ignore[arg-type]
    assert (verdict.tone, verdict.codes) == ("amber", ("suspended",))


def test_a_suspended_stamp_of_a_suspended_product_warns_once() -> None:
    facts = StampFacts(status="suspended", product_suspended=True)
    assert judge(facts, now=NOW, rules=RULES).codes == ("suspended",)


def test_expiry_counts_shelf_life_from_production_in_vietnam_time() -> None:
    # 17:30 UTC on 30/05 is already 31/05 in Vietnam.
    produced = datetime(2026, 5, 30, 17, 30, tzinfo=UTC)
    assert expiry_date(produced, 30).isoformat() == "2026-06-30"  # type: ignore[union-attr]
    expired = judge(StampFacts(produced_at=produced, shelf_life_days=30), now=NOW, rules=RULES)
    assert expired.codes == ("expired",)
    assert expired.warnings[0].params == {"date": "30/06/2026"}
    fresh = judge(StampFacts(produced_at=produced, shelf_life_days=31), now=NOW, rules=RULES)
    assert fresh.tone == "green"
    assert fresh.expires_on is not None
    assert expiry_date(None, 30) is None
    assert expiry_date(produced, None) is None


def test_too_many_scans_is_a_suspected_counterfeit() -> None:
    assert judge(StampFacts(scans_before=29), now=NOW, rules=RULES).tone == "green"
    verdict = judge(StampFacts(scans_before=30), now=NOW, rules=RULES)
    assert verdict.tone == "red"
    assert verdict.codes == ("counterfeit",)
    assert verdict.warnings[0].params == {"count": 30}
    lenient = Rules(suspicious_count=100, max_speed_kmh=300)
    assert judge(StampFacts(scans_before=30), now=NOW, rules=lenient).tone == "green"


def test_haversine_distance() -> None:
    assert haversine_km(*HANOI, *HCMC) == pytest.approx(1140, rel=0.02)
    assert haversine_km(*HANOI, *HANOI) == 0


def test_hanoi_then_saigon_an_hour_later_is_impossible_travel() -> None:
    scans = (
        ScanPoint(NOW - timedelta(hours=1), None, *HANOI),
        ScanPoint(NOW, None, *HCMC),
    )
    assert impossible_travel(scans, 300)
    verdict = judge(StampFacts(scans_before=1, located_scans=scans), now=NOW, rules=RULES)
    assert verdict.codes == ("counterfeit",)
    # by plane-free road in two days: plausible
    slow = (ScanPoint(NOW - timedelta(days=2), None, *HANOI), ScanPoint(NOW, None, *HCMC))
    assert not impossible_travel(slow, 300)


def test_nearby_scans_and_unlocated_scans_never_count_as_travel() -> None:
    same_minute = (
        ScanPoint(NOW, None, *HANOI),
        ScanPoint(NOW, None, HANOI[0] + 0.05, HANOI[1]),  # rounding noise, 5 km
        ScanPoint(NOW, "07582"),  # a commune without coordinates
    )
    assert not impossible_travel(same_minute, 300)
    # order of the input does not matter
    reversed_pair = (
        ScanPoint(NOW, None, *HCMC),
        ScanPoint(NOW - timedelta(hours=1), None, *LUC_NGAN),
    )
    assert impossible_travel(reversed_pair, 300)
