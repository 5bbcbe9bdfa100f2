"""What the other records of a page say about one record's numbers and registration date, and what
a record's other name cells say about its declarant's name.

A ledger page is a run of consecutive registrations: the registration numbers go up by one from
row to row, and the registration dates of a page fall in the book's year and never go back in
time. A number read "1290" between "289" and "291" (the ruling left of the cell taken for a "1")
or a year read "1984" on a page of 1981 registrations is a misread, if the frames allow the
reading the page implies. Same evidence rule as the lexicon beam, with a wider bound because the
page's own sequence is strong evidence; the reading as decoded stays as an alternative, and the
choice is marked as not the writer's clear text (lower confidence).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ocr.fields.dates import parse_date
from ocr.fields.issues import FieldIssue
from ocr.fields.syllables import is_vietnamese_syllable
from ocr.read.decoding import DecodedLine, join_lines, reading_for_text, text_log_likelihood
from ocr.read.engines.base import LineLogProbs

REGISTRATION_NO_KEY = "registration_no"
REGISTRATION_DATE_KEY = "registration_date"
# Nats the decoded reading may be likelier than the one the page implies and still be replaced
# (~400x); a clearly written out-of-sequence number is far beyond this and is kept (and flagged).
PAGE_CONTEXT_MAX_OVERRIDE = 6.0
MIN_SUPPORT = 2  # records that must agree before the page "implies" anything
_PLAIN_NUMBER = re.compile(r"\d{1,5}")


@dataclass(frozen=True)
class CellEvidence:
    """One cell of a page as decoded: which record and column, its frames and its readings."""

    record: int  # row index of the record on the page, top to bottom
    key: str
    lines: list[LineLogProbs]
    decoded: list[DecodedLine]

    @property
    def text(self) -> str:
        return " ".join(d.reading.text for d in self.decoded).strip()


def _replace_reading(cell: CellEvidence, text: str) -> list[DecodedLine] | None:
    """The cell decoded as ``text`` if the frames allow it (evidence rule above), else None."""
    llp = join_lines(cell.lines)
    current = text_log_likelihood(llp, cell.text)
    proposed = text_log_likelihood(llp, text)
    if current - proposed > PAGE_CONTEXT_MAX_OVERRIDE:
        return None
    reading = reading_for_text(llp, text)
    if reading is None:
        return None
    greedy = cell.decoded[0].greedy if len(cell.decoded) == 1 else reading
    alternatives = list(dict.fromkeys([cell.text, *(a for d in cell.decoded for a in d.alternatives)]))
    repaired = max(d.repair_nats for d in cell.decoded) if cell.decoded else 0.0
    return [DecodedLine(reading, greedy, text, [a for a in alternatives if a != text], used_lexicon=True,
                        repair_nats=repaired + max(0.0, current - proposed))]


def _run_offset(numbers: dict[int, int]) -> int | None:
    """number - record index shared by most records (None without clear support)."""
    offsets = Counter(n - record for record, n in numbers.items()).most_common(2)
    if not offsets or offsets[0][1] < MIN_SUPPORT or (len(offsets) > 1 and offsets[1][1] == offsets[0][1]):
        return None
    return offsets[0][0]


# A warning: a book may skip or repeat a number, but a number read out of its page's run is far more
# often a lost or changed digit ("355" read "55", "16" read "76") the frames did not let us repair.
REGISTRATION_NO_OUT_OF_RUN = FieldIssue(
    "registration_no_out_of_run", "Số đăng ký không liền mạch với các dòng bên cạnh: kiểm tra lại", severity="warning")


def _segments(parsed: dict[int, int]) -> list[list[int]]:
    """The rows of ``parsed`` (row -> number) cut where a number does not follow the one before by one
    (an unread row between two numbers keeps its place: 14, -, 16 is one segment)."""
    segments: list[list[int]] = []
    for row in sorted(parsed):
        if segments and parsed[row] - row == parsed[segments[-1][-1]] - segments[-1][-1]:
            segments[-1].append(row)
        else:
            segments.append([row])
    return segments


def registration_no_run_issues(numbers: Sequence[str | None]) -> dict[int, FieldIssue]:
    """Rows (indexes into ``numbers``, a page's registration numbers top to bottom) whose plain number
    breaks the page's run (number = row + the offset most rows share): where a neighbouring row keeps
    it, and every row of a stretch that runs on by itself unless a new year's numbering explains it
    (the page's last stretch starts at 1: it and the stretch before it stand). "186".."193" then
    "94", "95", "96" on one page (a faint "1" cut off with each line, read at 0.99, held-out seed
    2020) are three misreads, not a second run."""
    parsed = {row: int(text) for row, text in enumerate(numbers) if text and _PLAIN_NUMBER.fullmatch(text)}
    offset = _run_offset(parsed)
    if offset is None:
        return {}
    flagged = {row for row, number in parsed.items() if number != row + offset
               and (parsed.get(row - 1) == row - 1 + offset or parsed.get(row + 1) == row + 1 + offset)}
    segments = _segments(parsed)
    # A new year's numbering: the page's last stretch starts again at 1; the stretch before it ends the old year.
    new_year = len(segments) - 1 if len(segments) > 1 and parsed[segments[-1][0]] == 1 else None
    for i, segment in enumerate(segments):
        if new_year is not None and i in (new_year - 1, new_year):
            flagged.difference_update(segment)
        elif parsed[segment[0]] - segment[0] != offset:
            flagged.update(segment)
    return {row: REGISTRATION_NO_OUT_OF_RUN for row in sorted(flagged)}


def _number_fixes(cells: list[CellEvidence]) -> dict[int, list[DecodedLine]]:
    numbers = {c.record: int(c.text) for c in cells if _PLAIN_NUMBER.fullmatch(c.text)}
    offset = _run_offset(numbers)
    if offset is None:
        return {}
    fixes = {}
    for cell in cells:
        implied = cell.record + offset
        if numbers.get(cell.record) == implied or implied < 1:
            continue
        # Only inside the run: a neighbour must already read as the page implies.
        if numbers.get(cell.record - 1) != implied - 1 and numbers.get(cell.record + 1) != implied + 1:
            continue
        replaced = _replace_reading(cell, str(implied))
        if replaced is not None:
            fixes[id(cell)] = replaced
    return fixes


def _with_year(text: str, year: int) -> str | None:
    parsed = parse_date(text.replace(" ", ""))
    if parsed is None or parsed.year_digits != 4:
        return None
    return text.replace(" ", "")[:-4] + f"{year:04d}"


def _date_fixes(cells: list[CellEvidence]) -> dict[int, list[DecodedLine]]:
    dates = {c.record: parse_date(c.text.replace(" ", "")) for c in cells}
    years = Counter(d.year for d in dates.values() if d is not None and d.year_digits == 4)
    if not years:
        return {}
    year, support = years.most_common(1)[0]
    if support < MIN_SUPPORT or support * 2 <= sum(years.values()):
        return {}
    spans = {r: d.span() for r, d in dates.items() if d is not None}
    fixes = {}
    for cell in cells:
        parsed = dates[cell.record]
        if parsed is None or parsed.year == year:
            continue
        text = _with_year(cell.text, year)
        candidate = parse_date(text) if text else None
        span = candidate.span() if candidate is not None else None
        if text is None or span is None:
            continue
        # Dates never go back down a page: the candidate must sit between its neighbours.
        before, after = spans.get(cell.record - 1), spans.get(cell.record + 1)
        if (before is not None and before[0] > span[1]) or (after is not None and after[1] < span[0]):
            continue
        replaced = _replace_reading(cell, text)
        if replaced is not None:
            fixes[id(cell)] = replaced
    return fixes


# The declarant of a birth is most often a parent named on the same row: the same name written twice,
# two independent images of it. Where the two cells read it differently, the reading both cells'
# frames support best (the sum of their log-likelihoods) is taken by the other cell if its own frames
# allow it on the page's bound (PAGE_CONTEXT_MAX_OVERRIDE): an ambiguous "Ngà" beside a clear "Nga".
# A different name is hundreds of nats away in the frames and stays: a declarant may be anyone. Only
# a reading of Vietnamese syllables is adopted: a stray mark read into one cell ("OVõ Thị Nga" beside
# "Võ Thị Nga") would otherwise be copied into the other.
SAME_PERSON_KEYS = {"declarant": ("mother_name", "father_name")}


def _split_like(cell: CellEvidence, text: str) -> list[str] | None:
    """``text`` cut into the cell's lines, as many words on each as the cell's reading has there."""
    words, counts = text.split(), [len(d.reading.text.split()) for d in cell.decoded]
    if sum(counts) != len(words) or 0 in counts:
        return None
    lines, start = [], 0
    for count in counts:
        lines.append(" ".join(words[start : start + count]))
        start += count
    return lines


def _adopt_reading(cell: CellEvidence, text: str, lls: dict[str, float]) -> list[DecodedLine] | None:
    """The cell's lines read as ``text`` (same lines, same words on each), if its frames allow it."""
    drop = lls[cell.text] - lls[text]
    texts = _split_like(cell, text)
    if drop > PAGE_CONTEXT_MAX_OVERRIDE or texts is None or not all(map(is_vietnamese_syllable, text.split())):
        return None
    out = []
    for llp, old, line_text in zip(cell.lines, cell.decoded, texts, strict=True):
        if line_text == old.reading.text:
            out.append(old)
            continue
        reading = reading_for_text(llp, line_text)
        if reading is None:
            return None
        alternatives = [a for a in dict.fromkeys([old.reading.text, *old.alternatives]) if a != line_text]
        out.append(DecodedLine(reading, old.greedy, old.constrained_text, alternatives, used_lexicon=True,
                               repair_nats=old.repair_nats + max(0.0, drop)))
    return out


def _log_likelihoods(cell: CellEvidence, texts: Sequence[str]) -> dict[str, float]:
    """Each text's log-likelihood on the cell's joined frames (its spacing as one line's)."""
    llp = join_lines(cell.lines)
    return {t: text_log_likelihood(llp, " ".join(t.split())) for t in texts}


def _same_person_fixes(cells: list[CellEvidence]) -> dict[int, list[DecodedLine]]:
    by_place = {(c.record, c.key): c for c in cells}
    fixes: dict[int, list[DecodedLine]] = {}
    for cell in cells:
        for other_key in SAME_PERSON_KEYS.get(cell.key, ()):
            other = by_place.get((cell.record, other_key))
            if other is None or not other.decoded or not cell.text or not other.text or cell.text == other.text:
                continue
            if id(cell) in fixes or id(other) in fixes:
                continue
            texts = (cell.text, other.text)
            lls = [_log_likelihoods(c, texts) for c in (cell, other)]
            best = max(texts, key=lambda t: lls[0][t] + lls[1][t])
            changed, own = (cell, lls[0]) if best != cell.text else (other, lls[1])
            adopted = _adopt_reading(changed, best, own)
            if adopted is not None:
                fixes[id(changed)] = adopted
    return fixes


def apply_page_context(cells: Sequence[CellEvidence]) -> list[list[DecodedLine]]:
    """Decoded lines of every cell after the page's registration-number and date checks, and a
    record's parent and declarant read as one name where that is what their frames say."""
    numbers = [c for c in cells if c.key == REGISTRATION_NO_KEY and c.decoded]
    dates = [c for c in cells if c.key == REGISTRATION_DATE_KEY and c.decoded]
    fixes = {**_number_fixes(numbers), **_date_fixes(dates), **_same_person_fixes(list(cells))}
    return [fixes.get(id(c), c.decoded) for c in cells]
