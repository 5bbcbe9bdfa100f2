"""A date or registration number weighed by two readers whose mistakes differ (issue #13).

AsterNet's confident wrong digits ("07/09/1960" read "07/09/1968", "182" read "782") are legible to
it: its frames, the date grammar and the page all agree, and reading the same pixels again at other
widths mostly repeats them. PP-OCRv6 (ocr.read.engines.ppocr_second) was trained on other data and
misreads other glyphs. So the value, every value one digit away from it and the second reader's own
reading are each scored by both readers' frames, and the two log-likelihoods are added (independent
evidence about one image). A rival that both together find clearly likelier (SWITCH_MARGIN) replaces
a date, doubtfully; one nearly as likely (DOUBT_MARGIN) leaves the value but in doubt, as does a
second reader much surer of its own reading than of the value (SECOND_READER_SURE). A
registration number is never replaced here: the page's run of numbers (ocr.read.page_context) knows
more about it than two readings of one cell, so a rival only doubts it.

Each reader is asked about a value spelled the way it reads the cell's separators and padding
("7/9/1960", "07.09.1960"): the spelling that reader finds likeliest for the value, kept for its
one-digit neighbours.

Margins were set on the tuning families (bench.robustness, seeds 4242 and 3131): with 2 nats, 12
dates fixed and 1 broken of 750 dates and numbers; with 1 nat, 15 fixed and 3 broken.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from ocr.fields.issues import FieldIssue
from ocr.fields.normalize import normalize
from ocr.read.ctc_batch import batch_text_log_likelihood
from ocr.read.decoding import greedy_decode
from ocr.read.engines.base import LineLogProbs

DIGIT_CHECK_TYPES = frozenset({"date", "registration_no"})
SWITCH_TYPES = frozenset({"date"})  # registration numbers: the page's run decides (module docstring)
SWITCH_MARGIN = 2.0  # nats both readers together must prefer a rival by to replace the value
DOUBT_MARGIN = 2.0  # a rival within this many nats below the value leaves it in doubt
# The second reader alone this much surer of its own reading than of the value doubts it too, however
# sure the first reader is ("04/05/1972" read "01/05/1972" at 0.977: AsterNet 8.7 nats sure, PP-OCR
# 3.6 nats the other way). Tuning families: 1 right date of 409 sure ones doubted (0.2%).
SECOND_READER_SURE = 3.0
SEPARATORS = ("/", ".", "-", " ", "")
NOT_READ = -1e30

DIGITS_REREAD = FieldIssue(
    "digits_reread",
    "Hai bộ đọc chữ số đọc khác nhau; đã chọn cách đọc khớp cả hai: kiểm tra lại từng số",
    severity="warning",
)
DIGIT_READERS_DIFFER = FieldIssue(
    "digit_readers_differ",
    "Bộ đọc chữ số thứ hai đọc khác: kiểm tra lại từng số",
    severity="warning",
)

# How a value is written: for each "/"-group whether a leading zero was left out, and the marks
# between groups.
Spelling = tuple[tuple[bool, ...], tuple[str, ...]]


@dataclass(frozen=True)
class DigitVerdict:
    """What the two readers together make of one value."""

    value: str  # the value to propose (normalized)
    written: str  # that value as the primary reader's frames spell it likeliest (of the spellings read as it)
    rival: str = ""  # the likeliest other value ("": none acceptable)
    switched: bool = False  # ``value`` replaces the proposed one
    doubted: bool = False  # the proposed one stays, with a rival nearly as likely
    # ``value`` replaces one the first reader read as no date: no surer than that reading (tuning
    # families: 2 of the 4 such dates right, all 4 rated 0.85 by the calibrator)
    unreadable: bool = False


def spellings(value: str) -> dict[Spelling, str]:
    """Every way of writing ``value`` ("dd/mm/yyyy" or digits) with other marks or no leading zeros."""
    groups = value.split("/")
    choices = [[(group, False)] + ([(group[1:], True)] if len(group) == 2 and group[0] == "0" else [])
               for group in groups]
    out: dict[Spelling, str] = {}
    for chosen in itertools.product(*choices):
        for marks in itertools.product(SEPARATORS, repeat=len(groups) - 1):
            out[(tuple(unpadded for _, unpadded in chosen), marks)] = "".join(
                text + mark for (text, _), mark in zip(chosen, (*marks, ""), strict=True))
    return out


def spelled_as(value: str, spelling: Spelling) -> str | None:
    """``value`` written in ``spelling`` (None: another number of groups)."""
    unpadded, marks = spelling
    groups = value.split("/")
    if len(groups) != len(unpadded):
        return None
    texts = [g[1:] if drop and len(g) == 2 and g[0] == "0" else g for g, drop in zip(groups, unpadded, strict=True)]
    return "".join(text + mark for text, mark in zip(texts, (*marks, ""), strict=True))


def one_digit_away(value: str) -> list[str]:
    """Every value with one digit of ``value`` changed."""
    return [value[:i] + digit + value[i + 1:] for i, ch in enumerate(value) if ch.isdigit()
            for digit in "0123456789" if digit != ch]


def _likeliest(llp: LineLogProbs, value: str) -> tuple[float, Spelling, str]:
    forms = spellings(value)
    scores = batch_text_log_likelihood(llp, list(forms.values()))
    best = max(range(len(scores)), key=scores.__getitem__)
    spelling = list(forms)[best]
    return scores[best], spelling, forms[spelling]


def _written(llp: LineLogProbs, value: str, field_type: str) -> str:
    """``value`` in the spelling ``llp`` finds likeliest among those the field reads as ``value``
    ("10.02.2003", not "10 02 2003")."""
    forms = [form for form in spellings(value).values() if normalize(field_type, form) == value] or [value]
    scores = batch_text_log_likelihood(llp, forms)
    return forms[max(range(len(forms)), key=scores.__getitem__)]


def _scores_as(llp: LineLogProbs, values: list[str], spelling: Spelling) -> list[float]:
    texts = [spelled_as(v, spelling) for v in values]
    scores = batch_text_log_likelihood(llp, [t or "" for t in texts])
    return [s if t else NOT_READ for s, t in zip(scores, texts, strict=True)]


def _same_kind(value: str, rival: str) -> bool:
    """A rival written with digits and "/" only, in as many groups as the value."""
    return (bool(rival) and rival != value and set(rival) <= set("0123456789/")
            and rival.count("/") == value.count("/"))


def cross_check(value: str, field_type: str, primary: LineLogProbs, second: LineLogProbs,
                acceptable: Callable[[str], bool]) -> DigitVerdict:
    """The verdict of both readers' frames (one cell's lines joined) on ``value``; ``acceptable``:
    whether a rival is a value the field can hold (its validator finds no error)."""
    primary_value, primary_spelling, written = _likeliest(primary, value)
    second_value, second_spelling, _ = _likeliest(second, value)
    rivals = [r for r in dict.fromkeys(one_digit_away(value)) if acceptable(r)]
    joint = {r: a + b for r, a, b in zip(rivals, _scores_as(primary, rivals, primary_spelling),
                                         _scores_as(second, rivals, second_spelling), strict=True)}
    # The second reader's own reading, in whatever spelling each reader likes best for it.
    own = normalize(field_type, greedy_decode(second).text)
    second_prefers_own = False
    if _same_kind(value, own) and acceptable(own):
        own_second = _likeliest(second, own)[0]
        joint[own] = max(joint.get(own, NOT_READ), _likeliest(primary, own)[0] + own_second)
        second_prefers_own = own_second - second_value > SECOND_READER_SURE
    if not joint:
        return _second_readers_own(value, field_type, primary, second, acceptable)
    rival = max(joint, key=joint.__getitem__)
    lead = joint[rival] - (primary_value + second_value)
    if lead > SWITCH_MARGIN and field_type in SWITCH_TYPES:
        return DigitVerdict(rival, _written(primary, rival, field_type), value, switched=True)
    if second_prefers_own and lead <= -DOUBT_MARGIN:
        return DigitVerdict(value, written, own, doubted=True)
    return DigitVerdict(value, written, rival, doubted=lead > -DOUBT_MARGIN)



# A whole date however its groups are separated: "16 02 2003", "16.2.2003" (SEPARATORS, repeated).
WHOLE_DATE = re.compile(r"(\d{1,2})[/.\- ]+(\d{1,2})[/.\- ]+(\d{4})")


def _second_readers_own(value: str, field_type: str, primary: LineLogProbs, second: LineLogProbs,
                        acceptable: Callable[[str], bool]) -> DigitVerdict:
    """A value the first reader read as no date ("10 02 2003", "lía 24 200.") with no rival one
    digit away that the field can hold: the whole date that its own reading or the second reader's
    spells with other separators, the one both readers find likelier, and then its one-digit rivals
    weighed as any date's (cross_check). The first reader's frames then rate the value
    (reading_for_text), so its confidence says how little they agree."""
    if field_type not in SWITCH_TYPES:
        return DigitVerdict(value, value)
    readings = (value, greedy_decode(second).text)
    dates = [f"{int(m[1]):02d}/{int(m[2]):02d}/{m[3]}" for m in map(WHOLE_DATE.fullmatch, readings) if m]
    dates = [d for d in dict.fromkeys(dates) if acceptable(d)]
    if not dates:
        return DigitVerdict(value, value)
    best = max(dates, key=lambda d: _likeliest(primary, d)[0] + _likeliest(second, d)[0])
    chosen = cross_check(best, field_type, primary, second, acceptable).value
    return DigitVerdict(chosen, _written(primary, chosen, field_type), value, switched=True, unreadable=True)
