"""Font discovery: handwriting-style fonts with full Vietnamese coverage, printed fonts.

Handwriting fonts ("hands") come from two places: the PyPI `fontpkg-*` packages and the Google
Fonts families vendored in samples/assets/fonts/ (merged from npm `@fontsource/*` subsets by
samples/fonts_vendor.py, OFL licences beside them). They form fixed groups:

| group | hands | use |
|---|---|---|
| `packaged` (default) | the 5 fontpkg fonts | the classic generator; the committed books |
| `tuning` | packaged + 9 vendored (TUNING_HANDS) | tuning, calibrator fitting, training on synthetic lines |
| `held_out` | 8 vendored (HELD_OUT_HANDS) | judging only: never tune, fit or train on them |
| `all` | tuning + held_out | |

The split is fixed by name, not drawn, so that it never moves between runs; each style (print and
marker hands, casual connected script, school cursive with looped capitals) has hands on both
sides, so a held-out score measures unseen hands, not an unseen style.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

import numpy as np
from PIL import ImageFont

# Packages (PyPI fontpkg-*) that ENGINEERING.md lists as having Vietnamese glyphs; each is
# still checked glyph by glyph because a font silently missing "ữ" would corrupt the truth.
HANDWRITING_PACKAGES = (
    "fontpkg_dancing_script",
    "fontpkg_great_vibes",
    "fontpkg_pacifico",
    "fontpkg_indie_flower",
    "fontpkg_lobster",
)
VENDORED_DIR = Path(__file__).parent / "assets" / "fonts"  # <fontsource id>.ttf + <id>.OFL.txt
# A hand is a fontpkg package name or a vendored family id. The order is part of the contract:
# writers draw rng.choice(fonts), so reordering a group changes every page rendered with it.
TUNING_HANDS = HANDWRITING_PACKAGES + (
    "patrick-hand", "playpen-sans", "mali", "sriracha",  # print and marker hands
    "oooh-baby", "bad-script", "charm",  # casual connected script
    "twinkle-star", "borel",  # school cursive, looped capitals
)
HELD_OUT_HANDS = (
    "shantell-sans", "pangolin", "mynerve", "sedgwick-ave",  # print and marker hands
    "birthstone", "grape-nuts", "moon-dance",  # casual connected script
    "send-flowers",  # school cursive, looped capitals
)
HAND_GROUPS: dict[str, tuple[str, ...]] = {
    "packaged": HANDWRITING_PACKAGES,
    "tuning": TUNING_HANDS,
    "held_out": HELD_OUT_HANDS,
    "all": TUNING_HANDS + HELD_OUT_HANDS,
}
PRINTED_CANDIDATES = (
    ("fontpkg_be_vietnam_pro", "BeVietnamPro-Medium.ttf"),
    (None, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)
PRINTED_BOLD_CANDIDATES = (
    ("fontpkg_be_vietnam_pro", "BeVietnamPro-Bold.ttf"),
    (None, "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)

VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
REQUIRED_CHARS = VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + "0123456789/.-,'()"


def _package_fonts(package: str) -> list[Path]:
    try:
        module = importlib.import_module(package)
    except ImportError:
        return []
    if module.__file__ is None:
        return []
    return sorted((Path(module.__file__).parent / "files").glob("*.ttf"))


def _glyph_bitmap(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    mask = font.getmask(ch)
    return bytes(np.asarray(mask, dtype=np.uint8).tobytes()) + bytes(str(mask.size), "ascii")


def missing_chars(path: Path, chars: str = REQUIRED_CHARS) -> str:
    """Characters the font draws as its .notdef box (PIL has no cmap query, so compare bitmaps)."""
    font = ImageFont.truetype(str(path), 40)
    notdef = {_glyph_bitmap(font, "\ue000"), _glyph_bitmap(font, "\uffff")}
    return "".join(ch for ch in chars if _glyph_bitmap(font, ch) in notdef)


@cache
def _covers_vietnamese(path: Path) -> bool:
    """Cached: groups overlap, and each check renders ~300 glyphs."""
    return not missing_chars(path)


def _hand_files(hand: str) -> list[Path]:
    """The font files of one hand: a fontpkg package's TTFs, or a vendored family's file."""
    if hand.startswith("fontpkg_"):
        return _package_fonts(hand)
    path = VENDORED_DIR / f"{hand}.ttf"
    if not path.exists():  # committed with the code: a missing file is a broken checkout
        raise FileNotFoundError(f"vendored handwriting font {path} is missing (see samples/fonts_vendor.py)")
    return [path]


@cache
def handwriting_fonts(group: str = "packaged") -> tuple[Path, ...]:
    """The handwriting fonts of a hand group (see the module docstring) that cover every
    Vietnamese letter, in the group's fixed order. The default is the classic generator's."""
    if group not in HAND_GROUPS:
        raise ValueError(f"unknown hand group {group!r}; known: {', '.join(HAND_GROUPS)}")
    found = [p for hand in HAND_GROUPS[group] for p in _hand_files(hand)]
    usable = tuple(p for p in found if _covers_vietnamese(p))
    if not usable:
        raise RuntimeError(f"No {group} handwriting font with Vietnamese coverage; install the fontpkg-* packages")
    return usable


def _first_existing(candidates: tuple[tuple[str | None, str], ...]) -> Path:
    for package, name in candidates:
        if package is None:
            path = Path(name)
        else:
            path = next((p for p in _package_fonts(package) if p.name == name), Path("/nonexistent"))
        if path.exists():
            return path
    raise RuntimeError("No printed font found (Be Vietnam Pro or DejaVu)")


@cache
def printed_font_path(bold: bool = False) -> Path:
    return _first_existing(PRINTED_BOLD_CANDIDATES if bold else PRINTED_CANDIDATES)


@cache
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@cache
def x_height_ratio(path: Path) -> float:
    """Height of lowercase 'x' per unit of font size, to give all writers similar letter sizes."""
    font = load_font(path, 100)
    _, top, _, bottom = font.getbbox("x")
    return max(bottom - top, 1) / 100.0
