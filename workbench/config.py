"""Configuration from the environment (WORKBENCH_DB, WORKBENCH_DATA, WORKBENCH_SESSION_MAX_HOURS...).

One `Settings` holds every tunable the app reads and builds the policies the services take from it
(`review_policy`, `login_policy`); its defaults are those of the policies (workbench.policy) and of
the confidence bands (ocr.confidence.ConfidenceBands), each defined once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ocr.confidence import ConfidenceBands
from workbench.policy import LoginPolicy, ReviewPolicy, SessionPolicy

DEFAULT_DB = "sqlite:///data/workbench.db"
DEFAULT_DATA = "./data"


@dataclass(frozen=True)
class Settings:
    db_url: str
    data_dir: Path
    ocr_threads: int = 2
    claim_minutes: int = ReviewPolicy.claim_minutes  # how long a "next record" claim holds
    session_minutes: int = SessionPolicy.idle_minutes  # UI session expiry after inactivity
    session_max_hours: float = SessionPolicy.max_hours  # absolute UI session lifetime, however busy
    max_failed_logins: int = LoginPolicy.max_failed_logins
    lockout_minutes: int = LoginPolicy.lockout_minutes
    bands: ConfidenceBands = ConfidenceBands()  # the review bands (high, medium)

    def review_policy(self) -> ReviewPolicy:
        return ReviewPolicy(claim_minutes=self.claim_minutes, bands=self.bands)

    def login_policy(self) -> LoginPolicy:
        return LoginPolicy(max_failed_logins=self.max_failed_logins, lockout_minutes=self.lockout_minutes)


def load_settings() -> Settings:
    return Settings(
        db_url=os.environ.get("WORKBENCH_DB", DEFAULT_DB),
        data_dir=Path(os.environ.get("WORKBENCH_DATA", DEFAULT_DATA)),
        ocr_threads=int(os.environ.get("WORKBENCH_OCR_THREADS", "2")),
        session_max_hours=float(os.environ.get("WORKBENCH_SESSION_MAX_HOURS", "12")),
    )
