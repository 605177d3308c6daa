"""The authenticity verdict of a stamp's page: a pure function of what we know, tested without DB.

The consumer sees one coloured banner: green (genuine), amber (a warning: not activated, expired,
suspended, deactivated, lost) or red (recalled, unknown code, suspected counterfeit). A suspected
counterfeit is a stamp scanned more often than a real pack plausibly is, or scanned in two places
too far apart for the time between the scans (a photocopied QR code travels faster than a lychee).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

from txng.errors import N_
from txng.kit import i18n

Tone = Literal["green", "amber", "red"]
EARTH_RADIUS_KM: Final = 6371.0
# Two scans closer in space than this are never "too far apart": rounding to 0.01° and
# coarse commune centroids are only this precise.
MIN_DISTANCE_KM: Final = 25.0


@dataclass(frozen=True)
class ScanPoint:
    """An earlier scan: when, and where when the consumer agreed to share a coarse location."""

    at: datetime
    commune_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


SEVERITY_LABELS: Final = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}


@dataclass(frozen=True)
class RecallNotice:
    reason: str
    severity: str  # high | medium | low
    instructions: str  # in the page's language
    issued_at: datetime

    @property
    def severity_label(self) -> str:
        """A msgid, or the raw value when it is not one we know."""
        return SEVERITY_LABELS.get(self.severity, self.severity)


@dataclass(frozen=True)
class Rules:
    suspicious_count: int = 30
    max_speed_kmh: float = 300.0


@dataclass(frozen=True)
class StampFacts:
    """Everything the verdict depends on; ``known=False`` for a code we never issued."""

    known: bool = True
    status: str = "active"  # issued | active | deactivated | lost | suspended
    status_reason: str | None = None
    product_suspended: bool = False
    organisation_suspended: bool = False
    recalls: tuple[RecallNotice, ...] = ()
    produced_at: datetime | None = None  # the lot's production or the stamp's activation
    shelf_life_days: int | None = None
    scans_before: int = 0  # earlier visits, not counting this one
    first_scan: ScanPoint | None = None
    located_scans: tuple[ScanPoint, ...] = ()  # recent scans with a consented location


@dataclass(frozen=True)
class Alert:
    code: str  # recalled | unknown | counterfeit | suspended | expired | not_activated | …
    tone: Tone
    title: str  # msgid
    detail: str = ""  # msgid
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    tone: Tone
    headline: str  # msgid
    params: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[Alert, ...] = ()
    scans_before: int = 0
    first_scan: ScanPoint | None = None
    expires_on: date | None = None
    recalls: tuple[RecallNotice, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(w.code for w in self.warnings)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def impossible_travel(scans: tuple[ScanPoint, ...], max_speed_kmh: float) -> bool:
    """Two consecutive located scans further apart than anyone could travel between them."""
    located = sorted(
        ((s.at, s.latitude, s.longitude) for s in scans if s.latitude is not None),
        key=lambda s: s[0],
    )
    for (t1, lat1, lon1), (t2, lat2, lon2) in itertools.pairwise(located):
        if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
            continue
        km = haversine_km(lat1, lon1, lat2, lon2)
        if km < MIN_DISTANCE_KM:
            continue
        hours = (t2 - t1).total_seconds() / 3600
        if hours <= 0 or km / hours > max_speed_kmh:
            return True
    return False


def expiry_date(produced_at: datetime | None, shelf_life_days: int | None) -> date | None:
    """The last day of the shelf life, counted in Vietnam's calendar."""
    if produced_at is None or shelf_life_days is None:
        return None
    return (produced_at.astimezone(i18n.DISPLAY_TZ) + timedelta(days=shelf_life_days)).date()


_STATUS_WARNINGS: Final = {
    "issued": Alert(
        "not_activated",
        "amber",
        N_("Not activated"),
        N_("The producer has not yet linked this stamp to a packed lot. Ask the seller."),
    ),
    "deactivated": Alert(
        "deactivated",
        "amber",
        N_("Stamp deactivated"),
        N_("The producer has withdrawn this stamp; it no longer vouches for a product."),
    ),
    "lost": Alert(
        "lost",
        "amber",
        N_("Stamp reported lost"),
        N_("This stamp was reported lost or stolen; the product may not be genuine."),
    ),
    "suspended": Alert(
        "suspended",
        "amber",
        N_("Stamp suspended"),
        N_("The authority has suspended this stamp."),
    ),
}


def _codes(alerts: list[Alert]) -> list[str]:
    return list(dict.fromkeys(a.code for a in alerts))


def judge(facts: StampFacts, *, now: datetime, rules: Rules) -> Verdict:
    """The banner and the warnings for one scan of a stamp."""
    if not facts.known:
        unknown = Alert(
            "unknown",
            "red",
            N_("Unknown code"),
            N_(
                "This code was never issued by the provincial traceability system. "
                "The product may be counterfeit: do not buy it and report it."
            ),
        )
        return Verdict("red", N_("Unknown code — possible counterfeit"), warnings=(unknown,))
    warnings: list[Alert] = [
        Alert(
            "recalled",
            "red",
            N_("Recalled"),
            N_("This lot is recalled by the authority."),
        )
        for _ in facts.recalls[:1]
    ]
    too_many = facts.scans_before >= rules.suspicious_count
    if too_many or impossible_travel(facts.located_scans, rules.max_speed_kmh):
        detail = (
            N_("This stamp has been scanned %(count)s times: far more than one pack is.")
            if too_many
            else N_("This stamp was scanned in places too far apart for the time between scans.")
        )
        warnings.append(
            Alert(
                "counterfeit",
                "red",
                N_("Suspected counterfeit"),
                detail,
                {"count": facts.scans_before},
            )
        )
    status_warning = _STATUS_WARNINGS.get(facts.status)
    if status_warning is not None:
        warnings.append(status_warning)
    if facts.product_suspended or facts.organisation_suspended:
        warnings.append(
            Alert(
                "suspended",
                "amber",
                N_("Suspended by the authority"),
                N_("The authority has suspended this product or its producer."),
            )
        )
    expires = expiry_date(facts.produced_at, facts.shelf_life_days)
    if expires is not None and expires < now.astimezone(i18n.DISPLAY_TZ).date():
        warnings.append(
            Alert(
                "expired",
                "amber",
                N_("Past its shelf life"),
                N_("The shelf life ended on %(date)s."),
                {"date": i18n.format_date(expires)},
            )
        )
    common: dict[str, Any] = {
        "scans_before": facts.scans_before,
        "first_scan": facts.first_scan,
        "expires_on": expires,
        "warnings": tuple({w.code: w for w in reversed(warnings)}[c] for c in _codes(warnings)),
        "recalls": facts.recalls,
    }
    reds = [w for w in warnings if w.tone == "red"]
    if reds:
        return Verdict("red", reds[0].title, **common)
    if warnings:
        return Verdict("amber", warnings[0].title, **common)
    if facts.scans_before == 0:
        return Verdict("green", N_("Genuine — first verified now"), **common)
    return Verdict(
        "green",
        N_("Genuine — verified %(count)s times before"),
        {"count": facts.scans_before},
        **common,
    )
