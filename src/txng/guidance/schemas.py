"""Input of guidance documents (the file travels beside it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["guide", "training", "legal", "form"]


class GuidanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title_vi: str = Field(min_length=1, max_length=300)
    title_en: str = Field(default="", max_length=300)
    description_vi: str = Field(default="", max_length=2000)
    description_en: str = Field(default="", max_length=2000)
    category: Category
    position: int = Field(default=0, ge=0, le=10_000)
