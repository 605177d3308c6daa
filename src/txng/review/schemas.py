"""Request and response bodies of the review API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EntityType = Literal["organisation", "facility", "product", "event_batch", "stamp_request"]
ItemState = Literal[
    "draft",
    "submitted",
    "approved",
    "rejected",
    "published",
    "superseded",
    "suspended",
    "recalled",
    "withdrawn",
]
QueueState = Literal[
    "draft",
    "submitted",
    "approved",
    "rejected",
    "published",
    "superseded",
    "suspended",
    "recalled",
    "withdrawn",
    "all",
]
DecisionAction = Literal[
    "approve", "reject", "publish", "suspend", "reinstate", "recall", "withdraw"
]
PolicyMode = Literal["every_batch", "trust"]


class ReviewItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity_type: str
    entity_id: int
    version: int
    state: str
    organisation_id: int
    sector: str | None
    commune_code: str | None
    submitted_by_label: str
    submitted_at: datetime
    decided_by_label: str | None
    decided_at: datetime | None
    auto_approved: bool
    reason: str | None
    published_at: datetime | None
    snapshot: dict[str, Any]


class QueueOut(BaseModel):
    items: list[ReviewItemOut]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = Field(description="Items in the caller's scope per state")


class FieldChangeOut(BaseModel):
    field: str
    before: Any
    after: Any
    kind: Literal["added", "removed", "changed", "same"]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=4000)


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author_label: str
    body: str
    created_at: datetime


class ItemDetailOut(BaseModel):
    item: ReviewItemOut
    published_version: int | None
    changes: list[FieldChangeOut]
    comments: list[CommentOut]
    actions: list[str] = Field(description="What the caller may do with the item now")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: DecisionAction
    reason: str | None = Field(default=None, max_length=2000)
    publish: bool = Field(default=True, description="Approve and publish in one step")


class BulkApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] = Field(min_length=1, max_length=200)
    publish: bool = True


class BulkResultOut(BaseModel):
    id: int
    ok: bool
    state: str | None = None
    status: int = Field(description="The HTTP status this item alone would have had")
    detail: str | None = None


class BulkOut(BaseModel):
    results: list[BulkResultOut]
    approved: int
    failed: int


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: PolicyMode
    trust_after: int = Field(default=3, ge=1, le=1000)


class PolicyOut(BaseModel):
    organisation_id: int
    mode: str
    trust_after: int
