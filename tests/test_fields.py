"""Field normalizers, validators and registration-number sequence checks (pure text)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from ocr.fields import (
    ValidationContext,
    canonical_ethnicity,
    canonical_nationality,
    canonical_sex,
    canonical_value,
    check_registration_sequence,
    ethnicities,
    normalize,
    parse_date,
    validate,
    validate_record,
)
from ocr.types import FIELD_TYPES

CTX = ValidationContext(today=date(2026, 11, 28))


def codes(issues) -> list[str]:
    return [issue.code for issue in issues]


def record_codes(issues) -> list[str]:
    """Codes of cross-field issues only (field-level notes such as partial_date left out)."""
    cross = {"birth_after_registration", "death_before_birth", "death_after_registration"}
    return [code for code in codes(issues) if code in cross]


# --- normalizers -------------------------------------------------------------------------------

@pytest.mark.parametrize("field_type", FIELD_TYPES)
@pytest.mark.parametrize("empty", [None, "", "   ", "None", "\t\n"])
def test_empty_cells_normalize_to_empty_string(field_type, empty):
    assert normalize(field_type, empty) == ""


@pytest.mark.parametrize("field_type", ["person_name", "place", "free_text", "ethnicity", "nationality"])
def test_text_is_nfc_and_single_spaced(field_type):
    nfd = unicodedata.normalize("NFD", "  Nguyễn   Thị\tHường  ")
    out = normalize(field_type, nfd)
    assert out == "Nguyễn Thị Hường"
    assert unicodedata.is_normalized("NFC", out)


@pytest.mark.parametrize(
    "name", ["NGUYỄN VĂN AN", "nguyễn văn an", "Trần thị Bích", "Lò Văn Páo", "John Smith"]
)
def test_person_names_keep_case_and_spelling(name):
    assert normalize("person_name", name) == name


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("5/3/2003", "05/03/2003"),
        ("05/03/2003", "05/03/2003"),
        ("5-3-2003", "05/03/2003"),
        ("05.03.2003", "05/03/2003"),
        ("15 / 3 / 2003", "15/03/2003"),
        ("5/3-2003", "05/03/2003"),
        ("ngày 5 tháng 3 năm 2003", "05/03/2003"),
        ("Ngày 15 tháng 12 năm 1999", "15/12/1999"),
        ("3/2003", "03/2003"),
        ("03/2003", "03/2003"),
        ("3-2003", "03/2003"),
        ("tháng 3 năm 2003", "03/2003"),
        ("2003", "2003"),
        ("năm 2003", "2003"),
        ("5/3/98", "05/03/98"),  # two-digit year kept: the century is the official's call
        ("31/02/2003", "31/02/2003"),  # parseable shape, impossible day: not corrected, flagged
    ],
)
def test_date_normalization(written, canonical):
    assert normalize("date", written) == canonical


@pytest.mark.parametrize("written", ["45/3/2003", "5/13/2003", "abc", "5/3", "12.2003.5", "200", "mùng 5 Tết"])
def test_unparseable_dates_are_returned_unchanged(written):
    assert normalize("date", written) == written


def test_unparseable_date_only_gets_text_cleanup():
    assert normalize("date", "  mùng  5 Tết ") == "mùng 5 Tết"


@pytest.mark.parametrize(
    ("written", "day", "month", "year"),
    [("2003", None, None, 2003), ("3/2003", None, 3, 2003), ("1/12/1990", 1, 12, 1990)],
)
def test_partial_dates_never_invent_a_day(written, day, month, year):
    parsed = parse_date(written)
    assert (parsed.day, parsed.month, parsed.year) == (day, month, year)
    assert parsed.is_partial == (day is None)


def test_partial_date_span_covers_the_whole_month():
    assert parse_date("02/2004").span() == (date(2004, 2, 1), date(2004, 2, 29))
    assert parse_date("1999").span() == (date(1999, 1, 1), date(1999, 12, 31))


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("nam", "Nam"), ("NAM", "Nam"), ("Nam", "Nam"), (" nam ", "Nam"), ("Trai", "Nam"),
        ("nữ", "Nữ"), ("Nữ", "Nữ"), ("NỮ", "Nữ"), ("nu", "Nữ"), ("Nũ", "Nữ"), ("nứ", "Nữ"), ("gái", "Nữ"),
        ("x", "x"), ("N", "N"), ("Nam/Nữ", "Nam/Nữ"),  # ambiguous or unknown: kept as written
    ],
)
def test_sex_normalization_only_when_unambiguous(written, expected):
    assert normalize("sex", written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [("12", "12"), (" 12 ", "12"), ("1 2", "12"), ("012", "012"), ("12 / 2003", "12/2003"), ("Số 12a", "Số 12a")],
)
def test_registration_no_spacing(written, expected):
    assert normalize("registration_no", written) == expected


@pytest.mark.parametrize(("written", "canonical"), [("Mèo", "H'Mông"), ("Ê Đê", "Ê-đê"), ("Khơ Me", "Khmer")])
def test_ethnicity_is_kept_as_written_with_canonical_offered(written, canonical):
    assert normalize("ethnicity", written) == written
    assert canonical_value("ethnicity", written) == canonical


# --- catalogs ----------------------------------------------------------------------------------

def test_all_54_official_ethnic_groups_present_in_order():
    groups = [g for g in ethnicities() if g.code != "00"]
    assert [g.code for g in groups] == [f"{i:02d}" for i in range(1, 55)]
    names = {g.name for g in groups}
    assert len(names) == 54
    for expected in ["Kinh", "Tày", "Thái", "Hoa", "Khmer", "Mường", "Nùng", "H'Mông", "Dao", "Gia-rai",
                     "Ê-đê", "Ba-na", "Sán Chay", "Chăm", "Thổ", "Bru-Vân Kiều", "Rơ-măm", "Ơ-đu", "Brâu"]:
        assert expected in names
    assert ethnicities()[-1].name == "Nước ngoài"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Kinh", "Kinh"), ("kinh", "Kinh"), ("Việt", "Kinh"), ("Mèo", "H'Mông"), ("Mông", "H'Mông"),
        ("HMông", "H'Mông"), ("Hmong", "H'Mông"), ("Thổ", "Thổ"), ("Hoa", "Hoa"), ("Hán", "Hoa"),
        ("Ê Đê", "Ê-đê"), ("Ê-đê", "Ê-đê"), ("Êđê", "Ê-đê"), ("Khơ Me", "Khmer"), ("Khơ-me", "Khmer"),
        ("Khmer", "Khmer"), ("Mường", "Mường"), ("MƯỜNG", "Mường"), ("Gia Rai", "Gia-rai"), ("Chàm", "Chăm"),
        ("Vân Kiều", "Bru-Vân Kiều"), ("Cao Lan", "Sán Chay"), ("M'Nông", "Mnông"), ("Tay", "Tày"),
        ("Xơ Đăng", "Xơ-đăng"), ("Nước ngoài", "Nước ngoài"),
    ],
)
def test_ethnicity_variants(written, canonical):
    assert canonical_ethnicity(written) == canonical


@pytest.mark.parametrize("written", ["Xyz", "Anh", "Kinhh", "", "Việt Nam"])
def test_unknown_ethnicity(written):
    assert canonical_ethnicity(written) is None


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("Việt Nam", "Việt Nam"), ("Việt nam", "Việt Nam"), ("VN", "Việt Nam"), ("Viet Nam", "Việt Nam"),
     ("việt  nam", "Việt Nam"), ("Lào", "Lào"), ("Cam-pu-chia", "Campuchia"), ("Mỹ", "Hoa Kỳ"),
     ("Trung Quốc", "Trung Quốc"), ("Liên Xô", "Liên Xô"), ("ĐỨC", "Đức")],
)
def test_nationality_variants(written, canonical):
    assert canonical_nationality(written) == canonical


def test_sex_catalog():
    assert canonical_sex("nữ") == "Nữ"
    assert canonical_sex("không rõ") is None


# --- field validators --------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["05/03/2003", "29/02/2004", "1/1/1900", "12/2003", "2003", "28/11/2026"])
def test_valid_dates_have_no_errors(value):
    assert [i for i in validate("date", value, CTX) if i.severity == "error"] == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("31/02/2003", "invalid_calendar_date"),
        ("29/02/2003", "invalid_calendar_date"),
        ("31/04/2010", "invalid_calendar_date"),
        ("abc", "unreadable_date"),
        ("45/3/2003", "unreadable_date"),
        ("01/01/1850", "year_out_of_range"),
        ("2031", "year_out_of_range"),
        ("29/11/2026", "future_date"),
        ("5/3/98", "two_digit_year"),
        ("03/2003", "partial_date"),
    ],
)
def test_date_issues(value, code):
    assert code in codes(validate("date", value, CTX))


def test_invalid_date_message_is_vietnamese():
    (issue,) = validate("date", "31/02/2003", CTX)
    assert issue.message == "Ngày 31/02/2003 không có trên lịch"


@pytest.mark.parametrize(("value", "ok"), [("Nam", True), ("Nữ", True), ("nu", True), ("", True), ("Khác", False)])
def test_sex_validation(value, ok):
    assert (validate("sex", value, CTX) == []) == ok


@pytest.mark.parametrize(
    ("value", "code"),
    [("Kinh", None), ("Mèo", "ethnicity_variant"), ("Tay", "ethnicity_accentless"), ("Xyz", "unknown_ethnicity")],
)
def test_ethnicity_validation(value, code):
    assert codes(validate("ethnicity", value, CTX)) == ([code] if code else [])


@pytest.mark.parametrize(
    ("value", "code"),
    [("Việt Nam", None), ("VN", "nationality_variant"), ("Trung Quoc", "nationality_accentless"),
     ("Atlantis", "unknown_country")],
)
def test_nationality_validation(value, code):
    assert codes(validate("nationality", value, CTX)) == ([code] if code else [])


@pytest.mark.parametrize(
    ("value", "code"),
    [("12", None), ("12/2003", None), ("", None), ("abc", "registration_no_without_digits"),
     ("12a", "unusual_registration_no"), ("0", "zero_registration_no")],
)
def test_registration_no_validation(value, code):
    assert codes(validate("registration_no", value, CTX)) == ([code] if code else [])


@pytest.mark.parametrize(
    ("value", "code"),
    [("Nguyễn Văn An", None), ("NGUYỄN THỊ HOÀ", None), ("Lê Thị Thủy", None), ("Nguyễn Văn 2", "digits_in_name"),
     ("Nguyen Van An", "non_vietnamese_syllable"), ("Ngiêm Thị Lan", "non_vietnamese_syllable"),
     ("Ksor Bstrk", "non_vietnamese_syllable"), ("Ksor Thị Lan", None),  # listed ethnic surname accepted
     ("Trần Thu loan", "name_word_lowercase"), ("lê Văn An", "name_word_lowercase")],
)
def test_person_name_validation(value, code):
    assert codes(validate("person_name", value, CTX)) == ([code] if code else [])


def test_a_name_both_misspelt_and_lowercase_says_both() -> None:
    assert codes(validate("person_name", "Nguyen van An", CTX)) == ["non_vietnamese_syllable", "name_word_lowercase"]


# --- record level ------------------------------------------------------------------------------

BIRTH_TYPES = {"registration_no": "registration_no", "registration_date": "date", "full_name": "person_name",
               "birth_date": "date", "sex": "sex"}
DEATH_TYPES = {"registration_date": "date", "birth_date": "date", "death_date": "date"}


def test_birth_after_registration_is_flagged_in_vietnamese():
    fields = {"registration_no": "12", "registration_date": "01/02/2003", "full_name": "Trần Văn Bình",
              "birth_date": "05/03/2003", "sex": "Nam"}
    issues = validate_record(fields, BIRTH_TYPES, CTX)
    assert set(issues) == set(fields)
    assert [(i.code, i.message) for i in issues["birth_date"]] == [
        ("birth_after_registration", "Ngày sinh sau ngày đăng ký")
    ]
    assert [(i.code, i.severity) for i in issues["registration_date"]] == [("dates_disagree", "warning")]
    assert all(issues[k] == [] for k in fields if k not in ("birth_date", "registration_date"))


@pytest.mark.parametrize(
    ("registered", "born", "flagged"),
    [("01/02/2003", "01/02/2003", False), ("01/02/2003", "31/01/2003", False), ("03/2003", "2003", False),
     ("2003", "05/2003", False), ("01/02/2003", "2004", True), ("01/02/2003", "02/2003", False),
     ("01/02/2003", "03/2003", True), ("abc", "05/03/2003", False), ("01/02/2003", "", False)],
)
def test_birth_vs_registration_only_flags_sure_conflicts(registered, born, flagged):
    issues = validate_record({"registration_date": registered, "birth_date": born}, BIRTH_TYPES, CTX)
    assert ("birth_after_registration" in codes(issues["birth_date"])) == flagged


@pytest.mark.parametrize(
    ("born", "died", "registered", "expected"),
    [
        ("01/01/1950", "02/02/2003", "05/02/2003", []),
        ("01/01/1950", "02/02/2003", "01/02/2003", ["death_after_registration"]),
        ("01/01/2004", "02/02/2003", "05/02/2003", ["death_before_birth"]),
        ("1950", "1950", "1950", []),
    ],
)
def test_death_date_checks(born, died, registered, expected):
    fields = {"registration_date": registered, "birth_date": born, "death_date": died}
    assert record_codes(validate_record(fields, DEATH_TYPES, CTX)["death_date"]) == expected


def test_marriage_birth_dates_checked_against_registration():
    types = {"registration_date": "date", "husband_birth_date": "date", "wife_birth_date": "date"}
    fields = {"registration_date": "10/10/2000", "husband_birth_date": "1975", "wife_birth_date": "11/10/2000"}
    issues = validate_record(fields, types, CTX)
    assert record_codes(issues["husband_birth_date"]) == []
    assert record_codes(issues["wife_birth_date"]) == ["birth_after_registration"]


# --- registration sequence ---------------------------------------------------------------------

def seq(numbers):
    return [(i.code, i.index, i.missing) for i in check_registration_sequence(numbers)]


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        (["1", "2", "3"], []),
        (["7", "8", "9"], []),  # a book may start mid-year
        (["1", "2", "4"], [("gap", 2, (3,))]),
        (["1", "2", "6", "7"], [("gap", 2, (3, 4, 5))]),
        (["1", "2", "2", "3"], [("repeat", 2, ())]),
        (["1", "3", "2", "4"], [("out_of_order", 2, ())]),
        (["1", "2", "", "4"], [("unreadable", 2, ())]),  # the unreadable one may be 3
        (["1", "2", "", "5"], [("unreadable", 2, ()), ("gap", 3, (3, 4))]),
        (["1", "2", "3", "1", "2"], []),  # a new year restarts at 1
        (["1", "2", "3", "1", "3"], [("gap", 4, (2,))]),
        (["1/2003", "2/2003", "1/2004", "3/2003", "3/2004"], [("gap", 4, (2,))]),
        ([" 1 ", "0 2", "3"], []),
        (["Số 1", "số 2", "Số: 4"], [("gap", 2, (3,))]),
        ([], []),
    ],
)
def test_registration_sequence(numbers, expected):
    assert seq(numbers) == expected


def test_sequence_messages_are_vietnamese():
    gap, repeat = check_registration_sequence(["1", "4", "4"])
    assert gap.message == "Thiếu số 2–3"
    assert repeat.message == "Số 4 bị trùng (đã có ở vị trí 2)"
