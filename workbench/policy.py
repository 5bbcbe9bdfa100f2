"""Review thresholds and claim length, taken from Settings (kept separate so tests can pin them)."""

from __future__ import annotations

from dataclasses import dataclass

from ocr.confidence import ConfidenceBands
from workbench.config import Settings

_BANDS = ConfidenceBands()


@dataclass(frozen=True)
class ReviewPolicy:
    claim_minutes: int = 15  # how long "next record" holds a record for one official
    high_confidence: float = _BANDS.high  # band "high" at or above; also the bulk-approve floor
    medium_confidence: float = _BANDS.medium  # band "medium" at or above, "low" below
    doubtful_char: float = _BANDS.high  # characters below this are underlined as doubtful
    skip_memory_hours: int = 24  # a record an official skipped goes to the end of their queue this long

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewPolicy:
        return cls(
            claim_minutes=settings.claim_minutes,
            high_confidence=settings.high_confidence,
            medium_confidence=settings.medium_confidence,
            doubtful_char=settings.high_confidence,
        )

    def band(self, confidence: float) -> str:
        """'high' / 'medium' / 'low', the colour code of a field (ocr.confidence.ConfidenceBands' rule)."""
        return ConfidenceBands(self.high_confidence, self.medium_confidence).band(confidence)
