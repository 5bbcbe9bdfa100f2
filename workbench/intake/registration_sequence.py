"""A book's registration-number sequence as page warnings: a lost or a repeated registration.

Registration numbers run on from row to row and page to page through one book (unit, book type,
year, volume): "page 1 ends at 34, page 2 starts at 36" means registration 35 was lost (a row the
segmentation missed, or a page not scanned). The run logic (a book may start at any number,
numbering restarting at 1 for a new year, "/2003" suffix runs, unreadable numbers that may be the
missing ones) is ``ocr.fields.check_registration_sequence``; this module feeds it each record's
best value in page/row order and stores what it reports as page warnings, on the page where the
problem shows:

    registration_no_gap:<missing>:<before>:<at>      e.g. registration_no_gap:35:1.4:2.1
    registration_no_repeat:<number>:<first>:<at>     e.g. registration_no_repeat:35:1.4:2.1

Locations are "<page index>.<row index>"; <missing> is ranges like "35-37,40", optionally followed
by "/<year suffix>". A finding is a ``PageWarning`` with these three parameters (ocr.page_warnings
stores and reads its text); the Vietnamese text for it is made in workbench.ui.labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from models import Book, FieldStatus, FieldValue, Page, Record, RecordStatus, User
from ocr.fields import check_registration_sequence
from ocr.fields.grammars import registration_complete_ok
from ocr.fields.normalize import normalize_registration_no
from ocr.page_warnings import PageWarning, decode_warnings, encode_warnings
from workbench.audit import record_event
from workbench.book_types import get_book_type
from workbench.books import get_book
from workbench.scope import EVERYONE, book_in_scope, load_scope

GAP = "registration_no_gap"
REPEAT = "registration_no_repeat"
SEQUENCE_CODES = (GAP, REPEAT)
_ISSUE_CODES = {"gap": GAP, "repeat": REPEAT}  # the ocr check's codes we alarm on

# The printed-label form "Số 12" / "số: 12" that ocr.fields.sequence also accepts.
_LABEL_PREFIX = re.compile(r"^số\s*:?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class NumberEntry:
    """One record's registration number (its best value) at its place in the book."""

    page_index: int
    row_index: int
    number: str


@dataclass(frozen=True)
class ParsedNumber:
    number: int
    suffix: str  # year suffix as written ("2003" of "12/2003"), "" if none
    lettered: bool  # "12a": a registration inserted after 12 (or a misread 12)

    @property
    def canonical(self) -> str:
        return f"{self.number}/{self.suffix}" if self.suffix else str(self.number)


@dataclass(frozen=True)
class Location:
    page_index: int
    row_index: int


@dataclass(frozen=True)
class SequenceFinding:
    """A gap (numbers missing between `before` and `at`) or a repeat (`at` repeats `before`'s number)."""

    code: str  # GAP | REPEAT
    at: Location  # where the problem shows: the row after the gap, the second occurrence
    before: Location  # gap: the previous number's row; repeat: the earlier occurrence
    numbers: tuple[int, ...]  # gap: the missing numbers; repeat: the repeated number
    suffix: str = ""  # the run's year suffix, "" for plain numbers

    def warning(self) -> PageWarning:
        """The page warning of the finding (its params: numbers, before, at)."""
        numbers = _ranges_text(self.numbers) + (f"/{self.suffix}" if self.suffix else "")
        return PageWarning(self.code, (numbers, _location_text(self.before), _location_text(self.at)))


@dataclass(frozen=True)
class SequenceCheck:
    book_id: int
    findings: tuple[SequenceFinding, ...]
    pages_changed: int  # pages whose stored warnings this check changed


# --- the pure check ------------------------------------------------------------------------------

def parse_registration_no(text: str | None) -> ParsedNumber | None:
    """A registration number as the field grammar accepts it ("35", "035", "35/2003", "12a",
    "Số 35"); None for anything else (empty, unreadable, 0)."""
    written = _LABEL_PREFIX.sub("", normalize_registration_no(text))
    if not registration_complete_ok(written):
        return None
    number, _, suffix = written.partition("/")
    lettered = number[-1:].isalpha()
    return ParsedNumber(int(number[:-1] if lettered else number), suffix, lettered)


def find_sequence_issues(entries: Iterable[NumberEntry]) -> list[SequenceFinding]:
    """Gaps and repeats in the registration numbers of one book, entries taken in page/row order."""
    ordered = sorted(entries, key=lambda e: (e.page_index, e.row_index))
    checked = _without_inserted(ordered)
    texts = [parsed.canonical if parsed else "" for _, parsed in checked]  # "": unreadable to the check
    findings = []
    for issue in check_registration_sequence(texts):
        code = _ISSUE_CODES.get(issue.code)
        parsed = checked[issue.index][1]
        if code is None or parsed is None:
            continue  # only gaps and repeats alarm: an unreadable number already shows as a doubtful field
        at = _location(checked[issue.index][0])
        if code == GAP:
            before = _earlier(checked, issue.index, partial(_precedes, parsed))
            numbers = issue.missing
        else:
            before = _earlier(checked, issue.index, partial(_same_number, parsed))
            numbers = (parsed.number,)
        findings.append(SequenceFinding(code, at, before or at, tuple(numbers), parsed.suffix))
    return findings


def _without_inserted(ordered: list[NumberEntry]) -> list[tuple[NumberEntry, ParsedNumber | None]]:
    """Entries with their parsed numbers; "12a" stands for 12 when the book has no plain 12 (a
    misread 12, or 12 itself lost), else it is an inserted registration: neither gap nor repeat."""
    parsed = [parse_registration_no(e.number) for e in ordered]
    taken = {(p.number, p.suffix) for p in parsed if p is not None and not p.lettered}
    kept: list[tuple[NumberEntry, ParsedNumber | None]] = []
    for entry, number in zip(ordered, parsed, strict=True):
        if number is not None and number.lettered:
            if (number.number, number.suffix) in taken:
                continue
            taken.add((number.number, number.suffix))
            number = ParsedNumber(number.number, number.suffix, lettered=False)
        kept.append((entry, number))
    return kept


def _precedes(target: ParsedNumber, candidate: ParsedNumber) -> bool:
    return candidate.suffix == target.suffix and candidate.number < target.number


def _same_number(target: ParsedNumber, candidate: ParsedNumber) -> bool:
    return candidate.canonical == target.canonical


def _earlier(
    checked: Sequence[tuple[NumberEntry, ParsedNumber | None]], index: int, wanted: Callable[[ParsedNumber], bool]
) -> Location | None:
    """The nearest entry before `index` whose parsed number is `wanted`."""
    for entry, parsed in reversed(checked[:index]):
        if parsed is not None and wanted(parsed):
            return _location(entry)
    return None


def _location(entry: NumberEntry) -> Location:
    return Location(entry.page_index, entry.row_index)


# --- the stored warning text ---------------------------------------------------------------------

def number_ranges(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Runs of consecutive numbers as (first, last): 35, 36, 37, 40 -> (35, 37), (40, 40)."""
    ranges: list[tuple[int, int]] = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], number)
        else:
            ranges.append((number, number))
    return ranges


def _ranges_text(numbers: Sequence[int]) -> str:
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in number_ranges(numbers))


def _location_text(location: Location) -> str:
    return f"{location.page_index}.{location.row_index}"


_NUMBERS = re.compile(r"(?P<numbers>\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)(?:/(?P<suffix>\d+))?")
_LOCATION = re.compile(r"(?P<page>\d+)\.(?P<row>\d+)")


def sequence_finding(warning: PageWarning) -> SequenceFinding | None:
    """The finding a page warning describes; None if it is not a (well-formed) sequence warning."""
    if warning.code not in SEQUENCE_CODES or len(warning.params) != 3:
        return None
    numbers_match = _NUMBERS.fullmatch(warning.params[0])
    before, at = (_LOCATION.fullmatch(p) for p in warning.params[1:])
    if numbers_match is None or before is None or at is None:
        return None
    numbers: list[int] = []
    for part in numbers_match["numbers"].split(","):
        first, _, last = part.partition("-")
        numbers.extend(range(int(first), int(last or first) + 1))
    return SequenceFinding(warning.code, Location(int(at["page"]), int(at["row"])),
                           Location(int(before["page"]), int(before["row"])), tuple(numbers),
                           numbers_match["suffix"] or "")


def is_sequence_warning(warning: PageWarning) -> bool:
    return warning.code in SEQUENCE_CODES


# --- a book in the database ----------------------------------------------------------------------

def sequence_key(book_type: str) -> str | None:
    """The field holding the registration number in this book type's template, if any."""
    return next((c.key for c in get_book_type(book_type).columns if c.field_type == "registration_no"), None)


def _book_entries(session: Session, book: Book, key: str) -> list[NumberEntry]:
    # The official's value once they confirmed or corrected the field, else the OCR proposal.
    best = case(
        ((FieldValue.status != FieldStatus.PROPOSED) & FieldValue.final_value.is_not(None), FieldValue.final_value),
        else_=FieldValue.proposed_value,
    )
    rows = session.execute(
        select(Page.page_index, Record.row_index, best)
        .join(Record, Record.page_id == Page.id)
        .join(FieldValue, (FieldValue.record_id == Record.id) & (FieldValue.key == key))
        # A rejected record is not a registration (a phantom row, a duplicate): it neither fills nor repeats.
        .where(Page.book_id == book.id, Page.deleted.is_(False), Record.status != RecordStatus.REJECTED)
    )
    return [NumberEntry(page_index, row_index, value or "") for page_index, row_index, value in rows]


def apply_book_sequence(session: Session, book_id: int, actor: User | None = None) -> SequenceCheck:
    """Recompute the book's sequence warnings and store them on its pages (a pipeline step: the
    caller has checked the actor's scope, or is the ingest pipeline itself, with actor None).

    Each page keeps its other warnings in order; its previous sequence warnings are replaced by
    the new ones (a deleted page simply loses them). Changed pages are audited.
    """
    book = get_book(session, book_id)
    key = sequence_key(book.book_type)
    findings = find_sequence_issues(_book_entries(session, book, key)) if key else []
    pages = list(session.scalars(select(Page).where(Page.book_id == book_id).order_by(Page.page_index)))
    by_page: dict[int, list[PageWarning]] = {}
    for finding in findings:
        by_page.setdefault(finding.at.page_index, []).append(finding.warning())
    changed = 0
    for page in pages:
        current = decode_warnings(page.warnings)
        others = [w for w in current if not is_sequence_warning(w)]
        wanted = others + ([] if page.deleted else by_page.get(page.page_index, []))
        if wanted == list(current):
            continue
        # A new list object: the JSON column does not track in-place changes.
        page.warnings = encode_warnings(wanted)
        record_event(session, actor=actor, entity_type="page", entity_id=page.id, action="sequence_check",
                     old=encode_warnings(w for w in current if is_sequence_warning(w)),
                     new=encode_warnings(w for w in wanted if is_sequence_warning(w)))
        changed += 1
    session.flush()
    return SequenceCheck(book_id, tuple(findings), changed)


def recheck_book_sequence(session: Session, user: User, book_id: int) -> SequenceCheck:
    """Recompute a book's sequence warnings on behalf of a user who may see the book."""
    scope = load_scope(session, user, EVERYONE)
    book = book_in_scope(session, scope, book_id)
    return apply_book_sequence(session, book.id, scope.user)
