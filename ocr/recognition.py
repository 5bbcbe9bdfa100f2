"""Cell images -> field proposals with calibrated confidence.

For CTC engines each line is decoded twice: plain greedy, and constrained by what the
field may contain (Vietnamese syllables and name/place lexicons, closed value lists,
character classes for dates and numbers). The constrained reading wins only on evidence
(see :func:`ocr.read.decoding.constrained_decode`); disagreement lowers the confidence and the
other reading is kept as an alternative. All lines of a record (or page) go to the
recognizer in one call so it can batch lines of similar width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache

import numpy as np
from rapidfuzz.distance import Levenshtein

from ocr.confidence import (
    COLUMN_DOUBT_WARNINGS,
    CONTRADICTION_MAX_CONFIDENCE,
    GRID_DOUBT_WARNINGS,
    Calibrator,
    ConfidenceBands,
    ConfidenceFeatures,
    char_prob_summary,
    load_calibrator,
    page_out_of_depth,
    with_page_sureness,
)
from ocr.fields.catalogs import country_catalog, ethnicity_catalog, sex_catalog
from ocr.fields.dates import padding_mismatch
from ocr.fields.grammars import field_grammar
from ocr.fields.issues import FieldIssue
from ocr.fields.lexicon import Lexicon, lexicon_for
from ocr.fields.local_lexicon import LocalLexicon, merged_lexicon
from ocr.fields.names import capitalised_words
from ocr.fields.normalize import normalize
from ocr.fields.syllables import is_vietnamese_syllable
from ocr.fields.validate import (
    ALWAYS_WRITTEN_TYPES,
    NAME_WORD_LOWERCASE,
    UNUSUAL_REGISTRATION_NO,
    cross_field_issues,
    day_missing_issues,
    empty_among_written_issues,
    registration_date_order_issues,
    validate,
)
from ocr.page_warnings import PageWarning, warning_codes
from ocr.places.decoding import decode_place_cell
from ocr.places.index import HomeArea, place_index
from ocr.places.place_check import PLACE_REREAD, place_rival
from ocr.places.run_together import UNITS_RUN_TOGETHER, units_run_together
from ocr.read.decoding import (
    DecodedLine,
    DecodingConstraints,
    closed_set_decode,
    constrained_decode,
    join_lines,
    line_reading,
    reading_for_text,
    without_trailing_mark,
)
from ocr.read.digit_check import DIGIT_CHECK_TYPES, DIGIT_READERS_DIFFER, DIGITS_REREAD, cross_check
from ocr.read.engines.base import CTCRecognizer, LineLogProbs, Recognizer
from ocr.read.engines.ppocr_second import get_second_reader
from ocr.read.name_decoding import rescore_surname
from ocr.read.page_context import (
    REGISTRATION_DATE_KEY,
    REGISTRATION_NO_KEY,
    CellEvidence,
    apply_page_context,
    registration_no_run_issues,
)
from ocr.read.second_look import SECOND_LOOK_TYPES, SECOND_READING_DIFFERS, widened
from ocr.read.surname_check import SURNAME_REREAD, surname_rival
from ocr.read.word_check import NAME_WORDS_REREAD, TEXT_WORDS_REREAD, word_rivals
from ocr.types import CellImage, CharConfidence, FieldProposal, LedgerLayout, PageAnalysis

# The page pipeline decides emptiness from ink; on synthetic pages it is right far more
# often than this, but a blank cell proposal is never "certain" (faint ink exists).
EMPTY_CELL_CONFIDENCE = 0.97
# A cell with ink from which nothing was read: "" is almost surely not what is written.
UNREAD_INK_CONFIDENCE = 0.05
# "Empty" is a claim like any other: a cell judged empty that still holds this many writing-like
# ink pixels (too little for a text line, or strokes given to a neighbour: a short "Nữ" in a
# narrow column) is a doubtful empty, for an official to look at.
EMPTY_WITH_INK_PIXELS = 25
EMPTY_WITH_INK_CONFIDENCE = 0.3
# On a page whose columns or grid were guessed or disagree with the template, a cell may be cut
# across the wrong rulings and its writing sit in the neighbour's cell: "empty" is then not sure.
EMPTY_ON_DOUBTFUL_GRID_CONFIDENCE = 0.85
PADDING_MISMATCH = FieldIssue(
    "date_padding_mismatch", "Ngày và tháng viết không cùng kiểu (một phần có số 0 ở đầu): có thể thiếu một chữ số",
    severity="warning")
# Warnings that doubt the reading itself, capped as a contradiction is: a date padded unlike itself,
# a registration number of a form books do not write ("19S" for "195", read at 0.995 on a fresh seed),
# unit names with no comma between them ("Hòa An Cao Bằng"), a name word not capitalised ("Trần Thu loan").
DOUBTING_ISSUES = frozenset({PADDING_MISMATCH.code, UNUSUAL_REGISTRATION_NO.code, UNITS_RUN_TOGETHER.code,
                             NAME_WORD_LOWERCASE.code})

# Word scores for the beam (see DecodingConstraints.word_score): LM_WEIGHT * ln P(word) + bonus.
LM_WEIGHT = 0.6
WORD_INSERTION_BONUS = LM_WEIGHT * 8.0
# Log-prior of a character outside the expected class (letters in a date): soft, so that a
# clearly written unexpected character still wins.
OFF_CLASS_CHAR_PENALTY = -4.0
NUMERIC_CHARS = frozenset("0123456789/.- ")
# Characters a field of that type practically never holds (soft: a clear one still wins).
UNEXPECTED_CHARS = {
    "person_name": frozenset("0123456789.,;:!?()[]{}/%+$&=*#@_\\<>°\"-"),
    "place": frozenset(".;:!?()[]{}%+$&=*#@_\\<>°\""),
}
# Fields whose last word ends the value: a weak mark read after it is dropped (without_trailing_mark).
TRAILING_MARK_TYPES = frozenset({"person_name", "place", "free_text"})
# Log-prior of a lowercase letter where the writer capitalises (start of a name word, of a place
# or a note): soft, a clearly written lowercase letter still wins.
LOWERCASE_START_PENALTY = -1.5
LOWERCASE_NAME_PENALTY = -3.0  # names: every word capitalised, practically always
# Closed lists (sex, ethnicity, country): a value outside the list is almost never written, so
# the likeliest listed value replaces the greedy reading unless the greedy text is this many
# nats likelier (the greedy reading stays as an alternative and lowers the confidence).
CLOSED_SET_MAX_OVERRIDE = 1e9
CLOSED_VARIANT_SHARE = 0.5  # lexicon-share feature of a closed-list value that is not the catalog's spelling


@dataclass(frozen=True)
class FieldLexicon:
    """What the field knowledge (ocr.fields) says about the words of one field type."""

    closed_values: tuple[str, ...] = ()  # sex, ethnicity, nationality: all accepted spellings
    common: tuple[str, ...] = ()  # the most frequent closed values, always considered
    preferred: frozenset[str] = frozenset()  # the catalog's own spellings (over variants)
    word_score: Callable[[str], float] | None = None  # log-score of a completed word
    is_known_word: Callable[[str], bool] | None = None  # a word the decoders allow (any valid syllable too)
    is_field_word: Callable[[str], bool] | None = None  # for the lexicon-share feature (Lexicon.is_field_word)
    marks_likely_missed: Callable[[str], bool] | None = None  # ditto: a known word read bare of its marks


def _word_lexicon(field_type: str) -> FieldLexicon:
    """Names, places, free text: words scored by the field's unigram lexicon (ocr.fields)."""
    return _scored_words(lexicon_for(field_type))


def _scored_words(lexicon: Lexicon) -> FieldLexicon:
    def score(word: str) -> float:
        # lambda * ln P(word) plus a per-word constant so that a typical lexicon word scores ~0
        # and an out-of-lexicon word ~ LM_WEIGHT * (oov - typical).
        return LM_WEIGHT * lexicon.word_score(word) + WORD_INSERTION_BONUS

    return FieldLexicon(word_score=score, is_known_word=lexicon.is_word, is_field_word=lexicon.is_field_word,
                        marks_likely_missed=lexicon.marks_likely_missed)


def _closed_lexicon(field_type: str) -> FieldLexicon:
    catalog = {"sex": sex_catalog, "ethnicity": ethnicity_catalog, "nationality": country_catalog}[field_type]()
    spellings = {s for s, _ in catalog.spellings()}
    # Catalogs list the usual values first (Việt Nam, Kinh, Nam/Nữ).
    return FieldLexicon(closed_values=tuple(sorted(spellings | {s.upper() for s in spellings})),
                        common=catalog.values[:2], preferred=frozenset(catalog.values))


@cache
def field_lexicon(field_type: str) -> FieldLexicon:
    if field_type in ("sex", "ethnicity", "nationality"):
        return _closed_lexicon(field_type)
    if field_type in ("person_name", "place", "free_text"):
        return _word_lexicon(field_type)
    return FieldLexicon()


# Merged lexicons/constraints kept per process for (field type, unit lexicon) pairs: a batch
# reads one unit's pages, a re-recognition job a few units in turn; bounded so a long-lived
# server does not keep every unit's lexicon it ever saw.
LOCAL_CACHE_SIZE = 16


def _local_applies(field_type: str, local: LocalLexicon) -> bool:
    """Does the unit's lexicon add words to this field type? (open word lexicons only)"""
    return field_type in local.field_types and field_lexicon(field_type).word_score is not None


def lexicon_with_local(field_type: str, local: LocalLexicon | None = None) -> FieldLexicon:
    """``field_lexicon`` plus the unit's confirmed words (the cached shipped one when none apply)."""
    if local is None or not _local_applies(field_type, local):
        return field_lexicon(field_type)
    return _local_field_lexicon(field_type, local)


@lru_cache(maxsize=LOCAL_CACHE_SIZE)
def _local_field_lexicon(field_type: str, local: LocalLexicon) -> FieldLexicon:
    return _scored_words(merged_lexicon(lexicon_for(field_type), local))


def _char_prior(alphabet: tuple[str, ...], expected: frozenset[str] | None, unexpected: frozenset[str]) -> np.ndarray:
    """Log-prior per character: OFF_CLASS_CHAR_PENALTY outside ``expected`` or inside ``unexpected``."""
    return np.array([
        OFF_CLASS_CHAR_PENALTY if (expected is not None and ch not in expected) or ch in unexpected else 0.0
        for ch in alphabet
    ])


def _lowercase_start_prior(alphabet: tuple[str, ...], penalty: float) -> np.ndarray:
    """``penalty`` for a lowercase letter where a capital is expected."""
    return np.array([penalty if ch.islower() else 0.0 for ch in alphabet])


def _impossible_word(lexicon: FieldLexicon) -> Callable[[str], bool]:
    known = lexicon.is_known_word

    def impossible(word: str) -> bool:
        return not is_vietnamese_syllable(word) and not (known is not None and known(word))

    return impossible


@cache
def field_constraints(field_type: str, alphabet: tuple[str, ...]) -> DecodingConstraints | None:
    """Beam-search constraints for a field type (None: greedy only)."""
    grammar = field_grammar(field_type)
    if grammar is not None:
        return DecodingConstraints(char_log_prior=_char_prior(alphabet, NUMERIC_CHARS, frozenset()), grammar=grammar)
    lexicon = field_lexicon(field_type)
    if lexicon.word_score is None:
        return None
    unexpected = UNEXPECTED_CHARS.get(field_type, frozenset())
    prior = _char_prior(alphabet, None, unexpected) if unexpected else None
    return DecodingConstraints(
        char_log_prior=prior,
        word_score=lexicon.word_score,
        # Names capitalise every word; places and notes their first word (first line only).
        word_start_log_prior=(
            _lowercase_start_prior(alphabet, LOWERCASE_NAME_PENALTY) if field_type == "person_name" else None
        ),
        start_log_prior=(
            _lowercase_start_prior(alphabet, LOWERCASE_START_PENALTY) if field_type in ("place", "free_text") else None
        ),
        impossible_word=_impossible_word(lexicon),
    )


def constraints_for(
    field_type: str, alphabet: tuple[str, ...], local: LocalLexicon | None = None
) -> DecodingConstraints | None:
    """``field_constraints`` whose word score also knows the unit's confirmed words."""
    base = field_constraints(field_type, alphabet)
    if base is None or base.word_score is None or local is None or not _local_applies(field_type, local):
        return base
    return _local_constraints(field_type, alphabet, local)


@lru_cache(maxsize=LOCAL_CACHE_SIZE)
def _local_constraints(field_type: str, alphabet: tuple[str, ...], local: LocalLexicon) -> DecodingConstraints:
    base = field_constraints(field_type, alphabet)
    assert base is not None
    lexicon = _local_field_lexicon(field_type, local)
    # A confirmed local word ("Ktul") is a known word, never an "impossible" one.
    impossible = _impossible_word(lexicon) if base.impossible_word is not None else None
    return replace(base, word_score=lexicon.word_score, impossible_word=impossible)


def _line_constraints(constraints: DecodingConstraints | None, line_index: int) -> DecodingConstraints | None:
    """The field's first-character prior applies to the first line of the cell only."""
    if constraints is None or line_index == 0 or constraints.start_log_prior is None:
        return constraints
    return replace(constraints, start_log_prior=None)


def home_area(local: LocalLexicon | None) -> HomeArea | None:
    """The home area of the book whose unit path ``local`` carries (None: unknown or not in the
    gazetteer)."""
    if local is None or not local.home:
        return None
    return place_index().home_area(local.home) or None


def decode_cell(lines: list[LineLogProbs], field_type: str, local: LocalLexicon | None = None) -> list[DecodedLine]:
    """Decode the lines of one cell; a closed value list is matched against all lines at once;
    ``local``: the unit's confirmed words and, for places, the book's unit path."""
    lexicon = field_lexicon(field_type)
    if lexicon.closed_values:
        joined = join_lines(lines)
        return [
            closed_set_decode(joined, lexicon.closed_values, CLOSED_SET_MAX_OVERRIDE, always=lexicon.common,
                              preferred=lexicon.preferred)
        ]
    if field_grammar(field_type) is not None:
        lines = [join_lines(lines)]  # a date or number wrapped onto two lines is still one value
    decoded = [
        constrained_decode(llp, _line_constraints(constraints_for(field_type, llp.alphabet, local), i))
        for i, llp in enumerate(lines)
    ]
    if field_type in TRAILING_MARK_TYPES and decoded:
        decoded[-1] = without_trailing_mark(lines[-1], decoded[-1])
    if field_type == "place":
        decoded = decode_place_cell(lines, decoded, home_area(local))
    if field_type == "person_name" and decoded:
        decoded[0] = rescore_surname(lines[0], decoded[0])
    return decoded


def decode_cells(
    cell_evidence: Sequence[list[LineLogProbs]],
    field_types: Sequence[str],
    local: LocalLexicon | None = None,
    places: Sequence[tuple[int, str]] | None = None,
) -> list[list[DecodedLine]]:
    """Decode many cells' frames (see ``read_cells`` for ``places``)."""
    decoded = [
        decode_cell(lines, ft, local) if lines else [] for lines, ft in zip(cell_evidence, field_types, strict=True)
    ]
    if places is None:
        return decoded
    return apply_page_context([
        CellEvidence(record, key, lines, cell_decoded)
        for (record, key), lines, cell_decoded in zip(places, cell_evidence, decoded, strict=True)
    ])


def cell_frames(recognizer: Recognizer, cell_lines: Sequence[Sequence[np.ndarray]]
                ) -> list[list[LineLogProbs]] | None:
    """The frames of every line of many cells, in one recognizer call (None: not a CTC recognizer)."""
    if not isinstance(recognizer, CTCRecognizer):
        return None
    flat = [line for lines in cell_lines for line in lines]
    frames = iter(recognizer.line_log_probs(flat) if flat else [])
    return [[next(frames) for _ in lines] for lines in cell_lines]


def read_cells(
    recognizer: Recognizer,
    cell_lines: Sequence[Sequence[np.ndarray]],
    field_types: Sequence[str],
    local: LocalLexicon | None = None,
    places: Sequence[tuple[int, str]] | None = None,
    frames: Sequence[list[LineLogProbs]] | None = None,
) -> list[list[DecodedLine]]:
    """Read the lines of many cells in one recognizer call; decoded lines per cell.

    ``places`` ((record index, field key) per cell, for a whole page) lets the page's
    registration-number run and registration year correct misreads (ocr.read.page_context);
    ``frames``: the cells' frames when the caller already has them (cell_frames).
    """
    if not any(cell_lines):
        return [[] for _ in cell_lines]
    frames = frames if frames is not None else cell_frames(recognizer, cell_lines)
    if frames is not None:
        return decode_cells(frames, field_types, local, places)
    readings = iter(recognizer.read_lines([line for lines in cell_lines for line in lines]))
    decoded = []
    for lines in cell_lines:
        cell_readings = [next(readings) for _ in lines]
        decoded.append([DecodedLine(r, r, r.text) for r in cell_readings])
    return decoded


def lexicon_share(value: str, field_type: str, local: LocalLexicon | None = None) -> float:
    """Share of the value's words the field's own sources know (with the unit's words; a word that is
    only a valid syllable does not count: Lexicon.is_field_word) (1.0: no lexicon),
    a word bare of the marks its usual spelling has counting CLOSED_VARIANT_SHARE; closed lists: 1.0
    for the catalog's spelling, CLOSED_VARIANT_SHARE for a listed variant, else 0."""
    lexicon = lexicon_with_local(field_type, local)
    if lexicon.closed_values:
        if value in lexicon.preferred or (value.isupper() and value in {p.upper() for p in lexicon.preferred}):
            return 1.0  # the catalog's spelling, also in capitals
        # A listed variant ("Viet Nam", "HMông") is written now and then, but far more often it is
        # the catalog spelling with a mark the reader missed: half the evidence of the catalog's own.
        return CLOSED_VARIANT_SHARE if value in lexicon.closed_values else 0.0
    field_word = lexicon.is_field_word
    if field_word is None:
        return 1.0
    words = "".join(ch if ch.isalpha() else " " for ch in value).split()
    if not words:
        return 0.0
    missed = lexicon.marks_likely_missed or (lambda _: False)
    # A word read bare of the marks its usual spelling has ("Tran", "Thon") is, as a closed list's
    # variant spelling, half the evidence of a word read as the field's sources have it.
    return sum(CLOSED_VARIANT_SHARE if missed(w) else float(field_word(w)) for w in words) / len(words)


@dataclass
class FieldReading:
    """The normalized value of one cell and the evidence about it (before calibration)."""

    value: str
    features: ConfidenceFeatures
    char_lines: list[list[CharConfidence]]  # per decoded line, top to bottom
    alternatives: list[str]
    issues: list[FieldIssue]


def repair_edit_share(decoded: list[DecodedLine], value: str) -> float:
    """Share of the value's letters that differ from the greedy reading, when the decoders
    replaced it (0.0 when the value is what was read)."""
    if not value or not any(d.used_lexicon for d in decoded):
        return 0.0
    read = " ".join(d.greedy.text for d in decoded)
    return Levenshtein.distance(read.lower(), value.lower()) / len(value)


def read_field(field_type: str, decoded: list[DecodedLine], local: LocalLexicon | None = None,
               lines: int | None = None, page_warnings: Sequence[str] = ()) -> FieldReading:
    """Join the decoded lines of a cell, normalize, validate and collect the evidence.

    ``lines``: text lines the pipeline cut in the cell (default: the decoded lines; closed lists
    and grammars join a wrapped cell into one, so callers that know the cell pass its count);
    ``page_warnings``: the page's QA codes (PageAnalysis.warnings), doubt about every cell of it.
    """
    readings = [d.reading for d in decoded]
    written = " ".join(r.text for r in readings)
    value = normalize(field_type, written)
    issues = validate(field_type, value) if value else []
    if field_type == "date" and padding_mismatch(written):
        issues.append(PADDING_MISMATCH)
    if field_type == "place" and value and units_run_together(value):
        issues.append(UNITS_RUN_TOGETHER)
    char_lines = [list(r.chars) for r in readings]
    min_prob, mean_prob = char_prob_summary([c for line in char_lines for c in line])
    features = ConfidenceFeatures(
        field_type=field_type,
        min_char_prob=min_prob,
        mean_char_prob=mean_prob,
        agreement=all(d.agreement for d in decoded),
        lexicon_share=lexicon_share(value, field_type, local),
        validator_ok=not any(i.severity == "error" for i in issues),
        used_lexicon=any(d.used_lexicon for d in decoded),
        n_chars=len(value),
        repair_nats=sum(d.repair_nats for d in decoded),
        repair_edits=repair_edit_share(decoded, value),
        contradiction=any(i.code in DOUBTING_ISSUES for i in issues),
        lines=len(decoded) if lines is None else lines,
        page_warnings=tuple(page_warnings),
        rival=max((d.greedy.rival for d in decoded), default=0.0),
    )
    alternatives: list[str] = []
    for i, d in enumerate(decoded):
        for alt in d.alternatives:
            texts = [alt if j == i else r.text for j, r in enumerate(readings)]
            alt_value = normalize(field_type, " ".join(texts))
            if alt_value and alt_value != value and alt_value not in alternatives:
                alternatives.append(alt_value)
    if NAME_WORD_LOWERCASE in issues:  # the capitals the registry writes, one click away
        alternatives = [capitalised_words(value), *(a for a in alternatives if a != capitalised_words(value))]
    return FieldReading(value, features, char_lines, alternatives, issues)


def proposal_from_lines(
    key: str,
    field_type: str,
    decoded: list[DecodedLine],
    engine: str,
    calibrator: Calibrator | None = None,
    local: LocalLexicon | None = None,
    lines: int | None = None,
    page_warnings: Sequence[str] = (),
) -> FieldProposal:
    """Combine decoded lines of one cell into a proposal with calibrated confidence (``lines``,
    ``page_warnings``: see ``read_field``)."""
    return proposal_from_reading(key, read_field(field_type, decoded, local, lines, page_warnings), engine, calibrator)


def proposal_from_reading(key: str, reading: FieldReading, engine: str, calibrator: Calibrator | None = None
                          ) -> FieldProposal:
    """The proposal of one read cell, its confidence from ``reading``'s features."""
    if not reading.value:
        return FieldProposal(key, "", UNREAD_INK_CONFIDENCE, engine=engine)
    calibrator = calibrator or load_calibrator()
    return FieldProposal(
        key=key,
        value=reading.value,
        confidence=round(calibrator.probability(reading.features), 4),
        char_lines=reading.char_lines,
        alternatives=reading.alternatives,
        issues=list(reading.issues),
        engine=engine + ("+lexicon" if reading.features.used_lexicon else ""),
    )


def empty_proposal(key: str, engine: str, ink_pixels: int = 0, page_warnings: Sequence[str] = (),
                   faint_ink: bool = False) -> FieldProposal:
    """"" for a cell judged empty; confident only when no writing-like ink lies in it, not even too
    pale for the text mask (``faint_ink``), and the page's columns and grid were found as the
    template expects (``page_warnings``: the page's QA codes)."""
    if ink_pixels >= EMPTY_WITH_INK_PIXELS or faint_ink:
        confidence = EMPTY_WITH_INK_CONFIDENCE
    elif COLUMN_DOUBT_WARNINGS.intersection(page_warnings) or GRID_DOUBT_WARNINGS.intersection(page_warnings):
        confidence = EMPTY_ON_DOUBTFUL_GRID_CONFIDENCE
    else:
        confidence = EMPTY_CELL_CONFIDENCE
    return FieldProposal(key, "", confidence, engine=engine)


def propose_field(
    cell: CellImage,
    field_type: str,
    recognizer: Recognizer,
    calibrator: Calibrator | None = None,
    local: LocalLexicon | None = None,
) -> FieldProposal:
    """Proposal for one cell: "" when empty; multi-line cells are read line by line and joined."""
    return propose_cells([(cell, field_type)], recognizer, calibrator, local)[0]


def propose_cells(
    cells: Sequence[tuple[CellImage, str]],
    recognizer: Recognizer,
    calibrator: Calibrator | None = None,
    local: LocalLexicon | None = None,
    records: Sequence[int] | None = None,
    page_warnings: Sequence[str] = (),
    one_page: bool = False,
    second_reader: bool = True,
) -> list[FieldProposal]:
    """Proposals for many (cell, field_type) pairs with a single recognizer call; ``local``: the
    unit's confirmed words (see ``ocr.fields.local_lexicon``); ``records``: each cell's record
    index when the cells are a whole page (enables the page-context checks); ``page_warnings``:
    the QA codes of the page the cells come from (a guessed grid lowers every confidence); ``one_page``:
    the cells are (most of) one page, whose sureness is then evidence for each (page_sure_readings);
    ``second_reader``: False leaves out the second reader's checks (second_reader_checked), whose
    re-read values are scored by ``calibrator`` a second time."""
    cell_lines = [[] if cell.is_empty else cell.lines for cell, _ in cells]
    places = None if records is None else [(r, cell.key) for r, (cell, _) in zip(records, cells, strict=True)]
    frames = cell_frames(recognizer, cell_lines)
    decoded = read_cells(recognizer, cell_lines, [ft for _, ft in cells], local, places, frames)
    readings = [read_field(field_type, cell_decoded, local, len(cell.lines), page_warnings) if cell_decoded else None
                for (cell, field_type), cell_decoded in zip(cells, decoded, strict=True)]
    if one_page:  # how surely the page's hand is read is evidence for every field of it
        readings = page_sure_readings(readings)
    proposals = [empty_proposal(cell.key, recognizer.name, cell.ink_pixels, page_warnings, cell.faint_ink)
                 if reading is None
                 else proposal_from_reading(cell.key, reading, recognizer.name, calibrator)
                 for (cell, _), reading in zip(cells, readings, strict=True)]
    looked = second_looked(proposals, cells, recognizer, local)
    if not second_reader:
        return looked
    return second_reader_checked(looked, cells, recognizer, calibrator, local, frames)


# Proposals from this confidence on are read a second time (ocr.read.second_look).
SECOND_LOOK_FROM = ConfidenceBands().high


def second_looked(
    proposals: Sequence[FieldProposal],
    cells: Sequence[tuple[CellImage, str]],
    recognizer: Recognizer,
    local: LocalLexicon | None = None,
) -> list[FieldProposal]:
    """``proposals`` (one per cell), those about to be sure of a type a single character decides
    (SECOND_LOOK_TYPES) read again from their lines drawn wider, in one recognizer call; where the
    second reading differs, capped below the high band with the reason, the second reading offered."""
    chosen = [i for i, ((cell, field_type), proposal) in enumerate(zip(cells, proposals, strict=True))
              if proposal.value and proposal.confidence >= SECOND_LOOK_FROM and cell.lines
              and field_type in SECOND_LOOK_TYPES]
    if not chosen:
        return list(proposals)
    decoded = read_cells(recognizer, [[widened(line) for line in cells[i][0].lines] for i in chosen],
                         [cells[i][1] for i in chosen], local)
    looked = list(proposals)
    for i, cell_decoded in zip(chosen, decoded, strict=True):
        cell, field_type = cells[i]
        second = read_field(field_type, cell_decoded, local, len(cell.lines)).value if cell_decoded else ""
        if second != proposals[i].value:
            doubted = _contradicted(proposals[i], [SECOND_READING_DIFFERS])
            offered = [second] if second and second not in doubted.alternatives else []
            looked[i] = replace(doubted, alternatives=[*offered, *doubted.alternatives])
    return looked


def _acceptable(field_type: str) -> Callable[[str], bool]:
    return lambda value: not any(i.severity == "error" for i in validate(field_type, value))


def second_reader_checked(
    proposals: Sequence[FieldProposal],
    cells: Sequence[tuple[CellImage, str]],
    recognizer: Recognizer,
    calibrator: Calibrator | None = None,
    local: LocalLexicon | None = None,
    frames: Sequence[list[LineLogProbs]] | None = None,
) -> list[FieldProposal]:
    """``proposals`` (one per cell) weighed by the second reader (ocr.read.engines.ppocr_second):
    dates and registration numbers by its digits (ocr.read.digit_check: a date both readers read
    otherwise is replaced, a value with a close rival doubted); names and places not proposed as sure
    by its bare letters (a listed surname both prefer replaces the first word, ocr.read.surname_check;
    a syllable both prefer any other word, ocr.read.word_check; a place is rescored with the
    gazetteer on both readers' evidence, ocr.places.place_check).
    Every change is capped below the high band, with the reason and the other value offered.
    ``frames``: the cells' frames as first read (cell_frames), read again if not given. Unchanged
    without the second reader or a CTC recognizer."""
    second = get_second_reader()
    if second is None or not isinstance(recognizer, CTCRecognizer):
        return list(proposals)
    checked = list(proposals)
    engine = recognizer.name
    dates = [i for i, ((cell, field_type), proposal) in enumerate(zip(cells, checked, strict=True))
             if proposal.value and cell.lines and field_type in DIGIT_CHECK_TYPES]
    digits = iter(second.digit_frames([line for i in dates for line in cells[i][0].lines]))
    for i, primary in zip(dates, _first_frames(dates, cells, recognizer, frames), strict=True):
        seconds = [next(digits) for _ in primary]
        checked[i] = _digit_checked(checked[i], *cells[i], primary, seconds, engine, calibrator, local)
    # Names, free text and places below the high band: by the second reader's bare letters.
    lettered = [i for i, ((cell, field_type), proposal) in enumerate(zip(cells, checked, strict=True))
                if field_type in LETTER_CHECKS and proposal.value and proposal.confidence < SECOND_LOOK_FROM
                and cell.lines and len(proposal.char_lines) == len(cell.lines)]
    letters = iter(second.letter_frames([line for i in lettered for line in cells[i][0].lines]))
    for i, primary in zip(lettered, _first_frames(lettered, cells, recognizer, frames), strict=True):
        cell_letters = [next(letters) for _ in primary]
        check = LETTER_CHECKS[cells[i][1]]
        checked[i] = check(checked[i], *cells[i], primary, cell_letters, engine, calibrator, local)
    return checked


def _digit_checked(proposal: FieldProposal, cell: CellImage, field_type: str, primary: list[LineLogProbs],
                   second: list[LineLogProbs], engine: str, calibrator: Calibrator | None,
                   local: LocalLexicon | None) -> FieldProposal:
    """One date or number weighed by both readers' frames of its lines (ocr.read.digit_check)."""
    primary_frames = join_lines(primary)
    verdict = cross_check(proposal.value, field_type, primary_frames, join_lines(second), _acceptable(field_type))
    reading = reading_for_text(primary_frames, verdict.written) if verdict.switched else None
    if reading is not None:
        decoded = [DecodedLine(reading, reading, verdict.written, used_lexicon=True)]
        return _reread(proposal, cell, field_type, decoded, DIGITS_REREAD, engine, calibrator, local,
                       no_surer=verdict.unreadable)
    if not verdict.doubted:
        return proposal
    doubted = _contradicted(proposal, [DIGIT_READERS_DIFFER])
    offered = [verdict.rival] if verdict.rival not in doubted.alternatives else []
    return replace(doubted, alternatives=[*offered, *doubted.alternatives])


def _name_checked(proposal: FieldProposal, cell: CellImage, field_type: str, primary: list[LineLogProbs],
                  letters: list[LineLogProbs], engine: str, calibrator: Calibrator | None,
                  local: LocalLexicon | None) -> FieldProposal:
    """One name weighed by both readers' frames of its lines: its first word against the surname list
    (ocr.read.surname_check), every other word against the syllables (ocr.read.word_check)."""
    read = ["".join(c.char for c in chars) for chars in proposal.char_lines]
    lines, nats, issues = list(read), [0.0] * len(read), []
    if (surname := surname_rival(read[0], primary[0], letters[0])) is not None:
        lines[0], nats[0] = surname.line, surname.primary_nats
        issues.append(SURNAME_REREAD)
    for k, (frames, bare) in enumerate(zip(primary, letters, strict=True)):
        if (words := word_rivals(lines[k], frames, bare, first=1 if k == 0 else 0)) is not None:
            lines[k], nats[k] = words.line, nats[k] + words.primary_nats
            issues += [] if NAME_WORDS_REREAD in issues else [NAME_WORDS_REREAD]
    decoded = _relined(primary, proposal.char_lines, lines, nats) if issues else None
    if decoded is None:
        return proposal
    return _reread(proposal, cell, field_type, decoded, issues, engine, calibrator, local)


def _text_checked(proposal: FieldProposal, cell: CellImage, field_type: str, primary: list[LineLogProbs],
                  letters: list[LineLogProbs], engine: str, calibrator: Calibrator | None,
                  local: LocalLexicon | None) -> FieldProposal:
    """One free text's words weighed by both readers' frames against the syllables (ocr.read.word_check)."""
    read = ["".join(c.char for c in chars) for chars in proposal.char_lines]
    verdicts = [word_rivals(line, frames, bare, capitalised=False)
                for line, frames, bare in zip(read, primary, letters, strict=True)]
    if all(v is None for v in verdicts):
        return proposal
    lines = [v.line if v else line for v, line in zip(verdicts, read, strict=True)]
    decoded = _relined(primary, proposal.char_lines, lines, [v.primary_nats if v else 0.0 for v in verdicts])
    if decoded is None:
        return proposal
    return _reread(proposal, cell, field_type, decoded, TEXT_WORDS_REREAD, engine, calibrator, local)


def _relined(primary: list[LineLogProbs], char_lines: Sequence[Sequence[CharConfidence]], lines: list[str],
             nats: list[float]) -> list[DecodedLine] | None:
    """A cell's lines as decoded lines: a line read otherwise (``lines``) spelt on its frames, the
    reading as first read its alternative and ``nats`` what the first reader gave up for it; the others
    as read. None when a new line cannot be spelt on its frames."""
    decoded = []
    for frames, chars, after, given_up in zip(primary, char_lines, lines, nats, strict=True):
        before = "".join(c.char for c in chars)
        reading = reading_for_text(frames, after) if after != before else None
        if after != before and reading is None:
            return None
        decoded.append(_kept_line(chars) if reading is None
                       else DecodedLine(reading, reading, after, [before], used_lexicon=True, repair_nats=given_up))
    return decoded


def _place_checked(proposal: FieldProposal, cell: CellImage, field_type: str, primary: list[LineLogProbs],
                   letters: list[LineLogProbs], engine: str, calibrator: Calibrator | None,
                   local: LocalLexicon | None) -> FieldProposal:
    """One place weighed by both readers' frames of its lines with the gazetteer (ocr.places.place_check)."""
    rescored = place_rival(primary, letters, [_kept_line(chars) for chars in proposal.char_lines], home_area(local))
    if rescored is None:
        return proposal
    # The calibrator rates the re-read text as if one reader had read it: on the tuning families
    # those values averaged 0.43-0.50 and were 30-32% right; the first reading's 0.27-0.36 was honest.
    return _reread(proposal, cell, field_type, rescored, PLACE_REREAD, engine, calibrator, local, no_surer=True)


# One cell weighed by both readers: (proposal, cell, field type, first reader's frames of its lines,
# second reader's bare-letter frames of them, engine, calibrator, unit's words) -> proposal.
LetterCheck = Callable[[FieldProposal, CellImage, str, list[LineLogProbs], list[LineLogProbs], str,
                        Calibrator | None, LocalLexicon | None], FieldProposal]
LETTER_CHECKS: dict[str, LetterCheck] = {"person_name": _name_checked, "free_text": _text_checked,
                                         "place": _place_checked}


def _first_frames(chosen: Sequence[int], cells: Sequence[tuple[CellImage, str]], recognizer: CTCRecognizer,
                  frames: Sequence[list[LineLogProbs]] | None) -> list[list[LineLogProbs]]:
    """The chosen cells' frames as first read (``frames``, from cell_frames), or read again."""
    if frames is not None and all(len(frames[i]) == len(cells[i][0].lines) for i in chosen):
        return [frames[i] for i in chosen]
    if not chosen:
        return []
    first = iter(recognizer.line_log_probs([line for i in chosen for line in cells[i][0].lines]))
    return [[next(first) for _ in cells[i][0].lines] for i in chosen]


def _reread(proposal: FieldProposal, cell: CellImage, field_type: str, decoded: list[DecodedLine],
            issues: FieldIssue | Sequence[FieldIssue], engine: str, calibrator: Calibrator | None,
            local: LocalLexicon | None, no_surer: bool = False) -> FieldProposal:
    """The cell proposed as ``decoded`` reads it instead of ``proposal``: below the high band with
    ``issues``, what was proposed offered first; ``no_surer``: and no surer than ``proposal``."""
    reread = proposal_from_reading(cell.key, read_field(field_type, decoded, local, len(cell.lines)), engine,
                                   calibrator)
    if no_surer:
        reread = replace(reread, confidence=min(reread.confidence, proposal.confidence))
    offered = [a for a in dict.fromkeys([proposal.value, *proposal.alternatives]) if a != reread.value]
    reasons = [issues] if isinstance(issues, FieldIssue) else list(issues)
    return replace(_contradicted(reread, reasons), alternatives=offered)


def _kept_line(chars: Sequence[CharConfidence]) -> DecodedLine:
    """A line kept as proposed, as a decoded line (its characters are the reading)."""
    reading = line_reading(list(chars))
    return DecodedLine(reading, reading, reading.text)


def page_sure_readings(readings: Sequence[FieldReading | None]) -> list[FieldReading | None]:
    """One page's readings (None: an empty cell), those read as something carrying the page's
    sureness in their features (ocr.confidence.with_page_sureness)."""
    read = [(i, r) for i, r in enumerate(readings) if r is not None and r.value]
    out = list(readings)
    for (i, reading), features in zip(read, with_page_sureness([r.features for _, r in read]), strict=True):
        out[i] = replace(reading, features=features)
    return out


def _field_types(layout: LedgerLayout) -> dict[str, str]:
    return {c.key: c.field_type for c in layout.columns}


def apply_record_checks(proposals: dict[str, FieldProposal], field_types: dict[str, str]) -> dict[str, FieldProposal]:
    """The record's proposals, where its fields contradict each other (a birth after the
    registration, an age no registration shows) capped below the high band, with the reason."""
    values = {key: p.value for key, p in proposals.items() if p.value}
    checked = dict(proposals)
    for key, issues in cross_field_issues(values, field_types).items():
        proposal = proposals.get(key)
        if proposal is not None and issues:
            checked[key] = _contradicted(proposal, issues)
    return checked


def _contradicted(proposal: FieldProposal, issues: Sequence[FieldIssue]) -> FieldProposal:
    """``proposal`` capped below the high band, the issues' messages added."""
    return replace(proposal, confidence=min(proposal.confidence, CONTRADICTION_MAX_CONFIDENCE),
                   issues=[*proposal.issues, *(i for i in issues if i.message not in proposal.messages)])


# What the other rows of a page say about one row's field: (key, its field type, the check).
PAGE_CHECKS: tuple[tuple[str, str, Callable[[Sequence[str | None]], dict[int, FieldIssue]]], ...] = (
    (REGISTRATION_DATE_KEY, "date", registration_date_order_issues),  # dates never go back down a page
    (REGISTRATION_NO_KEY, "registration_no", registration_no_run_issues),  # numbers run on by one
)
# What the other rows of a page say about any field of a type: (field type, the check).
PAGE_TYPE_CHECKS: tuple[tuple[str, Callable[[Sequence[str | None]], dict[int, FieldIssue]]], ...] = (
    ("date", day_missing_issues),  # a lone month/year among full dates lost its day
    # an "empty" among written rows of a column every registration fills in missed faint writing
    *((field_type, empty_among_written_issues) for field_type in ALWAYS_WRITTEN_TYPES),
)


# The page-wide doubt (ocr.confidence.page_out_of_depth); its code is also the page's warning.
PAGE_OUT_OF_DEPTH = FieldIssue(
    "reading_out_of_depth",
    "trang này khó đọc hơn mọi trang máy đã được kiểm định: không trường nào được đánh dấu chắc chắn, cần xem lại",
    "warning",
)


def depth_checked(records: list[dict[str, FieldProposal]]) -> list[dict[str, FieldProposal]]:
    """The page's records, every field capped below the high band when the page as a whole is read
    with less certainty than any page the calibrator was fitted on (its promises do not hold there)."""
    read = [p.confidence for r in records for p in r.values() if p.value]
    if not page_out_of_depth(read):
        return records
    return [{key: _contradicted(p, [PAGE_OUT_OF_DEPTH]) if p.value and p.confidence > CONTRADICTION_MAX_CONFIDENCE
             else p for key, p in r.items()} for r in records]


def page_depth_warning(records: Sequence[dict[str, FieldProposal]]) -> PageWarning | None:
    """The page warning when ``depth_checked`` capped the page's fields."""
    marked = any(PAGE_OUT_OF_DEPTH in p.issues for r in records for p in r.values())
    return PageWarning(PAGE_OUT_OF_DEPTH.code) if marked else None


def apply_page_checks(records: list[dict[str, FieldProposal]], field_types: dict[str, str]
                      ) -> list[dict[str, FieldProposal]]:
    """The page's records (top to bottom), where a registration date breaks the page's order in time,
    a registration number breaks its run (PAGE_CHECKS) or a column's reading stands out (PAGE_TYPE_CHECKS:
    a lone month/year date, an "empty" among written cells), capped below the high band, with the reason;
    then the whole page, when it is read out of the calibrator's depth (``depth_checked``)."""
    checked = list(records)
    by_type = [(key, field_type, issues_of) for field_type, issues_of in PAGE_TYPE_CHECKS
               for key, key_type in field_types.items() if key_type == field_type]
    for key, field_type, issues_of in (*PAGE_CHECKS, *by_type):
        if field_types.get(key) != field_type:
            continue
        values = [r[key].value if key in r else None for r in records]
        for row, issue in issues_of(values).items():
            checked[row] = {**checked[row], key: _contradicted(checked[row][key], [issue])}
    return depth_checked(checked)


def propose_record(
    cells: Sequence[CellImage],
    layout: LedgerLayout,
    recognizer: Recognizer,
    calibrator: Calibrator | None = None,
    local: LocalLexicon | None = None,
) -> dict[str, FieldProposal]:
    """Proposals for all cells of one record, keyed by field key."""
    types = _field_types(layout)
    pairs = [(c, types.get(c.key, "free_text")) for c in cells]
    return apply_record_checks({p.key: p for p in propose_cells(pairs, recognizer, calibrator, local)}, types)


def propose_page(
    analysis: PageAnalysis,
    layout: LedgerLayout,
    recognizer: Recognizer,
    calibrator: Calibrator | None = None,
    local: LocalLexicon | None = None,
) -> list[dict[str, FieldProposal]]:
    """Proposals for every record of a page (one recognizer call for the whole page)."""
    types = _field_types(layout)
    pairs = [(c, types.get(c.key, "free_text")) for r in analysis.records for c in r.cells]
    records = [i for i, r in enumerate(analysis.records) for _ in r.cells]
    proposals = iter(propose_cells(pairs, recognizer, calibrator, local, records,
                                   warning_codes(analysis.warnings), one_page=True))
    return apply_page_checks([apply_record_checks({c.key: next(proposals) for c in r.cells}, types)
                              for r in analysis.records], types)
