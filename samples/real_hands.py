"""Real handwritten lines pasted into the place cells of a generated page (benchmark only).

The lines come from ``../shared/real_lines/address_lines/`` (see its README): read at run time,
never copied into the repository, never used to fit anything. A line is split into its words at
the gaps between them, wrapped onto 1-3 lines to fit the cell, scaled and pasted; its label is
the field's truth. A line is used only when its gaps split it cleanly into exactly the label's
words (the inter-word gaps clearly wider than every other gap), so the per-line truth is exact.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from samples.handwriting import paste_max

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "real_lines" / "address_lines"
MIN_INK_SHARE = 0.01  # of the page height: a pasted line with smaller letters is not used (unreadable)
TRIES = 30  # lines tried per cell before the cell falls back to font handwriting


@dataclass(frozen=True)
class RealLineBank:
    folder: Path
    labels: tuple[tuple[str, str], ...]  # (file name, text as labelled, NFC single-spaced)
    field_types: tuple[str, ...] = ("place",)


def load_bank(folder: Path = DEFAULT_FOLDER) -> RealLineBank | None:
    """The labelled lines of `folder`, or None when it (or its labels.tsv) is absent."""
    tsv = folder / "labels.tsv"
    if not tsv.is_file():
        return None
    labels = []
    for row in tsv.read_text(encoding="utf-8").splitlines():
        name, _, text = row.partition("\t")
        text = unicodedata.normalize("NFC", " ".join(text.split()))
        if name and text:
            labels.append((name, text))
    return RealLineBank(folder, tuple(labels))


@dataclass(frozen=True)
class WordSplit:
    alpha: np.ndarray  # ink opacity 0..1 of the whole line, cropped to its ink rows
    spans: tuple[tuple[int, int], ...]  # x range of each word
    words: tuple[str, ...]


@lru_cache(maxsize=512)
def split_words(path: Path, text: str) -> WordSplit | None:
    """The line's ink split into exactly the label's words, or None when the gaps do not say
    clearly where the words are."""
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        return None
    paper, ink = np.percentile(gray, 90), np.percentile(gray, 1)
    alpha = np.clip((paper - gray.astype(np.float32)) / max(paper - ink, 1.0), 0, 1)
    mask = alpha > 0.4
    rows = np.flatnonzero(mask.sum(axis=1) >= 2)
    cols = np.flatnonzero(mask.sum(axis=0) >= 1)
    if len(rows) < 10 or len(cols) < 10:
        return None
    alpha, mask = alpha[rows[0]:rows[-1] + 1], mask[rows[0]:rows[-1] + 1]
    inked = mask.any(axis=0)
    runs: list[tuple[int, int]] = []  # ink runs along x
    for x in np.flatnonzero(inked).tolist():  # Python ints, so the runs stay tuple[int, int]
        if runs and x == runs[-1][1]:
            runs[-1] = (runs[-1][0], x + 1)
        else:
            runs.append((x, x + 1))
    words = tuple(text.split())
    gaps = sorted(((b[0] - a[1], i) for i, (a, b) in enumerate(zip(runs, runs[1:], strict=False))), reverse=True)
    need = len(words) - 1
    if len(gaps) < need:
        return None
    height = alpha.shape[0]
    chosen, rest = gaps[:need], gaps[need:]
    if need and (chosen[-1][0] < 0.12 * height or (rest and chosen[-1][0] < 1.5 * rest[0][0])):
        return None  # no clear line between word gaps and letter gaps
    cuts = sorted(i for _, i in chosen)
    bounds = [0, *[c + 1 for c in cuts], len(runs)]
    spans = tuple((runs[a][0], runs[b - 1][1]) for a, b in zip(bounds, bounds[1:], strict=False))
    return WordSplit(alpha, spans, words)


@dataclass(frozen=True)
class _Fit:
    scale: float
    lines: tuple[tuple[int, int], ...]  # word index ranges [a, b) per line


def _fit(split: WordSplit, width: float, height: float, line_h: float) -> _Fit:
    """The line count (1-3) that lets the words be largest, each line within `width`, all
    lines within `height`, letters no taller than a writer's (`line_h`)."""
    ink_h = split.alpha.shape[0]
    best = _Fit(0.0, ((0, len(split.words)),))
    n = len(split.words)
    for count in range(1, min(3, n) + 1):
        for cuts in _cut_choices(n, count):
            bounds = (0, *cuts, n)
            ranges = tuple(zip(bounds, bounds[1:], strict=False))
            widest = max(split.spans[b - 1][1] - split.spans[a][0] for a, b in ranges)
            scale = min(width / widest, height / (count * ink_h * 1.15), line_h / ink_h)
            if scale > best.scale * 1.02:
                best = _Fit(scale, ranges)
    return best


def _cut_choices(n: int, count: int) -> list[tuple[int, ...]]:
    if count == 1:
        return [()]
    if count == 2:
        return [(a,) for a in range(1, n)]
    return [(a, b) for a in range(1, n - 1) for b in range(a + 1, n)]


def paste_real_line(layer: np.ndarray, bank: RealLineBank, cell: tuple[int, int, int, int], line_h: float,
                    strength: float, rng: random.Random) -> tuple[str, list[tuple[str, list[int]]]] | None:
    """Paste one real line (wrapped to fit) into the cell; (label, [(line text, ink box)]) or
    None when no clean line of readable size was found in TRIES draws."""
    x, y, w, h = cell
    pad_x, pad_y = max(4, w * 0.04), h * 0.08
    for _ in range(TRIES):
        name, text = rng.choice(bank.labels)
        split = split_words(bank.folder / name, text)
        if split is None:
            continue
        fit = _fit(split, (w - 2 * pad_x) * 0.95, h - 2 * pad_y, line_h)
        if fit.scale * split.alpha.shape[0] < MIN_INK_SHARE * layer.shape[0]:
            continue
        band = (h - 2 * pad_y) / len(fit.lines)
        written = []
        for i, (a, b) in enumerate(fit.lines):
            piece = split.alpha[:, split.spans[a][0]:split.spans[b - 1][1]]
            size = (max(1, round(piece.shape[1] * fit.scale)), max(1, round(piece.shape[0] * fit.scale)))
            scaled = cv2.resize(piece, size, interpolation=cv2.INTER_AREA) * strength
            px = round(x + pad_x + rng.uniform(0, 0.3) * max(0.0, w - 2 * pad_x - size[0]))
            py = round(y + pad_y + band * (i + 0.5) - size[1] / 2)
            box = paste_max(layer, scaled, px, py)
            if box is not None:
                written.append((" ".join(split.words[a:b]), [box[0], box[1], box[2] - box[0], box[3] - box[1]]))
        if len(written) == len(fit.lines):
            return text, written
    return None
