"""Tunable parameters of the page pipeline, one frozen dataclass per step.

They are recorded with every ProcessingStep in the audit trail, so a result can always be
traced back to the exact parameters that produced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class QASettings:
    analysis_width: int = 800  # px; QA looks at a downscaled copy
    blank_ink_fraction: float = 0.003  # below this share of ink pixels a page is blank (measured:
    # blank scans <= 0.0017 incl. lid edges, one written row >= 0.015, printed header alone ~0.03)
    auto_rotate: bool = True  # turn 90/180/270 pages upright when the evidence is clear
    # Evidence margins (0..1) measured on synthetic ledgers: vertical-text margins are >= 0.2
    # on turned pages and <= -0.15 on upright ones; upside-down votes are >= 0.4 when right.
    vertical_min_margin: float = 0.05  # to report (and auto-correct) a 90/270 turn
    # Ledger pages are printed landscape: on a portrait scan any vertical-text evidence counts,
    # and on a landscape scan (the ledger's own shape) only strong evidence turns it: an upright
    # page with many names wrapped onto two lines gave margins up to 0.09 for "vertical".
    expect_landscape: bool = True
    landscape_vertical_min_margin: float = 0.3
    flip_min_margin: float = 0.25  # to auto-correct an upside-down page
    flip_warn_margin: float = 0.12  # below this an upside-down guess is not even reported


@dataclass(frozen=True)
class DeskewSettings:
    max_angle_deg: float = 12.0  # search range for skew
    coarse_width: int = 700  # px width of the coarse angle search
    coarse_step_deg: float = 0.4
    fine_width: int = 1200  # px width of the fine angle search (and of the deskew preview)
    fine_step_deg: float = 0.02  # final resolution of the angle
    remove_border: bool = True  # crop the dark scanner bed around the page


@dataclass(frozen=True)
class GridSettings:
    ink_block: int = 31  # adaptive threshold window (px at full resolution)
    ink_offset: float = 12.0  # levels darker than the local mean that count as ink
    line_evidence_cap: float = 12.0  # grey levels; caps how much one dark stroke counts as "line"
    ruling_sigmas: float = 6.0  # a ruling's profile peak must stand this many noise sigmas out
    ruling_min_strength: float = 3.0  # ... and carry this mean line evidence (grey levels); text does not
    min_row_height_fraction: float = 0.35  # rows thinner than this x median row are merged
    min_row_ink_pixels: int = 60  # ink pixels (outside rulings) that make a row "filled"


@dataclass(frozen=True)
class CellSettings:
    padding: int = 4  # white px around each line crop
    min_component_pixels: int = 6  # smaller specks are noise
    min_cell_ink_pixels: int = 25  # below this a cell is empty
    border_reach: float = 0.35  # how far (x row height) a stroke may cross into neighbours
    stroke_gap: int = 15  # px: gaps this wide between a line's mask pieces keep their faint ink
    rejoin_cut_strokes: bool = True  # give strokes written across a vertical ruling back to the text
    # The second look at a cell judged empty (CellImage.faint_ink): half the text mask's contrast
    # (GridSettings.ink_offset 12), same window. Its floor is twice the most writing-like ink that
    # look finds in a truly empty cell of the tuning families (56 px; 240 cells, seeds 4242 and 777).
    faint_ink_offset: float = 6.0
    faint_ink_block: int = 31
    faint_ink_min_pixels: int = 112


@dataclass(frozen=True)
class PipelineSettings:
    qa: QASettings = field(default_factory=QASettings)
    deskew: DeskewSettings = field(default_factory=DeskewSettings)
    grid: GridSettings = field(default_factory=GridSettings)
    cells: CellSettings = field(default_factory=CellSettings)
    pdf_dpi: int = 200

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
