"""The words of a name or a free text weighed by two readers whose mistakes differ (issue #13).

AsterNet reads some hands' given and middle names as non-words or as other syllables ("Sích" for
"Bích", "CMinh" for "Minh", "Căn" for "Văn"). The word lexicon's beam (ocr.read.decoding) may only
move a reading within its evidence bound, and these are further. PP-OCRv6
(ocr.read.engines.ppocr_second) reads the bare letters of the same line with errors of its own. So,
word by word, every Vietnamese syllable (ocr.fields.syllables: any syllable, not the sample lists)
whose bare spelling lies within WORD_MAX_EDITS of the read word's is tried in its place: the second
reader ranks the bare spellings (a name word is Capitalised), AsterNet then weighs every toned
spelling of the BARE_SHORTLIST best other than the read word's own (its tone was the first reading's
call, lexicon included), and the two log-likelihoods are added (the second reader's of
the line without diacritics: tone marks stay AsterNet's call). A word both together find likelier
than the reading by more than WORD_MARGIN replaces it; the field then says so and stays below the
high band.

The words of a free text (a cause of death, a note) are weighed the same way, each tried with the
case of its first letter as read ("Tai biến mạch máu niô" -> "não"; tuning families, 120 free texts: 5
fixed, 1 broken).

Set on the tuning families (bench.robustness seeds 4242 and 3131, 4 pages a family, 790 name cells):
at 2 nats 44 values fixed and 1 broken ("Hữu" -> "Hiu"); letting another tone of the same letters
compete broke 3 more ("Châu" -> "Chầu") for 1 fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr.fields.issues import FieldIssue
from ocr.fields.syllables import vietnamese_syllables
from ocr.fields.text import strip_diacritics
from ocr.read.ctc_batch import batch_text_log_likelihood, joint_text_log_likelihood
from ocr.read.decoding import NEG_INF
from ocr.read.engines.base import LineLogProbs

WORD_MARGIN = 2.0  # nats both readers together must prefer a syllable by
WORD_MAX_EDITS = 2  # between the bare spellings of the read word and a candidate
BARE_SHORTLIST = 4  # bare spellings, ranked by the second reader, whose toned spellings AsterNet weighs

TEXT_WORDS_REREAD = FieldIssue(
    "text_words_reread",
    "Một số chữ được đọc lại nhờ bộ đọc thứ hai (hai bộ đọc khác nhau): kiểm tra lại",
    severity="warning",
)
NAME_WORDS_REREAD = FieldIssue(
    "name_words_reread",
    "Tên đệm/tên được đọc lại nhờ bộ đọc thứ hai (hai bộ đọc khác nhau): kiểm tra lại",
    severity="warning",
)


@dataclass(frozen=True)
class WordsVerdict:
    """The line with the words both readers prefer in place of those read."""

    line: str
    primary_nats: float  # how much likelier the first reader alone found the line as read


@cache
def _spellings() -> tuple[list[str], dict[str, list[str]]]:
    """The bare spellings of all syllables, and each one's toned spellings (all lowercase)."""
    toned: dict[str, list[str]] = {}
    for syllable in sorted(vietnamese_syllables()):
        toned.setdefault(strip_diacritics(syllable), []).append(syllable)
    return sorted(toned), toned


def word_rivals(line: str, primary: LineLogProbs, letters: LineLogProbs, first: int = 0,
                capitalised: bool = True) -> WordsVerdict | None:
    """``line`` (a cell's line as read on ``primary``'s frames; ``letters``: the second reader's
    bare-letter frames of it) with each word from ``first`` on replaced by the syllable both readers
    prefer by more than WORD_MARGIN, or None when every word stands. ``capitalised``: every word is
    (a name); otherwise a word is tried with the case of its first letter as read (free text)."""
    words = line.split(" ")
    bares, toned = _spellings()
    if joint_text_log_likelihood(primary, letters, [line])[0] <= NEG_INF:
        return None  # the reading cannot be spelt on one of the readers' frames: nothing to weigh
    changed = False
    for k in range(first, len(words)):
        written = words[k]
        if not written or not written.isalpha():
            continue
        bare = strip_diacritics(written).lower()
        near = [b for b, _, _ in process.extract(bare, bares, scorer=Levenshtein.distance, limit=None,
                                                 score_cutoff=WORD_MAX_EDITS)]
        if not near:
            continue
        # The second reader ranks the bare spellings; AsterNet then weighs their toned spellings.
        upper = capitalised or written[:1].isupper()
        in_place = [_with_word(words, k, _cased(b, upper)) for b in near]
        ranked = batch_text_log_likelihood(letters, [strip_diacritics(t) for t in in_place])
        shortlist = [near[i] for i in sorted(range(len(near)), key=lambda i: -ranked[i])[:BARE_SHORTLIST]]
        # Another tone on the same letters is the first reading's call, which the lexicon already made.
        candidates = [written, *(_cased(s, upper) for b in shortlist if b != bare for s in toned[b])]
        joint = joint_text_log_likelihood(primary, letters, [_with_word(words, k, c) for c in candidates])
        best = max(range(len(joint)), key=joint.__getitem__)
        if best and joint[best] > joint[0] + WORD_MARGIN:
            words[k] = candidates[best]
            changed = True
    if not changed:
        return None
    new_line = " ".join(words)
    read, chosen = batch_text_log_likelihood(primary, [line, new_line])
    return WordsVerdict(new_line, max(0.0, read - chosen))


def _cased(word: str, upper: bool) -> str:
    return word[:1].upper() + word[1:] if upper else word[:1].lower() + word[1:]


def _with_word(words: list[str], k: int, word: str) -> str:
    return " ".join([*words[:k], word, *words[k + 1 :]])
