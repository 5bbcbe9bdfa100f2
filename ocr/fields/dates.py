"""Parsing and canonical formatting of ledger dates.

Canonical form is ``dd/mm/yyyy``. Partial dates stay partial (``yyyy``, ``mm/yyyy``): a day or
month is never invented. Two-digit years are kept as written (``5/3/98`` -> ``05/03/98``) because
choosing the century is a correction only an official may make; the validator flags them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from ocr.fields.text import clean_text

_SEP = r"\s*[/.\-]\s*"
_FULL = re.compile(rf"^(?P<d>\d{{1,2}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<y>\d{{4}}|\d{{2}})$")
_MONTH_YEAR = re.compile(rf"^(?P<m>\d{{1,2}}){_SEP}(?P<y>\d{{4}})$")
_YEAR = re.compile(r"^(?P<y>\d{4})$")
# Spelled-out form used in printed certificates: "ngày 5 tháng 3 năm 2003".
_WORDS = re.compile(
    r"^(?:ngày\s*(?P<d>\d{1,2})\s*,?\s*)?(?:tháng\s*(?P<m>\d{1,2})\s*,?\s*)?năm\s*(?P<y>\d{4})$",
    re.IGNORECASE,
)


_DAY_MONTH = re.compile(rf"^(?P<d>\d{{1,2}}){_SEP}(?P<m>\d{{1,2}}){_SEP}")


def padding_mismatch(text: str | None) -> bool:
    """Day and month written in two styles: one with a leading zero, the other a single digit
    ("1/03/2003", "05/1/2003"). A writer who pads one pads both, so a lone digit beside a padded
    one is far more often a digit the reader lost ("21/03" read "1/03") than the writer's style."""
    match = _DAY_MONTH.match(clean_text(text))
    if match is None:
        return False
    parts = (match["d"], match["m"])
    padded = any(len(p) == 2 and p.startswith("0") for p in parts)
    return padded and any(len(p) == 1 for p in parts)


@dataclass(frozen=True)
class ParsedDate:
    """A date as written: day/month may be missing (partial date)."""

    day: int | None
    month: int | None
    year: int
    year_digits: int = 4  # 2 when the book wrote a two-digit year

    @property
    def is_partial(self) -> bool:
        return self.day is None

    @property
    def is_calendar_date(self) -> bool:
        """Day and month exist in that year (31/02 does not); partial dates check what they have."""
        if self.month is not None and not 1 <= self.month <= 12:
            return False
        if self.day is None:
            return True
        if self.month is None:
            return False
        if self.year_digits == 2:  # century unknown: accept 29/02 as possibly leap
            return 1 <= self.day <= (29 if self.month == 2 else calendar.monthrange(2000, self.month)[1])
        return 1 <= self.day <= calendar.monthrange(self.year, self.month)[1]

    def canonical(self) -> str:
        year = f"{self.year:02d}" if self.year_digits == 2 else f"{self.year:04d}"
        if self.day is not None and self.month is not None:
            return f"{self.day:02d}/{self.month:02d}/{year}"
        if self.month is not None:
            return f"{self.month:02d}/{year}"
        return year

    def span(self) -> tuple[date, date] | None:
        """Earliest and latest real day this (possibly partial) date can mean; None if unknown."""
        if self.year_digits != 4 or not self.is_calendar_date or not 1 <= self.year <= 9999:
            return None
        if self.month is None:
            return date(self.year, 1, 1), date(self.year, 12, 31)
        if self.day is None:
            last = calendar.monthrange(self.year, self.month)[1]
            return date(self.year, self.month, 1), date(self.year, self.month, last)
        exact = date(self.year, self.month, self.day)
        return exact, exact


def parse_date(text: str | None) -> ParsedDate | None:
    """Parse a ledger date as written; None when the text has no recognisable date shape.

    Day must be 1..31 and month 1..12 to count as a date shape; a real-calendar check
    (31/02) is left to ``ParsedDate.is_calendar_date`` so that the validator can say why.
    """
    value = clean_text(text)
    if not value:
        return None
    parsed: ParsedDate | None = None
    if match := _FULL.match(value):
        y = match["y"]
        parsed = ParsedDate(int(match["d"]), int(match["m"]), int(y), len(y))
    elif match := _MONTH_YEAR.match(value):
        parsed = ParsedDate(None, int(match["m"]), int(match["y"]))
    elif match := _YEAR.match(value):
        parsed = ParsedDate(None, None, int(match["y"]))
    elif match := _WORDS.match(value):
        day = int(match["d"]) if match["d"] else None
        month = int(match["m"]) if match["m"] else None
        if day is not None and month is None:
            return None
        parsed = ParsedDate(day, month, int(match["y"]))
    if parsed is None:
        return None
    if parsed.month is not None and not 1 <= parsed.month <= 12:
        return None
    if parsed.day is not None and not 1 <= parsed.day <= 31:
        return None
    return parsed


def normalize_date(text: str | None) -> str:
    """Canonical ``dd/mm/yyyy`` (or partial ``mm/yyyy`` / ``yyyy``); unparseable text unchanged."""
    value = clean_text(text)
    parsed = parse_date(value)
    return parsed.canonical() if parsed else value
