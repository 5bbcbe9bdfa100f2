"""Location and reading of the shipped lexicon data files (ocr/assets/lexicon/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parents[1] / "assets" / "lexicon"


def read_rows(name: str) -> Iterator[list[str]]:
    """Tab-separated rows of a data file, skipping blank lines and ``#`` comments."""
    with (LEXICON_DIR / name).open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                yield line.split("\t")


def read_words(name: str) -> list[str]:
    """First column of each row of a data file (one entry per line)."""
    return [row[0].strip() for row in read_rows(name)]
