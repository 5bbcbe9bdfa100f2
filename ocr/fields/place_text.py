"""Reading a place as written: name keys and the pieces that may name administrative units.

Books write places loosely ("Trạm y tế xã Tân Lập - h. Đồng Phú - Sông Bé"); this module turns
such text into typed pieces (ward / district / province level, from the written prefix) and into
matching keys that ignore case, spacing, punctuation and old/new tone-mark placement.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ocr.fields.syllables import TONE_MARKS
from ocr.fields.text import clean_text, strip_diacritics

UNIT_PREFIXES = ("Xã", "Phường", "Thị trấn", "Huyện", "Quận", "Thị xã", "Thành phố", "Tỉnh", "Đặc khu")

_LEVEL_OF_PREFIX = {
    "xã": {"ward"}, "phường": {"ward"}, "thị trấn": {"ward"}, "đặc khu": {"ward"},
    "huyện": {"district"}, "quận": {"district"}, "thị xã": {"district"},
    "thành phố": {"district", "province"}, "tỉnh": {"province"},
}
_ABBREVIATIONS = [
    (re.compile(r"(?<!\w)tp\.?\s*(?=\w)"), "thành phố "),
    (re.compile(r"(?<!\w)tx\.?\s*(?=\w)"), "thị xã "),
    (re.compile(r"(?<!\w)tt\.?\s*(?=\w)"), "thị trấn "),
    (re.compile(r"(?<!\w)x\.\s*(?=\w)"), "xã "),
    (re.compile(r"(?<!\w)p\.\s*(?=\w)"), "phường "),
    (re.compile(r"(?<!\w)h\.\s*(?=\w)"), "huyện "),
    (re.compile(r"(?<!\w)q\.\s*(?=\w)"), "quận "),
    (re.compile(r"(?<!\w)t\.\s*(?=\w)"), "tỉnh "),
]
_PREFIX_ALT = "thị trấn|thị xã|thành phố|đặc khu|phường|xã|huyện|quận|tỉnh"
_TYPED_PIECE = re.compile(
    rf"(?<!\w)(?P<type>{_PREFIX_ALT})\s+(?P<name>.+?)(?=\s*(?:[,;()]|$)|[\s-]+(?:{_PREFIX_ALT})\s)"
)
_SEPARATORS = re.compile(r"\s*[,;()]\s*")
_DASH = re.compile(r"\s+-\s+")


def _letter_tables() -> tuple[dict[int, str], dict[str, str], dict[int, str]]:
    """Translation tables for Latin letters with diacritics: tone removed, tone alone, ASCII."""
    no_tone: dict[int, str] = {}
    tone_of: dict[str, str] = {}
    ascii_of: dict[int, str] = {}
    for code in range(0xC0, 0x1F00):
        ch = chr(code)
        if not ch.isalpha() or ch != ch.lower():
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in decomposed if c in TONE_MARKS)
        if tone:
            no_tone[code] = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
            tone_of[ch] = tone
        bare = strip_diacritics(ch)
        if bare != ch:
            ascii_of[code] = bare
    return no_tone, tone_of, ascii_of


_NO_TONE, _TONE_OF, _ASCII_OF = _letter_tables()
_NON_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=65536)
def name_keys(text: str) -> tuple[str, str]:
    """(place_key, accentless key) of a name, computed in one pass."""
    words = _NON_WORD.sub(" ", unicodedata.normalize("NFC", text).lower()).split()
    accented = "".join(w.translate(_NO_TONE) + "".join(filter(None, map(_TONE_OF.get, w))) for w in words)
    return accented, "".join(words).translate(_ASCII_OF)


def place_key(text: str) -> str:
    """Case/space/punctuation-insensitive key keeping diacritics, with the tone mark moved to the
    end of each syllable so "Hoà" and "Hòa" (old/new tone placement) give the same key."""
    return name_keys(text)[0]


def accentless_key(text: str) -> str:
    """Key without any diacritics: "Xã Tân Lập" -> "xatanlap"."""
    return name_keys(text)[1]


@dataclass(frozen=True)
class PlacePiece:
    """A part of a place text that may name one unit."""

    levels: frozenset[str]  # which of "ward", "district", "province" it may name
    name: str
    typed: str  # prefix + name, or name alone when no prefix was written


ANY_LEVEL = frozenset({"ward", "district", "province"})


def split_place(text: str) -> list[PlacePiece]:
    """Pieces of a place text that may name units: "Trạm y tế xã Tân Lập, h. Đồng Phú" ->
    (ward) "tân lập", (district) "đồng phú". Parts without a prefix may be any level."""
    value = clean_text(text).lower()
    for pattern, replacement in _ABBREVIATIONS:
        value = pattern.sub(replacement, value)
    pieces = []
    for match in _TYPED_PIECE.finditer(value):
        name = match["name"].strip(" -")
        pieces.append(PlacePiece(frozenset(_LEVEL_OF_PREFIX[match["type"]]), name, f"{match['type']} {name}"))
    for part in _SEPARATORS.split(value):
        if part and not re.search(rf"(?<!\w)(?:{_PREFIX_ALT})\s", part):
            pieces.append(PlacePiece(ANY_LEVEL, part, part))
    return pieces


def dash_parts(piece: PlacePiece) -> list[PlacePiece]:
    """"xã Tân Lập - Đồng Phú": dashes read as separators; the first part keeps the written prefix."""
    parts = [p for p in _DASH.split(piece.name) if p]
    if len(parts) < 2:
        return [piece]
    prefix = piece.typed[: len(piece.typed) - len(piece.name)]  # "xã " for a typed piece, else ""
    first = PlacePiece(piece.levels, parts[0], prefix + parts[0])
    return [first] + [PlacePiece(ANY_LEVEL, p, p) for p in parts[1:]]
