"""Shapes a numeric field can take, usable inside a CTC beam (prefix test) and on a whole text.

A date column holds ``d/m/yyyy`` (or ``m/yyyy``, ``yyyy``); a registration-number column holds
digits, maybe with a year suffix (``12/2003``). A greedy reading such as ``1//04/980`` cannot be
what is written there, so the beam only extends prefixes that can still become a valid shape
and the decoder prefers a complete one. Spelled-out or lettered values ("năm 1980", "12a") are
left to the soft character priors: the grammar applies only when the greedy text is numeric.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ocr.fields.dates import parse_date

# Years a civil-registry ledger can mention (births of the elderly registered in the 1950s ...
# registrations in the 2030s).
MIN_YEAR, MAX_YEAR = 1850, 2039
DATE_SEPARATORS = "/.-"
_SEPARATOR_SPLIT = re.compile(r"[/.\-]")
MAX_REGISTRATION_DIGITS = 5


@dataclass(frozen=True)
class FieldGrammar:
    """Prefix and whole-text tests of one field shape."""

    name: str
    prefix_ok: Callable[[str], bool]  # can this prefix still become a valid value?
    complete_ok: Callable[[str], bool]  # is this a valid value?

    max_letters: int = 1  # a greedy reading with more letters is taken as words, not this shape

    def applies_to(self, greedy_text: str) -> bool:
        """Use the grammar unless the writer evidently wrote words ("năm 1980")."""
        return sum(ch.isalpha() for ch in greedy_text) <= self.max_letters


def _year_prefix_ok(digits: str) -> bool:
    if not digits.isdigit() or len(digits) > 4:
        return False
    low, high = int(digits.ljust(4, "0")), int(digits.ljust(4, "9"))
    return high >= MIN_YEAR and low <= MAX_YEAR


def _number_ok(digits: str, high: int) -> bool:
    return digits.isdigit() and len(digits) <= 2 and 1 <= int(digits) <= high


def _small_number_prefix_ok(digits: str, high: int) -> bool:
    """A day/month still being written: "0", "1", "12" (not "00", not "45" for a month)."""
    if not digits.isdigit() or len(digits) > 2:
        return False
    return len(digits) == 1 or 1 <= int(digits) <= high


@lru_cache(maxsize=65536)
def date_prefix_ok(text: str) -> bool:
    """True when ``text`` (spaces ignored) can be extended into d/m/yyyy, m/yyyy or yyyy."""
    compact = text.replace(" ", "")
    if not compact:
        return True
    if any(ch not in DATE_SEPARATORS and not ch.isdigit() for ch in compact):
        return False
    parts = _SEPARATOR_SPLIT.split(compact)
    done, current = parts[:-1], parts[-1]
    if len(parts) > 3 or any(not p for p in done):
        return False
    if len(done) == 0:
        return current == "" or _small_number_prefix_ok(current, 31) or _year_prefix_ok(current)
    if len(done) == 1:
        # "d/" then month or "m/" then year
        if not _number_ok(done[0], 31):
            return False
        month_next = _small_number_prefix_ok(current, 12)
        year_next = _number_ok(done[0], 12) and _year_prefix_ok(current)
        return current == "" or month_next or year_next
    return _number_ok(done[0], 31) and _number_ok(done[1], 12) and (current == "" or _year_prefix_ok(current))


@lru_cache(maxsize=65536)
def date_complete_ok(text: str) -> bool:
    """A real calendar date (or month/year, year) with a four-digit plausible year."""
    compact = text.replace(" ", "")
    parsed = parse_date(compact)
    if parsed is None or parsed.year_digits != 4 or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return False
    return date_prefix_ok(compact) and parsed.is_calendar_date


_REGISTRATION_PREFIX = re.compile(rf"(?:\d{{1,{MAX_REGISTRATION_DIGITS}}}[a-zA-Z]?)?")


@lru_cache(maxsize=65536)
def registration_prefix_ok(text: str) -> bool:
    """Digits (maybe one letter: "12a"), then optionally "/" and a year suffix being written."""
    number, slash, suffix = text.partition("/")
    if not _REGISTRATION_PREFIX.fullmatch(number) or number.startswith("00") or (slash and not number):
        return False
    return not slash or (suffix.isdigit() or suffix == "") and len(suffix) <= 4


def registration_complete_ok(text: str) -> bool:
    number, slash, suffix = text.partition("/")
    digits = number[:-1] if number[-1:].isalpha() else number
    if not registration_prefix_ok(text) or not digits or int(digits) == 0:
        return False
    return not slash or len(suffix) in (2, 4)


DATE_GRAMMAR = FieldGrammar("date", date_prefix_ok, date_complete_ok)
# A registration-number column holds a number: letters in its greedy reading are misread digits.
REGISTRATION_GRAMMAR = FieldGrammar(
    "registration_no", registration_prefix_ok, registration_complete_ok, max_letters=99
)
_GRAMMARS = {"date": DATE_GRAMMAR, "registration_no": REGISTRATION_GRAMMAR}


def field_grammar(field_type: str) -> FieldGrammar | None:
    return _GRAMMARS.get(field_type)
