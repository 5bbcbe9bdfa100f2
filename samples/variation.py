"""Optional generator axes beyond the classic page: layout, ruling style, stamps and notes.

Every option here is off by default; `PageOptions` holds them as `None`/0 and the page is then
drawn exactly as before (no extra random draws), so the committed books stay byte-identical.
`samples/families.py` combines them into named families.
"""

from __future__ import annotations

from dataclasses import dataclass

# Closed-list columns that real books often print narrow (failure classes 3 and 4 of issue 13).
NARROW_TYPES = ("sex", "ethnicity", "nationality")
NARROW_FACTOR = 0.6  # a narrow column's hint is multiplied by this before jitter
MIN_COLUMN_SHARE = 0.03  # of the table width: room for a short word ("Nam", "Nữ") in any column


@dataclass(frozen=True)
class LayoutOptions:
    """How the printed table and the writing in it vary between print runs and books."""

    header_ratio: float | None = None  # header band height / data row height; None: classic 0.095 x page height
    column_numbers: bool = False  # a second header row "(1) (2) (3) ..." under the labels, with its own ruling
    column_jitter: float = 0.0  # each column width x U(1 - j, 1 + j) of its template hint, renormalised
    narrow_types: tuple[str, ...] = ()  # field types printed narrow (x NARROW_FACTOR before jitter)
    wrap_share: float = 0.0  # share of multi-word values forced onto several lines
    max_lines: int = 2  # written lines per cell at most (1-3)

    def __post_init__(self) -> None:
        if not 1 <= self.max_lines <= 3:
            raise ValueError(f"max_lines must be 1..3, not {self.max_lines}")
        if self.header_ratio is not None and not 0.2 <= self.header_ratio <= 4.0:
            raise ValueError(f"header_ratio must be 0.2..4.0, not {self.header_ratio}")
        if not 0.0 <= self.column_jitter < 0.9:
            raise ValueError(f"column_jitter must be 0..0.9, not {self.column_jitter}")


@dataclass(frozen=True)
class RulingStyle:
    """Printed grid lines of one print run: width, colour, how strong, how worn."""

    thickness: int = 2  # px of the inner rulings (the table's outline is one px more)
    colour: tuple[int, int, int] = (38, 36, 40)  # BGR
    strength: tuple[float, float] = (0.8, 0.95)  # opacity range of a ruling (faded < 0.5)
    broken: float = 0.0  # share of rulings printed worn (dashes with gaps)
    missing: float = 0.0  # share of inner rulings not printed at all

    def __post_init__(self) -> None:
        if not 1 <= self.thickness <= 6:
            raise ValueError(f"thickness must be 1..6 px, not {self.thickness}")
