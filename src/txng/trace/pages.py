"""The trace page: a graph (server-drawn SVG, no script) and a timeline of a trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from txng.errors import N_, ValidationFailed
from txng.trace import engine
from txng.trace.api import start_of, trace_out
from txng.trace.schemas import TraceEdge, TraceNode, TraceOut
from txng.web.deps import DB, MaybeCaller
from txng.web.forms import field_messages
from txng.web.templating import render

router = APIRouter(include_in_schema=False)

BOX_W = 230
BOX_H = 70
GAP_X = 70
GAP_Y = 22
MARGIN = 12

KIND_LABELS = {
    "item": N_("Item"),
    "lot": N_("Lot"),
    "class": N_("Product"),
    "logistic_unit": N_("Logistic unit"),
    "shipment": N_("Shipment"),
    "location": N_("Place"),
    "party": N_("Organisation"),
    "asset": N_("Asset"),
    "other": N_("Other"),
}
EDGE_LABELS = {
    "transformation": N_("processed into"),
    "aggregation": N_("packed into"),
    "lot": N_("lot membership"),
    "shipment": N_("shipped"),
    "shipping": N_("shipped"),
    "receiving": N_("received"),
}


@dataclass
class Box:
    node: TraceNode
    x: int
    y: int
    start: bool

    @property
    def short(self) -> str:
        """The end of the identifier, which is what people read on a label."""
        value = self.node.digital_link
        if value.startswith("https://id.gs1.org/"):
            return value.removeprefix("https://id.gs1.org/")
        return self.node.id if len(self.node.id) <= 34 else "…" + self.node.id[-33:]


@dataclass
class Line:
    edge: TraceEdge
    x1: int
    y1: int
    x2: int
    y2: int


def _layers(out: TraceOut) -> dict[str, int]:
    """Each node's column: the longest chain of edges leading to it (cycles cut)."""
    layer = {n.id: 0 for n in out.nodes}
    for _ in range(len(out.nodes)):
        changed = False
        for edge in out.edges:
            if edge.source in layer and edge.to in layer:
                wanted = layer[edge.source] + 1
                if wanted > layer[edge.to] and wanted < len(out.nodes):
                    layer[edge.to] = wanted
                    changed = True
        if not changed:
            break
    return layer


def layout(out: TraceOut) -> dict[str, Any]:
    layer = _layers(out)
    columns: dict[int, list[TraceNode]] = {}
    for node in out.nodes:
        columns.setdefault(layer[node.id], []).append(node)
    boxes: dict[str, Box] = {}
    for column, nodes in sorted(columns.items()):
        nodes.sort(key=lambda n: (n.time is None, n.time, n.kind, n.id))
        for row, node in enumerate(nodes):
            boxes[node.id] = Box(
                node,
                MARGIN + column * (BOX_W + GAP_X),
                MARGIN + row * (BOX_H + GAP_Y),
                node.id == out.start,
            )
    lines = [
        Line(
            edge,
            boxes[edge.source].x + BOX_W,
            boxes[edge.source].y + BOX_H // 2,
            boxes[edge.to].x,
            boxes[edge.to].y + BOX_H // 2,
        )
        for edge in out.edges
        if edge.source in boxes and edge.to in boxes
    ]
    width = MARGIN * 2 + (max(columns, default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + max((len(c) for c in columns.values()), default=1) * (BOX_H + GAP_Y)
    return {"boxes": list(boxes.values()), "lines": lines, "width": width, "height": height}


@router.get("/trace")
def trace_page(
    request: Request,
    db: DB,
    caller: MaybeCaller,
    id: str | None = None,
    direction: str = "both",
) -> Response:
    ctx: dict[str, Any] = {
        "form": {"id": id or "", "direction": direction},
        "errors": {},
        "kind_labels": KIND_LABELS,
        "edge_labels": EDGE_LABELS,
        "box_w": BOX_W,
        "box_h": BOX_H,
    }
    if direction not in engine.DIRECTIONS:
        direction = "both"
        ctx["form"]["direction"] = direction
    if not id:
        return render(request, "trace/view.html", ctx)
    try:
        start = start_of(id, None, None, None)
    except ValidationFailed as exc:
        ctx["errors"] = {"id": next(iter(field_messages(request.state.locale, exc).values()))}
        return render(request, "trace/view.html", ctx, status_code=422)
    result = engine.trace(db, caller, start, direction=direction)
    if not result.found:
        ctx["not_found"] = True
        return render(request, "trace/view.html", ctx, status_code=404)
    out = trace_out(db, result)
    names = {n.id: n for n in out.nodes}
    ctx.update(out=out, names=names, drawing=layout(out))
    return render(request, "trace/view.html", ctx)
