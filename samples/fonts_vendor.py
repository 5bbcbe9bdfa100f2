"""Developer tool: rebuild the vendored handwriting fonts in samples/assets/fonts/ from npm tarballs.

Google Fonts reach npm as `@fontsource/<id>` packages, each family split into per-script
subsets (`files/<id>-latin-400-normal.woff`, `-latin-ext-`, `-vietnamese-`). The generator
needs one file per hand that draws every Vietnamese letter, so this merges the three subsets
of the regular weight into one TrueType file with fontTools and copies the family's OFL
licence beside it:

    cd /tmp && for id in patrick-hand itim ...; do npm pack @fontsource/$id; done
    pip install fonttools            # a developer dependency only: Pillow reads the TTFs
    python -m samples.fonts_vendor /tmp             # every family in VENDORED
    python -m samples.fonts_vendor /tmp itim        # or some of them (also to try a new one)

Neither the tests nor the app run this; samples/fonts.py checks each vendored file glyph by
glyph at run time, whatever produced it. Output is deterministic (the source fonts' own
timestamps are kept), so rebuilding from the same package versions gives the same bytes.
"""

from __future__ import annotations

import argparse
import io
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fontTools is a developer dependency, imported where it is used
    from fontTools.ttLib import TTFont

ASSETS = Path(__file__).parent / "assets" / "fonts"
SUBSETS = ("latin", "latin-ext", "vietnamese")  # base letters, Đ/Ĩ/Ũ/Ơ/Ư, the letters with marks
WEIGHT = "400-normal"

# Fontsource ids vendored in samples/assets/fonts/ (fontsource-<id>-5.x tarballs, Dec 2025).
# Which of them tune and which are held out is decided in samples/fonts.py, not here.
VENDORED = (
    "patrick-hand", "playpen-sans", "sriracha", "oooh-baby", "birthstone", "twinkle-star", "bad-script",
    "shantell-sans", "mali", "pangolin", "sedgwick-ave", "grape-nuts", "mynerve", "send-flowers",
    "moon-dance", "charm", "borel",
)
# Tried and rejected after rendering Vietnamese test lines (all had every glyph): itim (reads as a
# typeface), ephesis and whisper (swash capitals: U and Ư look alike; ephesis runs words together),
# licorice (brush capitals: T, H read as G), water-brush (rough brush; N reads as X), square-peg
# (tone marks float far above the breve or circumflex of capitals). playwrite-vn ships no
# vietnamese subset on npm.


def tarball(folder: Path, family_id: str) -> Path:
    """The newest `npm pack` tarball of the family in `folder`."""
    found = sorted(folder.glob(f"fontsource-{family_id}-[0-9]*.tgz"))
    if not found:
        raise FileNotFoundError(f"no fontsource-{family_id}-*.tgz in {folder}; run: npm pack @fontsource/{family_id}")
    return found[-1]


def _member(archive: tarfile.TarFile, name: str) -> bytes | None:
    try:
        extracted = archive.extractfile(f"package/{name}")
    except KeyError:
        return None
    return None if extracted is None else extracted.read()


def _ttf_bytes(woff: bytes) -> io.BytesIO:
    """A WOFF subset as plain TrueType (fontTools' merger reads sfnt files, not WOFF)."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(woff), recalcTimestamp=False)
    font.flavor = None
    out = io.BytesIO()
    font.save(out)
    out.seek(0)
    return out


def merged_font(path: Path, family_id: str) -> tuple[TTFont, bytes]:
    """Latin, latin-ext and Vietnamese subsets of one family as one font; the licence text."""
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    with tarfile.open(path) as archive:
        woffs = [_member(archive, f"files/{family_id}-{subset}-{WEIGHT}.woff") for subset in SUBSETS]
        licence = _member(archive, "LICENSE")
    if woffs[-1] is None or licence is None:
        raise ValueError(f"{path.name}: no vietnamese {WEIGHT} subset or no LICENSE")
    parts = [_ttf_bytes(w) for w in woffs if w is not None]
    # Subsets share .notdef, space and marks; the merger keeps the first font's cmap entry for
    # a code point drawn by several parts, and the subsets draw those identically.
    font = Merger().merge(parts)
    _keep_source_dates(font, TTFont(parts[0]))
    return font, licence


def _keep_source_dates(font: TTFont, source: TTFont) -> None:
    """The merger stamps head.created/modified with the current time; keep the source font's
    dates instead so that the same tarballs always give the same bytes."""
    font["head"].created = source["head"].created
    font["head"].modified = source["head"].modified
    font.recalcTimestamp = False


def vendor(folder: Path, family_ids: tuple[str, ...], out: Path = ASSETS) -> list[Path]:
    """Write <id>.ttf and <id>.OFL.txt for each family; return the font files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for family_id in family_ids:
        font, licence = merged_font(tarball(folder, family_id), family_id)
        target = out / f"{family_id}.ttf"
        font.save(str(target))
        (out / f"{family_id}.OFL.txt").write_bytes(licence)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarballs", type=Path, help="folder holding the `npm pack @fontsource/<id>` tarballs")
    parser.add_argument("ids", nargs="*", help=f"fontsource ids (default: {len(VENDORED)} vendored families)")
    parser.add_argument("--out", type=Path, default=ASSETS)
    args = parser.parse_args(argv)
    from samples.fonts import missing_chars  # the same glyph-by-glyph check the generator applies

    for path in vendor(args.tarballs, tuple(args.ids) or VENDORED, args.out):
        missing = missing_chars(path)
        print(f"{path.name}\t{path.stat().st_size // 1024} kB\t" + (f"MISSING {missing!r}" if missing else "ok"))


if __name__ == "__main__":
    main()
