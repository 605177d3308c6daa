"""JSON API of the trace (C4): the trace graph, the recall spreadsheet, one step back / forward.

A trace starts from ``id`` (an EPC URN or a GS1 Digital Link on any domain, of a lot, item,
logistic unit, or shipment: GSIN or business-transaction URN), or from ``gtin`` with ``lot`` or
``serial``. What the graph shows depends on the caller: the public sees published events only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from txng.epcis import identifiers
from txng.errors import N_, NotFound, field_error
from txng.trace import engine, graph, onestep, recall, urns
from txng.trace.schemas import (
    Direction,
    GoodsOut,
    LocationRef,
    MovementOut,
    OneStepOut,
    OrganisationRef,
    Quantity,
    RecallFormat,
    TraceEdge,
    TraceNode,
    TraceOut,
)
from txng.trace.scope import Place
from txng.web.deps import DB, ApiCaller, DbId, MaybeCaller

router = APIRouter(prefix="/api", tags=["trace"])

IdParam = Annotated[
    str | None,
    Query(
        max_length=600,
        description="EPC URN or GS1 Digital Link of a lot, item, logistic unit or shipment, "
        "e.g. urn:epc:class:lgtin:8930001.000001.VT-0610 or "
        "https://id.gs1.org/01/08930001000018/10/VT-0610",
    ),
]
GtinParam = Annotated[
    str | None, Query(max_length=14, description="Instead of id: a GTIN, with lot or serial")
]
LotParam = Annotated[str | None, Query(max_length=20, description="Batch/lot number (AI 10)")]
SerialParam = Annotated[str | None, Query(max_length=20, description="Serial number (AI 21)")]
DepthParam = Annotated[int, Query(ge=0, le=engine.DEFAULT_MAX_DEPTH, description="Hops at most")]
NodesParam = Annotated[int, Query(ge=1, le=engine.DEFAULT_MAX_NODES, description="Nodes at most")]

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def start_of(id: str | None, gtin: str | None, lot: str | None, serial: str | None) -> str:
    """The canonical identifier named by the query; 422 with a pointer to the faulty parameter."""
    if id is not None and gtin is not None:
        raise field_error("/query/gtin", N_("Give either id, or gtin with lot or serial"))
    if gtin is not None:
        if (lot is None) == (serial is None):
            raise field_error("/query/lot", N_("Give the lot or the serial number with the GTIN"))
        try:
            return (
                identifiers.lgtin_dl(gtin, lot)
                if lot is not None
                else identifiers.sgtin_dl(gtin, serial or "")
            )
        except identifiers.IdentifierError as exc:
            raise field_error(
                "/query/gtin", N_("Not a valid identifier: %(value)s"), value=str(exc)
            ) from exc
    if id is None:
        raise field_error("/query/id", N_("This field is required"), "missing")
    try:
        return engine.start_id(id)
    except identifiers.IdentifierError as exc:
        raise field_error("/query/id", N_("Not a valid identifier: %(value)s"), value=id) from exc
    except engine.TraceStartError as exc:
        raise field_error(
            "/query/id",
            N_("Start a trace from a lot, an item, a logistic unit or a shipment"),
            "not_traceable",
        ) from exc


# output ------------------------------------------------------------------------------------


class _Ids:
    """EPC URNs for the ids of one response, worked out in one batch."""

    def __init__(self, written: dict[str, str]) -> None:
        self.written = written

    def __call__(self, ident: str) -> str:
        return self.written.get(ident, ident)


def _org(result: engine.Trace, org_id: int | None) -> OrganisationRef | None:
    org = result.organisations.get(org_id) if org_id is not None else None
    return OrganisationRef(id=org.id, name=org.name) if org else None


def _place(place: Place | None, ident: str, ids: _Ids) -> LocationRef:
    organisation = None
    if place is not None and place.organisation_id is not None and place.organisation_name:
        organisation = OrganisationRef(id=place.organisation_id, name=place.organisation_name)
    return LocationRef(
        id=ids(ident),
        digital_link=ident,
        kind=place.kind if place else graph.node_kind(ident),
        name=place.name if place else None,
        organisation=organisation,
    )


def _node(result: engine.Trace, node: engine.Node, ids: _Ids) -> TraceNode:
    event = node.event
    if node.kind in graph.PLACE_KINDS:
        place = node.place
        organisation = (
            OrganisationRef(id=place.organisation_id, name=place.organisation_name)
            if place and place.organisation_id is not None and place.organisation_name
            else None
        )
        location: LocationRef | None = _place(place, node.ident, ids)
    else:
        organisation = _org(result, event.organisation_id if event else None)
        where = event.location if event else None
        location = _place(result.places.get(where), where, ids) if where else None
    return TraceNode(
        id=ids(node.ident),
        digital_link=node.ident,
        kind=node.kind,
        organisation=organisation,
        location=location,
        time=event.time if event else None,
        quantity=Quantity(value=node.quantity, uom=node.uom) if node.quantity is not None else None,
        lots=sorted(node.lots - {node.ident}),
        depth=node.depth,
    )


def trace_out(session: Session, result: engine.Trace) -> TraceOut:
    wanted = set(result.nodes) | set(result.places)
    ids = _Ids(urns.epc_urns(session, wanted))
    return TraceOut(
        start=ids(result.start),
        direction=result.direction,
        nodes=[
            _node(result, n, ids)
            for n in sorted(result.nodes.values(), key=lambda n: (n.depth, n.kind, n.ident))
        ],
        edges=[
            TraceEdge(
                source=ids(e.source),
                to=ids(e.target),
                event_id=e.event.event_id,
                type=e.type,
                time=e.event.time,
            )
            for e in result.edges
        ],
        truncated=result.truncated,
    )


# endpoints ---------------------------------------------------------------------------------


@router.get("/trace", response_model=TraceOut)
def get_trace(
    db: DB,
    caller: MaybeCaller,
    id: IdParam = None,
    gtin: GtinParam = None,
    lot: LotParam = None,
    serial: SerialParam = None,
    direction: Direction = "both",
    max_depth: DepthParam = engine.DEFAULT_MAX_DEPTH,
    max_nodes: NodesParam = engine.DEFAULT_MAX_NODES,
) -> TraceOut:
    """Trace a lot, item, logistic unit or shipment backward (where it came from), forward (where
    it went) or both, across transformations, packing, lots and organisations."""
    start = start_of(id, gtin, lot, serial)
    result = engine.trace(
        db, caller, start, direction=direction, max_depth=max_depth, max_nodes=max_nodes
    )
    if not result.found:
        raise NotFound()
    return trace_out(db, result)


@router.get(
    "/recall",
    response_class=FileResponse,
    responses={
        200: {
            "description": "One row per critical tracking event and lot (FSMA 204 columns)",
            "content": {MEDIA_TYPES["xlsx"]: {}, "text/csv": {}},
        }
    },
)
def get_recall(
    db: DB,
    caller: ApiCaller,
    id: IdParam = None,
    gtin: GtinParam = None,
    lot: LotParam = None,
    serial: SerialParam = None,
    format: RecallFormat = "xlsx",
) -> FileResponse:
    """Download the recall scope of a lot: every downstream critical tracking event, as a
    sortable spreadsheet (XLSX, with a second sheet listing lots, items, logistic units and
    receiving organisations) or CSV."""
    start = start_of(id, gtin, lot, serial)
    handle, name = tempfile.mkstemp(prefix="txng-recall-", suffix=f".{format}")
    os.close(handle)
    path = Path(name)
    try:
        exported = recall.export(db, principal=caller, lot=start, fmt=format, path=path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if exported is None:
        path.unlink(missing_ok=True)
        raise NotFound()
    number, _ = recall.lot_code(start)
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[format],
        filename=f"recall-{recall.file_slug(number or start)}.{format}",
        headers={
            "X-Trace-Truncated": "true" if exported.truncated else "false",
            "X-Recall-Rows": str(exported.rows),
        },
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/trace/one-step/{organisation_id}", response_model=OneStepOut)
def get_one_step(organisation_id: DbId, db: DB, caller: MaybeCaller) -> OneStepOut:
    """One step back and one step forward: who delivered to the organisation and to whom it
    delivered, what and when (latest deliveries first)."""
    view = onestep.one_step(db, caller, organisation_id)
    if view is None:
        raise NotFound()
    wanted = {p.id for m in view.suppliers + view.customers for p in m.partners}
    wanted |= {g.ident for m in view.suppliers + view.customers for g in m.goods}
    ids = _Ids(urns.epc_urns(db, wanted))

    def movement(m: onestep.Movement) -> MovementOut:
        return MovementOut(
            event_id=m.event.event_id,
            biz_step=m.event.biz_step,
            time=m.event.time,
            partners=[_place(p, p.id, ids) for p in m.partners],
            recorded_by=OrganisationRef(id=m.recorded_by.id, name=m.recorded_by.name)
            if m.recorded_by
            else None,
            goods=[
                GoodsOut(
                    id=ids(g.ident),
                    digital_link=g.ident,
                    quantity=Quantity(value=g.quantity, uom=g.uom)
                    if g.quantity is not None
                    else None,
                )
                for g in m.goods
            ],
            goods_count=m.goods_count,
            documents=m.documents,
        )

    return OneStepOut(
        organisation=OrganisationRef(id=view.organisation.id, name=view.organisation.name),
        suppliers=[movement(m) for m in view.suppliers],
        customers=[movement(m) for m in view.customers],
    )
