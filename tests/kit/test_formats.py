from datetime import UTC, date, datetime

from txng.kit import i18n


def test_vnd_amounts_use_dot_grouping_and_dong_sign() -> None:
    assert i18n.format_vnd(125000) == "125.000 ₫"
    assert i18n.format_vnd(1250000) == "1.250.000 ₫"
    assert i18n.format_vnd(0) == "0 ₫"


def test_dates_are_dd_mm_yyyy_in_vietnam_time() -> None:
    # 20:30 UTC on 21 November is already 22 November in Hà Nội (UTC+7).
    moment = datetime(2026, 11, 21, 20, 30, tzinfo=UTC)
    assert i18n.format_date(moment) == "22/11/2026"
    assert i18n.format_datetime(moment) == "22/11/2026 03:30"
    assert i18n.format_date(date(2026, 1, 5)) == "05/01/2026"


def test_accept_language_prefers_vietnamese_unless_english_ranks_higher() -> None:
    assert i18n.negotiate(None) == "vi"
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("vi-VN,vi;q=0.9,en;q=0.8") == "vi"
    assert i18n.negotiate("fr-FR") == "vi"
