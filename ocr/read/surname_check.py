"""A name's first word weighed by two readers whose mistakes differ (issue #13).

In some hands AsterNet reads "Nguyễn" as "CGguyẫu", "Gguyễu" or "Kguyẫn": the surname list's own
rescoring (ocr.read.name_decoding) may replace such a word only within its evidence bound, and these
are 10-30 nats away in AsterNet's frames. PP-OCRv6 (ocr.read.engines.ppocr_second) reads the bare
letters of the same line ("Nguyen") with errors of its own. So each listed surname near the read
first word (and the commonest ones) is put in its place, and the line is scored by AsterNet's frames
and by PP-OCR's bare-letter frames (the line without diacritics: it says nothing about tone marks,
which stay AsterNet's call). A surname both together find likelier than the reading by more than
JOINT_MARGIN replaces it; the field then says so and stays below the high band.

Set on the tuning families (bench.robustness seeds 4242 and 3131, 484 name cells, 80 with a wrong
first word): at 2 nats 36 fixed and none broken (0 nats: 39 and 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr.fields.issues import FieldIssue
from ocr.read.ctc_batch import batch_text_log_likelihood, joint_text_log_likelihood
from ocr.read.decoding import NEG_INF
from ocr.read.engines.base import LineLogProbs
from ocr.read.name_decoding import ALWAYS_TRIED, MAX_EDITS, SHORTLIST, ranked_surnames

JOINT_MARGIN = 2.0  # nats both readers together must prefer a listed surname by
# How far (edits) a listed surname may be from the read word: further than the one-reader rescoring
# (MAX_EDITS), since the second reader's letters must also agree.
JOINT_MAX_EDITS = MAX_EDITS + 2

SURNAME_REREAD = FieldIssue(
    "surname_reread",
    "Họ được đọc lại nhờ bộ đọc thứ hai (hai bộ đọc khác nhau): kiểm tra lại họ",
    severity="warning",
)


@dataclass(frozen=True)
class SurnameVerdict:
    """A listed surname both readers prefer to the read first word."""

    line: str  # the first line with the surname in place of the read word
    surname: str
    primary_nats: float  # how much likelier the first reader alone found the line as read


def surname_rival(line: str, primary: LineLogProbs, letters: LineLogProbs) -> SurnameVerdict | None:
    """The listed surname (another one where the word read is listed: "Hà" for a "Hờ") that replaces
    the first word of ``line`` (a name cell's first line, as read on ``primary``'s frames; ``letters``:
    the second reader's bare-letter frames of the same line), or None when the reading stands."""
    first, space, rest = line.partition(" ")
    if not first:
        return None
    names, _ = ranked_surnames()
    near = [name for name, _, _ in process.extract(first, names, scorer=Levenshtein.distance, limit=SHORTLIST,
                                                   score_cutoff=JOINT_MAX_EDITS)]
    candidates = list(dict.fromkeys([first, *near, *names[:ALWAYS_TRIED]]))
    texts = [f"{name}{space}{rest}" for name in candidates]
    joint = joint_text_log_likelihood(primary, letters, texts)
    if joint[0] <= NEG_INF:
        return None  # the reading cannot be spelt on one of the readers' frames: nothing to weigh
    best = max(range(len(joint)), key=joint.__getitem__)
    if best == 0 or joint[best] <= joint[0] + JOINT_MARGIN:
        return None
    read, chosen = batch_text_log_likelihood(primary, [texts[0], texts[best]])
    return SurnameVerdict(texts[best], candidates[best], max(0.0, read - chosen))
