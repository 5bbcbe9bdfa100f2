"""One normalizer per field type, dispatched by ``normalize(field_type, text)``.

Every normalizer applies Unicode NFC, collapses whitespace and strips; an empty cell is ``""``.
Beyond that the text is kept "nguyên vẹn" (as written): only the date format, the spacing of
registration numbers and unambiguous sex values are canonicalised. Ethnicity and nationality
stay as written; their catalog value is offered separately by ``canonical_value``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ocr.fields.catalogs import canonical_ethnicity, canonical_nationality, canonical_sex
from ocr.fields.dates import normalize_date
from ocr.fields.text import clean_text
from ocr.types import FIELD_TYPES

_NUMBER_LIKE = re.compile(r"[\d\s/.\-]+")


def normalize_registration_no(text: str | None) -> str:
    """Registration number as written, spaces removed when it is only digits and separators.

    "12 / 2003" -> "12/2003", "0 12" -> "012" (leading zeros and year suffixes are kept: they
    are part of what the book says). Text with letters ("Số 12a") only gets NFC/space cleanup.
    """
    value = clean_text(text)
    if _NUMBER_LIKE.fullmatch(value):
        return re.sub(r"\s+", "", value)
    return value


def normalize_sex(text: str | None) -> str:
    """"Nam"/"Nữ" when the text unambiguously means one ("NAM", "nu", "Nũ"), else as written."""
    value = clean_text(text)
    return canonical_sex(value) or value


normalize_text: Callable[[str | None], str] = clean_text

_NORMALIZERS: dict[str, Callable[[str | None], str]] = {
    "registration_no": normalize_registration_no,
    "date": normalize_date,
    "person_name": normalize_text,
    "sex": normalize_sex,
    "ethnicity": normalize_text,
    "nationality": normalize_text,
    "place": normalize_text,
    "free_text": normalize_text,
}
assert set(_NORMALIZERS) == set(FIELD_TYPES), "every field type needs a normalizer"


def normalize(field_type: str, text: str | None) -> str:
    """Normalized value of ``text`` for a field of ``field_type`` (unknown types: text cleanup)."""
    return _NORMALIZERS.get(field_type, normalize_text)(text)


def canonical_value(field_type: str, text: str | None) -> str | None:
    """Catalog value the text means, to show beside it (ethnicity, nationality, sex); else None.

    Places have their own lookup (``Gazetteer.lookup_current``) because it needs the gazetteer.
    """
    lookup = {"ethnicity": canonical_ethnicity, "nationality": canonical_nationality, "sex": canonical_sex}
    finder = lookup.get(field_type)
    return finder(text) if finder else None
