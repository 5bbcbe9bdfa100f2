"""Deterministic, documented export file names.

Scheme (ASCII only, fields joined by "_"):

    book:            <TYPE>_<UNIT>_<YEAR>_Q<VOLUME>                 e.g. KS_XA-DAI-LANH_2003_Q1
    registration:    <book>_P<PAGE:03>_S<REGNO>[_CHUADUYET].pdf     e.g. KS_XA-DAI-LANH_2003_Q1_P004_S37.pdf

TYPE is the book-type code (KS khai sinh, KH kết hôn, KT khai tử, CN nuôi con nuôi; other types:
the initials of their template key). UNIT is Unit.code, else the unit name without diacritics,
upper-case, words joined by "-". REGNO is the registration number as written ("12/2003" -> 12-2003),
or R<row> when the book has none. A name already used in the same export gets _2, _3, ...
before the extension. CHUADUYET ("not approved") marks records exported with --include-unapproved.
"""

from __future__ import annotations

import re

from ocr.fields.text import clean_text, strip_diacritics

BOOK_TYPE_CODES = {"khai_sinh": "KS", "ket_hon": "KH", "khai_tu": "KT", "nuoi_con_nuoi": "CN"}
UNAPPROVED_SUFFIX = "CHUADUYET"
_NOT_SAFE = re.compile(r"[^A-Za-z0-9]+")


def ascii_slug(text: str, max_length: int = 40) -> str:
    """'Xã Đại Lãnh' -> 'XA-DAI-LANH'; '12/2003' -> '12-2003'."""
    bare = strip_diacritics(clean_text(text)).upper()
    return _NOT_SAFE.sub("-", bare).strip("-")[:max_length].strip("-")


def book_type_code(book_type: str) -> str:
    return BOOK_TYPE_CODES.get(book_type) or "".join(part[:1] for part in book_type.split("_")).upper()


def unit_slug(unit_name: str, unit_code: str | None) -> str:
    return ascii_slug(unit_code or "") or ascii_slug(unit_name) or "UNIT"


def book_base_name(book_type: str, unit_name: str, unit_code: str | None, year: int, volume: int) -> str:
    return f"{book_type_code(book_type)}_{unit_slug(unit_name, unit_code)}_{year}_Q{volume}"


def registration_stem(book_base: str, page_index: int, registration_no: str, row_index: int,
                      approved: bool = True) -> str:
    regno = ascii_slug(registration_no, max_length=20) or f"R{row_index}"
    stem = f"{book_base}_P{page_index:03d}_S{regno}"
    return stem if approved else f"{stem}_{UNAPPROVED_SUFFIX}"


class UniqueNamer:
    """Hands out file names, adding _2, _3, ... to a stem already used (case-insensitively)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def name(self, stem: str, extension: str) -> str:
        candidate, n = stem, 1
        while f"{candidate}{extension}".lower() in self._used:
            n += 1
            candidate = f"{stem}_{n}"
        filename = f"{candidate}{extension}"
        self._used.add(filename.lower())
        return filename
