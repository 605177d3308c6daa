"""Field-by-field difference of a submitted version against the published one (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ChangeKind = Literal["added", "removed", "changed", "same"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any

    @property
    def changed(self) -> bool:
        return bool(self.before != self.after)

    @property
    def kind(self) -> ChangeKind:
        """added | removed | changed | same: what the reviewer is shown next to the field."""
        if self.before is None and self.after is not None:
            return "added"
        if self.after is None and self.before is not None:
            return "removed"
        return "changed" if self.changed else "same"


def diff(published: Mapping[str, Any] | None, submitted: Mapping[str, Any]) -> list[FieldChange]:
    """Every field of the submitted version, then fields it dropped; None where absent."""
    before = published or {}
    fields = list(submitted) + [name for name in before if name not in submitted]
    return [FieldChange(name, before.get(name), submitted.get(name)) for name in fields]


def changed_only(changes: list[FieldChange]) -> list[FieldChange]:
    return [c for c in changes if c.changed]
