"""Font discovery: handwriting-style fonts with full Vietnamese coverage, printed fonts."""

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
def handwriting_fonts() -> tuple[Path, ...]:
    """Installed handwriting fonts that cover every Vietnamese letter."""
    found = [p for pkg in HANDWRITING_PACKAGES for p in _package_fonts(pkg)]
    usable = tuple(p for p in found if not missing_chars(p))
    if not usable:
        raise RuntimeError("No handwriting font with Vietnamese coverage; install the fontpkg-* packages")
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
