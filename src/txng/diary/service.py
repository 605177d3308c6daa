"""The production diary: record, list and correct entries. Each entry is one EPCIS event,
stored by the capture service (``source="diary"``); the diary keeps no table of its own.

Corrections are never edits: the original event is declared wrong (errorDeclaration, reason
``incorrect_data``) and the corrected event is captured with it in one document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.diary import activities as act
from txng.diary import forms, repository, views
from txng.epcis import capture as capture_service
from txng.errors import N_, Conflict, FieldError, NotFound, ValidationFailed
from txng.kit import files
from txng.models import EpcisEvent, StoredFile
from txng.models.base import utcnow
from txng.registry import service as registry_service

SOURCE = repository.SOURCE
PHOTO_PURPOSE = "diary_photo"
LIST_SIZE = 100
MAX_CHOICES = 500
MAX_WITHHOLDING = timedelta(days=366)
_WITHHOLDING_STEPS = tuple(act.TXNG_NS + code for code in sorted(act.WITHHOLDING_ACTIVITIES))


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str


@dataclass(frozen=True)
class Upload:
    """Where photos go, how large they may be and the address they are served from."""

    media_dir: Path
    max_bytes: int
    base_url: str


def own_organisation(actor: Principal) -> int:
    """The diary is kept by an organisation's own users; anyone else finds nothing here."""
    if not actor.is_enterprise or actor.organisation_id is None:
        raise NotFound()
    return actor.organisation_id


def body_of(event: EpcisEvent) -> dict[str, Any]:
    """The event as captured (JSON)."""
    return event.body


# what a form may refer to --------------------------------------------------------------------


def options_for(session: Session, *, actor: Principal) -> act.Options:
    """The organisation's facilities, products, recorded lots and the registry's partners."""
    org_id = own_organisation(actor)
    org = registry_service.get_organisation(session, actor=actor, organisation_id=org_id)
    facilities, _ = registry_service.list_facilities(
        session, actor=actor, organisation_id=org_id, per_page=MAX_CHOICES
    )
    products, _ = registry_service.list_products(
        session, actor=actor, organisation_id=org_id, per_page=MAX_CHOICES
    )
    lots = _recorded_lots(session, org_id, {p.gtin: p.name_vi for p in products})
    partners = repository.partners(session, exclude=org_id, limit=MAX_CHOICES)
    return act.Options(
        organisation=act.Party(org.id, org.name, org.gln, org.tax_code),
        facilities={
            f.id: act.Place(f.id, f.name, f.kind, f.gln, f.location_code, org.gln)
            for f in facilities
        },
        products={p.id: act.Item(p.id, p.name_vi, p.gtin) for p in products},
        lots={lot.key: lot for lot in lots},
        partners={row[0]: act.Party(*row) for row in partners},
        taken_lots=frozenset(lot.key for lot in lots),
        cooperative=org.kind == "cooperative",
    )


def _recorded_lots(
    session: Session, organisation_id: int, names: Mapping[str, str]
) -> list[act.Lot]:
    """The lots harvested, made or received, most recently used first."""
    found = [
        parts
        for ident in repository.lot_idents(session, organisation_id, limit=MAX_CHOICES)
        if (parts := act.split_class(ident)) and parts[1]
    ]
    more = repository.product_names(session, {gtin for gtin, _ in found} - set(names))
    all_names = {**more, **names}
    return [act.Lot(gtin, lot or "", all_names.get(gtin, "")) for gtin, lot in found]


def withholding_periods(
    session: Session, organisation_id: int, *, since: datetime
) -> list[act.Withholding]:
    """Sprayings and treatments whose withholding period may still run after ``since``."""
    bodies = repository.standing_bodies(
        session, organisation_id, biz_steps=_WITHHOLDING_STEPS, since=since - MAX_WITHHOLDING
    )
    periods = [act.withholding_of(body) for body in bodies]
    return [p for p in periods if p is not None]


def suggested_lot(options: act.Options, day: datetime) -> str:
    return forms.suggest_lot(day.date(), {lot.lot for lot in options.lots.values()})


# recording -----------------------------------------------------------------------------------


def _checked_entry(
    activity: act.Activity,
    form: Mapping[str, str],
    options: act.Options,
    *,
    photo: Photo | None,
    max_photo_bytes: int,
    recorded_by: str,
    now: datetime,
) -> tuple[act.Entry, files.CheckedUpload | None]:
    """The entry and its photo, checked together so that every error shows at once."""
    errors: list[FieldError] = []
    entry: act.Entry | None = None
    upload: files.CheckedUpload | None = None
    try:
        entry = forms.parse_entry(activity, form, options, now=now, recorded_by=recorded_by)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if photo is not None and photo.data:
        try:
            upload = files.check_upload(
                photo.data,
                original_name=photo.filename,
                allowed=files.IMAGE_TYPES,
                max_bytes=max_photo_bytes,
            )
        except files.UploadError as exc:
            errors.append(FieldError("/photo", exc.msgid, exc.code, exc.params))
    if errors or entry is None:
        raise ValidationFailed(errors=errors)
    return entry, upload


def photo_url(base_url: str, file_id: int) -> str:
    return f"{base_url.rstrip('/')}/diary/photos/{file_id}"


def _with_stored_photo(
    session: Session,
    organisation_id: int,
    entry: act.Entry,
    upload: files.CheckedUpload | None,
    where: Upload,
) -> act.Entry:
    if upload is None:
        return entry
    stored = registry_service.store_file(
        session,
        media_dir=where.media_dir,
        organisation_id=organisation_id,
        purpose=PHOTO_PURPOSE,
        upload=upload,
    )
    return act.with_photo(entry, photo_url(where.base_url, stored.id))


def _capture(
    session: Session, actor: Principal, events: list[dict[str, Any]], now: datetime
) -> None:
    document = act.document(*events, created=now)
    outcome = capture_service.capture(session, actor, document, source=SOURCE, now=now)
    if outcome.rejected:
        # The forms check everything the event needs; anything left is shown above the form.
        raise ValidationFailed(
            errors=[FieldError("", e.message, e.code, e.params) for e in outcome.errors]
        )


def _stored_pk(session: Session, organisation_id: int, event_id: str) -> int:
    pk = repository.event_pk(session, organisation_id, event_id)
    if pk is None:  # pragma: no cover - stored by this capture or by a concurrent one
        raise NotFound()
    return pk


def _same_entry(
    activity: act.Activity,
    form: Mapping[str, str],
    options: act.Options,
    earlier: EpcisEvent,
    *,
    recorded_by: str,
    now: datetime,
) -> bool:
    """Whether the form records the stored event again (its photo aside: a phone without
    signal keeps no photo)."""
    body = body_of(earlier)
    own = replace(options, taken_lots=options.taken_lots - act.lots_of(body))
    try:
        entry = forms.parse_entry(activity, form, own, now=now, recorded_by=recorded_by)
    except ValidationFailed:
        return False
    again = act.build_event(entry, organisation=options.organisation)
    return _without_photo(again) == _without_photo(body)


def _without_photo(event: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "txng:photo"}


def record(
    session: Session,
    *,
    actor: Principal,
    recorded_by: str,
    activity: act.Activity,
    form: Mapping[str, str],
    photo: Photo | None,
    upload: Upload,
    now: datetime | None = None,
) -> int:
    """Record one diary entry as an EPCIS event; the same entry sent twice is stored once."""
    org_id = own_organisation(actor)
    now = now or utcnow()
    options = options_for(session, actor=actor)
    earlier = repository.event_by_id(session, org_id, act.event_id_from(form.get("entry_id")))
    if earlier is not None:
        if _same_entry(activity, form, options, earlier, recorded_by=recorded_by, now=now):
            return earlier.id  # sent again by a phone that did not get the first answer
        form = {**form, "entry_id": ""}  # another entry made from the same page: a new event
    entry, checked = _checked_entry(
        activity,
        form,
        options,
        photo=photo,
        max_photo_bytes=upload.max_bytes,
        recorded_by=recorded_by,
        now=now,
    )
    entry = _with_stored_photo(session, org_id, entry, checked, upload)
    try:
        _capture(session, actor, [act.build_event(entry, organisation=options.organisation)], now)
    except capture_service.ConcurrentCapture:
        session.rollback()  # the same entry arrived twice at once and the other one was stored
    return _stored_pk(session, org_id, entry.event_id)


def correct(
    session: Session,
    *,
    actor: Principal,
    recorded_by: str,
    entry_pk: int,
    form: Mapping[str, str],
    photo: Photo | None,
    upload: Upload,
    now: datetime | None = None,
) -> int:
    """Declare an entry wrong and record its correction, in one capture."""
    org_id = own_organisation(actor)
    now = now or utcnow()
    original = own_event(session, actor=actor, entry_pk=entry_pk)
    body = body_of(original)
    activity = act.activity_of(body)
    if activity is None:
        raise NotFound()
    if original.error_declared:
        raise Conflict(N_("This entry has already been corrected"))
    options = options_for(session, actor=actor)
    options = replace(options, taken_lots=options.taken_lots - act.lots_of(body))
    entry, checked = _checked_entry(
        activity,
        forms.keeping_time(form, body),
        options,
        photo=photo,
        max_photo_bytes=upload.max_bytes,
        recorded_by=recorded_by,
        now=now,
    )
    entry = act.correcting(entry, original.event_id)
    if repository.event_pk(session, org_id, entry.event_id) is not None:
        entry = replace(entry, event_id=act.new_event_id())
    entry = _with_stored_photo(session, org_id, entry, checked, upload)
    if checked is None and isinstance(body.get("txng:photo"), str):
        entry = act.with_photo(entry, body["txng:photo"])  # the photo stays with the entry
    reason = (form.get("reason") or "").strip()[: forms.MAX_TEXT] or None
    declared = act.error_declaration(
        body, corrective_id=entry.event_id, declared=now, reason=reason
    )
    corrected = act.build_event(entry, organisation=options.organisation)
    try:
        _capture(session, actor, [declared, corrected], now)
    except capture_service.ConcurrentCapture as exc:
        session.rollback()
        raise Conflict(N_("This entry has already been corrected")) from exc
    return _stored_pk(session, org_id, entry.event_id)


# reading -------------------------------------------------------------------------------------


def own_event(session: Session, *, actor: Principal, entry_pk: int) -> EpcisEvent:
    """One diary entry of the caller's organisation; 404 for anything else."""
    event = repository.diary_event(session, own_organisation(actor), entry_pk)
    if event is None:
        raise NotFound()
    return event


def list_entries(
    session: Session, *, actor: Principal, limit: int = LIST_SIZE
) -> list[views.EntryView]:
    """The organisation's recent diary entries, newest first, with their warnings."""
    events = repository.diary_events(session, own_organisation(actor), limit=limit)
    return entry_views(session, actor=actor, events=events)


def entry(session: Session, *, actor: Principal, entry_pk: int) -> views.EntryView:
    event = own_event(session, actor=actor, entry_pk=entry_pk)
    return entry_views(session, actor=actor, events=[event])[0]


def entry_views(
    session: Session, *, actor: Principal, events: list[EpcisEvent]
) -> list[views.EntryView]:
    """Entries with names for what they refer to, their warnings and their corrections."""
    if not events:
        return []
    org_id = own_organisation(actor)
    options = options_for(session, actor=actor)
    bodies = [body_of(e) for e in events]
    known = {p.gtin for p in options.products.values()}
    names = views.Names.of(
        options, repository.product_names(session, views.gtins_of(bodies) - known)
    )
    periods = withholding_periods(session, org_id, since=min(e.event_time for e in events))
    links = repository.event_pks(session, org_id, views.linked_ids(bodies))
    out = []
    for event, body in zip(events, bodies, strict=True):
        item = views.view(
            event.id,
            body,
            record_time=event.record_time,
            event_time=event.event_time,
            corrected=event.error_declared,
            names=names,
            links=links,
        )
        if not event.error_declared:
            item.warnings = act.harvest_conflicts(body, periods)
        out.append(item)
    return out


def correction_form(
    session: Session, *, actor: Principal, entry_pk: int
) -> tuple[act.Activity, dict[str, str]]:
    """The activity of an entry and the form values that would record it again."""
    event = own_event(session, actor=actor, entry_pk=entry_pk)
    activity = act.activity_of(body_of(event))
    if activity is None:
        raise NotFound()
    options = options_for(session, actor=actor)
    return activity, forms.form_of(body_of(event), options)


def photo_file(session: Session, *, actor: Principal, file_id: int) -> StoredFile:
    """A diary photo: for the organisation's users and the authorities that see everything."""
    stored = repository.stored_file(session, file_id)
    if stored is None or stored.purpose != PHOTO_PURPOSE:
        raise NotFound()
    if not (actor.sees_everything or actor.organisation_id == stored.organisation_id):
        raise NotFound()
    return stored
