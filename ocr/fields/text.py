"""Text hygiene shared by every field type: Unicode NFC and single spaces."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """NFC, whitespace runs collapsed to one space, stripped; None -> ""."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    text = _WHITESPACE.sub(" ", text).strip()
    # A cell keyed as the literal string "None" is an empty cell that went through str(None).
    return "" if text == "None" else text


def fold_key(text: str) -> str:
    """Case-, space- and punctuation-insensitive key (diacritics kept): "Ê-đê" -> "êđê"."""
    text = clean_text(text).lower()
    return "".join(ch for ch in text if ch.isalnum())


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics ("Nguyễn" -> "Nguyen", "Đ" -> "D") for accent-blind matching."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D")


def fold_key_accentless(text: str) -> str:
    """fold_key without diacritics: "Ê-đê" -> "ede"."""
    return strip_diacritics(fold_key(text))
