"""The trace engine (C4): backward and forward through the events, one batch of queries per hop.

A trace is a breadth-first walk over identifiers. Each hop looks up, for the whole frontier at
once, the visible events that name it (``epcis_event_ident`` by ``(ident, role)``), then the other
identifiers of those events, and follows the relations an event states:

* **transformation** — inputs → outputs (EPC lists and quantity lists); backward from an output
  to the inputs, forward from an input to the outputs;
* **aggregation** — child → parent (AggregationEvent ADD/OBSERVE, TransactionEvent with a
  parentID). From an object up to its containers in both directions, so an item's trace shows what
  it travelled in. A container is followed only within the time it held the object: from the
  packing event to the first DELETE that takes the object out (or empties it). From a container
  down to its contents only when the container was not itself reached from one of its contents:
  following a pallet from one box never leads into the other boxes on it (its siblings);
* **lot** — a lot → its serialised items (role ``lot``: the ILMD lot of a commissioning event, or
  the ILMD lot of a TransformationEvent's output items). Item → lot is an upward step like child →
  parent (the lot's own events count, not its other items);
* **custody** — sources and destinations (shipping, receiving, any event with them) become
  location / party nodes, leaves that show who held the object and where it went.

Every edge points the way the goods went (input → output, child → parent, lot → item,
source → object → destination); a backward trace follows them against the arrow.

An AssociationEvent (a sensor or asset attached to goods) gives custody, not containment; an event
whose error was declared (``errorDeclaration``) is left out. A trace may also start from a
shipment: a business transaction (despatch advice URN, GSIN) leads to the goods it moved.

Stops at ``max_depth`` hops and ``max_nodes`` nodes (edges: ``EDGES_PER_NODE`` times that) and says
so (``truncated``). A node is expanded again only when it is reached with wider rights (allowed to
descend, a longer window), which can happen a bounded number of times, so cycles end.

Cost: per hop, one query for the frontier's hits (chunks of 500 identifiers, and one for the
events a chunk meets first), one per distinct set of roles needed from the hit events' other
identifiers, one for their links, one for the ILMD of transformations (only when there are some),
and two per batch of organisations met for the first time when an enterprise asks (partner check,
:mod:`txng.trace.scope`). Work per identifier is kept to a few dictionary lookups: a lot of
100,000 items is 100,000 identifiers of one event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.models import epcis as m
from txng.trace import repository as repo
from txng.trace.graph import (
    BACKWARD,
    BOTH,
    CHILDREN,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_NODES,
    DIRECTIONS,
    EDGE_AGGREGATION,
    EDGE_LOT,
    EDGE_SHIPMENT,
    EDGE_TRANSFORMATION,
    EDGES_PER_NODE,
    FORWARD,
    INPUTS,
    LEAF_KINDS,
    LOT,
    OBJECTS,
    OUTPUTS,
    PARENT,
    PLACE_KINDS,
    Edge,
    Node,
    Trace,
    TraceStartError,
    ilmd_lot,
    lot_of_item,
    node_kind,
    start_id,
    step_name,
)
from txng.trace.repository import EventInfo, Hit, IdentRow, LinkRow
from txng.trace.scope import Visibility, resolve_places

__all__ = [
    "BACKWARD",
    "BOTH",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NODES",
    "DIRECTIONS",
    "FORWARD",
    "Edge",
    "Node",
    "Trace",
    "TraceStartError",
    "describe",
    "start_id",
    "trace",
]

_LOOKUP = {
    BACKWARD: (*OBJECTS, *CHILDREN, PARENT, *OUTPUTS, LOT),
    FORWARD: (*OBJECTS, *CHILDREN, PARENT, *INPUTS, LOT),
}
_CONTAINING = ("AggregationEvent", "TransactionEvent")


@dataclass(frozen=True, slots=True)
class _Visit:
    """How far a node may be followed: down into its contents, and within which window."""

    descend: bool = True
    since: datetime | None = None  # reached from a content: only the container's later events
    via: frozenset[str] = frozenset()  # the contents it was reached from

    def merge(self, other: _Visit) -> _Visit:
        if self.since is None or other.since is None:
            if self.since is None and (self.descend or not other.descend):
                return self  # already the widest: no new object (a trace merges per identifier)
            return _Visit(self.descend or other.descend)
        return _Visit(
            self.descend or other.descend, min(self.since, other.since), self.via | other.via
        )


_FOLLOW = _Visit()  # reached from a container, a lot or a transformation: follow everything
_TO_LOT = _Visit(False)  # an item's lot: the lot's own events, not its other items


@dataclass
class _Fetched:
    """What one hop read besides the hits: other identifiers, links, ILMD lots."""

    others: dict[int, dict[str, list[IdentRow]]]
    links: dict[int, list[LinkRow]]
    ilmd_lots: dict[int, str]


class _Tracer:
    def __init__(
        self,
        session: Session,
        visibility: Visibility,
        *,
        max_depth: int,
        max_nodes: int,
        keep_edges: bool,
        keep_idents: bool = False,
    ) -> None:
        self.session = session
        self.visibility = visibility
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.keep_edges = keep_edges
        # Many inputs × many outputs make many edges: bounded like the nodes.
        self.max_edges = EDGES_PER_NODE * max_nodes
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str, int], Edge] = {}
        self.events: dict[int, EventInfo] = {}
        self.truncated = False
        self.packed: set[tuple[str, str]] = set()  # (content, container), to share out lots
        self.keep_idents = keep_idents
        self.idents: dict[int, dict[str, list[IdentRow]]] = {}  # see Trace.idents

    # nodes and edges -------------------------------------------------------------------------

    def _node(self, ident: str, depth: int, kind: str | None = None) -> Node | None:
        node = self.nodes.get(ident)
        if node is not None:
            node.depth = min(node.depth, depth)
            return node
        if len(self.nodes) >= self.max_nodes:
            self.truncated = True
            return None
        if kind is None:
            kind = node_kind(ident)
        node = Node(ident, kind, depth, lots={ident} if kind == "lot" else set())
        self.nodes[ident] = node
        return node

    def share_lots(self) -> None:
        """A container carries the lots of what was packed in it (nested: pallet in container)."""
        nodes = self.nodes
        contents: dict[str, set[str]] = defaultdict(set)
        for content, container in self.packed:
            contents[container].add(content)
        changed = True
        while changed:
            changed = False
            for container, packed in contents.items():
                target = nodes[container].lots
                size = len(target)
                target.update(*[nodes[content].lots for content in packed])
                changed = changed or len(target) != size

    def _edge(self, source: str, target: str, event: EventInfo, type_: str) -> None:
        if not self.keep_edges:
            return
        key = (source, target, event.pk)
        if key in self.edges:
            return
        if len(self.edges) >= self.max_edges:
            self.truncated = True
            return
        self.edges[key] = Edge(source, target, event, type_)

    # one traversal ---------------------------------------------------------------------------

    def run(self, start: str, direction: str) -> None:
        visits: dict[str, _Visit] = {start: _Visit()}
        frontier: dict[str, _Visit] = {start: _Visit()}
        moved = self._shipment(start, visits)
        depth = 0
        while frontier:
            following = self._hop(direction, frontier, visits, depth)
            for ident, visit in moved.items():
                queued = following.get(ident)
                following[ident] = visit if queued is None else queued.merge(visit)
            moved = {}
            frontier = following
            depth += 1

    def _shipment(self, start: str, visits: dict[str, _Visit]) -> dict[str, _Visit]:
        """A start named as a business transaction (despatch advice, GSIN…): what it moved."""
        found = repo.transaction_hits(self.session, [start], self.visibility.scope)
        visible = self.visibility.keep([event for _, event in found])
        events = {event.pk: event for _, event in found if event.pk in visible}
        moved: dict[str, _Visit] = {}
        if not events:
            return moved
        node = self.nodes[start]
        node.kind = "shipment"
        roles = (*OBJECTS, *CHILDREN, PARENT, *OUTPUTS)
        for row in repo.idents_of(self.session, events.keys(), roles):
            event = events[row.event_pk]
            node.saw(event)
            self.events[event.pk] = event
            if self.reach(row.ident, _Visit(), 0, event, row, moved, visits):
                self._edge(row.ident, start, event, EDGE_SHIPMENT)
        return moved

    def _hop(
        self,
        direction: str,
        frontier: dict[str, _Visit],
        visits: dict[str, _Visit],
        depth: int,
    ) -> dict[str, _Visit]:
        hits = repo.hits(self.session, frontier.keys(), _LOOKUP[direction], self.visibility.scope)
        events = {hit.event.pk: hit.event for hit in hits}
        visible = self.visibility.keep(list(events.values()))
        if len(visible) < len(events):
            hits = [hit for hit in hits if hit.event.pk in visible]
        hits = self._within_windows(hits, frontier)
        fetched = self._fetch(hits, frontier, direction)
        by_event: dict[int, list[Hit]] = defaultdict(list)
        # The places of an event are the same for each identifier it names: met once per event.
        held: dict[int, list[tuple[str, str]]] = {}
        for hit in hits:
            event = hit.event
            by_event[event.pk].append(hit)
            node = self.nodes.get(hit.ident)
            if node is not None:
                node.saw(event, hit.quantity, hit.uom)
                self.events[event.pk] = event
                places = held.get(event.pk)
                if places is None:
                    links = fetched.links.get(event.pk, [])
                    places = held[event.pk] = self._custody(event, links, depth)
                if self.keep_edges:
                    self._custody_edges(hit.ident, event, places)
        step = _Step(self, direction, depth, frontier, visits, fetched)
        for event_hits in by_event.values():
            step.follow(event_hits)
        return step.following

    def _within_windows(self, hits: list[Hit], frontier: dict[str, _Visit]) -> list[Hit]:
        """A container reached from its contents counts only while it held them."""
        windowed = {ident for ident, visit in frontier.items() if visit.since is not None}
        if not windowed:
            return hits
        deletes = {
            hit.event.pk
            for hit in hits
            if hit.ident in windowed and hit.role == PARENT and hit.event.action == "DELETE"
        }
        removed: dict[int, set[str]] = defaultdict(set)
        for pk, ident in repo.idents_named(self.session, deletes, CHILDREN):
            removed[pk].add(ident)
        ends: dict[str, datetime] = {}
        for hit in sorted(hits, key=lambda h: (h.event.time, h.event.pk)):
            visit = frontier[hit.ident]
            if hit.event.pk not in deletes or visit.since is None or hit.ident in ends:
                continue
            taken = removed.get(hit.event.pk, set())
            if hit.event.time >= visit.since and (not taken or visit.via <= taken):
                ends[hit.ident] = hit.event.time
        kept: list[Hit] = []
        for hit in hits:
            since = frontier[hit.ident].since
            if since is not None and hit.event.time < since:
                continue
            end = ends.get(hit.ident)
            if end is not None and hit.event.time > end:
                continue
            kept.append(hit)
        return kept

    def _fetch(self, hits: list[Hit], frontier: dict[str, _Visit], direction: str) -> _Fetched:
        needs: dict[int, set[str]] = defaultdict(set)
        ilmd_events: set[int] = set()
        # What a hit needs depends on its event, its role and whether it may descend only.
        seen: set[tuple[int, str, bool]] = set()
        for hit in hits:
            visit = frontier[hit.ident]
            key = (hit.event.pk, hit.role, visit.descend)
            if key in seen:
                continue
            seen.add(key)
            needed = _needed_roles(hit, visit, direction)
            if needed:
                needs[hit.event.pk].update(needed)
            if hit.event.event_type == "TransformationEvent" and (
                hit.role in OUTPUTS or (hit.role in INPUTS and direction == FORWARD)
            ):
                ilmd_events.add(hit.event.pk)
        by_roles: dict[frozenset[str], list[int]] = defaultdict(list)
        for pk, wanted in needs.items():
            by_roles[frozenset(wanted)].append(pk)
        others: dict[int, dict[str, list[IdentRow]]] = defaultdict(lambda: defaultdict(list))
        for role_set, pks in by_roles.items():
            for row in repo.idents_of(self.session, pks, sorted(role_set)):
                others[row.event_pk][row.role].append(row)
            for pk in pks if self.keep_idents else ():
                found = others[pk]
                self.idents.setdefault(pk, {}).update({r: found.get(r, []) for r in role_set})
        links: dict[int, list[LinkRow]] = defaultdict(list)
        for link in repo.links_of(self.session, {hit.event.pk for hit in hits}):
            if link.kind != "bt":
                links[link.event_pk].append(link)
        lots: dict[int, str] = {}
        for pk, body in repo.bodies_of(self.session, ilmd_events).items():
            lot = ilmd_lot(body)
            if lot is not None:
                lots[pk] = lot
        return _Fetched(others, links, lots)

    def _custody(self, event: EventInfo, links: list[LinkRow], depth: int) -> list[tuple[str, str]]:
        """Sources and destinations: who held the objects, where they went. Returns the places
        that are nodes, as (source | dest, identifier), for the edges."""
        # One place per side: the location when the event names one, else the parties.
        located = {link.kind for link in links if link.type == "location"}
        places = [
            (link.kind, link.value)
            for link in links
            if link.type == "location" or link.kind not in located
        ]
        arrived = event.biz_step in ("receiving", "arriving", "accepting")
        if arrived and event.location and not any(kind == "dest" for kind, _ in places):
            places.append(("dest", event.location))
        held: list[tuple[str, str]] = []
        for kind, value in places:
            if node_kind(value) not in PLACE_KINDS:
                continue
            place = self._node(value, depth)
            if place is None:
                continue
            place.saw(event)
            if kind != "source":
                place.received = True
            held.append((kind, value))
        return held

    def _custody_edges(self, ident: str, event: EventInfo, places: list[tuple[str, str]]) -> None:
        step = step_name(event)
        for kind, value in places:
            if kind == "source":
                self._edge(value, ident, event, step)
            else:
                self._edge(ident, value, event, step)

    def reach(
        self,
        ident: str,
        visit: _Visit,
        depth: int,
        event: EventInfo,
        row: IdentRow | None,
        following: dict[str, _Visit],
        visits: dict[str, _Visit],
    ) -> Node | None:
        """``ident`` is one hop from a node at ``depth``: add it, and follow it next if it is new
        or may now be followed further."""
        previous = visits.get(ident)
        merged = visit if previous is None else previous.merge(visit)
        known = self.nodes.get(ident)
        kind = known.kind if known else node_kind(ident)
        leaf = kind in LEAF_KINDS
        grows = previous is None or (merged is not previous and merged != previous)
        if depth + 1 > self.max_depth and (known is None or (grows and not leaf)):
            self.truncated = True
            return None
        node = self._node(ident, depth + 1, kind)
        if node is None:
            return None
        node.saw(event, row.quantity if row else None, row.uom if row else None)
        self.events[event.pk] = event
        if not leaf and grows:
            visits[ident] = merged
            queued = following.get(ident)
            following[ident] = merged if queued is None else queued.merge(merged)
        return node


class _Step:
    """The relations of one hop's events, each event handled once for all its hits."""

    def __init__(
        self,
        tracer: _Tracer,
        direction: str,
        depth: int,
        frontier: dict[str, _Visit],
        visits: dict[str, _Visit],
        fetched: _Fetched,
    ) -> None:
        self.tracer = tracer
        self.direction = direction
        self.depth = depth
        self.frontier = frontier
        self.visits = visits
        self.fetched = fetched
        self.following: dict[str, _Visit] = {}
        # (lot, event, depth) already reached as an item's lot: reaching it again changes nothing,
        # and a lot of 100,000 items would otherwise be reached 100,000 times.
        self.lots_reached: dict[tuple[str, int, int], Node] = {}

    def _reach(
        self, ident: str, visit: _Visit, event: EventInfo, row: IdentRow | None, depth: int = -1
    ) -> Node | None:
        return self.tracer.reach(
            ident,
            visit,
            self.depth if depth < 0 else depth,
            event,
            row,
            self.following,
            self.visits,
        )

    def _rows(self, event: EventInfo, roles: Iterable[str]) -> list[IdentRow]:
        found = self.fetched.others.get(event.pk)
        if not found:
            return []
        return [row for role in roles for row in found.get(role, ())]

    def follow(self, hits: list[Hit]) -> None:
        event = hits[0].event
        edge = self.tracer._edge
        if event.event_type == "TransformationEvent":
            self._transformation(event, hits)
        elif event.event_type in _CONTAINING and event.action != "DELETE":
            members = CHILDREN if event.event_type == "AggregationEvent" else OBJECTS
            contents = [hit.ident for hit in hits if hit.role in members]
            if contents:
                up = _Visit(False, event.time, frozenset(contents))
                for row in self._rows(event, (PARENT,)):
                    parent = self._reach(row.ident, up, event, row)
                    if parent is None:
                        continue
                    self.tracer.packed.update((ident, row.ident) for ident in contents)
                    for ident in contents if self.tracer.keep_edges else ():
                        edge(ident, row.ident, event, EDGE_AGGREGATION)
            containers = [
                hit.ident for hit in hits if hit.role == PARENT and self.frontier[hit.ident].descend
            ]
            for row in self._rows(event, members) if containers else ():
                if self._reach(row.ident, _FOLLOW, event, row):
                    for ident in containers:
                        self.tracer.packed.add((row.ident, ident))
                        edge(row.ident, ident, event, EDGE_AGGREGATION)
        lots = [hit.ident for hit in hits if hit.role == LOT and self.frontier[hit.ident].descend]
        for row in self._rows(event, (m.ROLE_EPC, m.ROLE_OUTPUT)) if lots else ():
            item = self._reach(row.ident, _FOLLOW, event, row)
            if item is not None:
                item.lots.update(lots)
                for lot in lots:
                    edge(lot, row.ident, event, EDGE_LOT)
        for hit in hits:
            if hit.role in (m.ROLE_EPC, m.ROLE_OUTPUT):
                for row in self._rows(event, (LOT,)):
                    self._up_to_lot(hit.ident, row.ident, event)

    def _transformation(self, event: EventInfo, hits: list[Hit]) -> None:
        edge = self.tracer._edge
        lot_number = self.fetched.ilmd_lots.get(event.pk)
        outputs = [hit.ident for hit in hits if hit.role in OUTPUTS]
        inputs = [hit.ident for hit in hits if hit.role in INPUTS]
        if lot_number:
            for ident in outputs:
                lot = lot_of_item(ident, lot_number)
                if lot is not None:
                    self._up_to_lot(ident, lot, event)
        if outputs and self.direction == BACKWARD:
            for row in self._rows(event, INPUTS):
                if self._reach(row.ident, _FOLLOW, event, row):
                    for ident in outputs:
                        edge(row.ident, ident, event, EDGE_TRANSFORMATION)
        if inputs and self.direction == FORWARD:
            for row in self._rows(event, OUTPUTS):
                output = self._reach(row.ident, _FOLLOW, event, row)
                if output is None:
                    continue
                for ident in inputs if self.tracer.keep_edges else ():
                    edge(ident, row.ident, event, EDGE_TRANSFORMATION)
                lot = lot_of_item(row.ident, lot_number) if lot_number else None
                if lot is not None:
                    output.lots.add(lot)
                    self._up_to_lot(row.ident, lot, event, self.depth + 1)

    def _up_to_lot(self, item: str, lot: str, event: EventInfo, depth: int = -1) -> None:
        """An item's lot: the lot's own events count, not its other items."""
        key = (lot, event.pk, self.depth if depth < 0 else depth)
        node = self.lots_reached.get(key)
        if node is None:
            node = self._reach(lot, _TO_LOT, event, None, depth)
            if node is not None:
                self.lots_reached[key] = node
        if node is not None:
            item_node = self.tracer.nodes.get(item)
            if item_node is not None:
                item_node.lots.add(lot)
            self.tracer._edge(lot, item, event, EDGE_LOT)


def _needed_roles(hit: Hit, visit: _Visit, direction: str) -> tuple[str, ...]:
    """Which other identifiers of the hit's event the relations from this hit need."""
    event, role = hit.event, hit.role
    needed: list[str] = []
    if event.event_type == "TransformationEvent":
        if role in OUTPUTS and direction == BACKWARD:
            needed.extend(INPUTS)
        if role in INPUTS and direction == FORWARD:
            needed.extend(OUTPUTS)
    elif event.event_type in _CONTAINING and event.action != "DELETE":
        members = CHILDREN if event.event_type == "AggregationEvent" else OBJECTS
        if role in members:
            needed.append(PARENT)
        elif role == PARENT and visit.descend:
            needed.extend(members)
    if role == LOT and visit.descend:
        needed.extend((m.ROLE_EPC, m.ROLE_OUTPUT))
    elif role in (m.ROLE_EPC, m.ROLE_OUTPUT) and event.action in ("ADD", None):
        needed.append(LOT)
    return tuple(needed)


# the service -------------------------------------------------------------------------------


def trace(
    session: Session,
    principal: Principal | None,
    ident: str,
    *,
    direction: str = BOTH,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
    keep_edges: bool = True,
    keep_idents: bool = False,
) -> Trace:
    """Trace a canonical identifier backward, forward or both ways, as the caller may see it."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    tracer = _Tracer(
        session,
        Visibility(session, principal),
        max_depth=max_depth,
        max_nodes=max(1, max_nodes),
        keep_edges=keep_edges,
        keep_idents=keep_idents,
    )
    for way in (BACKWARD, FORWARD) if direction == BOTH else (direction,):
        tracer._node(ident, 0)
        tracer.run(ident, way)
    tracer.share_lots()
    result = Trace(
        start=ident,
        direction=direction,
        nodes=tracer.nodes,
        edges=sorted(tracer.edges.values(), key=lambda e: (e.event.time, e.event.pk)),
        truncated=tracer.truncated,
        events=tracer.events,
        idents=tracer.idents,
    )
    describe(session, result)
    return result


def describe(session: Session, result: Trace) -> None:
    """Registry names: organisations of the events, and the places named as nodes."""
    places = [n.ident for n in result.nodes.values() if n.kind in PLACE_KINDS]
    locations = {n.event.location for n in result.nodes.values() if n.event and n.event.location}
    resolved = resolve_places(session, set(places) | locations)
    org_ids = {n.event.organisation_id for n in result.nodes.values() if n.event} - {None}
    for ident in places:
        result.nodes[ident].place = resolved[ident]
        owner = resolved[ident].organisation_id
        if owner is not None:
            org_ids.add(owner)
    result.organisations = repo.organisations(session, {o for o in org_ids if o is not None})
    result.places = resolved
