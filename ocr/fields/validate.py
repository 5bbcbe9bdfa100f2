"""Field validators and record-level cross-checks; messages are Vietnamese, for officials.

Validators never change a value: they say what looks wrong so an official can check the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache

from ocr.fields.catalogs import CatalogMatch, country_catalog, ethnicity_catalog, sex_catalog
from ocr.fields.dates import ParsedDate, parse_date
from ocr.fields.issues import FieldIssue
from ocr.fields.names import given_names, middle_names, surnames
from ocr.fields.syllables import is_vietnamese_syllable
from ocr.fields.text import clean_text

MIN_YEAR = 1900
_REGISTRATION_NO = re.compile(r"\d{1,6}(/\d{2,4})?")
_NAME_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class ValidationContext:
    """What validation may depend on besides the value (kept explicit so tests can pin "today")."""

    today: date = field(default_factory=date.today)
    min_year: int = MIN_YEAR


def validate_date(value: str, context: ValidationContext) -> list[FieldIssue]:
    if not value:
        return []
    parsed = parse_date(value)
    if parsed is None:
        return [FieldIssue("unreadable_date", f"Không nhận ra ngày tháng \"{value}\" (dạng dd/mm/yyyy)")]
    if not parsed.is_calendar_date:
        return [FieldIssue("invalid_calendar_date", f"Ngày {value} không có trên lịch")]
    issues: list[FieldIssue] = []
    if parsed.year_digits == 2:
        issues.append(
            FieldIssue("two_digit_year", "Năm chỉ ghi 2 chữ số, cần xác định năm đầy đủ", "warning")
        )
    elif not context.min_year <= parsed.year <= context.today.year:
        issues.append(
            FieldIssue(
                "year_out_of_range",
                f"Năm {parsed.year} nằm ngoài khoảng hợp lệ ({context.min_year}–{context.today.year})",
            )
        )
    elif (span := parsed.span()) and span[0] > context.today:
        issues.append(FieldIssue("future_date", f"Ngày {value} ở sau ngày hôm nay"))
    if parsed.is_partial:
        issues.append(
            FieldIssue("partial_date", "Ngày tháng ghi không đầy đủ (giữ nguyên như trong sổ)", "info")
        )
    return issues


def validate_sex(value: str, context: ValidationContext) -> list[FieldIssue]:
    if not value or sex_catalog().match(value):
        return []
    return [FieldIssue("invalid_sex", f"Giới tính \"{value}\" phải là Nam hoặc Nữ")]


def _catalog_issues(found: CatalogMatch | None, value: str, unknown: FieldIssue, what: str) -> list[FieldIssue]:
    if not value:
        return []
    if found is None:
        return [unknown]
    if found.kind == "accentless":
        return [FieldIssue(f"{what}_accentless", f"Thiếu dấu? Có thể là \"{found.canonical}\"", "warning")]
    if found.kind == "variant":
        return [FieldIssue(f"{what}_variant", f"Cách ghi khác của \"{found.canonical}\"", "info")]
    return []


def validate_ethnicity(value: str, context: ValidationContext) -> list[FieldIssue]:
    unknown = FieldIssue("unknown_ethnicity", f"Dân tộc \"{value}\" không có trong danh mục 54 dân tộc")
    return _catalog_issues(ethnicity_catalog().match(value), value, unknown, "ethnicity")


def validate_nationality(value: str, context: ValidationContext) -> list[FieldIssue]:
    unknown = FieldIssue("unknown_country", f"Quốc tịch \"{value}\" không có trong danh mục quốc gia")
    return _catalog_issues(country_catalog().match(value), value, unknown, "nationality")


UNUSUAL_REGISTRATION_NO = FieldIssue("unusual_registration_no", "Số đăng ký có dạng lạ", "warning")


def validate_registration_no(value: str, context: ValidationContext) -> list[FieldIssue]:
    if not value:
        return []
    if not any(ch.isdigit() for ch in value):
        return [FieldIssue("registration_no_without_digits", f"Số đăng ký \"{value}\" không có chữ số")]
    if not _REGISTRATION_NO.fullmatch(value):
        return [replace(UNUSUAL_REGISTRATION_NO, message=f"Số đăng ký \"{value}\" có dạng lạ")]
    if int(value.split("/")[0]) == 0:
        return [FieldIssue("zero_registration_no", "Số đăng ký bằng 0")]
    return []


# A name word written lowercase: the registry capitalises every word of a name, so this is mostly a
# capital read as its lowercase twin ("Loan" read "loan": the cursive L is an l made larger). Kept as
# read (no silent correction) but in doubt (ocr.recognition.DOUBTING_ISSUES).
NAME_WORD_LOWERCASE = FieldIssue(
    "name_word_lowercase",
    "Họ tên có từ không viết hoa chữ cái đầu: kiểm tra lại chữ hoa",
    "warning",
)


def validate_person_name(value: str, context: ValidationContext) -> list[FieldIssue]:
    if not value:
        return []
    if any(ch.isdigit() for ch in value):
        return [FieldIssue("digits_in_name", f"Họ tên \"{value}\" có chữ số")]
    words = _NAME_WORD.findall(value)
    listed = _listed_name_words()
    issues = []
    odd = [w for w in words if not is_vietnamese_syllable(w) and w.lower() not in listed]
    if odd:
        quoted = ", ".join(f"\"{w}\"" for w in odd)
        # Foreign and some ethnic-minority names are legitimately outside Vietnamese spelling.
        issues.append(FieldIssue(
            "non_vietnamese_syllable",
            f"Âm tiết {quoted} không đúng chính tả tiếng Việt (kiểm tra dấu, trừ tên nước ngoài)",
            "warning",
        ))
    if any(w[0].islower() for w in words):
        issues.append(NAME_WORD_LOWERCASE)
    return issues


@cache
def _listed_name_words() -> frozenset[str]:
    """Words of the shipped name lists (incl. ethnic-minority surnames such as "Ksor"), lowercase."""
    return frozenset(w.lower() for n in (*surnames(), *middle_names(), *given_names()) for w in _NAME_WORD.findall(n))


def _no_checks(value: str, context: ValidationContext) -> list[FieldIssue]:
    return []


_VALIDATORS: dict[str, Callable[[str, ValidationContext], list[FieldIssue]]] = {
    "registration_no": validate_registration_no,
    "date": validate_date,
    "person_name": validate_person_name,
    "sex": validate_sex,
    "ethnicity": validate_ethnicity,
    "nationality": validate_nationality,
    "place": _no_checks,
    "free_text": _no_checks,
}


def validate(field_type: str, value: str | None, context: ValidationContext | None = None) -> list[FieldIssue]:
    """Issues with one field value (empty list when it looks right or is empty)."""
    return _VALIDATORS.get(field_type, _no_checks)(clean_text(value), context or ValidationContext())


# --- record level -----------------------------------------------------------------------------

def _is_birth_key(key: str) -> bool:
    return key == "birth_date" or key.endswith("_birth_date")


def _span(fields: dict[str, str], key: str) -> tuple[date, date] | None:
    parsed: ParsedDate | None = parse_date(fields.get(key))
    return parsed.span() if parsed else None


# The other date of a contradicting pair. The error names one date for the official to check, but a
# misread digit is as likely in either: the reader's confidence in the other one falls too.
DATES_DISAGREE = FieldIssue("dates_disagree", "Mâu thuẫn với một ngày khác của bản ghi: kiểm tra lại cả hai ngày",
                            severity="warning")


def _date_order_issues(fields: dict[str, str], field_types: dict[str, str]) -> dict[str, list[FieldIssue]]:
    """Birth <= registration, birth <= death <= registration (partial dates: only sure conflicts).
    The error goes on the later event's date; the other date of the pair gets DATES_DISAGREE."""
    found: dict[str, list[FieldIssue]] = {}

    def conflict(key: str, issue: FieldIssue, other: str) -> None:
        found.setdefault(key, []).append(issue)
        if DATES_DISAGREE not in found.setdefault(other, []):
            found[other].append(DATES_DISAGREE)

    registered = _span(fields, "registration_date") if field_types.get("registration_date") == "date" else None
    death = _span(fields, "death_date") if field_types.get("death_date") == "date" else None
    for key in (k for k, t in field_types.items() if t == "date" and _is_birth_key(k)):
        born = _span(fields, key)
        if born and registered and born[0] > registered[1]:
            conflict(key, FieldIssue("birth_after_registration", "Ngày sinh sau ngày đăng ký"), "registration_date")
        if key == "birth_date" and born and death and death[1] < born[0]:
            conflict("death_date", FieldIssue("death_before_birth", "Ngày chết trước ngày sinh"), key)
    if death and registered and death[0] > registered[1]:
        conflict("death_date", FieldIssue("death_after_registration", "Ngày chết sau ngày đăng ký"),
                 "registration_date")
    return found


# Registrations follow their event closely: the law gives 60 days for a birth (15 for a death), and
# books hold far more entries on time than late. A reading that puts the registered event more than
# LATE_REGISTRATION_DAYS before its registration has more often lost or changed a month digit
# ("17/11" read "17/01") than found a late registration: a warning, which also caps the reading's
# confidence. One threshold for both: deaths are registered late more often than births.
LATE_REGISTRATION_DAYS = 60


def _registered_event_key(field_types: dict[str, str]) -> str | None:
    """The date of the event the book registers, by key role: a death where the book has a
    death date, else a birth where it has a plain birth date (marriage and adoption books have none)."""
    for key in ("death_date", "birth_date"):
        if field_types.get(key) == "date":
            return key
    return None


def _late_registration_issues(fields: dict[str, str], field_types: dict[str, str]) -> dict[str, list[FieldIssue]]:
    """A registered event surely more than LATE_REGISTRATION_DAYS before its registration (warning)."""
    key = _registered_event_key(field_types)
    registered = _span(fields, "registration_date") if field_types.get("registration_date") == "date" else None
    event = _span(fields, key) if key else None
    if key is None or event is None or registered is None or event[0] > registered[1]:
        return {}  # nothing to compare, or an order error already
    if (registered[0] - event[1]).days <= LATE_REGISTRATION_DAYS:
        return {}
    event_vi = "chết" if key == "death_date" else "sinh"
    return {key: [FieldIssue("late_registration", f"Đăng ký sau ngày {event_vi} hơn {LATE_REGISTRATION_DAYS} ngày: "
                                                  f"kiểm tra lại ngày, tháng {event_vi}", severity="warning")]}


# Ages at registration beyond these are not impossible, but rare enough (well under one in a
# thousand registrations) that a reading giving one more likely lost or changed a digit of a year
# ("1968" read "1908"): a look costs the official one glance. The lower bound sits below the
# legal minimum marriage ages (since 1959: men 20, women 18), since old books hold marriages
# registered under custom; what it catches is a year read a decade or more too late.
MARRIAGE_AGE = {"husband_birth_date": (16, 80), "wife_birth_date": (16, 80)}
MAX_AGE_AT_DEATH = 110
MAX_ADOPTED_CHILD_AGE = 18  # the Law on Adoption: under 16, or 16-18 in the cases it lists


def _years_between(born: tuple[date, date], later: tuple[date, date]) -> tuple[int, int]:
    """(fewest, most) whole years from a birth span to a later span."""
    def years(a: date, b: date) -> int:
        return b.year - a.year - ((b.month, b.day) < (a.month, a.day))

    return years(born[1], later[0]), years(born[0], later[1])


def _age_issues(fields: dict[str, str], field_types: dict[str, str]) -> dict[str, list[FieldIssue]]:
    """Ages the record implies that registrations almost never show (warnings, on the birth date)."""
    found: dict[str, list[FieldIssue]] = {}
    registered = _span(fields, "registration_date") if field_types.get("registration_date") == "date" else None

    def check(key: str, later: tuple[date, date] | None, low: int | None, high: int, message: str) -> None:
        born = _span(fields, key) if field_types.get(key) == "date" else None
        if born is None or later is None or born[0] > later[1]:
            return  # nothing to compare, or already an order error
        fewest, most = _years_between(born, later)
        if most < (low if low is not None else 0) or fewest > high:
            found.setdefault(key, []).append(FieldIssue("unusual_age", message, severity="warning"))

    for key, (low, high) in MARRIAGE_AGE.items():
        check(key, registered, low, high, f"Tuổi khi đăng ký kết hôn ngoài {low}–{high}: kiểm tra năm sinh")
    check("child_birth_date", registered, None, MAX_ADOPTED_CHILD_AGE,
          f"Con nuôi trên {MAX_ADOPTED_CHILD_AGE} tuổi khi đăng ký: kiểm tra năm sinh")
    if field_types.get("death_date") == "date":
        check("birth_date", _span(fields, "death_date"), None, MAX_AGE_AT_DEATH,
              f"Tuổi khi chết trên {MAX_AGE_AT_DEATH}: kiểm tra năm sinh")
    return found


# --- page level -------------------------------------------------------------------------------

# A warning, not an error: books do hold the odd late entry; but read dates break the order far
# more often by a misread digit than by the writer.
REGISTRATION_DATE_OUT_OF_ORDER = FieldIssue(
    "registration_date_out_of_order", "Ngày đăng ký không theo thứ tự các dòng liền kề: kiểm tra lại ngày, tháng",
    severity="warning")


def registration_date_order_issues(dates: Sequence[str | None]) -> dict[int, FieldIssue]:
    """Rows (indexes into ``dates``, a page's registration dates top to bottom) whose date breaks
    the page's order: registrations run forward in time, so a date before the row above it or
    after the row below it lost or changed a digit ("21/04" read "21/01"), or its neighbour did.

    The row is named when its neighbours agree with each other without it (it is the odd one);
    when they do not, or it has one neighbour, both rows of the broken pair are named. Rows without a
    readable full date are skipped (their neighbours are compared across them). Partial dates
    only break the order when no day of them fits.
    """
    spans = [(row, span) for row, text in enumerate(dates)
             if text and (parsed := parse_date(text)) is not None and (span := parsed.span()) is not None]
    found: dict[int, FieldIssue] = {}

    def before(a: tuple[date, date], b: tuple[date, date]) -> bool:  # a surely earlier than b
        return a[1] < b[0]

    for i in range(1, len(spans)):
        (row_a, a), (row_b, b) = spans[i - 1], spans[i]
        if not before(b, a):
            continue
        # Which of the pair is odd: the one whose removal leaves its neighbours in order.
        earlier = spans[i - 2][1] if i >= 2 else None
        later = spans[i + 1][1] if i + 1 < len(spans) else None
        a_odd = earlier is None or not before(b, earlier)  # without a: earlier <= b holds
        b_odd = later is None or not before(later, a)  # without b: a <= later holds
        if b_odd or not a_odd:
            found[row_b] = REGISTRATION_DATE_OUT_OF_ORDER
        if a_odd or not b_odd:
            found[row_a] = REGISTRATION_DATE_OUT_OF_ORDER
    return found


# A date read as month and year only ("12/1978") where the rows around it read full dates is what a day
# lost by the reader looks like ("04/12/1978"): it takes losing three characters, while a year-only
# reading takes losing five and is almost always written so. A warning that also caps the reading.
DAY_MISSING_AMONG_FULL_DATES = FieldIssue(
    "day_missing_among_full_dates",
    "Chỉ đọc được tháng/năm trong khi các dòng khác ghi đủ ngày: kiểm tra xem có sót ngày không",
    severity="warning")
# Full dates in the same column of the page needed before a month/year reading is doubted.
FULL_DATES_FOR_MISSING_DAY = 2


def day_missing_issues(dates: Sequence[str | None]) -> dict[int, FieldIssue]:
    """Rows (indexes into ``dates``, one date column of a page top to bottom) read as month/year while
    at least FULL_DATES_FOR_MISSING_DAY other rows of the column, and more rows than read month/year,
    read full dates."""
    parsed = [parse_date(text) if text else None for text in dates]
    month_year = [row for row, p in enumerate(parsed) if p is not None and p.day is None and p.month is not None]
    full = sum(1 for p in parsed if p is not None and p.day is not None)
    if full < FULL_DATES_FOR_MISSING_DAY or full <= len(month_year):
        return {}
    return dict.fromkeys(month_year, DAY_MISSING_AMONG_FULL_DATES)


# A cell judged empty in a column every registration fills in, where the other rows of the page are
# written, is far likelier small or pale writing the text mask missed ("Kinh" in faint violet ink, read
# "" at 0.97) than a registration without it. Only names such as the father's or the declarant's, and
# notes, are often left empty (DOMAIN.md): those columns are not checked.
EMPTY_AMONG_WRITTEN = FieldIssue(
    "empty_among_written",
    "Ô được coi là trống trong khi các dòng khác của cột đều có ghi: kiểm tra xem có chữ mờ hoặc nhỏ không",
    severity="warning")
ALWAYS_WRITTEN_TYPES = ("registration_no", "date", "sex", "ethnicity", "nationality", "place")
# Written rows of the same column needed (and more of them than empty ones) before an empty one is doubted.
WRITTEN_FOR_EMPTY_DOUBT = 2


def empty_among_written_issues(values: Sequence[str | None]) -> dict[int, FieldIssue]:
    """Rows (indexes into ``values``, one column of a page top to bottom; None: no cell) proposed
    empty while at least WRITTEN_FOR_EMPTY_DOUBT rows of the column, and more than are empty, hold a
    value."""
    empty = [row for row, value in enumerate(values) if value == ""]
    written = sum(1 for value in values if value)
    if written < WRITTEN_FOR_EMPTY_DOUBT or written <= len(empty):
        return {}
    return dict.fromkeys(empty, EMPTY_AMONG_WRITTEN)


def cross_field_issues(fields: dict[str, str], field_types: dict[str, str]) -> dict[str, list[FieldIssue]]:
    """What the fields of one record say about each other: date order (errors, and a warning on the
    other date of the pair), unusual ages and late registrations (warnings)."""
    found = _date_order_issues(fields, field_types)
    for more in (_age_issues(fields, field_types), _late_registration_issues(fields, field_types)):
        for key, extra in more.items():
            found.setdefault(key, []).extend(extra)
    return found


def validate_record(
    fields: dict[str, str],
    field_types: dict[str, str],
    context: ValidationContext | None = None,
) -> dict[str, list[FieldIssue]]:
    """Issues per field key (every key of ``fields`` present, [] when fine), incl. cross-field dates.

    Date roles come from the schema keys: ``registration_date``, ``birth_date`` / ``*_birth_date``,
    ``death_date``.
    """
    context = context or ValidationContext()
    issues = {key: validate(field_types.get(key, "free_text"), value, context) for key, value in fields.items()}
    for key, extra in cross_field_issues(fields, field_types).items():
        issues.setdefault(key, []).extend(extra)
    return issues
