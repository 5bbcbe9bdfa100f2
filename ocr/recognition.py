"""Cell images -> field proposals with calibrated confidence.

For CTC engines each line is decoded twice: plain greedy, and constrained by what the
field may contain (Vietnamese syllables and name/place lexicons, closed value lists,
character classes for dates and numbers). The constrained reading wins only on evidence
(see :func:`ocr.decoding.constrained_decode`); disagreement lowers the confidence and the
other reading is kept as an alternative. All lines of a record (or page) go to the
recognizer in one call so it can batch lines of similar width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from ocr.confidence import Calibrator, ConfidenceFeatures, char_prob_summary, load_calibrator
from ocr.decoding import DecodedLine, DecodingConstraints, closed_set_decode, constrained_decode
from ocr.engines.base import CTCRecognizer, LineLogProbs, Recognizer
from ocr.fields.normalize import normalize
from ocr.fields.validate import validate
from ocr.types import CellImage, CharConfidence, FieldProposal, LedgerLayout, LineReading, PageAnalysis

# The page pipeline decides emptiness from ink; on synthetic pages it is right far more
# often than this, but a blank cell proposal is never "certain" (faint ink exists).
EMPTY_CELL_CONFIDENCE = 0.97
# A cell with ink from which nothing was read: "" is almost surely not what is written.
UNREAD_INK_CONFIDENCE = 0.05

# Log-space scores for completed words (see DecodingConstraints.word_score).
LEXICON_WORD_BONUS = 1.5
NON_SYLLABLE_PENALTY = -3.0
# Log-prior of a character outside the expected class (letters in a date): soft, so that a
# clearly written unexpected character still wins.
OFF_CLASS_CHAR_PENALTY = -4.0
NUMERIC_CHARS = frozenset("0123456789/.- ")


@dataclass(frozen=True)
class FieldLexicon:
    """What the field knowledge (ocr.fields) says about the words of one field type."""

    closed_values: tuple[str, ...] = ()  # sex, ethnicity, nationality: all accepted spellings
    word_score: Callable[[str], float] | None = None  # log-score of a completed word
    is_known_word: Callable[[str], bool] | None = None  # for the lexicon-share feature


def _word_lexicon(field_type: str) -> FieldLexicon:
    """Names and places: lexicon words get a bonus, impossible Vietnamese syllables a penalty."""
    try:
        from ocr.fields.lexicon import lexicon_for
        from ocr.fields.syllables import is_vietnamese_syllable
    except ImportError:  # field knowledge not installed yet: plain greedy decoding
        return FieldLexicon()
    lexicon = lexicon_for(field_type)

    def score(word: str) -> float:
        if lexicon.contains_word(word):
            return LEXICON_WORD_BONUS
        return 0.0 if is_vietnamese_syllable(word) else NON_SYLLABLE_PENALTY

    def plausible(word: str) -> bool:
        return lexicon.contains_word(word) or is_vietnamese_syllable(word)

    return FieldLexicon(word_score=score, is_known_word=plausible)


def _closed_values(field_type: str) -> tuple[str, ...]:
    from ocr.fields.catalogs import country_catalog, ethnicity_catalog, sex_catalog

    catalog = {"sex": sex_catalog, "ethnicity": ethnicity_catalog, "nationality": country_catalog}[field_type]()
    spellings = {s for s, _ in catalog.spellings()}
    return tuple(sorted(spellings | {s.upper() for s in spellings}))


@cache
def field_lexicon(field_type: str) -> FieldLexicon:
    if field_type in ("sex", "ethnicity", "nationality"):
        return FieldLexicon(closed_values=_closed_values(field_type))
    if field_type in ("person_name", "place"):
        return _word_lexicon(field_type)
    return FieldLexicon()


@cache
def field_constraints(field_type: str, alphabet: tuple[str, ...]) -> DecodingConstraints | None:
    """Beam-search constraints for a field type (None: greedy only)."""
    if field_type in ("date", "registration_no"):
        prior = np.array([0.0 if ch in NUMERIC_CHARS else OFF_CLASS_CHAR_PENALTY for ch in alphabet])
        return DecodingConstraints(char_log_prior=prior)
    lexicon = field_lexicon(field_type)
    if lexicon.word_score is not None:
        return DecodingConstraints(word_score=lexicon.word_score)
    return None


def decode_line(llp: LineLogProbs, field_type: str) -> DecodedLine:
    lexicon = field_lexicon(field_type)
    if lexicon.closed_values:
        return closed_set_decode(llp, lexicon.closed_values)
    return constrained_decode(llp, field_constraints(field_type, llp.alphabet))


def read_decoded(recognizer: Recognizer, lines: Sequence[np.ndarray], field_types: Sequence[str]) -> list[DecodedLine]:
    """Read and decode many lines in one recognizer call (each with its field type)."""
    if not lines:
        return []
    if isinstance(recognizer, CTCRecognizer):
        return [decode_line(llp, ft) for llp, ft in zip(recognizer.line_log_probs(lines), field_types, strict=True)]
    return [DecodedLine(r, r, r.text) for r in recognizer.read_lines(lines)]


def _join_chars(readings: list[LineReading]) -> list[CharConfidence]:
    """Characters of all lines; a zero-width space marks each line break."""
    chars: list[CharConfidence] = []
    for i, reading in enumerate(readings):
        if i:
            chars.append(CharConfidence(" ", 1.0, 0, 0))
        chars.extend(reading.chars)
    return chars


def lexicon_share(value: str, field_type: str) -> float:
    """Share of the value's words the field's lexicon accepts (1.0 when no lexicon applies)."""
    lexicon = field_lexicon(field_type)
    if lexicon.closed_values:
        return 1.0 if value in lexicon.closed_values else 0.0
    if lexicon.is_known_word is None:
        return 1.0
    words = "".join(ch if ch.isalpha() else " " for ch in value).split()
    if not words:
        return 0.0
    return sum(lexicon.is_known_word(w) for w in words) / len(words)


def proposal_from_lines(
    key: str,
    field_type: str,
    decoded: list[DecodedLine],
    engine: str,
    calibrator: Calibrator | None = None,
) -> FieldProposal:
    """Combine decoded lines of one cell into a proposal with calibrated confidence."""
    calibrator = calibrator or load_calibrator()
    readings = [d.reading for d in decoded]
    value = normalize(field_type, " ".join(r.text for r in readings))
    if not value:
        return FieldProposal(key, "", UNREAD_INK_CONFIDENCE, engine=engine)
    issues = validate(field_type, value)
    chars = _join_chars(readings)
    min_prob, mean_prob = char_prob_summary(chars)
    features = ConfidenceFeatures(
        field_type=field_type,
        min_char_prob=min_prob,
        mean_char_prob=mean_prob,
        agreement=all(d.agreement for d in decoded),
        lexicon_share=lexicon_share(value, field_type),
        validator_ok=not any(i.severity == "error" for i in issues),
        used_lexicon=any(d.used_lexicon for d in decoded),
        n_chars=len(value),
    )
    alternatives = []
    for i, d in enumerate(decoded):
        for alt in d.alternatives:
            texts = [alt if j == i else r.text for j, r in enumerate(readings)]
            alt_value = normalize(field_type, " ".join(texts))
            if alt_value and alt_value != value and alt_value not in alternatives:
                alternatives.append(alt_value)
    return FieldProposal(
        key=key,
        value=value,
        confidence=round(calibrator.probability(features), 4),
        chars=chars,
        alternatives=alternatives,
        messages=[i.message for i in issues],
        engine=engine + ("+lexicon" if features.used_lexicon else ""),
    )


def empty_proposal(key: str, engine: str) -> FieldProposal:
    return FieldProposal(key, "", EMPTY_CELL_CONFIDENCE, engine=engine)


def propose_field(
    cell: CellImage, field_type: str, recognizer: Recognizer, calibrator: Calibrator | None = None
) -> FieldProposal:
    """Proposal for one cell: "" when empty; multi-line cells are read line by line and joined."""
    return propose_cells([(cell, field_type)], recognizer, calibrator)[0]


def propose_cells(
    cells: Sequence[tuple[CellImage, str]], recognizer: Recognizer, calibrator: Calibrator | None = None
) -> list[FieldProposal]:
    """Proposals for many (cell, field_type) pairs with a single recognizer call."""
    lines: list[np.ndarray] = []
    types: list[str] = []
    owners: list[int] = []
    for index, (cell, field_type) in enumerate(cells):
        if cell.is_empty:
            continue
        for line in cell.lines:
            lines.append(line)
            types.append(field_type)
            owners.append(index)
    decoded = read_decoded(recognizer, lines, types)
    per_cell: list[list[DecodedLine]] = [[] for _ in cells]
    for owner, d in zip(owners, decoded, strict=True):
        per_cell[owner].append(d)
    proposals = []
    for (cell, field_type), cell_lines in zip(cells, per_cell, strict=True):
        if cell.is_empty or not cell_lines:
            proposals.append(empty_proposal(cell.key, recognizer.name))
        else:
            proposals.append(proposal_from_lines(cell.key, field_type, cell_lines, recognizer.name, calibrator))
    return proposals


def _field_types(layout: LedgerLayout) -> dict[str, str]:
    return {c.key: c.field_type for c in layout.columns}


def propose_record(
    cells: Sequence[CellImage], layout: LedgerLayout, recognizer: Recognizer, calibrator: Calibrator | None = None
) -> dict[str, FieldProposal]:
    """Proposals for all cells of one record, keyed by field key."""
    types = _field_types(layout)
    pairs = [(c, types.get(c.key, "free_text")) for c in cells]
    return {p.key: p for p in propose_cells(pairs, recognizer, calibrator)}


def propose_page(
    analysis: PageAnalysis, layout: LedgerLayout, recognizer: Recognizer, calibrator: Calibrator | None = None
) -> list[dict[str, FieldProposal]]:
    """Proposals for every record of a page (one recognizer call for the whole page)."""
    types = _field_types(layout)
    pairs = [(c, types.get(c.key, "free_text")) for r in analysis.records for c in r.cells]
    proposals = iter(propose_cells(pairs, recognizer, calibrator))
    return [{c.key: next(proposals) for c in r.cells} for r in analysis.records]
