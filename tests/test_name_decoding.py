"""Surname check of the first word of a name, on hand-made frame posteriors."""

from __future__ import annotations

import numpy as np

from ocr.decoding import DecodedLine, greedy_decode
from ocr.engines.base import LineLogProbs
from ocr.name_decoding import rescore_surname

ALPHABET = ("<blank>", "L", "ê", "ệ", " ", "A", "n", "l", "T", "ư", "ờ", "g")


def written(text: str, doubt: dict[int, dict[str, float]] | None = None) -> LineLogProbs:
    rows: list[dict[str, float]] = []
    for i, ch in enumerate(text):
        rows += [(doubt or {}).get(i, {ch: 0.97}), {}]
    probs = np.full((len(rows), len(ALPHABET)), 1e-4)
    for t, row in enumerate(rows):
        for c, p in row.items():
            probs[t, ALPHABET.index(c)] = p
        probs[t, 0] = max(1e-4, 1.0 - sum(row.values()))
    probs /= probs.sum(axis=1, keepdims=True)
    t = np.arange(len(rows))
    return LineLogProbs(np.log(probs).astype(np.float32), np.stack([4 * t, 4 * t + 4], axis=1), ALPHABET)


def rescored(llp: LineLogProbs) -> DecodedLine:
    greedy = greedy_decode(llp)
    return rescore_surname(llp, DecodedLine(greedy, greedy, greedy.text))


def test_a_doubtful_first_word_becomes_the_listed_surname() -> None:
    decoded = rescored(written("Lệ An", {1: {"ệ": 0.6, "ê": 0.35}}))
    assert decoded.reading.text == "Lê An"
    assert decoded.used_lexicon and decoded.alternatives == ["Lệ An"]


def test_a_clearly_written_first_word_is_kept() -> None:
    decoded = rescored(written("Lệ An", {1: {"ệ": 0.97, "ê": 0.01}}))
    assert decoded.reading.text == "Lệ An" and not decoded.used_lexicon


def test_a_listed_surname_is_not_touched() -> None:
    decoded = rescored(written("Lường An", {1: {"ư": 0.5, "ê": 0.3}}))
    assert decoded.reading.text == "Lường An" and not decoded.used_lexicon


def test_a_lowercase_surname_is_capitalised_when_the_capital_is_plausible() -> None:
    decoded = rescored(written("lê An", {0: {"l": 0.7, "L": 0.25}}))
    assert decoded.reading.text == "Lê An"
