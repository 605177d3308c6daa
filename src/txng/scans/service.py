"""Scans (logged without raw IPs), the verdict's history, consented locations, problem reports."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.audit import service as audit
from txng.errors import N_, FieldError, Forbidden, NotFound, TooManyRequests, ValidationFailed
from txng.kit import files
from txng.kit.adminunits import admin_units
from txng.models import StoredFile
from txng.models.stamps import ProblemReport
from txng.registry import service as registry_service
from txng.scans import repository
from txng.scans.schemas import LocationIn, ReportIn
from txng.scans.verdict import ScanPoint

# Reloading the page, switching language or sharing a location is the same visit.
VISIT: Final = timedelta(minutes=30)
COORDINATE_DECIMALS: Final = 2  # 0.01° ≈ 1.1 km: coarse on purpose
REPORTS_PER_PAGE: Final = 50


def hash_ip(salt: str, ip_address: str | None) -> str:
    """A salted hash: scans of one visitor can be told apart without keeping the address."""
    message = (ip_address or "unknown").encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Visit:
    stamp_id: int
    ip_hash: str
    at: datetime


def log_scans(session: Session, *, visits: list[Visit]) -> None:
    """Record visits to stamps' pages (no location: that only comes with consent)."""
    rows = {(v.stamp_id, v.ip_hash): v for v in reversed(visits)}  # the first of a visitor
    repository.insert_visits(
        session,
        [
            {"stamp_id": v.stamp_id, "ip_hash": v.ip_hash, "at": v.at, "since": v.at - VISIT}
            for v in sorted(rows.values(), key=lambda v: v.at)
        ],
    )


@dataclass(frozen=True)
class History:
    scans_before: int
    first_scan: ScanPoint | None
    located: tuple[ScanPoint, ...]


def _point(row: repository.HistoryRow) -> ScanPoint:
    return ScanPoint(row.scanned_at, row.commune_code, row.latitude, row.longitude)


def history(session: Session, *, stamp_id: int, ip_hash: str, now: datetime) -> History:
    """Earlier scans of a stamp, not counting the current visitor's current visit (one query)."""
    rows = repository.scan_history(session, stamp_id, ip_hash, now - VISIT)
    count = int(rows[0].others or 0) if rows else 0
    if not count:  # a first scan: nothing to compare with
        return History(0, None, ())
    first = next((_point(r) for r in rows if r.first), None)
    located = tuple(
        _point(r)
        for r in sorted(rows, key=lambda r: r.nth_located)
        if r.latitude is not None and r.nth_located <= repository.LOCATED_SCANS
    )
    return History(count, first, located)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, COORDINATE_DECIMALS)


def share_location(
    session: Session, *, stamp_id: int, ip_hash: str, location: LocationIn, now: datetime
) -> None:
    """The consumer agreed to tell where they are: attach it to their latest scan."""
    commune = location.commune_code
    if commune is not None and commune not in admin_units().communes:
        raise ValidationFailed(
            errors=[FieldError("/commune_code", N_("Choose one of the options"), "enum")]
        )
    if (location.latitude is None) != (location.longitude is None):
        raise ValidationFailed(
            errors=[FieldError("/latitude", N_("Give both latitude and longitude"), "pair")]
        )
    if commune is None and location.latitude is None:
        raise ValidationFailed(
            errors=[FieldError("/commune_code", N_("This field is required"), "missing")]
        )
    lat, lon = _rounded(location.latitude), _rounded(location.longitude)
    if commune is not None and lat is None:
        centre = admin_units().communes[commune]  # the commune's centre, for the travel check
        lat, lon = _rounded(centre.latitude), _rounded(centre.longitude)
    scan = repository.latest_scan_of(session, stamp_id, ip_hash, now - VISIT)
    if scan is None:
        repository.insert_scan(
            session,
            stamp_id=stamp_id,
            ip_hash=ip_hash,
            at=now,
            commune_code=commune,
            latitude=lat,
            longitude=lon,
        )
    else:
        repository.set_location(session, scan.id, commune, lat, lon)


@dataclass(frozen=True)
class Subject:
    """What the report is about, as resolved from the link the consumer opened."""

    link: str
    stamp_id: int | None = None
    organisation_id: int | None = None
    product_id: int | None = None


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str


def report_problem(
    session: Session,
    *,
    subject: Subject,
    report: ReportIn,
    photo: Photo | None,
    ip_hash: str,
    now: datetime,
    per_hour: int,
    media_dir: Path,
    max_photo_bytes: int,
) -> ProblemReport:
    """A consumer's report becomes an open case for the authority."""
    if repository.reports_since(session, ip_hash, now - timedelta(hours=1)) >= per_hour:
        raise TooManyRequests()
    stored: StoredFile | None = None
    if photo is not None and photo.data:
        try:
            upload = files.check_upload(
                photo.data,
                original_name=photo.filename,
                allowed=files.IMAGE_TYPES,
                max_bytes=max_photo_bytes,
            )
        except files.UploadError as exc:
            raise ValidationFailed(
                errors=[FieldError("/photo", exc.msgid, exc.code, exc.params)]
            ) from exc
        stored = registry_service.store_file(
            session,
            media_dir=media_dir,
            organisation_id=subject.organisation_id,
            purpose="problem_report",
            upload=upload,
        )
    row = ProblemReport(
        stamp_id=subject.stamp_id,
        organisation_id=subject.organisation_id,
        product_id=subject.product_id,
        link=subject.link[:500],
        category=report.category,
        message=report.message,
        contact=report.contact,
        photo_file_id=stored.id if stored else None,
        ip_hash=ip_hash,
        state="open",
        created_at=now,
    )
    repository.add(session, row)
    session.flush()
    audit.record(
        session,
        actor=None,
        action="problem_report.create",
        entity_type="problem_report",
        entity_id=row.id,
        organisation_id=subject.organisation_id,
        after={"category": report.category, "link": row.link},
    )
    return row


def _authority(actor: Principal) -> None:
    if not actor.sees_everything:
        raise Forbidden()


def list_reports(
    session: Session, *, actor: Principal, state: str | None = None, page: int = 1
) -> list[ProblemReport]:
    """Consumers' reports, newest first: the provincial authority and inspectors only."""
    _authority(actor)
    offset = (max(page, 1) - 1) * REPORTS_PER_PAGE
    return repository.reports(session, state=state, limit=REPORTS_PER_PAGE, offset=offset)


def report_photo(session: Session, *, actor: Principal, report_id: int) -> StoredFile:
    """The photo attached to a report, for the authority."""
    _authority(actor)
    row = repository.report(session, report_id)
    if row is None or row.photo_file_id is None:
        raise NotFound()
    stored = repository.stored_file(session, row.photo_file_id)
    if stored is None:
        raise NotFound()
    return stored
