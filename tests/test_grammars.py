"""Field grammars (dates, registration numbers) and the grammar-constrained CTC beam."""

from __future__ import annotations

import pytest

from ocr.fields.grammars import (
    DATE_GRAMMAR,
    REGISTRATION_GRAMMAR,
    date_complete_ok,
    date_prefix_ok,
    registration_complete_ok,
    registration_prefix_ok,
)
from ocr.read.decoding import DecodingConstraints, constrained_decode, greedy_decode
from ocr.read.engines.asternet import get_asternet
from ocr.read.engines.base import LineLogProbs
from samples.lines import Degradation, handwriting_fonts, render_line
from tests import ctc_frames


@pytest.mark.parametrize(
    ("text", "prefix", "complete"),
    [
        ("", True, False),
        ("1", True, False),
        ("1/", True, False),
        ("1//", False, False),
        ("10/01/1980", True, True),
        ("10/01/19", True, False),
        ("10/01/980", False, False),
        ("13/13", False, False),
        ("04/1980", True, True),
        ("1955", True, True),
        ("195.5", False, False),
        ("30/02/1980", True, False),  # shape fine, not a calendar date
        ("31/12/2039", True, True),
        ("12/12/1701", False, False),  # no ledger year
        ("5 / 3 / 1987", True, True),
        ("45", False, False),
        ("ngày", False, False),
    ],
)
def test_date_grammar(text: str, prefix: bool, complete: bool) -> None:
    assert date_prefix_ok(text) is prefix
    assert date_complete_ok(text) is complete


@pytest.mark.parametrize(
    ("text", "prefix", "complete"),
    [("", True, False), ("0", True, False), ("007", False, False), ("238", True, True), ("[238", False, False),
     ("12a", True, True), ("12ab", False, False), ("12/2003", True, True), ("12/200", True, False),
     ("12/20031", False, False), ("/3", False, False)],
)
def test_registration_grammar(text: str, prefix: bool, complete: bool) -> None:
    assert registration_prefix_ok(text) is prefix
    assert registration_complete_ok(text) is complete


def test_a_spelled_out_date_is_left_to_the_soft_priors() -> None:
    assert DATE_GRAMMAR.applies_to("12/03/1987") and DATE_GRAMMAR.applies_to("l2/03/1987")
    assert not DATE_GRAMMAR.applies_to("năm 1987")
    assert REGISTRATION_GRAMMAR.applies_to("koo")  # letters in a number column are misread digits


DIGITS = ("<blank>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "/", "a")


def frames(rows: list[dict[str, float]]) -> LineLogProbs:
    return ctc_frames.frames(rows, DIGITS)


def _blank() -> dict[str, float]:
    return {}


def test_grammar_beam_turns_an_impossible_date_into_the_likeliest_valid_one() -> None:
    # "1" drawn like "/" (italic): greedy reads "//1980", which no ledger date can be.
    rows = [{"/": 0.6, "1": 0.35}, _blank(), {"/": 0.9}, _blank(),
            *[r for ch in "1980" for r in ({ch: 0.9}, _blank())]]
    llp = frames(rows)
    assert greedy_decode(llp).text == "//1980"
    decoded = constrained_decode(llp, DecodingConstraints(grammar=DATE_GRAMMAR))
    assert decoded.reading.text == "1/1980"
    assert decoded.used_lexicon and decoded.alternatives == ["//1980"] and not decoded.agreement


def test_grammar_keeps_a_valid_clearly_written_date() -> None:
    rows = [r for ch in "7/1980" for r in ({ch: 0.97}, _blank())]
    decoded = constrained_decode(frames(rows), DecodingConstraints(grammar=DATE_GRAMMAR))
    assert decoded.reading.text == "7/1980" and not decoded.used_lexicon


@pytest.mark.model
def test_registration_number_on_grey_paper_is_read_without_a_phantom_stroke() -> None:
    # The recognizer pads lines with white: without whitening the paper, the pad/paper step on
    # grey paper read as a leading "1" or "[" (measured: "1226", "[226" at paper level 160).
    fonts = [f for f in handwriting_fonts() if "Dancing" in f.name or "Lobster" in f.name]
    lines = [render_line("226", f, size=44, degradation=Degradation(paper=160, ink=60)) for f in fonts]
    assert [greedy_decode(llp).text.replace(".", "") for llp in get_asternet().line_log_probs(lines)] == ["226"] * 2
