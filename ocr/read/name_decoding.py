"""Person names: the first word is a surname, and surnames are a short, very skewed list.

Nguyễn, Trần, Lê, Phạm … cover most people; a first word read "Cguyẫn", "Lệ" or "Tường" is
far likelier a misread "Nguyễn", "Lê", "Lường" than a surname nobody bears. The listed surname
replaces the first word only on evidence (CTC likelihood of the whole line with it, plus a
bounded bonus), with the beam's rule: a much likelier, legible reading is kept as written.
"""

from __future__ import annotations

from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr.fields.names import surname_shares
from ocr.fields.syllables import is_vietnamese_syllable
from ocr.read.decoding import (
    MAX_OVERRIDE_LOG_RATIO,
    NON_WORD_MAX_OVERRIDE,
    DecodedLine,
    reading_for_text,
    text_log_likelihood,
)
from ocr.read.engines.base import LineLogProbs

SURNAME_BONUS = 2.0  # nats for a first word that is a listed surname
ALWAYS_TRIED = 4  # the commonest surnames are scored even when far from the reading
SHORTLIST = 6
MAX_EDITS = 3


@cache
def ranked_surnames() -> tuple[tuple[str, ...], frozenset[str]]:
    """The listed surnames, commonest first, and the same as a set."""
    ranked = sorted(surname_shares().items(), key=lambda kv: -kv[1])
    names = tuple(name for name, _ in ranked)
    return names, frozenset(names)


def _limit(first_word: str, candidate: str) -> float:
    """Evidence bound: wider when the read word cannot be written or only its case differs."""
    if not is_vietnamese_syllable(first_word) or first_word.lower() == candidate.lower():
        return NON_WORD_MAX_OVERRIDE
    return MAX_OVERRIDE_LOG_RATIO


def _bonus(first_word: str) -> float:
    """What a listed surname is worth over the read first word: a word that cannot be written at all
    ("Kguyẫn", "Trìn") is no surname and no reading to keep, so the listed one needs only to stay
    within the non-word bound; a legible word keeps the small bonus (it may be a rare surname)."""
    return SURNAME_BONUS if is_vietnamese_syllable(first_word) else NON_WORD_MAX_OVERRIDE


def rescore_surname(llp: LineLogProbs, decoded: DecodedLine) -> DecodedLine:
    """The first line of a name cell with its first word checked against the surname list."""
    text = decoded.reading.text
    first, space, rest = text.partition(" ")
    names, listed = ranked_surnames()
    if not first or first in listed:
        return decoded
    near = [c for c, _, _ in process.extract(first, names, scorer=Levenshtein.distance, limit=SHORTLIST,
                                              score_cutoff=MAX_EDITS)]
    candidates = dict.fromkeys([*near, *names[:ALWAYS_TRIED]])
    current = text_log_likelihood(llp, text)
    scored = [(text_log_likelihood(llp, f"{c}{space}{rest}"), c) for c in candidates]
    best_ll, best = max(scored)
    if best_ll + _bonus(first) <= current or current - best_ll > _limit(first, best):
        return decoded
    reading = reading_for_text(llp, f"{best}{space}{rest}")
    if reading is None:
        return decoded
    alternatives = [a for a in dict.fromkeys([text, *decoded.alternatives]) if a != reading.text]
    return DecodedLine(reading, decoded.greedy, reading.text, alternatives, used_lexicon=True,
                       repair_nats=decoded.repair_nats + max(0.0, current - best_ll))
