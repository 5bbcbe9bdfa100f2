"""The policies the services take, each a small frozen value (so tests can pin them): review thresholds
and claim length, the login lock-out, the session lifetime. `workbench.config.Settings` builds them; the
confidence bands are ocr.confidence.ConfidenceBands, the one definition the OCR reports against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ocr.confidence import ConfidenceBands


@dataclass(frozen=True)
class ReviewPolicy:
    claim_minutes: int = 15  # how long "next record" holds a record for one official
    # bands.high: band "high" at or above, also the bulk-approve floor; bands.medium: "medium" at or above, "low" below
    bands: ConfidenceBands = ConfidenceBands()
    skip_memory_hours: int = 24  # a record an official skipped goes to the end of their queue this long

    @property
    def doubtful_char(self) -> float:
        """Characters below this are underlined as doubtful: the high band."""
        return self.bands.high


@dataclass(frozen=True)
class LoginPolicy:
    max_failed_logins: int = 5
    lockout_minutes: int = 15


@dataclass(frozen=True)
class SessionPolicy:
    """A signed-in session ends after `idle_minutes` without activity, and `max_hours` after login
    however busy it is (the idle timeout alone lets a stolen cookie live forever if kept busy)."""

    idle_minutes: int = 30
    max_hours: float = 12.0

    def alive(self, started: datetime, last_seen: datetime, now: datetime) -> bool:
        return (now - last_seen <= timedelta(minutes=self.idle_minutes)
                and now - started <= timedelta(hours=self.max_hours))
