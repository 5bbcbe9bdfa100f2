"""Configuration from the environment (WORKBENCH_DB, WORKBENCH_DATA, WORKBENCH_SESSION_MAX_HOURS...)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ocr.confidence import ConfidenceBands

DEFAULT_DB = "sqlite:///data/workbench.db"
DEFAULT_DATA = "./data"


@dataclass(frozen=True)
class Settings:
    db_url: str
    data_dir: Path
    ocr_threads: int = 2
    claim_minutes: int = 15  # how long a "next record" claim holds
    session_minutes: int = 30  # UI session expiry after inactivity
    session_max_hours: float = 12.0  # absolute UI session lifetime, however busy (a stolen cookie dies)
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    high_confidence: float = ConfidenceBands.high  # the review bands: one definition, in ocr.confidence
    medium_confidence: float = ConfidenceBands.medium


def load_settings() -> Settings:
    return Settings(
        db_url=os.environ.get("WORKBENCH_DB", DEFAULT_DB),
        data_dir=Path(os.environ.get("WORKBENCH_DATA", DEFAULT_DATA)),
        ocr_threads=int(os.environ.get("WORKBENCH_OCR_THREADS", "2")),
        session_max_hours=float(os.environ.get("WORKBENCH_SESSION_MAX_HOURS", "12")),
    )
