"""What a consumer may send: a problem report and, with consent, a coarse location."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from txng.errors import N_

Category = Literal["counterfeit", "quality", "wrong_information", "expired", "other"]
CATEGORY_LABELS: Final[dict[str, str]] = {
    "counterfeit": N_("Looks counterfeit"),
    "quality": N_("Quality or safety problem"),
    "wrong_information": N_("Wrong information on this page"),
    "expired": N_("Expired or badly stored"),
    "other": N_("Something else"),
}


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Category
    message: str = Field(min_length=10, max_length=2000)
    contact: str = Field(default="", max_length=200)


class LocationIn(BaseModel):
    """A commune chosen from the list, or coordinates (rounded to about 1 km before storing)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    commune_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
