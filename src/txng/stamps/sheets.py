"""Label sheet templates: the A4 grids of common label stock and a roll format (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from txng.errors import N_


@dataclass(frozen=True)
class Sheet:
    """One label stock: page size, grid and label size in millimetres."""

    key: str
    label: str  # msgid
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    left: float = 0.0  # margin of the first column
    top: float = 0.0  # margin of the first row
    gap_x: float = 0.0
    gap_y: float = 0.0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origin(self, index: int) -> tuple[float, float]:
        """Top-left corner of the ``index``-th label of a page (row by row)."""
        row, col = divmod(index, self.columns)
        return (
            self.left + col * (self.label_width + self.gap_x),
            self.top + row * (self.label_height + self.gap_y),
        )


A4_W, A4_H = 210.0, 297.0

SHEETS: Final[dict[str, Sheet]] = {
    s.key: s
    for s in (
        Sheet("a4-3x8", N_("A4, 3 × 8 labels of 70 × 37 mm"), A4_W, A4_H, 3, 8, 70, 37, 0, 0.5),
        Sheet(
            "a4-4x10",
            N_("A4, 4 × 10 labels of 48.5 × 25.4 mm"),
            A4_W,
            A4_H,
            4,
            10,
            48.5,
            25.4,
            8,
            21.5,
        ),
        Sheet("a4-5x13", N_("A4, 5 × 13 labels of 38 × 21 mm"), A4_W, A4_H, 5, 13, 38, 21, 10, 12),
        Sheet("roll-50x30", N_("Roll, one label of 50 × 30 mm"), 50, 30, 1, 1, 50, 30),
    )
}
DEFAULT_SHEET: Final = "a4-3x8"
