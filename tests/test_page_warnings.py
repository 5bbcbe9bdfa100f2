"""Page warnings are typed values; ocr.page_warnings is the one codec to and from the stored text (issue #18)."""

from __future__ import annotations

import pytest

from ocr.page_warnings import PageWarning, decode_warnings, encode_warnings, parse_warning, warning_codes, warning_text

STORED = [
    "blank", "rotated_90", "auto_rotated:270", "grid_text_lines", "manual_grid", "duplicate_of:page_001.jpg (trang 1)",
    "duplicate_of:scan 10:30.jpg", "book_type_mismatch:ket_hon", "book_type_mismatch",
    "registration_no_gap:3-5,9/2003:1.2:1.3", "registration_no_repeat:36:2.1:2.2", "reading_out_of_depth",
    "some_future_code:a:b", "",
]


@pytest.mark.parametrize("stored", STORED)
def test_every_stored_text_reads_back_to_itself(stored: str) -> None:
    assert warning_text(parse_warning(stored)) == stored


def test_codes_and_parameters() -> None:
    assert parse_warning("auto_rotated:180") == PageWarning("auto_rotated", ("180",))
    assert parse_warning("duplicate_of:scan 10:30.jpg").param == "scan 10:30.jpg"  # a file name keeps its ":"
    assert parse_warning("registration_no_gap:35:1.4:2.1").params == ("35", "1.4", "2.1")
    assert parse_warning("book_type_mismatch").param == ""
    assert warning_codes(decode_warnings(["auto_rotated:90", "blank"])) == ("auto_rotated", "blank")
    assert decode_warnings(None) == ()
    assert encode_warnings(decode_warnings(STORED)) == STORED


def test_severity_comes_from_the_code() -> None:
    assert PageWarning("grid_rulings").severity == "info"
    assert PageWarning("auto_rotated", ("90",)).severity == "info"
    assert PageWarning("book_type_mismatch", ("ket_hon",)).severity == "error"
    assert PageWarning("no_grid").severity == "warning"
