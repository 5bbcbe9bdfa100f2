"""CTC decoding on hand-made frame posteriors (exact expectations, no model involved)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ocr.read.decoding import (
    DecodedLine,
    DecodingConstraints,
    closed_set_decode,
    constrained_decode,
    ctc_log_likelihood,
    encode,
    forced_alignment,
    greedy_decode,
    prefix_beam_search,
    without_trailing_mark,
)
from ocr.read.engines.base import LineLogProbs

ALPHABET = ("<blank>", "a", "n", "h", "i", "ỉ", "ì", "1", "l", "/", " ", "'")


def frames(rows: list[dict[str, float]], floor: float = 1e-4) -> LineLogProbs:
    """Frames from {char: prob} dicts; leftover mass goes to blank, then renormalised."""
    probs = np.full((len(rows), len(ALPHABET)), floor)
    for t, row in enumerate(rows):
        for ch, p in row.items():
            probs[t, ALPHABET.index(ch)] = p
        if "<blank>" not in row:
            probs[t, 0] = max(floor, 1.0 - sum(row.values()))
    probs /= probs.sum(axis=1, keepdims=True)
    t = np.arange(len(rows))
    return LineLogProbs(np.log(probs).astype(np.float32), np.stack([4 * t, 4 * t + 4], axis=1), ALPHABET)


@pytest.mark.parametrize(("hesitant_frame", "rival"), [
    ({"<blank>": 0.65, "1": 0.3}, 0.3),  # a "1" that lost to the blank: a dropped character
    ({"a": 0.6, "n": 0.35}, 0.35),  # an "n" that lost to an "a": a swapped character
    ({"<blank>": 0.99}, 1e-4),  # no frame hesitates: only the floor is left
])
def test_greedy_reports_the_strongest_character_it_did_not_emit(hesitant_frame: dict[str, float],
                                                                 rival: float) -> None:
    reading = greedy_decode(frames([{"a": 0.99}, hesitant_frame, {"n": 0.99}]))
    assert reading.rival == pytest.approx(rival, rel=0.1)  # frames() renormalises after adding its floor


def test_greedy_collapses_repeats_and_keeps_blank_separated_doubles() -> None:
    llp = frames([{"a": 0.9}, {"a": 0.6}, {"<blank>": 0.99}, {"a": 0.8}, {"n": 0.95}, {"<blank>": 1.0}])
    reading = greedy_decode(llp)
    assert reading.text == "aan"
    assert [c.char for c in reading.chars] == ["a", "a", "n"]
    # confidence = the best frame of the run; x-span = the run's frames (4 px each)
    assert reading.chars[0].confidence == pytest.approx(0.9, abs=2e-3)
    assert (reading.chars[0].x0, reading.chars[0].x1) == (0, 8)
    assert (reading.chars[2].x0, reading.chars[2].x1) == (16, 20)
    assert 0 < reading.score < 1


def test_greedy_on_all_blank_frames_is_empty() -> None:
    reading = greedy_decode(frames([{"<blank>": 1.0}] * 4))
    assert reading.text == "" and reading.chars == []


def test_ctc_likelihood_equals_brute_force_sum_over_alignments() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, len(ALPHABET)))
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    labels = encode("aa", ALPHABET)
    assert labels is not None
    total = 0.0
    for path in itertools.product(range(len(ALPHABET)), repeat=5):
        collapsed = [k for k, _ in itertools.groupby(path) if k != 0]
        if collapsed == labels:
            total += float(np.exp(sum(log_probs[t, k] for t, k in enumerate(path))))
    assert ctc_log_likelihood(log_probs, labels) == pytest.approx(np.log(total), abs=1e-6)


def test_forced_alignment_gives_each_character_its_frames() -> None:
    llp = frames([{"h": 0.9}, {"<blank>": 0.9}, {"i": 0.5, "ì": 0.4}, {"n": 0.9}, {"h": 0.9}])
    runs = forced_alignment(llp.log_probs, encode("hình", ALPHABET) or [])
    assert runs is not None
    assert [(ALPHABET[label], t0, t1) for label, t0, t1 in runs] == [("h", 0, 0), ("ì", 2, 2), ("n", 3, 3), ("h", 4, 4)]


def _lexicon_score(words: set[str]):
    return lambda word: 1.5 if word in words else -3.0


def test_beam_with_lexicon_fixes_a_one_character_misread() -> None:
    # "hình" written; the network hesitates between ì (0.45, correct) and ỉ (0.5).
    llp = frames([{"h": 0.95}, {"ỉ": 0.5, "ì": 0.45}, {"n": 0.95}, {"h": 0.95}])
    assert greedy_decode(llp).text == "hỉnh"
    constraints = DecodingConstraints(word_score=_lexicon_score({"hình"}))
    assert prefix_beam_search(llp, constraints)[0].text == "hình"
    decoded = constrained_decode(llp, constraints)
    assert decoded.reading.text == "hình"
    assert decoded.used_lexicon and not decoded.agreement
    assert decoded.alternatives == ["hỉnh"]  # the greedy reading stays available
    assert decoded.reading.chars[1].char == "ì"
    assert decoded.reading.chars[1].confidence == pytest.approx(0.45, abs=0.01)


def test_lexicon_keeps_an_unusual_spelling_that_is_clearly_written() -> None:
    # "hỉnh" is clearly written (0.97): a lexicon must not rewrite it.
    llp = frames([{"h": 0.95}, {"ỉ": 0.97, "ì": 0.02}, {"n": 0.95}, {"h": 0.95}])
    decoded = constrained_decode(llp, DecodingConstraints(word_score=_lexicon_score({"hình"})))
    assert decoded.reading.text == "hỉnh"
    assert not decoded.used_lexicon
    assert decoded.alternatives == ["hình"] and not decoded.agreement


def test_character_class_prior_turns_an_ambiguous_letter_into_a_digit() -> None:
    prior = np.array([0.0 if ch in "0123456789/ " else -4.0 for ch in ALPHABET])
    ambiguous = frames([{"1": 0.9}, {"<blank>": 0.99}, {"l": 0.5, "1": 0.45}, {"/": 0.9}])
    decoded = constrained_decode(ambiguous, DecodingConstraints(char_log_prior=prior))
    assert decoded.reading.text == "11/"
    clear = frames([{"1": 0.9}, {"<blank>": 0.99}, {"l": 0.98, "1": 0.01}, {"/": 0.9}])
    assert constrained_decode(clear, DecodingConstraints(char_log_prior=prior)).reading.text == "1l/"


def test_closed_set_decode_picks_the_likely_catalog_value_only_on_evidence() -> None:
    near = frames([{"n": 0.9}, {"ì": 0.55, "a": 0.4}, {"n": 0.9}])
    assert closed_set_decode(near, ("nan", "hin")).reading.text == "nan"
    legible = frames([{"n": 0.9}, {"ì": 0.99}, {"n": 0.9}])
    decoded = closed_set_decode(legible, ("nan", "hin"))
    assert decoded.reading.text == "nìn" and decoded.alternatives == ["nan"]


def test_closed_set_variant_gives_way_to_the_catalog_spelling_on_weak_evidence_only() -> None:
    # "hin" is a listed variant of the catalog's "h'in" (as "HMông" of "H'Mông")
    candidates, preferred = ("h'in", "hin"), frozenset({"h'in"})
    faint_mark = frames([{"h": 0.9}, {"'": 0.2}, {"i": 0.9}, {"n": 0.9}])
    decoded = closed_set_decode(faint_mark, candidates, preferred=preferred)
    assert decoded.reading.text == "h'in" and decoded.alternatives == ["hin"] and decoded.used_lexicon
    no_mark = frames([{"h": 0.9}, {"'": 0.001}, {"i": 0.9}, {"n": 0.9}])
    decoded = closed_set_decode(no_mark, candidates, preferred=preferred)
    assert decoded.reading.text == "hin" and decoded.agreement and not decoded.used_lexicon


def test_space_separates_words_for_the_lexicon() -> None:
    llp = frames([{"a": 0.9}, {" ": 0.9}, {"h": 0.9}, {"ỉ": 0.5, "ì": 0.45}, {"n": 0.9}, {"h": 0.9}])
    decoded = constrained_decode(llp, DecodingConstraints(word_score=_lexicon_score({"a", "hình"})))
    assert decoded.reading.text == "a hình"


@pytest.mark.parametrize(("mark_prob", "after", "dropped"), [
    (0.72, "h", True),  # "Suy tim." on a cell with no mark: the stroke's tail read as a period
    (0.95, "h", True),  # ... and at 0.91 on another (ln 0.95/0.05 = 2.9 nats: beyond the beam's bound)
    (0.9995, "h", False),  # a period the frames are all but certain of stays: as written
    (0.72, "1", False),  # after a digit it may end a date ("18.12.2007.") : left alone
])
def test_a_weak_mark_after_the_last_word_is_dropped(mark_prob: float, after: str, dropped: bool) -> None:
    alphabet = (*ALPHABET, ".")
    rows = [{"a": 0.99}, {}, {"n": 0.99}, {}, {after: 0.99}, {}, {".": mark_prob}, {}]
    probs = np.full((len(rows), len(alphabet)), 1e-4)
    for t, row in enumerate(rows):
        for ch, p in row.items():
            probs[t, alphabet.index(ch)] = p
        probs[t, 0] = max(1e-4, 1.0 - sum(row.values()))
    t = np.arange(len(rows))
    llp = LineLogProbs(np.log(probs / probs.sum(axis=1, keepdims=True)).astype(np.float32),
                       np.stack([4 * t, 4 * t + 4], axis=1), alphabet)
    reading = greedy_decode(llp)
    assert reading.text == f"an{after}."
    line = without_trailing_mark(llp, DecodedLine(reading, reading, reading.text))
    assert (line.reading.text == f"an{after}") == dropped
    if dropped:
        assert line.used_lexicon and line.alternatives == [f"an{after}."] and line.repair_nats > 0
