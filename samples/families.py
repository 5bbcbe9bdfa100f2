"""Named generator families: how pages vary along three axes (layout, hand, degradation).

Each family is a function (rng) -> PageOptions plus a flag: *tuning* families may be looked
at while tuning the pipeline and fitting the calibrator; *held-out* families must not be (they
judge whether a fix is general). Each family varies one axis from the classic page (the
generator as it was: classic layout, font hands, clean print); `classic` stands for the
baseline values of all three axes (`fonts`, `clean`).

| family | axis | held out | what varies |
|---|---|---|---|
| classic | all | no | today's generator: fixed header band, columns as the hints, 8-12 rows |
| short_header | layout | no | header band 0.4-1.0x the row height, 3-7 tall rows |
| jittered_columns | layout | no | each column +-35% of its hint, 8-12 rows |
| numbered_header | layout | YES | labels + a "(1) (2) ..." row, header 1.5-2.5x a row, +-25% widths, 6-12 rows |
| wrapped_narrow | layout | YES | closed-list columns narrow, values on 2-3 lines, +-30% widths, 4-8 rows |
| faded_rulings | degradation | no | rulings 1-4 px, coloured, faded, worn or missing; varied inks |
| stamped | degradation | YES | 1-3 red round stamps over the rows, 1-2 handwritten notes in the margins |
| real_hands | hand | YES (real) | real handwritten address lines (../shared/real_lines) in the place cells |
| unseen_hands | hand | YES | classic pages written only in the 8 held-out font hands (fonts.HELD_OUT_HANDS) |

`real_hands` reads ../shared/real_lines/address_lines at run time (benchmark only; never
copied, never fit on); it is unavailable, with a reason, where that folder is absent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from samples.fonts import handwriting_fonts
from samples.real_hands import DEFAULT_FOLDER, RealLineBank, load_bank
from samples.render import PageOptions
from samples.variation import NARROW_TYPES, LayoutOptions, RulingStyle

RULING_COLOURS = ((38, 36, 40), (150, 120, 90), (120, 150, 120), (110, 120, 170), (60, 60, 140), (130, 130, 130))
VARIED_INKS = ("blue", "blue_faded", "black", "violet", "violet_faded", "blue_black", "brown_faded")


@dataclass(frozen=True)
class Family:
    name: str
    axis: str  # layout | hand | degradation | all (the classic baseline)
    held_out: bool  # True: never tune or fit on it
    options: Callable[[random.Random], PageOptions]
    real: bool = False  # real handwriting: reported on its own line

    def unavailable(self) -> str | None:
        """Why the family cannot be rendered here (None: it can)."""
        if self.real and real_line_bank() is None:
            return f"no real handwritten lines at {DEFAULT_FOLDER} (labels.tsv absent)"
        return None


@cache
def real_line_bank() -> RealLineBank | None:
    return load_bank(DEFAULT_FOLDER)


def _page(rng: random.Random, rows: tuple[int, int], **axes: object) -> PageOptions:
    """Scan defects as the bench books have them (skew up to 4 deg, scanner bed mostly, JPEG);
    a quarter of the pages are the partly filled last page of a book."""
    count = rng.randint(*rows)
    filled = rng.randint(max(1, count // 2), count) if rng.random() < 0.25 else None
    return PageOptions(skew_max_deg=4.0, border=rng.random() < 0.8, rows=count, filled_rows=filled,
                       jpeg_quality=75, **axes)  # type: ignore[arg-type]


def classic(rng: random.Random) -> PageOptions:
    return _page(rng, (8, 12))


def short_header(rng: random.Random) -> PageOptions:
    return _page(rng, (3, 7), layout=LayoutOptions(header_ratio=rng.uniform(0.4, 1.0)))


def jittered_columns(rng: random.Random) -> PageOptions:
    return _page(rng, (8, 12), layout=LayoutOptions(column_jitter=0.35))


def numbered_header(rng: random.Random) -> PageOptions:
    layout = LayoutOptions(header_ratio=rng.uniform(1.5, 2.5), column_numbers=True, column_jitter=0.25)
    return _page(rng, (6, 12), layout=layout)


def wrapped_narrow(rng: random.Random) -> PageOptions:
    layout = LayoutOptions(column_jitter=0.30, narrow_types=NARROW_TYPES, wrap_share=0.6, max_lines=3)
    return _page(rng, (4, 8), layout=layout)


def faded_rulings(rng: random.Random) -> PageOptions:
    low = rng.uniform(0.25, 0.7)
    style = RulingStyle(thickness=rng.randint(1, 4), colour=rng.choice(RULING_COLOURS),
                        strength=(low, min(low + 0.25, 0.95)), broken=rng.uniform(0.0, 0.4),
                        missing=rng.uniform(0.0, 0.1))
    inks = tuple(rng.sample(VARIED_INKS, rng.randint(1, 3)))
    return _page(rng, (8, 12), ruling_style=style, inks=inks)


def stamped(rng: random.Random) -> PageOptions:
    return _page(rng, (8, 12), stamps=rng.randint(1, 3), margin_notes=rng.randint(1, 2))


def real_hands(rng: random.Random) -> PageOptions:
    """Few tall rows so that a wrapped real line stays readable in the place cells."""
    return _page(rng, (4, 7), layout=LayoutOptions(max_lines=3), real_lines=real_line_bank())


def unseen_hands(rng: random.Random) -> PageOptions:
    """The classic page in hands that no tuning, calibrator fit or training ever used."""
    return _page(rng, (8, 12), fonts=handwriting_fonts("held_out"))


FAMILIES: tuple[Family, ...] = (
    Family("classic", "all", False, classic),
    Family("short_header", "layout", False, short_header),
    Family("jittered_columns", "layout", False, jittered_columns),
    Family("numbered_header", "layout", True, numbered_header),
    Family("wrapped_narrow", "layout", True, wrapped_narrow),
    Family("faded_rulings", "degradation", False, faded_rulings),
    Family("stamped", "degradation", True, stamped),
    Family("real_hands", "hand", True, real_hands, real=True),
    Family("unseen_hands", "hand", True, unseen_hands),
)


def family(name: str) -> Family:
    for f in FAMILIES:
        if f.name == name:
            return f
    raise KeyError(f"unknown family {name!r}; known: {', '.join(f.name for f in FAMILIES)}")


def select(which: str) -> tuple[Family, ...]:
    """`all`, `tuned` (tuning families), `held_out`, or comma-separated family names."""
    if which == "all":
        return FAMILIES
    if which in ("tuned", "tuning"):
        return tuple(f for f in FAMILIES if not f.held_out)
    if which == "held_out":
        return tuple(f for f in FAMILIES if f.held_out)
    return tuple(family(name.strip()) for name in which.split(","))
