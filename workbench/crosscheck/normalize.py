"""Accent-, case- and spacing-blind keys for names, and packed partial dates, built for speed.

A province extract has over a million rows, so the name key uses one str.translate pass with a
table precomputed from ocr.fields.text.strip_diacritics instead of per-call Unicode decomposition.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from ocr.fields.dates import parse_date
from ocr.fields.text import INVISIBLE_CHARS, strip_diacritics


def _fold_table() -> dict[int, str | None]:
    # Every Latin letter with diacritics (Latin-1 .. Latin Extended Additional) -> its bare letter.
    table: dict[int, str | None] = {}
    for code in range(0xC0, 0x1F00):
        ch = chr(code)
        bare = strip_diacritics(ch)
        if bare != ch and bare.isascii():
            table[code] = bare
    for ch in " \t\n\r-.,'’_/" + INVISIBLE_CHARS:  # separators vanish: "Nguyễn  Văn-An" == "nguyen van an"
        table[ord(ch)] = None
    return table


_FOLD = _fold_table()


def name_key(text: str) -> str:
    """'  Nguyễn  văn AN ' -> 'nguyenvanan' (NFC first: decomposed input folds the same)."""
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text.translate(_FOLD).lower()


class NameFolder:
    """name_key with memo tables: a province repeats the same names and syllables endlessly."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._words: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        key = self._names.get(text)
        if key is None:
            key = "".join([self._word(w) for w in text.split()])
            self._names[text] = key
        return key

    def _word(self, word: str) -> str:
        key = self._words.get(word)
        if key is None:
            key = self._words[word] = name_key(word)
        return key


# Packed partial date: yyyymmdd with 00 for an unknown month/day; 0 = no date at all.
NO_DATE = 0
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def pack_date(year: int, month: int | None = None, day: int | None = None) -> int:
    return year * 10000 + (month or 0) * 100 + ((day or 0) if month else 0)


def parse_packed(text: str) -> int | None:
    """'05/03/1998' -> 19980305, '03/1998' -> 19980300, '1998' -> 19980000, '1998-03-05' too.

    '' -> NO_DATE; None when the text is not a date. Two-digit years are refused (extracts hold
    four-digit years; book values go through book_date below).
    """
    text = text.strip()
    if not text:
        return NO_DATE
    if match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        parsed = parse_date(text)
        if parsed is None or parsed.year_digits != 4 or not parsed.is_calendar_date:
            return None
        year, month, day = parsed.year, parsed.month or 0, parsed.day or 0
    if month and not 1 <= month <= 12:
        return None
    if day:
        try:
            date(year, month, day)
        except ValueError:
            return None
    return pack_date(year, month, day)


def packed_year(packed: int) -> int:
    return packed // 10000


def format_packed(packed: int) -> str:
    if packed == NO_DATE:
        return ""
    year, month, day = packed // 10000, packed // 100 % 100, packed % 100
    if day:
        return f"{day:02d}/{month:02d}/{year:04d}"
    return f"{month:02d}/{year:04d}" if month else f"{year:04d}"


def dates_compatible(a: int, b: int) -> bool:
    """Same year, and month/day equal wherever both sides know them (partial dates tolerated)."""
    if a // 10000 != b // 10000:
        return False
    month_a, month_b = a // 100 % 100, b // 100 % 100
    if month_a and month_b and month_a != month_b:
        return False
    day_a, day_b = a % 100, b % 100
    return not (day_a and day_b and day_a != day_b)


def book_dates(text: str) -> list[int]:
    """Packed candidates for a date as the book wrote it: two-digit years may be 19yy or 20yy."""
    parsed = parse_date(text)
    if parsed is None:
        return []
    month, day = parsed.month or 0, parsed.day or 0
    if parsed.year_digits == 2:
        return [pack_date(century + parsed.year, month, day) for century in (1900, 2000)]
    return [pack_date(parsed.year, month, day)]
