"""Which events a trace may use, and who the places named by events are.

Visibility of events in a trace (a rule of its own, wider than the EPCIS query's for enterprises):

* an authority (system or provincial administrator, inspector) sees every event;
* a sector reviewer or commune officer sees what the EPCIS query shows them
  (:func:`txng.epcis.query.event_scope`): the events of the organisations they oversee and the
  published ones;
* an enterprise sees its own events, the published ones, and the events of its **direct trading
  partners** — one step back and one step forward. Organisation P is a direct partner of E when
  P recorded an event whose source or destination names one of E's places, or E recorded an event
  whose source or destination names one of P's places. An organisation's places are its GLN as a
  party (``/417/{gln}``) and as a location (``/414/{gln}``), its facilities' GLNs (``/414/{gln}``)
  and its facilities' location codes under its GLN (``/414/{gln}/254/{code}``), all from the
  registry. Partners are worked out lazily, once per organisation met during a trace;
* the public sees published events only.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.epcis import identifiers
from txng.epcis.query import event_scope
from txng.models import EpcisEvent
from txng.trace import repository as repo
from txng.trace.repository import EventInfo, FacilityRow, OrganisationRow

_PLACE = re.compile(r"^https://id\.gs1\.org/(414|417)/(\d{13})(?:/254/([^/]+))?$")
PARTY_BASE = "https://id.gs1.org/417/"


@dataclass(frozen=True, slots=True)
class Place:
    """A location or party named by an event, with what the registry knows of it."""

    id: str
    kind: str  # location | party | other
    organisation_id: int | None = None
    organisation_name: str | None = None
    facility_name: str | None = None
    facility_kind: str | None = None
    address: str = ""

    @property
    def name(self) -> str | None:
        return self.facility_name or self.organisation_name

    def describe(self) -> str:
        """``name (identifier)`` for a spreadsheet cell."""
        label = self.name
        if label and self.facility_name and self.organisation_name:
            label = f"{self.facility_name}, {self.organisation_name}"
        return f"{label} ({self.id})" if label else self.id


def resolve_places(session: Session, place_ids: Collection[str]) -> dict[str, Place]:
    """Registry names for location and party identifiers (batched)."""
    parsed: dict[str, tuple[str, str, str | None]] = {}
    for place_id in place_ids:
        match = _PLACE.match(place_id)
        if match:
            ai, gln, ext = match.groups()
            parsed[place_id] = (ai, gln, unquote(ext) if ext else None)
    glns = {gln for _, gln, _ in parsed.values()}
    orgs = repo.organisations_by_gln(session, glns)
    facilities = repo.facilities_by_gln(session, glns)
    ext_orgs = {orgs[gln].id for _, gln, ext in parsed.values() if ext and gln in orgs}
    by_code: dict[tuple[int, str], FacilityRow] = {
        (f.organisation_id, f.location_code): f for f in repo.facilities_of(session, ext_orgs)
    }
    owner_ids = {f.organisation_id for f in facilities.values()} | {
        f.organisation_id for f in by_code.values()
    }
    owners = repo.organisations(session, owner_ids - {o.id for o in orgs.values()})
    owners.update({o.id: o for o in orgs.values()})
    out: dict[str, Place] = {}
    for place_id in place_ids:
        if place_id not in parsed:
            out[place_id] = Place(place_id, identifiers.kind_of(place_id))
            continue
        ai, gln, ext = parsed[place_id]
        kind = "party" if ai == "417" else "location"
        facility: FacilityRow | None = None
        org: OrganisationRow | None = None
        if ai == "414" and ext is not None and gln in orgs:
            org = orgs[gln]
            facility = by_code.get((org.id, ext))
        elif ai == "414" and gln in facilities:
            facility = facilities[gln]
            org = owners.get(facility.organisation_id)
        else:
            org = orgs.get(gln)
        out[place_id] = Place(
            id=place_id,
            kind=kind,
            organisation_id=org.id if org else None,
            organisation_name=org.name if org else None,
            facility_name=facility.name if facility else None,
            facility_kind=facility.kind if facility else None,
            address=facility.street_address if facility else "",
        )
    return out


def place_ids_of(session: Session, organisation_ids: Collection[int]) -> dict[int, set[str]]:
    """The identifiers by which events may name each organisation's places."""
    out: dict[int, set[str]] = {org_id: set() for org_id in organisation_ids}
    orgs = repo.organisations(session, organisation_ids)
    for org in orgs.values():
        if org.gln:
            out[org.id].update({PARTY_BASE + org.gln, identifiers.sgln_dl(org.gln)})
    for facility in repo.facilities_of(session, organisation_ids):
        ids = out[facility.organisation_id]
        if facility.gln:
            ids.add(identifiers.sgln_dl(facility.gln))
        org_gln = orgs[facility.organisation_id].gln if facility.organisation_id in orgs else None
        if org_gln:
            # A location code outside the GS1 character set cannot be a GLN extension.
            with contextlib.suppress(identifiers.IdentifierError):
                ids.add(identifiers.sgln_dl(org_gln, facility.location_code))
    return out


class Visibility:
    """Decides, event by event, what one caller may see during one trace."""

    def __init__(self, session: Session, principal: Principal | None) -> None:
        self.session = session
        self.principal = principal
        self._partners: dict[int, bool] = {}
        self._mine: set[str] | None = None
        self.organisation_id: int | None = None
        self.scope: ColumnElement[bool]
        if principal is None:
            self.scope = EpcisEvent.published_at.is_not(None)
        elif principal.sees_everything:
            self.scope = true()
        elif principal.is_enterprise and principal.organisation_id is not None:
            self.organisation_id = principal.organisation_id
            self.scope = true()  # own, partners' and published events: decided in visible()
        else:
            self.scope = event_scope(principal)

    @property
    def my_places(self) -> set[str]:
        if self._mine is None:
            me = self.organisation_id
            self._mine = place_ids_of(self.session, [me])[me] if me is not None else set()
        return self._mine

    def learn(self, organisation_ids: Iterable[int | None]) -> None:
        """Work out, in two queries, which of these organisations are direct partners."""
        me = self.organisation_id
        if me is None:
            return
        new = {o for o in organisation_ids if o is not None and o != me} - self._partners.keys()
        if not new:
            return
        named_me = repo.organisations_naming(self.session, self.my_places, new)
        theirs = place_ids_of(self.session, new - named_me)
        named_by_me = repo.places_named_by(
            self.session, me, set().union(*theirs.values()) if theirs else set()
        )
        for org in new:
            self._partners[org] = org in named_me or bool(theirs.get(org, set()) & named_by_me)

    def visible(self, event: EventInfo) -> bool:
        me = self.organisation_id
        if me is None:
            return True  # the SQL scope already decided
        if event.published or event.organisation_id == me:
            return True
        return event.organisation_id is not None and self._partners.get(
            event.organisation_id, False
        )

    def keep(self, events: list[EventInfo]) -> set[int]:
        """The primary keys of the events of this batch the caller may see."""
        self.learn(e.organisation_id for e in events if not e.published)
        return {e.pk for e in events if self.visible(e)}
