"""Requests and responses of the authority API (``/api/authority``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["high", "medium", "low"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReasonIn(_In):
    reason: str = Field(max_length=2000, description="Required: kept in the audit log")


class StatusOut(BaseModel):
    id: int
    status: str


class StampsIn(ReasonIn):
    """Exactly one of: ``codes`` (serials or printed short codes), ``first``+``last``, ``lot``."""

    codes: list[str] = Field(default_factory=list, max_length=10_000)
    first: str | None = Field(default=None, max_length=20)
    last: str | None = Field(default=None, max_length=20)
    lot: str | None = Field(default=None, max_length=20)


class StampsOut(BaseModel):
    product_id: int
    changed: int
    skipped: int
    serials: list[str]


class LotIn(_In):
    gtin: str = Field(max_length=14)
    lot: str = Field(max_length=20)


class RecallIn(_In):
    lots: list[LotIn] = Field(max_length=50)
    reason: str = Field(max_length=4000)
    severity: Severity
    instructions_vi: str = Field(max_length=4000)
    instructions_en: str = Field(default="", max_length=4000)


class RecallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int | None
    gtin: str
    lot: str
    reason: str
    severity: str
    instructions_vi: str
    instructions_en: str
    state: str
    issued_by_label: str
    issued_at: datetime
    lifted_at: datetime | None
    targets: dict[str, int] = Field(default_factory=dict, description="Targets per kind")


class TargetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ident: str
    kind: str
    organisation_id: int | None


class RecallDetailOut(RecallOut):
    scope: list[TargetOut] = Field(default_factory=list)
