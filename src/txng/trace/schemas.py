"""API shapes of the trace: the graph, the one-step view."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Direction = Literal["backward", "forward", "both"]
RecallFormat = Literal["xlsx", "csv"]


class OrganisationRef(BaseModel):
    id: int
    name: str


class LocationRef(BaseModel):
    id: str = Field(description="EPC URN when one can be written, else the GS1 Digital Link")
    digital_link: str
    kind: str = Field(description="location or party")
    name: str | None = Field(None, description="The registered facility or organisation")
    organisation: OrganisationRef | None = None


class Quantity(BaseModel):
    value: float
    uom: str | None = Field(None, description="UN/ECE Recommendation 20 code, e.g. KGM")


class TraceNode(BaseModel):
    id: str = Field(description="EPC URN when one can be written, else the GS1 Digital Link")
    digital_link: str = Field(description="Canonical GS1 Digital Link on id.gs1.org")
    kind: str = Field(
        description="item, lot, class, logistic_unit, shipment, location, party, asset or other"
    )
    organisation: OrganisationRef | None = Field(
        None,
        description="Objects: who recorded the earliest event naming it. Places: their owner.",
    )
    location: LocationRef | None = Field(
        None, description="Objects: where that event happened. Places: the place itself."
    )
    time: datetime | None = Field(None, description="Time of that event")
    quantity: Quantity | None = Field(None, description="Quantity named in that event")
    lots: list[str] = Field(
        default_factory=list, description="Lots it is, belongs to or carries (Digital Links)"
    )
    depth: int = Field(description="Hops from the start")


class TraceEdge(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    source: str = Field(alias="from", description="Node id the goods came from")
    to: str = Field(description="Node id the goods went to")
    event_id: str = Field(description="The EPCIS event that states the link")
    type: str = Field(
        description="transformation, aggregation, lot, shipment, or the bizStep of a custody "
        "edge to or from a place (shipping, receiving, …)"
    )
    time: datetime


class TraceOut(BaseModel):
    start: str = Field(description="The start node's id")
    direction: Direction
    nodes: list[TraceNode]
    edges: list[TraceEdge]
    truncated: bool = Field(description="The depth or node limit stopped the trace before its end")


class GoodsOut(BaseModel):
    id: str
    digital_link: str
    quantity: Quantity | None = None


class MovementOut(BaseModel):
    event_id: str
    biz_step: str | None
    time: datetime
    partners: list[LocationRef] = Field(description="The other side: location, else parties")
    recorded_by: OrganisationRef | None
    goods: list[GoodsOut]
    goods_count: int
    documents: list[str] = Field(description="Business transactions (despatch advice, …)")


class OneStepOut(BaseModel):
    organisation: OrganisationRef
    suppliers: list[MovementOut] = Field(description="One step back: deliveries to it")
    customers: list[MovementOut] = Field(description="One step forward: deliveries from it")
