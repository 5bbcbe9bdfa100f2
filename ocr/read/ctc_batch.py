"""CTC likelihood of many candidate texts of one line in a single forward pass.

Same quantity as :func:`ocr.read.decoding.text_log_likelihood` (log P(text | frames) summed over all
alignments), computed for K texts at once: the forward variables of all texts advance together
frame by frame as one ``[K, S]`` array, in probability space with a per-frame rescaling, so K
candidates cost about as much numpy overhead as one. Lexicon rescoring scores tens of
candidate readings per cell; one by one that dominated the decoding time.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ocr.fields.text import strip_diacritics
from ocr.read.decoding import BLANK, NEG_INF
from ocr.read.engines.base import LineLogProbs

# Frames between rescalings of the forward variables: emissions are >= e^-60 or so, so a few
# frames cannot underflow float64, and rescaling less often saves numpy calls.
RESCALE_EVERY = 4


@lru_cache(maxsize=8)
def _label_index(alphabet: tuple[str, ...]) -> dict[str, int]:
    return {ch: i for i, ch in enumerate(alphabet) if i != BLANK}


def _encode(text: str, index: dict[str, int]) -> list[int] | None:
    """``ocr.read.decoding.encode`` with the alphabet's index built once (it is called per candidate)."""
    labels = [index.get(ch) for ch in text]
    return None if None in labels else labels  # type: ignore[return-value]


def batch_text_log_likelihood(llp: LineLogProbs, texts: Sequence[str]) -> list[float]:
    """log P(text | frames) for each text (NEG_INF for a text the alphabet cannot spell)."""
    frames = llp.log_probs.shape[0]
    index = _label_index(llp.alphabet)
    encoded = [_encode(text, index) for text in texts]
    result = [NEG_INF] * len(texts)
    rows = [k for k, labels in enumerate(encoded) if labels is not None and len(labels) <= frames]
    if not rows or frames == 0:
        return result
    lengths = np.array([len(encoded[k] or []) for k in rows])
    states = 2 * int(lengths.max()) + 1
    # Extended label sequences (blank, l1, blank, l2, ..., blank), padded with blanks: padding
    # states only receive mass from the final states and never give it back.
    ext = np.full((len(rows), states), BLANK, dtype=np.int64)
    for r, k in enumerate(rows):
        ext[r, 1 : 2 * lengths[r] : 2] = encoded[k] or []
    skip = np.zeros(ext.shape)
    skip[:, 2:] = (ext[:, 2:] != BLANK) & (ext[:, 2:] != ext[:, :-2])
    skip = skip[:, 2:]
    emissions = np.exp(llp.log_probs.astype(np.float64))[:, ext]  # [T, K, S]
    alpha = emissions[0].copy()
    alpha[:, 2:] = 0.0
    log_scale = np.zeros(len(rows))
    for t in range(1, frames):
        moved = alpha.copy()
        moved[:, 1:] += alpha[:, :-1]
        moved[:, 2:] += alpha[:, :-2] * skip
        np.multiply(moved, emissions[t], out=alpha)
        if t % RESCALE_EVERY == 0 or t == frames - 1:
            scale = alpha.max(axis=1)
            scale[scale <= 0] = 1.0  # a text no alignment reaches stays at 0 (-inf below)
            alpha /= scale[:, None]
            log_scale += np.log(scale)
    row = np.arange(len(rows))
    last = 2 * lengths
    final = alpha[row, last] + np.where(lengths > 0, alpha[row, last - 1], 0.0)
    with np.errstate(divide="ignore"):
        totals = np.log(final) + log_scale
    for r, k in enumerate(rows):
        if np.isfinite(totals[r]):
            result[k] = float(totals[r])
    return result


def joint_text_log_likelihood(primary: LineLogProbs, letters: LineLogProbs, texts: Sequence[str]) -> list[float]:
    """Two readers' evidence about the same line added (independent readings of one image): log P(text)
    on ``primary``'s frames plus log P(text without diacritics) on ``letters``, a second reader's
    bare-letter frames (ocr.read.engines.ppocr_second), which say nothing about tone marks."""
    first = batch_text_log_likelihood(primary, texts)
    second = batch_text_log_likelihood(letters, [strip_diacritics(t) for t in texts])
    return [a + b for a, b in zip(first, second, strict=True)]
