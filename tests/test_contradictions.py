"""A reading that its own writing or its record contradicts never reaches the high band (issue 13)."""

from __future__ import annotations

import pytest

from ocr.confidence import CONTRADICTION_MAX_CONFIDENCE, ConfidenceBands, load_calibrator
from ocr.fields import cross_field_issues
from ocr.fields.dates import padding_mismatch
from ocr.fields.validate import (
    DAY_MISSING_AMONG_FULL_DATES,
    EMPTY_AMONG_WRITTEN,
    day_missing_issues,
    empty_among_written_issues,
    registration_date_order_issues,
)
from ocr.places.run_together import units_run_together
from ocr.read.decoding import DecodedLine
from ocr.read.page_context import registration_no_run_issues
from ocr.recognition import PADDING_MISMATCH, apply_page_checks, apply_record_checks, read_field
from ocr.types import CharConfidence, FieldProposal, LineReading

HIGH = ConfidenceBands().high
MARRIAGE = {"registration_date": "date", "husband_birth_date": "date", "wife_birth_date": "date",
            "husband_name": "person_name"}


@pytest.mark.parametrize(("written", "mismatch"), [
    ("1/03/2003", True),      # "21/03/2003" with its "2" lost
    ("05/1/2003", True),      # "05/11/2003" with a "1" lost
    ("6.09.2003", True),
    ("01/3/2003", True),
    ("5 - 03 - 1999", True),
    ("21/03/2003", False),    # both parts two digits
    ("1/3/2003", False),      # a writer who never pads
    ("21/3/2003", False),     # "21" says nothing about padding
    ("10/02/1981", False),
    ("2003", False),
    ("03/2003", False),       # month/year: nothing to compare
    ("", False),
])
def test_padding_mismatch(written: str, mismatch: bool) -> None:
    assert padding_mismatch(written) is mismatch


@pytest.mark.parametrize(("husband", "wife", "flagged"), [
    ("28/02/1968", "28/01/1976", set()),
    ("28/02/1908", "28/01/1976", {"husband_birth_date"}),   # 95 at marriage: "1968" read "1908"
    ("28/02/1968", "28/01/1916", {"wife_birth_date"}),
    ("28/02/1980", "28/01/1995", {"wife_birth_date"}),       # 8 years old
    ("1968", "1976", set()),                                 # year-only dates: ranges, still plausible
])
def test_unusual_marriage_ages_are_warnings_on_the_birth_date(husband: str, wife: str, flagged: set[str]) -> None:
    fields = {"registration_date": "12/05/2003", "husband_birth_date": husband, "wife_birth_date": wife}
    issues = cross_field_issues(fields, MARRIAGE)
    assert set(issues) == flagged
    assert all(i.code == "unusual_age" and i.severity == "warning" for found in issues.values() for i in found)


def test_death_and_adoption_ages() -> None:
    death = {"registration_date": "date", "birth_date": "date", "death_date": "date"}
    assert cross_field_issues({"registration_date": "02/03/2003", "birth_date": "01/01/1930",
                               "death_date": "01/03/2003"}, death) == {}
    assert set(cross_field_issues({"registration_date": "02/03/2003", "birth_date": "01/01/1830",
                                   "death_date": "01/03/2003"}, death)) == {"birth_date"}
    adoption = {"registration_date": "date", "child_birth_date": "date"}
    assert cross_field_issues({"registration_date": "02/03/2003", "child_birth_date": "01/01/1998"}, adoption) == {}
    assert set(cross_field_issues({"registration_date": "02/03/2003", "child_birth_date": "01/01/1958"},
                                  adoption)) == {"child_birth_date"}


def test_birth_after_registration_is_still_an_error() -> None:
    issues = cross_field_issues({"registration_date": "12/05/2003", "husband_birth_date": "28/02/2008"}, MARRIAGE)
    assert [i.code for i in issues["husband_birth_date"]] == ["birth_after_registration"]


BIRTH = {"registration_date": "date", "birth_date": "date", "full_name": "person_name"}
DEATH = {"registration_date": "date", "birth_date": "date", "death_date": "date"}


@pytest.mark.parametrize(("types", "fields", "flagged"), [
    (BIRTH, {"registration_date": "12/12/2003", "birth_date": "17/11/2003"}, set()),
    (BIRTH, {"registration_date": "12/12/2003", "birth_date": "17/01/2003"}, {"birth_date"}),  # "11" read "01"
    (BIRTH, {"registration_date": "12/12/2003", "birth_date": "13/10/2003"}, set()),  # 60 days: on time
    (BIRTH, {"registration_date": "12/12/2003", "birth_date": "11/10/2003"}, {"birth_date"}),  # 62 days
    (BIRTH, {"registration_date": "12/12/2003", "birth_date": "10/2003"}, set()),  # 31/10 may be the day
    (BIRTH, {"registration_date": "12/12/2003", "birth_date": "2003"}, set()),  # a year: nothing sure
    (BIRTH, {"registration_date": "12/12/2003", "birth_date": ""}, set()),
    (DEATH, {"registration_date": "05/12/2003", "birth_date": "02/03/1931", "death_date": "22/11/2003"}, set()),
    (DEATH, {"registration_date": "05/12/2003", "birth_date": "02/03/1931", "death_date": "22/01/2003"},
     {"death_date"}),  # the deceased's birth is not the registered event
    (MARRIAGE, {"registration_date": "12/05/2003", "husband_birth_date": "28/02/1968"}, set()),
])
def test_an_event_long_before_its_registration_is_a_warning(types: dict[str, str], fields: dict[str, str],
                                                           flagged: set[str]) -> None:
    issues = {key: [i for i in found if i.code == "late_registration"]
              for key, found in cross_field_issues(fields, types).items()}
    assert {key for key, found in issues.items() if found} == flagged
    assert all(i.severity == "warning" and "60 ngày" in i.message for found in issues.values() for i in found)


def test_a_late_registration_reading_is_not_green() -> None:
    proposals = {"registration_date": _proposal("registration_date", "12/12/2003"),
                 "birth_date": _proposal("birth_date", "17/01/2003"),
                 "full_name": _proposal("full_name", "Lê Văn An")}
    checked = apply_record_checks(proposals, BIRTH)
    assert checked["birth_date"].confidence == CONTRADICTION_MAX_CONFIDENCE < HIGH
    assert checked["registration_date"] == proposals["registration_date"]


@pytest.mark.parametrize(("types", "fields", "error_on", "other"), [
    (BIRTH, {"registration_date": "26/01/2003", "birth_date": "10/04/2003"}, "birth_date", "registration_date"),
    (DEATH, {"registration_date": "05/12/2003", "birth_date": "02/03/1931", "death_date": "22/12/2003"},
     "death_date", "registration_date"),
    (DEATH, {"registration_date": "25/12/2003", "birth_date": "02/12/2003", "death_date": "22/11/2003"},
     "death_date", "birth_date"),
])
def test_two_dates_in_conflict_are_both_doubted(types: dict[str, str], fields: dict[str, str], error_on: str,
                                                other: str) -> None:
    issues = cross_field_issues(fields, types)
    assert [i.severity for i in issues[error_on] if i.code != "late_registration"] == ["error"]
    assert [(i.code, i.severity) for i in issues[other]] == [("dates_disagree", "warning")]
    checked = apply_record_checks({key: _proposal(key, value) for key, value in fields.items()}, types)
    for key in (error_on, other):  # the misread digit may be in either date
        assert checked[key].confidence == CONTRADICTION_MAX_CONFIDENCE < HIGH


def _proposal(key: str, value: str, confidence: float = 0.98) -> FieldProposal:
    return FieldProposal(key, value, confidence)


def test_record_checks_cap_the_contradicted_fields_only_and_say_why() -> None:
    proposals = {"registration_date": _proposal("registration_date", "12/05/2003"),
                 "husband_birth_date": _proposal("husband_birth_date", "28/02/1908"),
                 "wife_birth_date": _proposal("wife_birth_date", "28/01/1976"),
                 "husband_name": _proposal("husband_name", "Nguyễn Văn An")}
    checked = apply_record_checks(proposals, MARRIAGE)
    assert checked["husband_birth_date"].confidence == CONTRADICTION_MAX_CONFIDENCE < HIGH
    assert any("năm sinh" in m for m in checked["husband_birth_date"].messages)
    for key in ("registration_date", "wife_birth_date", "husband_name"):
        assert checked[key] == proposals[key]
    # Already below the cap: never raised.
    low = {**proposals, "husband_birth_date": _proposal("husband_birth_date", "28/02/1908", 0.4)}
    assert apply_record_checks(low, MARRIAGE)["husband_birth_date"].confidence == 0.4


def _decoded(text: str) -> list[DecodedLine]:
    reading = LineReading(text=text, chars=[CharConfidence(ch, 0.999, i * 4, i * 4 + 3) for i, ch in enumerate(text)],
                          score=0.999)
    return [DecodedLine(reading, reading, text, [], used_lexicon=False, repair_nats=0.0)]


def test_a_date_written_in_two_styles_is_read_with_doubt() -> None:
    doubtful = read_field("date", _decoded("1/03/2003"))
    plain = read_field("date", _decoded("21/03/2003"))
    assert doubtful.value == "01/03/2003" and PADDING_MISMATCH in doubtful.issues
    assert doubtful.features.contradiction and not plain.features.contradiction
    calibrator = load_calibrator()
    assert calibrator.probability(doubtful.features) <= CONTRADICTION_MAX_CONFIDENCE
    assert calibrator.probability(plain.features) >= HIGH  # same sure frames, no contradiction: green



@pytest.mark.parametrize(("dates", "flagged"), [
    (["01/04/2003", "03/04/2003", "21/04/2003", "25/04/2003"], set()),
    (["01/04/2003", "03/04/2003", "21/01/2003", "25/04/2003"], {2}),   # "21/04" read "21/01": the odd one
    (["01/04/2003", "29/04/2003", "21/04/2003", "25/04/2003"], {1}),   # "20/04" read "29/04"
    (["01/04/2003", "03/04/2003", None, "21/01/2003", "25/04/2003"], {3}),  # compared across an unread row
    (["01/04/2003", "03/04/2003", "02/04/2003", "25/04/2003"], {1, 2}),  # either one may be the misread
    (["29/04/2003", "25/04/2003"], {0, 1}),  # two rows: nothing says which one is wrong, both are named
    (["05/2003", "04/05/2003", "2003", "30/12/2003"], set()),  # partial dates: no sure conflict
    (["12/05/2003", "12/05/2003", "garbled", ""], set()),
])
def test_registration_dates_out_of_page_order(dates: list[str | None], flagged: set[int]) -> None:
    issues = registration_date_order_issues(dates)
    assert set(issues) == flagged
    assert all(i.code == "registration_date_out_of_order" and i.severity == "warning" for i in issues.values())


def test_page_checks_cap_the_out_of_order_registration_date_only() -> None:
    types = {"registration_date": "date", "full_name": "person_name"}
    page = [{"registration_date": _proposal("registration_date", day), "full_name": _proposal("full_name", "Lê An")}
            for day in ("01/04/2003", "03/04/2003", "21/01/2003", "25/04/2003")]
    checked = apply_page_checks(page, types)
    assert checked[2]["registration_date"].confidence == CONTRADICTION_MAX_CONFIDENCE < HIGH
    assert any("thứ tự" in m for m in checked[2]["registration_date"].messages)
    assert [r for i, r in enumerate(checked) if i != 2] == [r for i, r in enumerate(page) if i != 2]
    assert checked[2]["full_name"] == page[2]["full_name"]
    assert apply_page_checks(page, {"full_name": "person_name"}) == page  # no registration-date column


@pytest.mark.parametrize(("numbers", "flagged"), [
    (["353", "354", "355", "356"], set()),
    (["353", "354", "55", "356"], {2}),  # "355" with its "3" lost
    (["14", "15", "76", "17"], {2}),  # "16" read "76"
    (["14", None, "76", "17"], {2}),  # an unread row keeps its place in the run
    (["14", "15", "12/2003", "17"], set()),  # not a plain number: the book-wide sequence check judges it
    (["14", "40", "71", "95"], set()),  # no run two rows agree on: nothing is implied
    (["186", "187", "188", "189", "94", "95", "96"], {4, 5, 6}),  # a faint "1" lost on three rows
    (["5", "6", "107", "108", "109"], {0, 1}),  # the stretch before the run, its first digit lost
    (["186", "187", "188", "1", "2"], set()),  # a new year's numbering starts at 1
    (["298", "299", "1", "2", "3"], set()),  # the old year's end, then the new year's numbering
    (["14", None, "16", "17"], set()),  # an unread row keeps its place
    (["14", "15", "1", "17"], {2}),  # "16" read "1": the old run goes on after it, no new year
])
def test_registration_numbers_out_of_the_page_run(numbers: list[str | None], flagged: set[int]) -> None:
    issues = registration_no_run_issues(numbers)
    assert set(issues) == flagged
    assert all(i.code == "registration_no_out_of_run" and i.severity == "warning" for i in issues.values())


def test_page_checks_cap_a_number_out_of_the_run() -> None:
    types = {"registration_no": "registration_no", "registration_date": "date"}
    page = [{"registration_no": _proposal("registration_no", n), "registration_date": _proposal("registration_date", d)}
            for n, d in (("14", "01/04/2003"), ("15", "03/04/2003"), ("76", "21/01/2003"), ("17", "25/04/2003"))]
    checked = apply_page_checks(page, types)
    for key in ("registration_no", "registration_date"):  # both checks, on the same row
        assert checked[2][key].confidence == CONTRADICTION_MAX_CONFIDENCE
    assert any("liền mạch" in m for m in checked[2]["registration_no"].messages)
    assert [r for i, r in enumerate(checked) if i != 2] == [r for i, r in enumerate(page) if i != 2]


@pytest.mark.parametrize(("dates", "flagged"), [
    (["04/12/1978", "12/1978", "19/03/1980"], {1}),  # "04/12/1978" with its day lost
    (["04/12/1978", "12/1978", None, ""], set()),  # one full date says little about the column
    (["04/12/1978", "1978", "19/03/1980"], set()),  # a year alone is almost always written so
    (["12/1978", "05/1970", "19/03/1980", "01/01/1981"], set()),  # a column that often omits the day
    (["12/1978", "05/1970", "19/03/1980", "01/01/1981", "02/02/1982"], {0, 1}),
])
def test_a_month_year_date_among_full_dates(dates: list[str | None], flagged: set[int]) -> None:
    issues = day_missing_issues(dates)
    assert set(issues) == flagged
    assert all(i.code == "day_missing_among_full_dates" and i.severity == "warning" for i in issues.values())


def test_page_checks_cap_a_lone_month_year_reading_in_every_date_column() -> None:
    types = {"registration_date": "date", "wife_birth_date": "date", "wife_name": "person_name"}
    page = [{"registration_date": _proposal("registration_date", reg),
             "wife_birth_date": _proposal("wife_birth_date", born),
             "wife_name": _proposal("wife_name", "Lê An")}
            for reg, born in (("01/04/2003", "04/07/1974"), ("03/04/2003", "12/1978"), ("21/04/2003", "19/08/1968"))]
    checked = apply_page_checks(page, types)
    assert checked[1]["wife_birth_date"].confidence == CONTRADICTION_MAX_CONFIDENCE < HIGH
    assert any("sót ngày" in m for m in checked[1]["wife_birth_date"].messages)
    assert checked[1]["wife_birth_date"].issues == [DAY_MISSING_AMONG_FULL_DATES]  # carried typed, as a warning
    assert [r for i, r in enumerate(checked) if i != 1] == [r for i, r in enumerate(page) if i != 1]
    assert checked[1]["registration_date"] == page[1]["registration_date"]


@pytest.mark.parametrize(("values", "flagged"), [
    (["Kinh", "", "Kinh", "", "Kinh"], {1, 3}),  # faint "Kinh" the text mask missed, fresh seed 9595
    (["Kinh", "", None], set()),  # one written row says little about the column
    (["", "", "Kinh", "Tày"], set()),  # as many empty as written: a column often left empty here
    (["Nam", "Nữ", "Nam"], set()),
])
def test_an_empty_cell_among_written_ones(values: list[str | None], flagged: set[int]) -> None:
    issues = empty_among_written_issues(values)
    assert set(issues) == flagged
    assert all(i.code == "empty_among_written" and i.severity == "warning" for i in issues.values())


def test_page_checks_doubt_an_empty_ethnicity_among_written_ones_but_not_an_empty_fathers_name() -> None:
    types = {"ethnicity": "ethnicity", "father_name": "person_name"}
    page = [{"ethnicity": _proposal("ethnicity", ethnicity, 0.97),
             "father_name": _proposal("father_name", father, 0.97)}
            for ethnicity, father in (("Kinh", "Lê An"), ("", ""), ("Kinh", "Trần Bình"))]
    checked = apply_page_checks(page, types)
    assert checked[1]["ethnicity"].confidence == CONTRADICTION_MAX_CONFIDENCE < HIGH
    assert checked[1]["ethnicity"].issues == [EMPTY_AMONG_WRITTEN]
    assert checked[1]["father_name"] == page[1]["father_name"]  # a father's name is often left empty


@pytest.mark.parametrize(("field_type", "doubtful", "plain"), [
    ("registration_no", "19S", "195"),  # "5" read "S" at 0.995 (fresh seed 6767)
    ("place", "Nguyễn Huệ, Hòa An Cao Bằng", "Nguyễn Huệ, Hòa An, Cao Bằng"),  # the comma after "An" dropped
    ("place", "Đại Hòa Đại Lộc Quảng Nam", "Đại Hòa, Đại Lộc, Quảng Nam"),
    ("person_name", "Trần Thu loan", "Trần Thu Loan"),  # a cursive "L" read "l" at 1.00 (fresh seed 7373)
])
def test_a_reading_of_a_form_books_do_not_write_is_read_with_doubt(field_type: str, doubtful: str,
                                                                   plain: str) -> None:
    calibrator = load_calibrator()
    doubted, sure = read_field(field_type, _decoded(doubtful)), read_field(field_type, _decoded(plain))
    assert doubted.value == doubtful and doubted.features.contradiction and not sure.features.contradiction
    assert calibrator.probability(doubted.features) <= CONTRADICTION_MAX_CONFIDENCE
    assert [i.severity for i in doubted.issues] == ["warning"]


def test_a_name_word_read_lowercase_offers_the_capital_first() -> None:
    doubted = read_field("person_name", _decoded("Nguyễn Duy lộc"))
    assert doubted.value == "Nguyễn Duy lộc"  # kept as read: no silent correction
    assert doubted.alternatives[0] == "Nguyễn Duy Lộc"


@pytest.mark.parametrize(("value", "run_together"), [
    ("Đại Chánh, Đại Lộc Quảng Nam", True),
    ("Xã Đại Thắng huyện Đại Lộc", True),  # type words do not stand in for the comma
    ("Đại Chánh, Đại Lộc, Quảng Nam", False),
    ("Trạm y tế xã Đại Minh", False),  # a facility runs into its commune
    ("Bệnh viện đa khoa tỉnh Khánh Hòa", False),
    ("Xóm Phú Hòa xã Đại Hưng", True),  # a comma follows a hamlet's name
    ("Ấp 1 xã Vạn Khánh", True),
    ("Khu phố 5, xã Vạn Thạnh", False),
    ("Thôn Bắc", False),
    ("Thành phố Hồ Chí Minh", False),  # one unit
    ("Tại nhà, Vạn Bình", False),
])
def test_unit_names_run_together(value: str, run_together: bool) -> None:
    assert units_run_together(value) is run_together
