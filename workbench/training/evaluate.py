"""Character error rate and line accuracy of a recognizer on labelled lines (no torch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from ocr.read.engines.base import Recognizer
from workbench.training.dataset import LabelledLine


@dataclass(frozen=True)
class LineScores:
    lines: int
    cer: float  # total edit distance / total reference characters
    line_exact: float  # share of lines read exactly

    def as_dict(self) -> dict[str, float | int]:
        return {"lines": self.lines, "cer": round(self.cer, 4), "line_exact": round(self.line_exact, 4)}


def score_texts(references: Sequence[str], readings: Sequence[str]) -> LineScores:
    if not references:
        return LineScores(0, 0.0, 0.0)
    errors = sum(Levenshtein.distance(r, h) for r, h in zip(references, readings, strict=True))
    chars = sum(max(1, len(r)) for r in references)
    exact = sum(r == h for r, h in zip(references, readings, strict=True))
    return LineScores(len(references), errors / chars, exact / len(references))


def read_texts(recognizer: Recognizer, lines: Sequence[LabelledLine], batch: int = 32) -> list[str]:
    texts: list[str] = []
    for start in range(0, len(lines), batch):
        chunk = [line.image for line in lines[start : start + batch]]
        texts.extend(reading.text for reading in recognizer.read_lines(chunk))
    return texts


def evaluate_recognizer(recognizer: Recognizer, lines: Sequence[LabelledLine]) -> LineScores:
    """Greedy reading of every line against its label."""
    return score_texts([line.text for line in lines], read_texts(recognizer, lines))
