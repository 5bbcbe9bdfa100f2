"""Surname check of the first word of a name, on hand-made frame posteriors."""

from __future__ import annotations

from ocr.read.decoding import DecodedLine, greedy_decode
from ocr.read.engines.base import LineLogProbs
from ocr.read.name_decoding import rescore_surname
from tests import ctc_frames

ALPHABET = ("<blank>", "L", "ê", "ệ", " ", "A", "n", "l", "T", "ư", "ờ", "g")


def written(text: str, doubt: dict[int, dict[str, float]] | None = None) -> LineLogProbs:
    return ctc_frames.written(text, ALPHABET, doubt)


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


def test_a_first_word_that_cannot_be_written_takes_the_near_surname_on_the_non_word_bound() -> None:
    # "Kguyẫn", "Trìn" on held-out pages: no Vietnamese syllable, so no surname to keep as written;
    # the listed one 3 nats less likely than the misread was refused on the small bonus alone.
    decoded = rescored(written("Lgê An", {1: {"g": 0.95}}))
    assert decoded.reading.text == "Lê An" and decoded.used_lexicon and decoded.alternatives == ["Lgê An"]
    assert rescored(written("Lgê An", {1: {"g": 0.9999}})).reading.text == "Lgê An"  # beyond the bound
