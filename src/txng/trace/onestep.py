"""One step back, one step forward: an organisation's suppliers and customers, from its shipments.

An event is a delivery **to** the organisation when its destination names one of the
organisation's places (its party or location GLNs, see :mod:`txng.trace.scope`) and its source
does not, or when the organisation itself recorded a receiving; a delivery **from** it the other
way round. The caller sees only the events the trace rules let them see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.trace import graph
from txng.trace import repository as repo
from txng.trace.repository import EventInfo, IdentRow, LinkRow, OrganisationRow
from txng.trace.scope import Place, Visibility, place_ids_of, resolve_places

DEFAULT_LIMIT = 200
MAX_OBJECTS_PER_EVENT = 100
_RECEIVING = ("receiving", "arriving", "accepting")


@dataclass(frozen=True, slots=True)
class Goods:
    ident: str
    quantity: float | None
    uom: str | None


@dataclass
class Movement:
    """One shipment or receipt between the organisation and a partner."""

    event: EventInfo
    partners: list[Place]  # the other side: its location, else its parties
    recorded_by: OrganisationRow | None
    goods: list[Goods]
    goods_count: int  # all of them, also when ``goods`` was cut at MAX_OBJECTS_PER_EVENT
    documents: list[str] = field(default_factory=list)


@dataclass
class OneStep:
    organisation: OrganisationRow
    suppliers: list[Movement]  # one step back: who delivered to it, what, when
    customers: list[Movement]  # one step forward: to whom it delivered


def _chosen(links: list[LinkRow], kind: str) -> list[str]:
    side = [link for link in links if link.kind == kind]
    located = [link.value for link in side if link.type == "location"]
    return located or [link.value for link in side]


def one_step(
    session: Session,
    principal: Principal | None,
    organisation_id: int,
    *,
    limit: int = DEFAULT_LIMIT,
) -> OneStep | None:
    """The latest deliveries to and from the organisation; None if it is not registered."""
    org = repo.organisations(session, [organisation_id]).get(organisation_id)
    if org is None:
        return None
    mine = place_ids_of(session, [organisation_id])[organisation_id]
    visibility = Visibility(session, principal)
    events = repo.movements(session, mine, organisation_id, visibility.scope, limit)
    visible = visibility.keep(events)
    events = [e for e in events if e.pk in visible]
    pks = [e.pk for e in events]
    links: dict[int, list[LinkRow]] = defaultdict(list)
    for link in repo.links_of(session, pks):
        links[link.event_pk].append(link)
    goods: dict[int, list[IdentRow]] = defaultdict(list)
    roles = (*graph.OBJECTS, *graph.CHILDREN, graph.PARENT, *graph.OUTPUTS)
    for row in repo.idents_of(session, pks, roles):
        goods[row.event_pk].append(row)
    named = {link.value for rows in links.values() for link in rows if link.kind != "bt"}
    places = resolve_places(session, named)
    owners = repo.organisations(session, {e.organisation_id for e in events if e.organisation_id})
    suppliers: list[Movement] = []
    customers: list[Movement] = []
    for event in events:
        rows = links[event.pk]
        from_me = any(link.value in mine for link in rows if link.kind == "source")
        to_me = any(link.value in mine for link in rows if link.kind == "dest")
        own = event.organisation_id == organisation_id
        incoming = (to_me or (own and event.biz_step in _RECEIVING)) and not from_me
        outgoing = (from_me or (own and event.biz_step == "shipping")) and not to_me
        if not (incoming or outgoing):
            continue
        objects = goods[event.pk]
        movement = Movement(
            event=event,
            partners=[places[v] for v in _chosen(rows, "source" if incoming else "dest")],
            recorded_by=owners.get(event.organisation_id) if event.organisation_id else None,
            goods=[Goods(r.ident, r.quantity, r.uom) for r in objects[:MAX_OBJECTS_PER_EVENT]],
            goods_count=len(objects),
            documents=sorted({link.value for link in rows if link.kind == "bt"}),
        )
        (suppliers if incoming else customers).append(movement)
    return OneStep(org, suppliers, customers)
