"""Held-out fields (all line images of a cell + the confirmed value) and reading them as proposals.

Scoring goes through ``ocr.recognition.propose_cells``: the same decoding, normalization,
validators and calibrated confidence that ingest uses, so the numbers describe what officials
would see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocr.confidence import Calibrator
from ocr.fields.normalize import normalize
from ocr.read.engines.base import Recognizer
from ocr.recognition import propose_cells
from ocr.types import Box, CellImage, FieldProposal
from workbench.training.dataset import LabelledLine


@dataclass(frozen=True)
class HeldOutField:
    key: str
    field_type: str
    truth: str  # the official's value
    lines: tuple[np.ndarray, ...]  # the cell's line images, top to bottom

    @property
    def expected(self) -> str:
        """The truth as a proposal would show it (same normalizer)."""
        return normalize(self.field_type, self.truth)


def fields_from_lines(lines: Sequence[LabelledLine]) -> list[HeldOutField]:
    """Group lines back into their cells (db lines share a field_value_id); others stand alone."""
    grouped: dict[object, list[LabelledLine]] = {}
    for index, line in enumerate(lines):
        key = ("field", line.field_value_id) if line.field_value_id is not None else ("line", index)
        grouped.setdefault(key, []).append(line)
    fields = []
    for parts in grouped.values():
        parts.sort(key=lambda p: p.line_index)
        fields.append(HeldOutField(parts[0].field_key or "line", parts[0].field_type,
                                   " ".join(p.text for p in parts), tuple(p.image for p in parts)))
    return fields


def propose_fields(
    recognizer: Recognizer, fields: Sequence[HeldOutField], calibrator: Calibrator | None = None, batch: int = 64,
    second_reader: bool = True,
) -> list[FieldProposal]:
    proposals: list[FieldProposal] = []
    for start in range(0, len(fields), batch):
        cells = [(CellImage(f.key, Box(0, 0, 0, 0), list(f.lines), is_empty=not f.lines), f.field_type)
                 for f in fields[start : start + batch]]
        proposals.extend(propose_cells(cells, recognizer, calibrator, second_reader=second_reader))
    return proposals
