"""The trace graph: its nodes, edges and the words for them, shared by the engine, the API, the
recall and the pages."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from txng.epcis import identifiers
from txng.models import epcis as m
from txng.trace.repository import EventInfo, IdentRow, OrganisationRow
from txng.trace.scope import Place

BACKWARD = "backward"
FORWARD = "forward"
BOTH = "both"
DIRECTIONS = (BACKWARD, FORWARD, BOTH)
DEFAULT_MAX_DEPTH = 50
DEFAULT_MAX_NODES = 10_000
EDGES_PER_NODE = 5

OBJECTS = (m.ROLE_EPC, m.ROLE_QUANTITY)
CHILDREN = (m.ROLE_CHILD, m.ROLE_CHILD_QUANTITY)
INPUTS = (m.ROLE_INPUT, m.ROLE_INPUT_QUANTITY)
OUTPUTS = (m.ROLE_OUTPUT, m.ROLE_OUTPUT_QUANTITY)
PARENT = m.ROLE_PARENT
LOT = m.ROLE_LOT
# A product class names every lot ever made of it, a place every delivery: they end a path.
LEAF_KINDS = frozenset({"class", "location", "party"})
PLACE_KINDS = frozenset({"location", "party"})

EDGE_TRANSFORMATION = "transformation"
EDGE_AGGREGATION = "aggregation"
EDGE_LOT = "lot"
EDGE_SHIPMENT = "shipment"

GS1 = identifiers.CANONICAL_BASE + "/"
AI_KINDS = {
    "00": "logistic_unit",
    "414": "location",
    "417": "party",
    "402": "shipment",
    "8003": "asset",
    "8004": "asset",
}
_SGTIN = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/21/")


class TraceStartError(ValueError):
    """The identifier cannot start a trace (a place or a whole product class)."""


@dataclass(slots=True)
class Node:
    """An identifier in the trace, with its earliest visible event (who, where, when, how much)."""

    ident: str  # canonical (GS1 Digital Link on id.gs1.org for GS1 keys)
    kind: str  # item | lot | class | logistic_unit | shipment | location | party | asset | other
    depth: int
    event: EventInfo | None = None
    quantity: float | None = None
    uom: str | None = None
    lots: set[str] = field(default_factory=set)  # the lots it is (a lot), belongs to or carries
    place: Place | None = None  # registry data of a location or party
    received: bool = False  # a place that goods of the trace were shipped to or received at

    def saw(self, event: EventInfo, quantity: float | None = None, uom: str | None = None) -> None:
        if self.event is None or (event.time, event.pk) < (self.event.time, self.event.pk):
            self.event = event
            self.quantity, self.uom = quantity, uom


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    event: EventInfo
    type: str


@dataclass
class Trace:
    start: str
    direction: str
    nodes: dict[str, Node]
    edges: list[Edge]
    truncated: bool
    events: dict[int, EventInfo]  # every visible event the trace went through
    organisations: dict[int, OrganisationRow] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)  # locations and parties, resolved
    # Every identifier an event names in a role, for the (event, role) pairs the trace read whole;
    # kept only when asked (``keep_idents``), for the recall spreadsheet not to read them again.
    idents: dict[int, dict[str, list[IdentRow]]] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        """Whether any visible event names the start."""
        start = self.nodes.get(self.start)
        return start is not None and start.event is not None


def node_kind(ident: str) -> str:
    """The kind of a canonical identifier (quickly: a trace asks this for every identifier)."""
    if ident.startswith(GS1):
        ai, _, rest = ident[len(GS1) :].partition("/")
        if ai in ("01", "8006"):
            qualifier = rest.split("/", 2)[1] if rest.count("/") >= 2 else None
            if qualifier is None:
                return "class"
            return "lot" if qualifier == "10" else "item"
        return AI_KINDS.get(ai, "other")
    if ident.startswith("urn:epcglobal:cbv:bt:"):
        return "shipment"
    return identifiers.kind_of(ident)


def step_name(event: EventInfo) -> str:
    """The bizStep short name (or IRI) of an event, else its type: the type of a custody edge."""
    return event.biz_step or event.event_type


def ilmd_lot(body: dict[str, Any]) -> str | None:
    ilmd = body.get("ilmd")
    lot = ilmd.get("cbvmda:lotNumber") if isinstance(ilmd, dict) else None
    return lot if isinstance(lot, str) and lot else None


def lot_of_item(item: str, lot_number: str) -> str | None:
    """The lot Digital Link of a serialised item, given its ILMD lot number."""
    match = _SGTIN.match(item)
    return None if match is None else _lot_dl(match.group(1), lot_number)


@functools.lru_cache(maxsize=4096)
def _lot_dl(gtin: str, lot_number: str) -> str | None:
    try:
        return identifiers.lgtin_dl(gtin, lot_number)
    except identifiers.IdentifierError:
        return None


def start_id(value: str) -> str:
    """The canonical identifier a trace starts from; raises TraceStartError or IdentifierError."""
    value = value.strip()
    if ":" not in value or any(c.isspace() for c in value):
        raise identifiers.IdentifierError("not a URI")
    canonical = identifiers.canonical_id(value)
    if node_kind(canonical) in LEAF_KINDS:
        raise TraceStartError(node_kind(canonical))
    return canonical
