"""Syllable rules, name lists, gazetteer lookups and per-field lexicons."""

from __future__ import annotations

import math
import unicodedata

import pytest

from ocr.fields import (
    get_gazetteer,
    given_names,
    is_vietnamese_syllable,
    lexicon_for,
    middle_names,
    split_words,
    surnames,
    vietnamese_syllables,
)
from ocr.fields.place_text import place_key, split_place
from ocr.types import FIELD_TYPES

# --- syllables ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    [
        "Nguyễn", "nghiêng", "khuya", "quốc", "gìn", "gì", "hoà", "hòa", "thuỷ", "thủy", "khoẻ", "khỏe",
        "quý", "qui", "quýt", "quỳnh", "yên", "yêu", "uyên", "nguyệt", "giêng", "giữa", "lý", "lí", "kỳ", "kì",
        "ký", "ghế", "nghỉ", "kêu", "xoong", "ngoằn", "ngoèo", "rượu", "cừu", "huệ", "thuở", "quên", "oách",
        "hoạch", "khuỷu", "Thị", "Văn", "Đặng", "Trương", "Hương", "Phượng", "Tuyết", "NGUYỄN", "Ánh", "ơi", "y",
        "nguyên", "a", "ạ", "ừ", "quới", "quào", "ngoạm", "gửi", "xẻng", "huỵch", "quắp", "quẹo",
    ],
)
def test_valid_syllables(word):
    assert is_vietnamese_syllable(word)


@pytest.mark.parametrize(
    "word",
    [
        "ngiêng",  # ng before iê must be ngh
        "nghan",  # ngh only before i, e, ê
        "ká",  # k only before i, y, e, ê
        "ce",  # c not before e
        "ghà",  # gh not before a
        "cá\u0309",  # two tone marks
        "xyz",
        "Nguyen",  # "uyen" needs ê: the unaccented spelling is not a syllable
        "Viet",  # same: iê needs the circumflex
        "nGuyễn",  # mixed casing
        "ảc",  # stop-final rhymes take only sắc/nặng
        "tìp",
        "mãt",
        "qúy",  # tone goes on y after qu
        "gịa",  # tone never sits on gi's i before a
        "boa",  # no medial after labials
        "Đắk",  # ethnic place names are outside the syllable rules (the place lexicon has them)
        "",
        "an h",
    ],
)
def test_invalid_syllables(word):
    assert not is_vietnamese_syllable(word)


def test_nfd_input_is_normalised():
    assert is_vietnamese_syllable(unicodedata.normalize("NFD", "Nguyễn"))
    assert is_vietnamese_syllable(unicodedata.normalize("NFD", "nghiêng"))


def test_syllable_set_is_nfc_and_sized_plausibly():
    syllables = vietnamese_syllables()
    assert all(unicodedata.is_normalized("NFC", s) for s in syllables)
    assert all(s == s.lower() for s in syllables)
    assert 12_000 < len(syllables) < 25_000
    cased = vietnamese_syllables(cased=True)
    assert "Nguyễn" in cased and "nguyễn" in cased and len(cased) == 2 * len(syllables)


TONES = {"\u0300": "huyền", "\u0301": "sắc", "\u0303": "ngã", "\u0309": "hỏi", "\u0323": "nặng"}


def test_stop_final_syllables_take_exactly_sac_or_nang():
    stop_final = [s for s in vietnamese_syllables() if s.endswith(("p", "t", "c", "ch"))]
    assert len(stop_final) > 1000
    for syllable in stop_final:
        tones = [TONES[c] for c in unicodedata.normalize("NFD", syllable) if c in TONES]
        assert tones in (["sắc"], ["nặng"]), syllable


@pytest.mark.parametrize(("word", "valid"), [("tát", True), ("tạt", True), ("tat", False), ("tàt", False),
                                              ("tảt", False), ("tãt", False), ("tan", True), ("tàn", True)])
def test_tones_on_stop_and_sonorant_finals(word, valid):
    assert is_vietnamese_syllable(word) == valid


# --- names ------------------------------------------------------------------------------------


def test_name_lists():
    assert surnames()[:3] == ("Nguyễn", "Trần", "Lê")
    assert len(surnames()) >= 100
    assert {"Văn", "Thị", "Hữu"} <= set(middle_names())
    assert "Dũng" in given_names("Nam") and "Hương" in given_names("Nữ")
    assert set(given_names()) == set(given_names("Nam")) | set(given_names("Nữ"))
    assert len(given_names()) >= 250
    assert all(unicodedata.is_normalized("NFC", n) for n in [*surnames(), *middle_names(), *given_names()])


# --- gazetteer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "province", "ward", "legacy_ward"),
    [
        ("Xã Tân Lập, huyện Đồng Phú, tỉnh Bình Phước", "Tỉnh Đồng Nai", "Xã Đồng Phú", "Xã Tân Lập"),
        ("Trạm y tế xã Tân Lập - h. Đồng Phú - Sông Bé", "Tỉnh Đồng Nai", "Xã Đồng Phú", "Xã Tân Lập"),
        ("Tân Lập, Đồng Phú, Bình Phước", "Tỉnh Đồng Nai", "Xã Đồng Phú", "Xã Tân Lập"),
        ("Xa Tan Lap, huyen Dong Phu, tinh Binh Phuoc", "Tỉnh Đồng Nai", "Xã Đồng Phú", "Xã Tân Lập"),
        ("P. Phúc Xá, Q. Ba Đình, TP Hà Nội", "Thành phố Hà Nội", "Phường Hồng Hà", "Phường Phúc Xá"),
        # a ward name abolished before 2025 (merged into Trúc Bạch), as old books write it
        ("Phường Nguyễn Trung Trực, Ba Đình, Hà Nội", "Thành phố Hà Nội", "Phường Ba Đình", "Phường Trúc Bạch"),
        ("Côn Đảo, Bà Rịa - Vũng Tàu", "Thành phố Hồ Chí Minh", "Đặc khu Côn Đảo", None),
        # the written prefix tells the commune from the town of the same name in the same district
        ("Thị trấn Hát Lót, Mai Sơn, Sơn La", "Tỉnh Sơn La", "Xã Mai Sơn", "Thị trấn Hát Lót"),
        ("xã Hát Lót, huyện Mai Sơn", "Tỉnh Sơn La", "Xã Mai Sơn", "Xã Hát Lót"),
        ("Phường 1, thành phố Đông Hà, Quảng Trị", "Tỉnh Quảng Trị", "Phường Đông Hà", "Phường 1"),
    ],
)
def test_lookup_current_of_pre_2025_commune(written, province, ward, legacy_ward):
    unit = get_gazetteer().lookup_current(written)
    assert unit is not None
    assert (unit.province, unit.ward) == (province, ward)
    assert unit.legacy is not None and unit.legacy.ward == legacy_ward
    assert not unit.ambiguous


@pytest.mark.parametrize(
    ("written", "province", "legacy_province"),
    [
        ("Bệnh viện Đa khoa tỉnh Bình Phước", "Tỉnh Đồng Nai", "Tỉnh Bình Phước"),
        ("huyện Đồng Phú", "Tỉnh Đồng Nai", "Tỉnh Bình Phước"),
        ("Hà Tây", "Thành phố Hà Nội", "Thành phố Hà Nội"),  # historical province, not the commune Hà Tây
        ("tỉnh Hà Giang", "Tỉnh Tuyên Quang", "Tỉnh Hà Giang"),
    ],
)
def test_lookup_current_at_province_level(written, province, legacy_province):
    unit = get_gazetteer().lookup_current(written)
    assert unit is not None and unit.ward is None
    assert unit.province == province and unit.legacy.province == legacy_province


@pytest.mark.parametrize("written", ["tại nhà", "", "Sông Bé", "xã Tân Lập", "Paris"])
def test_lookup_current_returns_none_when_unknown_or_ambiguous(written):
    # "Sông Bé" spans two provinces that went to different 2025 provinces; "xã Tân Lập" exists many times.
    assert get_gazetteer().lookup_current(written) is None


def test_ambiguous_commune_with_a_common_successor():
    unit = get_gazetteer().lookup_current("Hát Lót, Mai Sơn, Sơn La")  # both Xã and Thị trấn Hát Lót exist
    assert unit is not None and unit.ambiguous and unit.legacy is None
    assert (unit.province, unit.ward) == ("Tỉnh Sơn La", "Xã Mai Sơn")


@pytest.mark.parametrize(
    ("written", "note"),
    [
        ("Xã Tân Lập, huyện Đồng Phú, tỉnh Bình Phước", "Nay là Xã Đồng Phú, Tỉnh Đồng Nai"),
        ("huyện Đồng Phú", "Nay thuộc Tỉnh Đồng Nai"),
        ("Hát Lót, Mai Sơn, Sơn La", "Nay là Xã Mai Sơn, Tỉnh Sơn La — chưa xác định chắc chắn đơn vị cũ"),
    ],
)
def test_current_unit_note_for_officials(written, note):
    assert get_gazetteer().lookup_current(written).note == note


def test_divided_commune_names_its_main_successor():
    unit = get_gazetteer().lookup_current("Phường Thượng Thanh, Quận Long Biên, Thành phố Hà Nội")
    assert unit.divided and unit.ward == "Phường Việt Hưng"
    assert unit.note == "Nay phần lớn thuộc Phường Việt Hưng, Thành phố Hà Nội (đơn vị cũ đã được chia)"


def test_near_hint_resolves_a_bare_commune():
    unit = get_gazetteer().lookup_current("xã Tân Lập", near="Huyện Đồng Phú, Tỉnh Bình Phước")
    assert unit is not None and unit.ward == "Xã Đồng Phú"


def test_legacy_units_map_to_their_own_successor():
    """Every 200th legacy commune, written out in full, is found again and mapped to a current ward."""
    gazetteer = get_gazetteer()
    units = [u for u in gazetteer.legacy_units() if u.ward][::200]
    for unit in units:
        found = gazetteer.lookup_current(unit.address)
        assert found is not None and found.legacy == unit, unit.address
        assert found.ward is not None and found.province


def test_place_key_ignores_tone_placement_case_and_spacing():
    assert place_key("Xã Hoà Bình") == place_key("xã  hòa bình")
    assert place_key("Thuỷ") == place_key("Thủy")
    assert place_key("Tân Lập") != place_key("Tấn Lập")


def test_split_place_reads_prefixes_and_abbreviations():
    written = "Trạm y tế xã Tân Lập, h. Đồng Phú, TP. Hồ Chí Minh"
    pieces = {(tuple(sorted(p.levels)), p.name) for p in split_place(written)}
    assert (("ward",), "tân lập") in pieces
    assert (("district",), "đồng phú") in pieces
    assert (("district", "province"), "hồ chí minh") in pieces


# --- lexicons ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field_type", FIELD_TYPES)
def test_every_field_type_has_a_cached_lexicon(field_type):
    assert lexicon_for(field_type) is lexicon_for(field_type)
    assert lexicon_for(field_type).field_type == field_type


def test_split_words():
    assert split_words("Xã Tân-Lập, 12 H'Mông") == ["Xã", "Tân", "Lập", "H", "Mông"]


@pytest.mark.parametrize(
    ("field_type", "word", "prefix_ok", "word_ok"),
    [
        ("person_name", "Nguyễn", True, True),
        ("person_name", "NGUYỄN", True, True),
        ("person_name", "Nguyễ", True, False),
        ("person_name", "Nguy", True, True),  # "nguy" (as in nguy hiểm) is a word
        ("person_name", "Ngy", False, False),
        ("place", "Krông", True, True),  # from the gazetteer, not a standard syllable
        ("place", "Đắk", True, True),
        ("place", "Bệnh", True, True),
        ("ethnicity", "Mường", True, True),
        ("ethnicity", "Mư", True, False),
        ("ethnicity", "Pháp", False, False),
        ("nationality", "Nam", True, True),
        ("sex", "Nữ", True, True),
        ("sex", "Nư", True, True),  # accepted variant spelling of Nữ
        ("sex", "Bé", False, False),
    ],
)
def test_word_lexicons(field_type, word, prefix_ok, word_ok):
    lexicon = lexicon_for(field_type)
    assert lexicon.is_prefix(word) == prefix_ok
    assert lexicon.is_word(word) == word_ok


def test_word_scores_rank_names_above_rare_syllables_and_oov():
    names = lexicon_for("person_name")
    assert names.word_score("Nguyễn") > names.word_score("Hương") > names.word_score("khuya") > names.word_score("xq")
    assert names.word_score("Nguyễn") == names.word_score("nguyễn")
    assert math.isinf(lexicon_for("ethnicity").word_score("Pháp"))
    assert lexicon_for("place").word_score("Xã") > lexicon_for("place").word_score("khuya")


@pytest.mark.parametrize(
    ("text", "partial", "full"),
    [
        ("", True, False), ("0", True, False), ("05/", True, False), ("05/03/2", True, False),
        ("05/03/2003", True, True), ("5-3-2003", True, True), ("05.03.98", True, True), ("03/2003", True, True),
        ("2003", True, True), ("12345", False, False), ("05/03/20031", False, False), ("05//", False, False),
        ("ab", False, False),
    ],
)
def test_date_lexicon_pattern(text, partial, full):
    lexicon = lexicon_for("date")
    assert lexicon.accepts_partial(text) == partial
    assert lexicon.accepts(text) == full


@pytest.mark.parametrize(
    ("text", "partial", "full"),
    [("", True, False), ("12", True, True), ("12/", True, False), ("12/2003", True, True), ("12a", False, False)],
)
def test_registration_no_lexicon_pattern(text, partial, full):
    lexicon = lexicon_for("registration_no")
    assert lexicon.accepts_partial(text) == partial
    assert lexicon.accepts(text) == full


@pytest.mark.parametrize(
    ("text", "partial", "full"),
    [("Khơ", True, False), ("Khơ Me", True, True), ("Kinh", True, True), ("Kinh Xyz", False, False),
     ("Gia R", True, False), ("gia-rai", True, True), ("GIA RAI", True, True), ("Mèo", True, True),
     ("Khơ Mường", False, False)],
)
def test_closed_lexicon_partial_values(text, partial, full):
    lexicon = lexicon_for("ethnicity")
    assert lexicon.accepts_partial(text) == partial
    assert lexicon.accepts(text) == full


def test_all_54_ethnic_groups_are_phrases_of_the_ethnicity_lexicon():
    phrases = lexicon_for("ethnicity").phrases
    assert len(phrases) == 55 and "Kinh" in phrases and "Nước ngoài" in phrases


def test_place_lexicon_phrases_include_units_and_facilities():
    phrases = set(lexicon_for("place").phrases)
    assert {"Xã Tân Lập", "Huyện Đồng Phú", "Tỉnh Bình Phước", "Trạm y tế xã", "tại nhà"} <= phrases


@pytest.mark.parametrize(("usual", "misread"), [("nạn", "nạm"), ("huyết", "huyệt"), ("yếu", "yêu"), ("bản", "bàn")])
def test_free_text_lexicon_knows_the_books_usual_notes_and_causes_of_death(usual: str, misread: str) -> None:
    # "Tai nạn giao thông", "Cao huyết áp", "Già yếu", "Đăng ký lại theo bản sao": their words
    # outweigh other syllables one stroke away (both stay writable).
    lexicon = lexicon_for("free_text")
    assert lexicon.is_word(misread)
    assert lexicon.word_score(usual) > lexicon.word_score(misread) + 1.0
