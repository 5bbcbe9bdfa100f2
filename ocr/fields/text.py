"""Text hygiene shared by every field type: Unicode NFC, single spaces, no control characters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WHITESPACE = re.compile(r"\s+")
# Invisible format characters that copy-paste and some IMEs leave in text (soft hyphen, zero-width
# space/joiners, direction marks, word joiner, BOM): they make equal-looking names compare unequal.
INVISIBLE_CHARS = (
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\ufeff"
)
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


# C0 and C1 control characters and DEL, plus what XML and Excel cannot hold at all (lone
# surrogates, e.g. from undecodable file names, and the noncharacters U+FFFE/U+FFFF). Pasted or
# imported text carries them; one of them makes openpyxl and lxml refuse a whole export.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _control_replacement(match: re.Match[str]) -> str:
    # Line breaks, tabs and the other whitespace controls separated words: they become a space.
    return " " if match.group().isspace() else ""


def strip_controls(text: str) -> str:
    """Control characters removed (whitespace ones become a space); nothing else changes.

    Exporters use it on the way out, so values stored before the entry points cleaned them
    still export."""
    return _CONTROL.sub(_control_replacement, text) if _CONTROL.search(text) else text


def clean_text(text: str | None) -> str:
    """NFC, invisible format and control characters removed, whitespace runs (line breaks included:
    every field is one line) collapsed to one space, stripped; None -> ""."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFC", strip_controls(strip_invisible(str(text))))
    text = _WHITESPACE.sub(" ", text).strip()
    # A cell keyed as the literal string "None" is an empty cell that went through str(None).
    return "" if text == "None" else text


_NOT_ALNUM = re.compile(r"[\W_]+")


def fold_key(text: str) -> str:
    """Case-, space- and punctuation-insensitive key (diacritics kept): "Ê-đê" -> "êđê"."""
    return _NOT_ALNUM.sub("", clean_text(text).lower())


@lru_cache(maxsize=4096)
def _bare_letter(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D")


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics ("Nguyễn" -> "Nguyen", "Đ" -> "D") for accent-blind matching."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch if ch.isascii() else _bare_letter(ch) for ch in text)


def fold_key_accentless(text: str) -> str:
    """fold_key without diacritics: "Ê-đê" -> "ede"."""
    return strip_diacritics(fold_key(text))
