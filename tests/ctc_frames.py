"""Hand-made CTC frame posteriors for decoder tests (exact expectations, no model involved)."""

from __future__ import annotations

import numpy as np

from ocr.read.engines.base import LineLogProbs


def frames(rows: list[dict[str, float]], alphabet: tuple[str, ...], floor: float = 1e-4) -> LineLogProbs:
    """Frames from {char: prob} dicts; leftover mass goes to blank (index 0), then renormalised."""
    probs = np.full((len(rows), len(alphabet)), floor)
    for t, row in enumerate(rows):
        for ch, p in row.items():
            probs[t, alphabet.index(ch)] = p
        probs[t, 0] = max(floor, 1.0 - sum(row.values()))
    probs /= probs.sum(axis=1, keepdims=True)
    t = np.arange(len(rows))
    return LineLogProbs(np.log(probs).astype(np.float32), np.stack([4 * t, 4 * t + 4], axis=1), alphabet)


def written(text: str, alphabet: tuple[str, ...], doubt: dict[int, dict[str, float]] | None = None) -> LineLogProbs:
    """Frames that read ``text`` (each character then a blank); ``doubt[i]`` replaces character i's."""
    rows: list[dict[str, float]] = []
    for i, ch in enumerate(text):
        rows += [(doubt or {}).get(i, {ch: 0.97}), {}]
    return frames(rows, alphabet)
