"""Labelled text lines, de-duplication and the train/validation split by page."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LabelledLine:
    """One text-line image with the text written on it (as the official confirmed it)."""

    image: np.ndarray  # grayscale uint8
    text: str
    page_key: str  # the split unit: lines of one page never land in both splits
    source: str  # "db" | "folder" | "synthetic"
    field_type: str = "free_text"
    field_key: str = ""
    book_id: int | None = None
    unit_id: int | None = None
    unit_name: str = ""
    year: int | None = None
    field_value_id: int | None = None
    line_index: int = 0  # position of the line within its cell

    def fingerprint(self) -> str:
        """Same pixels + same text = same example (a re-uploaded page adds nothing)."""
        digest = hashlib.sha1(np.ascontiguousarray(self.image).tobytes(), usedforsecurity=False)
        digest.update(repr(self.image.shape).encode())
        digest.update(self.text.encode("utf-8"))
        return digest.hexdigest()


@dataclass
class TrainingSet:
    train: list[LabelledLine]
    validation: list[LabelledLine]
    notes: dict[str, int] = field(default_factory=dict)  # skipped cells by reason, duplicates, ...

    def summary(self) -> dict[str, Any]:
        """JSON-able description stored in a model version's meta."""
        def part(lines: list[LabelledLine]) -> dict[str, Any]:
            return {
                "lines": len(lines),
                "pages": len({line.page_key for line in lines}),
                "sources": dict(Counter(line.source for line in lines)),
                "field_types": dict(Counter(line.field_type for line in lines)),
                "units": sorted({line.unit_name for line in lines if line.unit_name}),
                "books": sorted({line.book_id for line in lines if line.book_id is not None}),
                "years": sorted({line.year for line in lines if line.year is not None}),
                "characters": sum(len(line.text) for line in lines),
            }

        return {"train": part(self.train), "validation": part(self.validation), "notes": dict(self.notes)}


def deduplicate(lines: list[LabelledLine]) -> tuple[list[LabelledLine], int]:
    """Drop exact repeats (same image bytes and text); returns (kept, dropped count)."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        key = line.fingerprint()
        if key not in seen:
            seen.add(key)
            kept.append(line)
    return kept, len(lines) - len(kept)


def split_by_page(
    lines: list[LabelledLine], validation_share: float = 0.15, seed: int = 0
) -> tuple[list[LabelledLine], list[LabelledLine]]:
    """Whole pages go to validation until it holds ~validation_share of the lines.

    With a single page there is nothing to hold out: everything trains (validation empty).
    """
    pages = sorted({line.page_key for line in lines})
    if len(pages) < 2 or validation_share <= 0:
        return list(lines), []
    random.Random(seed).shuffle(pages)
    per_page = Counter(line.page_key for line in lines)
    target = validation_share * len(lines)
    held: set[str] = set()
    count = 0
    for page in pages:
        if count >= target or len(held) == len(pages) - 1:  # at least one page always trains
            break
        if count + per_page[page] <= 1.5 * target:  # a big page would overshoot: try another
            held.add(page)
            count += per_page[page]
    if not held:  # every page is big: hold out the smallest one
        held.add(min(pages, key=lambda p: (per_page[p], p)))
    train = [line for line in lines if line.page_key not in held]
    validation = [line for line in lines if line.page_key in held]
    return train, validation


def mix_synthetic(
    real: list[LabelledLine], synthetic: list[LabelledLine], ratio: float, seed: int = 0
) -> list[LabelledLine]:
    """Real lines plus round(ratio * len(real)) synthetic ones (ratio 0.25 = one per four real)."""
    wanted = min(len(synthetic), round(ratio * len(real)))
    if wanted <= 0:
        return list(real)
    chosen = random.Random(seed).sample(synthetic, wanted)
    return list(real) + chosen


def build_training_set(
    lines: list[LabelledLine],
    *,
    validation_share: float = 0.15,
    synthetic: list[LabelledLine] | None = None,
    synthetic_ratio: float = 0.0,
    seed: int = 0,
    notes: dict[str, int] | None = None,
) -> TrainingSet:
    """De-duplicate, split real lines by page, then add synthetic lines to the training side only."""
    kept, dropped = deduplicate(lines)
    train, validation = split_by_page(kept, validation_share, seed)
    if synthetic:
        train = mix_synthetic(train, synthetic, synthetic_ratio, seed)
    all_notes = dict(notes or {})
    all_notes["duplicates_dropped"] = all_notes.get("duplicates_dropped", 0) + dropped
    return TrainingSet(train, validation, all_notes)
