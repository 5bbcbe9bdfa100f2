"""Issue #15 item 8: the machine reading is shown as composed (NFC) Vietnamese letters, never with a
tone mark split off its letter, and the doubtful letters are located inside the input's value (the
UTF-16 offsets the browser's selection uses), so focus can select the first doubtful letter."""

from __future__ import annotations

import re
import unicodedata

from workbench.ui.field_display import doubtful_ranges, field_notes_html, graphemes, underline_doubtful


def spans(text: str, low: set[int] = frozenset()) -> list[tuple[str, float, int, int]]:
    """One stored entry per code point of `text`, as an engine emitting decomposed letters stores them."""
    return [(ch, 0.3 if i in low else 0.98, 10 * i, 10 * i + 9) for i, ch in enumerate(text)]


def test_decomposed_entries_become_composed_letters() -> None:
    decomposed = unicodedata.normalize("NFD", "Hồ Thế")  # H o ̂ ̀ ␠ T h e ̂ ́
    assert len(decomposed) == 10
    letters = graphemes(spans(decomposed, {3}), [3])  # only the grave accent of 'ồ' is doubtful
    assert [g.text for g in letters] == ["H", "ồ", " ", "T", "h", "ế"]
    assert all(unicodedata.is_normalized("NFC", g.text) for g in letters)
    assert [g.doubtful for g in letters] == [False, True, False, False, False, False]
    assert letters[1].confidence == 0.3  # the weakest part decides


def test_reading_line_shows_no_detached_tone_mark() -> None:
    decomposed = unicodedata.normalize("NFD", "Hồ Thế")
    html = underline_doubtful(spans(decomposed, {3, 9}), [3, 9])
    text = re.sub(r"<[^>]+>", "", html)
    assert text == "Hồ Thế" and unicodedata.is_normalized("NFC", text)
    assert "<u" in html and ">ồ</u>" in html and ">ế</u>" in html
    assert not any(unicodedata.combining(ch) for ch in text)
    notes = field_notes_html("medium", 0.7, spans(decomposed, {3}), [3], [], None)
    assert "monospace" not in notes and ">ồ</u>" in notes


def test_precomposed_readings_are_unchanged() -> None:
    letters = graphemes(spans("Nguyễn"), [])
    assert "".join(g.text for g in letters) == "Nguyễn" and len(letters) == 6


def test_doubtful_ranges_in_the_input_value() -> None:
    value = "Nguyễn Tbanh Hà"
    letters = graphemes(spans(value, {8}), [8])
    assert doubtful_ranges(value, letters) == ((8, 9),)
    # A decomposed reading of the same value: offsets are the composed value's, not the entries'.
    decomposed = unicodedata.normalize("NFD", "Hồ Thế")
    assert doubtful_ranges("Hồ Thế", graphemes(spans(decomposed, {3}), [3])) == ((1, 2),)


def test_doubtful_ranges_tolerate_spacing_and_refuse_other_text() -> None:
    line_break = [("A", 0.98, 0, 9), (" ", 1.0, 0, 0), (" ", 1.0, 0, 0), ("b", 0.3, 20, 29)]
    assert doubtful_ranges("A b", graphemes(line_break, [3])) == ((2, 3),)
    assert doubtful_ranges("Ab", graphemes(line_break, [3])) == ((1, 2),)
    letters = graphemes(spans("Hà", {1}), [1])
    assert doubtful_ranges("Hạ", letters) == ()  # an official's correction: the reading no longer applies
    assert doubtful_ranges("Hà Nội", letters) == ()  # text the reading does not cover
    assert doubtful_ranges("", ()) == ()


def test_offsets_count_utf16_units() -> None:
    value = "𠀀a"  # a CJK extension letter (two UTF-16 units), as a Nôm character might be
    letters = graphemes([("𠀀", 0.98, 0, 9), ("a", 0.2, 10, 19)], [1])
    assert doubtful_ranges(value, letters) == ((2, 3),)
