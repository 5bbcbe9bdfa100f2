"""Synthetic handwritten lines that look like scanned registry hands, for fine-tuning trials.

    .venv/bin/python -m bench.synthetic_hands --out /tmp/synth_hands --lines 6000 [--seed 1] [--strength 1.0]

Writes ``line_NNNNNN.jpg`` (grey JPEG, 80 px tall, like ``../shared/real_lines``) plus
``labels.tsv`` (``file<TAB>text``, the ``train --from-folder`` format) and ``fonts.tsv``
(``file<TAB>font file``, so a reader of the folder can check which hands drew it).

Text: the registry vocabulary, weighted toward one-line postal addresses (house number and
street or hamlet, then typed ward, district and province from the pre-2025 gazetteer, with
the abbreviations clerks use), plus the generator's own place, name, date and note fields.
Hands: only the ``tuning`` group of samples/fonts.py (never ``held_out``), written word by
word with samples/handwriting.py (per-word size/angle/baseline jitter, slant, elastic
wobble, pen width), then spoiled like a scan: pen pressure, fading ink, paper tone,
ruling remnants, bleed-through, rotation, blur, noise and JPEG. Nothing here is fitted on
the real lines; their folder is only the target the lines are judged on.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np

from samples.fonts import handwriting_fonts
from samples.handwriting import Writer, pen_texture, word_width, write_cell
from samples.people import (
    DATE_FORMATS,
    HAMLET_NAMES,
    HAMLET_WORDS,
    AdminUnit,
    PersonFactory,
    format_date,
    home_area,
    nfc,
    pick,
)
from workbench.training.augment import uneven_ink

HAND_GROUP = "tuning"  # the only hands this module may train on (samples/fonts.py)
LINE_HEIGHT = 80  # px, as the real scanned lines
REPO_ROOT = Path(__file__).resolve().parents[1]
# Centrally governed cities are written "TP X" or "Thành phố X" in the province position.
CITIES = ("Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ")
# What a line is: mostly full addresses (the shape of the real target lines), the rest the
# other values officials write in a ledger so the reader keeps its vocabulary.
LINE_KINDS: tuple[tuple[str, float], ...] = (
    ("address", 70), ("place", 12), ("name", 9), ("date", 4), ("note", 5),
)
PLACE_KINDS = ("birth_place", "residence", "death_place", "hometown")


# ---------------------------------------------------------------- text


def _typed(rng: random.Random, full: str, short: dict[str, tuple[str, ...]]) -> str:
    """A unit with its type word as written: full, lower-case, or a clerk's abbreviation."""
    for word, abbreviations in short.items():
        if full.startswith(word + " "):
            rest = full[len(word) + 1:]
            roll = rng.random()
            if roll < 0.2 and abbreviations:
                return f"{rng.choice(abbreviations)} {rest}"
            if roll < 0.3:
                return f"{word.lower()} {rest}"
            return full
    return full


WARD_SHORT = {"Phường": ("P.", "P"), "Xã": ("X.",), "Thị trấn": ("TT", "TT.")}
DISTRICT_SHORT = {"Quận": ("Q.", "Q"), "Huyện": ("H.",), "Thị xã": ("TX", "Tx", "TX."),
                  "Thành phố": ("TP", "Tp", "TP.")}


def _province(rng: random.Random, name: str) -> str:
    bare = name.removeprefix("Tỉnh ").removeprefix("Thành phố ")
    if bare in CITIES:
        return rng.choice((f"TP {bare}", f"TP {bare}", f"Thành phố {bare}", bare))
    return f"Tỉnh {bare}" if rng.random() < 0.1 else bare


def _street(rng: random.Random, factory: PersonFactory, unit: AdminUnit) -> str:
    """Streets are mostly named after people (surname + given name, or a full name) or places."""
    roll = rng.random()
    if roll < 0.5:
        surname, *_, given = factory.name(factory.sex()).split()
        return f"{surname} {given}"
    if roll < 0.75:
        return factory.name(factory.sex())
    return unit.district.split(" ", 1)[-1] if rng.random() < 0.5 else unit.ward.split(" ", 1)[-1]


def _house_number(rng: random.Random) -> str:
    number = str(rng.choice((rng.randint(1, 99), rng.randint(1, 999))))
    roll = rng.random()
    if roll < 0.15:
        number += rng.choice("ABCDE")
    elif roll < 0.25:
        number += f"/{rng.randint(1, 30)}"
    return number


def _head(rng: random.Random, factory: PersonFactory, unit: AdminUnit) -> str | None:
    """Before the ward: a house and street, a hamlet, or nothing."""
    roll = rng.random()
    if roll < 0.45:
        street = _street(rng, factory, unit)
        prefix = rng.choice(("Số ", "Số ", "", "", "số "))
        road = rng.choice(("", "", "đường ", "Đường "))
        return f"{prefix}{_house_number(rng)} {road}{street}"
    if roll < 0.85:
        hamlet = f"{rng.choice(HAMLET_WORDS + ('Tổ dân phố', 'Bản'))} {rng.choice(HAMLET_NAMES)}"
        return f"{hamlet}, {rng.choice(HAMLET_WORDS)} {rng.randint(1, 12)}" if rng.random() < 0.15 else hamlet
    return None


def address_line(rng: random.Random, factory: PersonFactory) -> str:
    unit = factory.commune(near=False)
    parts = [_head(rng, factory, unit), _typed(rng, unit.ward, WARD_SHORT),
             _typed(rng, unit.district, DISTRICT_SHORT), _province(rng, unit.province)]
    if rng.random() < 0.1:  # short forms: the district or the ward left out
        parts.pop(rng.choice((1, 2)))
    separator = " - " if rng.random() < 0.05 else ", "
    return nfc(separator.join(p for p in parts if p))


def registry_text(rng: random.Random, factory: PersonFactory) -> str:
    """One line of text of a drawn kind (see LINE_KINDS)."""
    kind = pick(rng, LINE_KINDS)
    if kind == "address":
        return address_line(rng, factory)
    if kind == "place":
        return factory.place(rng.choice(PLACE_KINDS))
    if kind == "name":
        return factory.name(factory.sex(), ethnicity=factory.ethnicity())
    when = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 75))
    if kind == "date":
        return format_date(when, pick(rng, DATE_FORMATS))
    return factory.free_text(rng.choice(("notes", "death_cause")), when)


# ---------------------------------------------------------------- image


@dataclass(frozen=True)
class Scan:
    """How one line was written and scanned; `strength` scales every spoiling effect."""

    paper: float
    ink: float
    pressure: float  # pen_texture strength (uneven ink flow)
    fade: float  # uneven_ink depth, 0 = none
    rotate: float  # degrees
    stretch: float  # horizontal scale (narrow or wide hands)
    blur: float
    noise: float
    jpeg: int
    ruling: bool
    bleed: float  # opacity of the page's other side showing through, 0 = none

    @classmethod
    def random(cls, rng: random.Random, strength: float = 1.0) -> Scan:
        s = strength
        return cls(
            paper=rng.uniform(190, 245), ink=rng.uniform(5, 110),
            pressure=rng.uniform(0.05, 0.45) * s, fade=rng.uniform(0.2, 0.6) * s if rng.random() < 0.3 else 0.0,
            rotate=rng.uniform(-1.5, 1.5) * s, stretch=rng.uniform(0.8, 1.2),
            blur=rng.uniform(0.0, 1.1) * s, noise=rng.uniform(0.0, 7.0) * s,
            jpeg=int(rng.uniform(max(20, 95 - 60 * s), 95)), ruling=rng.random() < 0.3 * min(s, 2.0),
            bleed=rng.uniform(0.05, 0.15) * s if rng.random() < 0.15 else 0.0,
        )


def random_writer(rng: random.Random, fonts: tuple[Path, ...]) -> Writer:
    """A hand drawn fresh per line (the real lines are one writer each)."""
    return Writer(font=rng.choice(fonts), x_height=rng.uniform(16, 22), slant=rng.uniform(-0.1, 0.35),
                  ink="black", strength=rng.uniform(0.75, 1.0), jitter=rng.uniform(0.4, 1.0),
                  pen=rng.choices((-1, 0, 1), weights=(30, 40, 30))[0])


def write_alpha(text: str, writer: Writer, rng: random.Random) -> np.ndarray:
    """Ink opacity of the text written on one line, cropped to the ink with a random margin."""
    xh = writer.x_height
    # Wide enough that write_cell never wraps: it aims at ~79% of the cell width.
    width = int(word_width(writer, text, 1.0) * 1.6 + 8 * xh)
    height = int(xh * 7)
    layer = np.zeros((height, width), np.float32)
    write_cell(layer, text, (0, 0, width, height), writer, rng)
    ys, xs = np.nonzero(layer > 0.1)
    if len(xs) == 0:
        raise ValueError(f"nothing was written for {text!r} with {writer.font.name}")
    def margin(low: float, high: float) -> int:
        return int(rng.uniform(low, high) * xh)
    y0, y1 = max(0, ys.min() - margin(0.2, 1.0)), min(height, ys.max() + 1 + margin(0.2, 1.0))
    x0, x1 = max(0, xs.min() - margin(0.3, 2.0)), min(width, xs.max() + 1 + margin(0.3, 2.0))
    return layer[y0:y1, x0:x1]


def _rotated(alpha: np.ndarray, degrees: float) -> np.ndarray:
    h, w = alpha.shape
    grow = int(abs(math.tan(math.radians(degrees))) * w / 2) + 1
    alpha = cv2.copyMakeBorder(alpha, grow, grow, 0, 0, cv2.BORDER_CONSTANT, value=0)
    matrix = cv2.getRotationMatrix2D((w / 2, alpha.shape[0] / 2), degrees, 1.0)
    return cv2.warpAffine(alpha, matrix, (w, alpha.shape[0]), flags=cv2.INTER_LINEAR, borderValue=0)


def _paper(shape: tuple[int, int], tone: float, gen: np.random.Generator) -> np.ndarray:
    """Paper with a slow tone drift (uneven lighting, ageing), not a flat grey."""
    h, w = shape
    coarse = gen.normal(0, 5, (2, max(2, w // 200))).astype(np.float32)
    return np.float32(tone) + cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _ruling(grey: np.ndarray, rng: random.Random, paper: float) -> None:
    """The remnant of a ledger rule that the line crop caught: a faint, partial, tilted line."""
    h, w = grey.shape
    y = rng.choice((rng.uniform(0.0, 0.12), rng.uniform(0.85, 1.0))) * (h - 1)
    x0, x1 = int(rng.uniform(0, 0.3) * w), int(rng.uniform(0.7, 1.0) * w)
    tilt = rng.uniform(-0.004, 0.004) * w
    colour = paper - rng.uniform(25, 90)
    cv2.line(grey, (x0, int(y)), (x1, int(y + tilt)), float(colour), rng.choice((1, 1, 2)), cv2.LINE_AA)


def scan_line(alpha: np.ndarray, scan: Scan, rng: random.Random) -> np.ndarray:
    """Ink layer -> grey uint8 scan, LINE_HEIGHT px tall."""
    gen = np.random.default_rng(rng.getrandbits(32))
    pen_texture(alpha, gen, scan.pressure)
    if scan.rotate:
        alpha = _rotated(alpha, scan.rotate)
    if scan.bleed:  # the facing page's writing, mirrored and soft
        alpha = np.maximum(alpha, scan.bleed * cv2.GaussianBlur(alpha[::-1, ::-1], (0, 0), 1.5))
    h, w = alpha.shape
    scale = LINE_HEIGHT / h
    alpha = cv2.resize(alpha, (max(8, round(w * scale * scan.stretch)), LINE_HEIGHT), interpolation=cv2.INTER_AREA)
    paper = _paper(alpha.shape, scan.paper, gen)
    grey = paper - (paper - np.float32(scan.ink)) * np.clip(alpha, 0, 1)
    if scan.ruling:
        _ruling(grey, rng, scan.paper)
    if scan.blur > 0.05:
        grey = cv2.GaussianBlur(grey, (0, 0), scan.blur)
    if scan.noise > 0:
        grey += gen.normal(0, scan.noise, grey.shape).astype(np.float32)
    line = np.clip(grey, 0, 255).astype(np.uint8)
    return uneven_ink(line, gen, scan.fade) if scan.fade else line


# ---------------------------------------------------------------- folder


def _outside_repo(out: Path) -> Path:
    """Synthetic sets are thousands of images: never let them land in the repository."""
    resolved = out.resolve()
    if resolved == REPO_ROOT or REPO_ROOT in resolved.parents:
        raise ValueError(f"{out} is inside the repository; write synthetic lines elsewhere (e.g. /tmp)")
    return resolved


def write_folder(out: Path, lines: int, seed: int = 1, strength: float = 1.0) -> Path:
    """Write `lines` labelled line images to `out`; returns the labels.tsv path."""
    out = _outside_repo(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    fonts = handwriting_fonts(HAND_GROUP)
    factory = PersonFactory(rng, home_area("", rng))
    rows, sources = [], []
    for index in range(1, lines + 1):
        text = registry_text(rng, factory)
        writer = random_writer(rng, fonts)
        scan = Scan.random(rng, strength)
        image = scan_line(write_alpha(text, writer, rng), scan, rng)
        name = f"line_{index:06d}.jpg"
        if not cv2.imwrite(str(out / name), image, [cv2.IMWRITE_JPEG_QUALITY, scan.jpeg]):
            raise OSError(f"cannot write {out / name}")
        rows.append((name, text))
        sources.append((name, writer.font.name))
    _write_tsv(out / "fonts.tsv", sources)
    return _write_tsv(out / "labels.tsv", rows)


def _write_tsv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n").writerows(rows)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder outside the repository")
    parser.add_argument("--lines", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strength", type=float, default=1.0, help="scales the scan spoiling (0 = clean)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    labels = write_folder(args.out, args.lines, args.seed, args.strength)
    seconds = time.perf_counter() - start
    print(f"{args.lines} lines in {seconds:.1f} s ({1000 * seconds / max(args.lines, 1):.1f} ms/line): {labels}")


if __name__ == "__main__":
    main()
