"""Translations (Babel catalogs) and Vietnamese formatting of dates, times and money.

Catalogs are the ``.po`` files under ``txng/locale``; they are compiled in memory on first use,
so a fresh checkout needs no build step. Message ids are English; Vietnamese is the default.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
DISPLAY_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    po = resources.files("txng") / "locale" / locale / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def gettext(locale: str, message: str, params: Mapping[str, Any] | None = None) -> str:
    text = translations(locale).gettext(message)
    return text % dict(params) if params else text


def negotiate(accept_language: str | None) -> str:
    """Pick vi or en from an Accept-Language header; Vietnamese unless English is preferred."""
    if not accept_language:
        return DEFAULT_LOCALE
    best, best_q = DEFAULT_LOCALE, -1.0
    for part in accept_language.split(","):
        lang, _, q = part.strip().partition(";q=")
        code = lang.strip().lower()[:2]
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if code in LOCALES and weight > best_q:
            best, best_q = code, weight
    return best


def today_local() -> date:
    """Today's date in Vietnam, whatever the server's clock zone."""
    return datetime.now(DISPLAY_TZ).date()


def format_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy; datetimes are first converted to Asia/Ho_Chi_Minh."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(DISPLAY_TZ)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    if value is None:
        return ""
    return value.astimezone(DISPLAY_TZ).strftime("%d/%m/%Y %H:%M")


def format_number(value: int | float | Decimal | None, decimals: int = 0) -> str:
    """Vietnamese grouping: ``1.234.567,5``."""
    if value is None:
        return ""
    text = f"{Decimal(value):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_vnd(amount: int | Decimal | None) -> str:
    """``125.000 ₫``: dot grouping, no decimals, the đồng sign after a space."""
    if amount is None:
        return ""
    return f"{format_number(amount)} ₫"
