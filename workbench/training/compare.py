"""Side-by-side comparison of a candidate model with the active one on held-out confirmed fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from ocr.confidence import ConfidenceBands
from ocr.reader import Reader
from workbench.training.fields import HeldOutField, propose_fields
from workbench.training.model_registry import active_version, reader_for


@dataclass(frozen=True)
class ModelScores:
    version: str
    fields: int
    cer: float  # edit distance / characters of the confirmed values
    field_accuracy: float  # share of fields proposed exactly right
    high_confidence_share: float  # share of fields proposed with confidence >= the high band
    high_confidence_precision: float | None  # of those, the share exactly right (None: none were high)


@dataclass(frozen=True)
class ModelComparison:
    candidate: ModelScores
    active: ModelScores
    high_threshold: float

    @property
    def candidate_better(self) -> bool:
        """Fewer character errors without losing exact fields."""
        return self.candidate.cer < self.active.cer and self.candidate.field_accuracy >= self.active.field_accuracy

    def rows(self) -> list[dict[str, object]]:
        """One row per metric, for a table in the UI or CLI."""
        names = ("fields", "cer", "field_accuracy", "high_confidence_share", "high_confidence_precision")
        cand, act = asdict(self.candidate), asdict(self.active)
        return [{"metric": n, "candidate": cand[n], "active": act[n]} for n in names]


def score_model(reader: Reader, fields: Sequence[HeldOutField], high_threshold: float) -> ModelScores:
    """How ``reader``'s model proposes the held-out fields (scores under its version)."""
    proposals = propose_fields(reader.recognizer, fields, reader.calibrator)
    expected = [f.expected for f in fields]
    values = [p.value for p in proposals]
    errors = sum(Levenshtein.distance(e, v) for e, v in zip(expected, values, strict=True))
    chars = sum(max(1, len(e)) for e in expected)
    right = [e == v for e, v in zip(expected, values, strict=True)]
    high = [p.confidence >= high_threshold for p in proposals]
    high_right = [r for r, h in zip(right, high, strict=True) if h]
    n = max(1, len(fields))
    return ModelScores(
        version=reader.model_version, fields=len(fields), cer=errors / chars if fields else 0.0,
        field_accuracy=sum(right) / n, high_confidence_share=sum(high) / n,
        high_confidence_precision=(sum(high_right) / len(high_right)) if high_right else None,
    )


def compare_models(
    candidate: str,
    active: str | None,
    held_out: Sequence[HeldOutField],
    *,
    data_dir: Path,
    threads: int = 2,
    bands: ConfidenceBands = ConfidenceBands(),
) -> ModelComparison:
    """Read the held-out fields with both models (each with its own calibrator) and score them."""
    active = active or active_version(data_dir)
    scores = [score_model(reader_for(data_dir, version, threads), held_out, bands.high)
              for version in (candidate, active)]
    return ModelComparison(scores[0], scores[1], bands.high)
