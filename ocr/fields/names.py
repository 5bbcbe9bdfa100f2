"""Shipped lists of Vietnamese surnames, middle names and given names (for lexicons and the UI)."""

from __future__ import annotations

from functools import cache

from ocr.fields.assets import read_rows, read_words
from ocr.fields.text import clean_text

RARE_SHARE = 0.05  # percent assumed for a listed name without a share


def _shares(file_name: str) -> dict[str, float]:
    rows = read_rows(file_name)
    return {clean_text(r[0]): float(r[1]) if len(r) > 1 and r[1].strip() else RARE_SHARE for r in rows}


@cache
def surname_shares() -> dict[str, float]:
    """Surname -> approximate population share in percent (RARE_SHARE for the rare ones)."""
    return _shares("surnames.txt")


@cache
def middle_name_shares() -> dict[str, float]:
    """Middle name -> rough share of people bearing it, in percent (RARE_SHARE if not known)."""
    return _shares("middle_names.txt")


@cache
def surnames() -> tuple[str, ...]:
    return tuple(surname_shares())


@cache
def middle_names() -> tuple[str, ...]:
    return tuple(middle_name_shares())


@cache
def given_names(sex: str | None = None) -> tuple[str, ...]:
    """Given names for "Nam", "Nữ", or both (None)."""
    files = {"Nam": ["given_names_male.txt"], "Nữ": ["given_names_female.txt"]}.get(
        sex or "", ["given_names_male.txt", "given_names_female.txt"]
    )
    return tuple(dict.fromkeys(clean_text(w) for f in files for w in read_words(f)))


def capitalised_words(name: str) -> str:
    """``name`` with the first letter of every word a capital ("Trần Thu loan" -> "Trần Thu Loan")."""
    return " ".join(word[:1].upper() + word[1:] for word in name.split(" "))
