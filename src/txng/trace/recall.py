"""Recall scope of a lot, and its sortable spreadsheet of key data elements (FSMA 204 style).

The scope is everything downstream of the lot that the caller may see: lots, serialised items,
logistic units, the organisations that received any of it, and (once the stamp module exists)
the stamps on those items. The spreadsheet has one row per critical tracking event and
traceability lot, with the columns of the FDA's "sortable spreadsheet" (21 CFR 1.1455(c)(3)(ii)):
lot code, quantity and unit, product, where and when, ship-from / ship-to, reference document,
and which CTE it was.

Rows are produced in chunks of events (time order), so 100,000 downstream items cost a few
hundred queries and a bounded amount of memory besides the trace's own node set.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote

import xlsxwriter  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.audit import service as audit
from txng.trace import engine, graph, urns
from txng.trace import repository as repo
from txng.trace.repository import EventRecord, IdentRow, LinkRow, OrganisationRow
from txng.trace.scope import Place, resolve_places

RECALL_MAX_NODES = 1_000_000
RECALL_MAX_DEPTH = engine.DEFAULT_MAX_DEPTH

# Critical tracking events (FSMA 204, 21 CFR 1.1310-1.1350).
HARVESTING = "Harvesting"
COOLING = "Cooling"
INITIAL_PACKING = "Initial packing"
FIRST_LAND_BASED_RECEIVING = "First land-based receiving"
SHIPPING = "Shipping"
RECEIVING = "Receiving"
TRANSFORMATION = "Transformation"
CTES = (
    HARVESTING,
    COOLING,
    INITIAL_PACKING,
    FIRST_LAND_BASED_RECEIVING,
    SHIPPING,
    RECEIVING,
    TRANSFORMATION,
)
# A bizStep (CBV short name, or the last segment of a private IRI) that names a CTE outright.
_NAMED_STEPS = {
    "harvesting": HARVESTING,
    "cooling": COOLING,
    "initial_packing": INITIAL_PACKING,
    "first_land_based_receiving": FIRST_LAND_BASED_RECEIVING,
    "shipping": SHIPPING,
    "receiving": RECEIVING,
    "arriving": RECEIVING,
    "accepting": RECEIVING,
    "transformation": TRANSFORMATION,
}
# Registry facility kinds where commissioning a lot means it was harvested (or raised and taken).
FARM_KINDS = frozenset({"farm", "growing_area", "pond", "barn"})

COLUMNS = (
    "Traceability lot code",
    "GTIN",
    "Product description",
    "Quantity",
    "Unit of measure",
    "Critical tracking event",
    "Event date",
    "Event time",
    "Location description",
    "Location identifier",
    "Ship-from location",
    "Ship-to location",
    "Reference document type",
    "Reference document number",
    "Input traceability lot codes",
    "Recorded by",
    "EPCIS event ID",
)
SCOPE_SHEET_COLUMNS = ("Kind", "Identifier", "Organisation")
EACH = "EA"  # UN/ECE Rec. 20: serialised items are counted
LOGISTIC_UNITS = "logistic units"

_GTIN_LOT = re.compile(r"^https://id\.gs1\.org/01/(\d{14})(?:/10/([^/]+))?")
_BT_URN = re.compile(r"^urn:epcglobal:cbv:bt:\d{13}:(.+)$")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_ALL_ROLES = (*graph.OBJECTS, *graph.CHILDREN, graph.PARENT, *graph.INPUTS, *graph.OUTPUTS)

StampFinder = Callable[[Session, Sequence[str]], Iterable[str]]
_by_role = attrgetter("role")


@dataclass
class RecallScope:
    start: str
    trace: engine.Trace
    lots: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    logistic_units: list[str] = field(default_factory=list)
    receivers: list[OrganisationRow] = field(default_factory=list)
    stamps: list[str] = field(default_factory=list)  # filled by a StampFinder (stamp module)

    @property
    def truncated(self) -> bool:
        return self.trace.truncated

    @property
    def found(self) -> bool:
        return self.trace.found


def recall_lot(
    session: Session,
    *,
    principal: Principal | None,
    lot: str,
    max_nodes: int = RECALL_MAX_NODES,
    stamps: StampFinder | None = None,
    keep_idents: bool = False,
) -> RecallScope:
    """Everything downstream of ``lot`` (canonical identifier) that the caller may see;
    ``keep_idents`` keeps what the trace read of its events for the spreadsheet's rows."""
    result = engine.trace(
        session,
        principal,
        lot,
        direction=engine.FORWARD,
        max_depth=RECALL_MAX_DEPTH,
        max_nodes=max_nodes,
        keep_edges=False,
        keep_idents=keep_idents,
    )
    scope = RecallScope(start=lot, trace=result)
    by_kind: dict[str, list[str]] = defaultdict(list)
    receiver_ids: set[int] = set()
    for node in result.nodes.values():
        by_kind[node.kind].append(node.ident)
        if node.received and node.place and node.place.organisation_id is not None:
            receiver_ids.add(node.place.organisation_id)
    for event in result.events.values():
        if event.biz_step in ("receiving", "arriving", "accepting") and event.organisation_id:
            receiver_ids.add(event.organisation_id)
    scope.lots = sorted(by_kind["lot"])
    scope.items = sorted(by_kind["item"])
    scope.logistic_units = sorted(by_kind["logistic_unit"])
    receivers = repo.organisations(session, receiver_ids)
    scope.receivers = sorted(receivers.values(), key=lambda o: (o.name, o.id))
    if stamps is not None:
        found: list[str] = []
        for chunk in repo.chunks(scope.items):
            found.extend(stamps(session, chunk))
        scope.stamps = found
    return scope


# rows --------------------------------------------------------------------------------------


def lot_code(lot: str) -> tuple[str, str]:
    """(lot number, GTIN) of a lot Digital Link; ("", GTIN) for a class; ("", "") otherwise."""
    match = _GTIN_LOT.match(lot)
    if match is None:
        return "", ""
    return unquote(match.group(2) or ""), match.group(1)


def document_number(value: str) -> str:
    """``urn:epcglobal:cbv:bt:{gln}:{number}`` → the number; other identifiers unchanged."""
    match = _BT_URN.match(value)
    return unquote(match.group(1)) if match else value


def local_time(moment: datetime, offset: str) -> datetime:
    match = _OFFSET.match(offset)
    if match is None:
        return moment
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return moment.astimezone(timezone(-delta if sign == "-" else delta))


def _step_tail(biz_step: str | None) -> str:
    if not biz_step:
        return ""
    tail = re.split(r"[/:#]", biz_step.rstrip("/"))[-1]
    return tail.lower().replace("-", "_")


def cte_of(
    record: EventRecord, location: Place | None, input_lots: set[str], harvested: set[str]
) -> str | None:
    """Which critical tracking event this event records, if any."""
    info = record.info
    named = _NAMED_STEPS.get(_step_tail(info.biz_step))
    if named is not None and named != TRANSFORMATION:
        return named
    if info.event_type == "TransformationEvent" or named == TRANSFORMATION:
        return INITIAL_PACKING if input_lots & harvested else TRANSFORMATION
    if (
        info.event_type == "ObjectEvent"
        and info.action == "ADD"
        and location is not None
        and location.facility_kind in FARM_KINDS
    ):
        return HARVESTING
    return None


@dataclass
class _Chunk:
    """One chunk of events with everything their rows need."""

    records: dict[int, EventRecord]
    idents: dict[int, list[IdentRow]]
    links: dict[int, list[LinkRow]]


class _RowMaker:
    def __init__(self, session: Session, scope: RecallScope) -> None:
        self.session = session
        self.scope = scope
        self.nodes = scope.trace.nodes
        self.places: dict[str, Place] = dict(scope.trace.places)
        self.products: dict[str, str] = {}
        self.organisations: dict[int, OrganisationRow] = dict(scope.trace.organisations)
        self.harvested: set[str] = set()

    def rows(self) -> Iterator[list[Any]]:
        events = sorted(self.scope.trace.events.values(), key=lambda e: (e.time, e.pk))
        for pks in repo.chunks([e.pk for e in events]):
            chunk = self._load(pks)
            for pk in pks:
                record = chunk.records.get(pk)
                if record is not None:
                    yield from self._event_rows(
                        record, chunk.idents.get(pk, []), chunk.links.get(pk, [])
                    )

    def _load(self, pks: list[int]) -> _Chunk:
        records = repo.events_by_pk(self.session, pks)
        links: dict[int, list[LinkRow]] = defaultdict(list)
        for link in repo.links_of(self.session, pks):
            links[link.event_pk].append(link)
        wanted = {r.info.location for r in records.values() if r.info.location}
        wanted |= {link.value for rows in links.values() for link in rows if link.kind != "bt"}
        missing = wanted - self.places.keys()
        if missing:
            self.places.update(resolve_places(self.session, missing))
        # An event that records no CTE makes no row, whatever it names (packing 100,000 boxes on
        # a pallet): its identifiers are not read. Only the inputs of a transformation decide
        # which CTE it is, and a transformation always is one.
        named = [pk for pk, record in records.items() if self._cte_event(record)]
        # The trace read some (event, role) pairs whole already (a lot's 100,000 new items).
        idents: dict[int, list[IdentRow]] = defaultdict(list)
        missing_roles: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for pk in named:
            known = self.scope.trace.idents.get(pk, {})
            for role in _ALL_ROLES:
                idents[pk].extend(known.get(role, ()))
            missing_roles[tuple(r for r in _ALL_ROLES if r not in known)].append(pk)
        for roles, chunk in missing_roles.items():
            for row in repo.idents_of(self.session, chunk, roles) if roles else ():
                idents[row.event_pk].append(row)
        for rows in idents.values():
            rows.sort(key=_by_role)  # the same order, whichever query read them
        # The product column names the GTIN of each row's lot: the lots of the traced goods.
        lots: set[str] = set()
        nodes = self.nodes
        for rows in idents.values():
            for row in rows:
                node = nodes.get(row.ident)
                if node is not None:
                    lots.update((row.ident,) if node.kind == "lot" else node.lots)
        gtins = {lot_code(lot)[1] for lot in lots}
        gtins -= self.products.keys() | {""}
        if gtins:
            names = repo.product_names(self.session, gtins)
            self.products.update({gtin: names.get(gtin, "") for gtin in gtins})
        owners = {r.info.organisation_id for r in records.values()} - {None}
        missing_orgs = {o for o in owners if o is not None} - self.organisations.keys()
        if missing_orgs:
            self.organisations.update(repo.organisations(self.session, missing_orgs))
        return _Chunk(records, idents, links)

    def _cte_event(self, record: EventRecord) -> bool:
        location = self.places.get(record.info.location) if record.info.location else None
        return cte_of(record, location, set(), set()) is not None

    def _lots_of(self, ident: str) -> Collection[str]:
        """The lots an identifier of the trace is or belongs to (read only)."""
        node = self.nodes.get(ident)
        if node is None:
            return ()
        if node.kind == "lot":
            return (ident,)
        return node.lots

    def _quantities(
        self, record: EventRecord, idents: list[IdentRow]
    ) -> dict[tuple[str, str], float]:
        """(lot, unit) → quantity of what this event says about the traced goods."""
        transformation = record.info.event_type == "TransformationEvent"
        totals: dict[tuple[str, str], float] = defaultdict(float)
        nodes = self.nodes
        for row in idents:
            node = nodes.get(row.ident)
            if node is None or (transformation and row.role in graph.INPUTS):
                continue
            kind = node.kind
            lots: Collection[str] = (row.ident,) if kind == "lot" else (node.lots or ("",))
            if kind == "lot" or kind == "class":
                for lot in lots:
                    totals[(lot, row.uom or "")] += row.quantity or 0.0
            elif kind == "item":
                for lot in lots:
                    totals[(lot, EACH)] += 1
            elif kind == "logistic_unit":
                for lot in lots:
                    totals[(lot, LOGISTIC_UNITS)] += 1
        return totals

    def _event_rows(
        self, record: EventRecord, idents: list[IdentRow], links: list[LinkRow]
    ) -> Iterator[list[Any]]:
        info = record.info
        location = self.places.get(info.location) if info.location else None
        input_lots: set[str] = set()
        for row in idents:
            if row.role in graph.INPUTS:
                input_lots.update(
                    self._lots_of(row.ident)
                    or ((row.ident,) if graph.node_kind(row.ident) == "lot" else ())
                )
        cte = cte_of(record, location, input_lots, self.harvested)
        if cte is None:
            return
        totals = self._quantities(record, idents)
        if cte == HARVESTING:
            self.harvested.update(lot for lot, _ in totals if lot)
        when = local_time(info.time, record.time_zone_offset)
        owner = self.organisations.get(info.organisation_id) if info.organisation_id else None
        common = {
            "cte": cte,
            "date": when.date().isoformat(),
            "time": when.isoformat(),
            "where": location.describe() if location else "",
            "where_id": info.location or "",
            "from": self._places(links, "source"),
            "to": self._places(links, "dest"),
            "doc_type": "; ".join(sorted({link.type or "" for link in links if link.kind == "bt"})),
            "doc_no": "; ".join(
                sorted({document_number(link.value) for link in links if link.kind == "bt"})
            ),
            "inputs": "; ".join(sorted(filter(None, (lot_code(lot)[0] for lot in input_lots)))),
            "owner": owner.name if owner else "",
        }
        for (lot, unit), quantity in sorted(totals.items()) or [(("", ""), 0.0)]:
            number, gtin = lot_code(lot)
            yield [
                number,
                gtin,
                self.products.get(gtin, ""),
                int(quantity) if quantity.is_integer() else quantity,
                unit,
                common["cte"],
                common["date"],
                common["time"],
                common["where"],
                common["where_id"],
                common["from"],
                common["to"],
                common["doc_type"],
                common["doc_no"],
                common["inputs"],
                common["owner"],
                info.event_id,
            ]

    def _places(self, links: list[LinkRow], kind: str) -> str:
        side = [link for link in links if link.kind == kind]
        located = [link for link in side if link.type == "location"]
        chosen = located or side
        return "; ".join(
            self.places[link.value].describe() if link.value in self.places else link.value
            for link in chosen
        )


def cte_rows(session: Session, scope: RecallScope) -> Iterator[list[Any]]:
    """The spreadsheet's rows (without the header), in event time order."""
    return _RowMaker(session, scope).rows()


# export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    rows: int
    truncated: bool
    items: int


def file_slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "lot"


def export(
    session: Session,
    *,
    principal: Principal | None,
    lot: str,
    fmt: str,
    path: Path,
    stamps: StampFinder | None = None,
) -> Exported | None:
    """Write the recall spreadsheet of ``lot`` (xlsx or csv) to ``path``, and log it; None when
    the caller sees no event of that lot."""
    scope = recall_lot(session, principal=principal, lot=lot, stamps=stamps, keep_idents=True)
    if not scope.found:
        return None
    if fmt == "csv":
        # With a byte-order mark, spreadsheet programs read the Vietnamese text as UTF-8.
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            rows = write_csv(session, scope, out)
    elif fmt == "xlsx":
        rows = write_xlsx(session, scope, path)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    audit.record(
        session,
        actor=principal,
        action="trace.recall_exported",
        entity_type="lot",
        entity_id=lot[:64],
        organisation_id=principal.organisation_id if principal else None,
        after={
            "id": lot,
            "format": fmt,
            "rows": rows,
            "lots": len(scope.lots),
            "items": len(scope.items),
            "logistic_units": len(scope.logistic_units),
            "receivers": [o.id for o in scope.receivers],
            "truncated": scope.truncated,
        },
    )
    return Exported(rows, scope.truncated, len(scope.items))


# writers -----------------------------------------------------------------------------------


def _csv_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(session: Session, scope: RecallScope, out: TextIO) -> int:
    """Write the CTE rows as CSV (UTF-8, header first); returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in cte_rows(session, scope):
        writer.writerow([_csv_safe(v) for v in row])
        count += 1
    return count


def write_xlsx(session: Session, scope: RecallScope, path: Path) -> int:
    """Write the CTE rows (sheet "CTE"), and the recall scope (sheet "Scope"), row by row in
    constant-memory mode; returns the number of CTE rows."""
    options = {"constant_memory": True, "tmpdir": str(path.parent), "strings_to_formulas": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    try:
        bold = workbook.add_format({"bold": True})
        sheet = workbook.add_worksheet("CTE")
        sheet.freeze_panes(1, 0)
        for col, title in enumerate(COLUMNS):
            sheet.write_string(0, col, title, bold)
        count = 0
        for count, row in enumerate(cte_rows(session, scope), start=1):
            for col, value in enumerate(row):
                if isinstance(value, int | float):
                    sheet.write_number(count, col, value)
                else:
                    sheet.write_string(count, col, str(value))
        sheet.autofilter(0, 0, max(count, 1), len(COLUMNS) - 1)
        _scope_sheet(session, workbook.add_worksheet("Scope"), scope, bold)
    finally:
        workbook.close()
    return count


def _scope_sheet(session: Session, sheet: Any, scope: RecallScope, bold: Any) -> None:
    """Kind and identifier (EPC URN when one can be written, else Digital Link) of everything in
    the recall, then the receiving organisations (GLN and name)."""
    for col, title in enumerate(SCOPE_SHEET_COLUMNS):
        sheet.write_string(0, col, title, bold)
    row = 1
    for kind, values in (
        ("lot", scope.lots),
        ("item", scope.items),
        ("logistic_unit", scope.logistic_units),
        ("stamp", scope.stamps),
    ):
        for chunk in repo.chunks(values, 5000):
            written = urns.epc_urns(session, chunk)
            for value in chunk:
                sheet.write_string(row, 0, kind)
                sheet.write_string(row, 1, written.get(value, value))
                row += 1
    for org in scope.receivers:
        sheet.write_string(row, 0, "receiving organisation")
        sheet.write_string(row, 1, org.gln or "")
        sheet.write_string(row, 2, org.name)
        row += 1
