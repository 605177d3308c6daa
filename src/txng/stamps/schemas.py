"""Request and response bodies of the stamps API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from txng.errors import N_, field_error

LabelTemplate = Literal["a4-3x8", "a4-4x10", "a4-5x13", "roll-50x30"]
LOT_PATTERN = r"^[A-Za-z0-9!\"%&'()*+,\-./:;<=>?_]{1,20}$"  # GS1 AI 10, character set 82
MAX_SELECTION = 20_000  # stamps per activation or status change call


class StampRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: int = Field(ge=1, description="One of the organisation's own products.")
    quantity: int = Field(ge=1, description="How many stamps to issue.")
    lot: str | None = Field(
        default=None,
        pattern=LOT_PATTERN,
        description="Print this lot (AI 10) in the codes; otherwise the lot is set on activation.",
    )
    label_template: LabelTemplate = "a4-3x8"
    with_pin: bool = Field(default=False, description="Print a 6-digit PIN under a scratch layer.")


class StampRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    product_id: int
    lot: str | None
    quantity: int
    label_template: str
    with_pin: bool
    state: str
    issued_count: int
    reason: str | None
    requested_at: datetime
    decided_at: datetime | None
    issued_at: datetime | None
    review_item_id: int | None = None


class ProgressOut(BaseModel):
    state: str
    quantity: int
    issued_count: int
    percent: int


class StampOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: int
    gtin: str
    serial: str
    short_code: str
    lot: str | None
    status: str
    activated_at: datetime | None
    activation_event_id: str | None
    status_reason: str | None
    uri: str = ""


class StampPage(BaseModel):
    items: list[StampOut]
    next_after: int | None


class ActivationIn(BaseModel):
    """Which stamps go on the lot: a list of codes, a range, or the next N of a request."""

    model_config = ConfigDict(extra="forbid")

    lot: str = Field(pattern=LOT_PATTERN, description="The lot (AI 10) the goods belong to.")
    codes: list[str] | None = Field(
        default=None, max_length=MAX_SELECTION, description="Short codes or serials."
    )
    first: str | None = Field(default=None, description="First code of a range (inclusive).")
    last: str | None = Field(default=None, description="Last code of a range (inclusive).")
    request_id: int | None = Field(default=None, ge=1)
    count: int | None = Field(
        default=None, ge=1, le=MAX_SELECTION, description="The next N unactivated stamps."
    )

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        chosen = [
            self.codes is not None,
            self.first is not None or self.last is not None,
            self.request_id is not None or self.count is not None,
        ]
        if sum(chosen) != 1:
            raise field_error(
                "/codes", N_("Give a list of codes, a range, or a number of stamps"), "selection"
            )
        if chosen[1] and (not self.first or not self.last):
            pointer = "/last" if self.first else "/first"
            raise field_error(pointer, N_("This field is required"), "missing")
        if chosen[2] and (self.request_id is None or self.count is None):
            pointer = "/count" if self.request_id else "/request_id"
            raise field_error(pointer, N_("This field is required"), "missing")
        if chosen[0] and not self.codes:
            raise field_error("/codes", N_("This field is required"), "missing")
        return self


class ActivationOut(BaseModel):
    lot: str
    activated: int
    event_ids: list[str]
    capture_id: str
    capacity: int
    carried: int


StatusAction = Literal["deactivate", "lost", "suspend"]


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[str] = Field(min_length=1, max_length=MAX_SELECTION)
    reason: str = Field(default="", max_length=1000)


class StatusChangeOut(BaseModel):
    status: str
    changed: int
