"""Place cells read with the gazetteer: the candidate and path logic on its own
(ocr.places.candidates, ocr.places.index), the evidence rule on controlled CTC frames
(ocr.places.decoding), and real rendered cells read by AsterNet."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ocr.fields.local_lexicon import HomeUnit, LocalLexicon
from ocr.places.candidates import CellText, Edit, head_matches, interpretations, render, type_word_matches
from ocr.places.decoding import decode_place_cell
from ocr.places.index import HomeArea, NameScope, place_index, split_unit_name
from ocr.read.ctc_batch import batch_text_log_likelihood
from ocr.read.decoding import DecodedLine, constrained_decode, join_lines, text_log_likelihood
from ocr.read.engines.asternet import get_asternet
from ocr.read.engines.base import LineLogProbs
from ocr.recognition import decode_cell, field_constraints, read_field
from samples.fields import synthetic_pages
from samples.lines import handwriting_fonts, render_line

SURE = 0.97


def frames(text: str, doubts: dict[int, dict[str, float]] | None = None) -> LineLogProbs:
    """CTC frames spelling ``text`` (each character sure, a blank between), except at the indexes
    of ``doubts`` where the frame holds the given probabilities (the rest is blank)."""
    alphabet = get_asternet().alphabet
    rows = [(doubts or {}).get(i, {ch: SURE}) for i, ch in enumerate(text)]
    probs = np.full((2 * len(rows) + 1, len(alphabet)), 1e-6)
    probs[0::2, 0] = 1.0
    for t, row in enumerate(rows):
        for ch, p in row.items():
            probs[2 * t + 1, alphabet.index(ch)] = p
        probs[2 * t + 1, 0] = max(1e-6, 1 - sum(row.values()))
    probs /= probs.sum(axis=1, keepdims=True)
    t = np.arange(probs.shape[0], dtype=float)
    return LineLogProbs(np.log(probs), np.stack([4 * t, 4 * t + 4], axis=1), alphabet)


def decode(*lines: LineLogProbs, home: HomeArea | None = None) -> list[DecodedLine]:
    """Greedy readings of the lines, then the gazetteer rescoring (knowing the book's ``home``)."""
    return decode_place_cell(list(lines), [constrained_decode(llp, None) for llp in lines], home)


def van_ninh_home() -> HomeArea:
    """The home area of a book of Xã Đại Lãnh, Huyện Vạn Ninh (Khánh Hòa)."""
    return place_index().home_area([("Xã Đại Lãnh", "ward"), ("Huyện Vạn Ninh", "district")])


def texts(decoded: list[DecodedLine]) -> list[str]:
    return [d.reading.text for d in decoded]


# --- pure logic: cell text, edits, gazetteer paths, phrases ------------------------------------


def test_cell_text_keeps_separators_and_line_breaks_through_edits() -> None:
    cell = CellText.of_lines(["Ấp Hòa Bình", "xã Đại Phong"])
    assert cell.words == ("Ấp", "Hòa", "Bình", "xã", "Đại", "Phong")
    assert render(cell, ()) == "Ấp Hòa Bình\nxã Đại Phong"
    comma = Edit(3, 3, "comma", ",\n")
    assert render(cell, (comma, Edit(0, 0, "capital", ""))).split("\n") == ["Ấp Hòa Bình,", "xã Đại Phong"]
    assert render(cell, (Edit(4, 6, "name", "Đại Phú"),)) == "Ấp Hòa Bình\nxã Đại Phú"


def test_gazetteer_paths_commune_district_province_including_historical_provinces() -> None:
    index = place_index()
    assert index.links("Đại Nghĩa", "Đại Lộc", "Quảng Nam") == 2
    assert index.links(None, "Vạn Ninh", "Khánh Hòa") == 1
    assert index.links("Đại Lãnh", "Vạn Minh", "Khánh Hòa") == 0  # no district "Vạn Minh"
    assert index.links("Vạn Phúc", "Vạn Ninh", None) == 0  # a "Vạn Phúc" exists, but in Hà Nội
    assert index.links("Tân Lập", "Đồng Phú", "Sông Bé") == 2  # Sông Bé: Bình Dương + Bình Phước until 1997
    assert split_unit_name("Thị trấn Vạn Giã") == ("Thị trấn", "Vạn Giã")


def test_near_names_are_looked_up_within_the_recognised_hierarchy_first() -> None:
    index = place_index()
    wards = index.scope("ward", index.wards_of(index.district_ids["Vạn Ninh"]))
    assert [m.name for m in wards.near("Lạn Long", 2)][0] == "Vạn Long"
    assert "Quảng Nam" in [m.name for m in index.scope("province").near("Quảng Mam", 2)]


def test_misread_type_words_and_facility_phrases_are_recognised() -> None:
    cell = CellText.of_lines(["Bệnh viện đa khoa linh Quảng Nam"])
    assert head_matches(cell)[0].words == ("Bệnh", "viện", "đa", "khoa", "tỉnh")  # "tỉnh", small letter
    cell = CellText.of_lines(["Tổ Bắc vã Vạn Thắng"])
    assert [m.words for m in type_word_matches(cell)[3]] == [("xã",)]
    run_together = head_matches(CellText.of_lines(["Trạmy tế xã Vạn Long"]))[0]  # the space read one letter early
    assert (run_together.end, run_together.words) == (3, ("Trạm", "y", "tế", "xã"))
    assert CellText.of_lines(["Tổ3, xã Vạn Long"]).words[:2] == ("Tổ", "3")  # a number run into its word


def test_interpretations_offer_the_path_that_exists() -> None:
    cell = CellText.of_lines(["Đại Nghĩa, Đại Lộc, Quảng Mam"])
    paths = [{o.level: o.name for o, _ in i.units} for i in interpretations(cell, place_index())]
    assert {"ward": "Đại Nghĩa", "district": "Đại Lộc", "province": "Quảng Nam"} in paths


def test_batched_likelihood_equals_the_single_text_forward_pass() -> None:
    llp = frames("Vạn Long, Vạn Ninh", {4: {"L": 0.6, "l": 0.3}})
    candidates = ["Vạn Long, Vạn Ninh", "Vạn long, Vạn Ninh", "Vạn Long Vạn Ninh", "", "Vạn Long, Vạn Ninhh"]
    batched = batch_text_log_likelihood(llp, candidates)
    for text, value in zip(candidates, batched, strict=True):
        assert value == pytest.approx(text_log_likelihood(llp, text), abs=1e-6)


# --- the evidence rule on controlled frames ----------------------------------------------------


def test_doubtful_letter_of_a_unit_name_is_fixed_but_a_clear_one_stays_with_the_gazetteer_name_as_alternative() -> None:
    text = "Đại Lãnh, Vạn Minh, Khánh Hòa"
    m = text.index("Minh")
    fixed = decode(frames(text, {m: {"M": 0.55, "N": 0.4}}))
    assert texts(fixed) == ["Đại Lãnh, Vạn Ninh, Khánh Hòa"]
    assert fixed[0].used_lexicon and "Đại Lãnh, Vạn Minh, Khánh Hòa" in fixed[0].alternatives
    clear = decode(frames(text, {m: {"M": SURE, "N": 0.02}}))
    assert texts(clear) == [text]  # legible as written: kept
    assert not clear[0].agreement and "Đại Lãnh, Vạn Ninh, Khánh Hòa" in clear[0].alternatives


def test_the_commune_that_lies_in_the_written_district_is_preferred() -> None:
    text = "Vạn Phúc, Vạn Ninh, Khánh Hòa"
    doubt = {text.index("c,"): {"c": 0.6}}  # a faint last letter
    assert texts(decode(frames(text, doubt))) == ["Vạn Phú, Vạn Ninh, Khánh Hòa"]
    elsewhere = "Vạn Phúc, Hà Đông, Hà Nội"  # the Vạn Phúc that exists
    assert texts(decode(frames(elsewhere, {elsewhere.index("c,"): {"c": 0.6}}))) == [elsewhere]


def test_a_comma_is_restored_where_the_frames_show_one_and_never_invented() -> None:
    text = "Vạn Long, Vạn Ninh, Khánh Hòa"
    comma = text.index(",")
    assert texts(decode(frames(text, {comma: {",": 0.3}}))) == [text]
    assert texts(decode(frames(text, {comma: {",": 0.001}}))) == ["Vạn Long Vạn Ninh, Khánh Hòa"]
    # At the end of a wrapped line, the comma stays on its line.
    wrapped = decode(frames("Ấp Hòa Bình,", {11: {",": 0.25}}), frames("xã Vạn Long"))
    assert texts(wrapped) == ["Ấp Hòa Bình,", "xã Vạn Long"]
    assert wrapped[0].used_lexicon and not wrapped[1].used_lexicon


@pytest.mark.parametrize("mark", [".", ";", ":"])
def test_a_mark_read_as_a_period_between_units_is_their_comma(mark: str) -> None:
    """Held-out seed 8181: "Vạn Thắng. Vạn Ninh, Khánh Hòa", its comma scored 3.6 nats below the
    period the reader saw; a period is no separator an address uses between its units."""
    text = "Vạn Thắng, Vạn Ninh, Khánh Hòa"
    comma = text.index(",")
    assert texts(decode(frames(text, {comma: {mark: 0.9, ",": 0.03}}))) == [text]
    # Where no mark was seen at all, still no comma is invented on that bound.
    assert texts(decode(frames(text, {comma: {",": 0.001}}))) == ["Vạn Thắng Vạn Ninh, Khánh Hòa"]
    # A period the frames are sure of, with no trace of a comma, stays as written.
    assert texts(decode(frames(text, {comma: {mark: SURE, ",": 1e-5}})))[0].startswith(f"Vạn Thắng{mark}")


def test_first_capital_follows_the_convention_unless_the_small_letter_is_clear() -> None:
    assert texts(decode(frames("xã Vạn Long", {0: {"x": 0.6, "X": 0.35}}))) == ["Xã Vạn Long"]
    assert texts(decode(frames("xã Vạn Long", {0: {"x": SURE, "X": 0.01}}))) == ["xã Vạn Long"]


def test_a_name_wrapped_onto_the_next_line_is_fixed_on_its_own_line() -> None:
    decoded = decode(frames("Đại Lãnh, Vạn"), frames("Minh, Khánh Hòa", {0: {"M": 0.55, "N": 0.4}}))
    assert texts(decoded) == ["Đại Lãnh, Vạn", "Ninh, Khánh Hòa"]
    assert not decoded[0].used_lexicon and decoded[1].used_lexicon


def test_unknown_but_legible_places_are_left_alone() -> None:
    for text in ("Thôn Khuổi Nặm, xã Vạn Long", "Tại nhà", "Số nhà 12, Đường Lê Lợi"):
        decoded = decode(frames(text))
        assert texts(decoded) == [text] and not decoded[0].used_lexicon


# --- the book's home area ------------------------------------------------------------------------


def test_home_area_is_the_units_district_resolved_by_name_and_narrowed_by_its_parents() -> None:
    index = place_index()
    # Known by name only (as ingest creates a unit): both communes called Đại Lãnh, both districts.
    by_name = index.home_area([("Xã Đại Lãnh", "ward")])
    assert by_name.at("district") == {"Vạn Ninh", "Đại Lộc"}
    assert {"Vạn Lương", "Đại Hiệp", "Đại Lãnh"} <= by_name.at("ward")
    assert {"Khánh Hòa", "Quảng Nam"} <= by_name.at("province")
    home = van_ninh_home()
    assert home.at("district") == {"Vạn Ninh"} and "Đại Hiệp" not in home.at("ward")
    assert home.has("ward", "Vạn Lương") and home.has("province", "Khánh Hòa")
    # The type word wins over a unit table's default level; a parent the gazetteer does not know
    # narrows nothing; a unit it does not know at all gives no home area.
    assert index.home_area([("Huyện Vạn Ninh", "ward")]).at("district") == {"Vạn Ninh"}
    tan_lap = index.home_area([("Xã Tân Lập", "ward"), ("Huyện Đồng Phú", "district"), ("Tỉnh Thử Nghiệm", "province")])
    assert tan_lap.at("district") == {"Đồng Phú"} and "Tân Hưng" in tan_lap.at("ward")
    assert not index.home_area([("Xã Không Có", "ward")])
    # A province's book: its districts, not its hundreds of communes.
    province = index.home_area([("Tỉnh Khánh Hòa", "province")])
    assert "Vạn Ninh" in province.at("district") and not province.at("ward")


def test_home_names_are_candidates_further_away_than_other_names() -> None:
    cell = CellText.of_lines(["Ấp 5, xã Qlạn Láng"])

    def wards(home: HomeArea | None) -> set[str]:
        found = interpretations(cell, place_index(), home=home)
        return {o.name for i in found for o, _ in i.units if o.level == "ward"}

    assert "Vạn Long" in wards(van_ninh_home()) and "Vạn Long" not in wards(None)


def test_home_prior_fixes_a_doubtful_reading_but_never_a_legible_one() -> None:
    text = "Tại nhà, Vạn Phúc"  # a commune of Hà Nội, one letter from Vạn Phú of the home district
    faint = {text.index("c"): {"c": 0.6}}
    assert texts(decode(frames(text, faint))) == [text]  # an existing place: kept without the home
    fixed = decode(frames(text, faint), home=van_ninh_home())
    assert texts(fixed) == ["Tại nhà, Vạn Phú"] and text in fixed[0].alternatives
    # Clearly written elsewhere in the country: stays, unflagged.
    clear = decode(frames(text), home=van_ninh_home())
    assert texts(clear) == [text] and clear[0].agreement and not clear[0].used_lexicon
    elsewhere = "Vạn Phúc, Hà Đông, Hà Nội"
    assert texts(decode(frames(elsewhere, {elsewhere.index("c,"): {"c": 0.6}}), home=van_ninh_home())) == [elsewhere]
    # A home name read as a name no unit bears ("Vạn Minh") is a misread on the wider, non-word
    # bound (~e^6): fixed where a clear "M" alone would have kept it, the reading kept beside it...
    misspelt = "Đại Lãnh, Vạn Minh, Khánh Hòa"
    clear_m = frames(misspelt, {misspelt.index("Minh"): {"M": SURE, "N": 0.02}})
    assert texts(decode(clear_m)) == [misspelt]  # without the home area: legible as written
    fixed = decode(clear_m, home=van_ninh_home())
    assert texts(fixed) == ["Đại Lãnh, Vạn Ninh, Khánh Hòa"]
    assert fixed[0].used_lexicon and misspelt in fixed[0].alternatives
    # ... but not past that bound: then it stays as written, the home name offered beside it.
    sure_m = frames(misspelt, {misspelt.index("Minh"): {"M": SURE, "N": 0.0005}})
    kept = decode(sure_m, home=van_ninh_home())
    assert texts(kept) == [misspelt]
    assert not kept[0].agreement and "Đại Lãnh, Vạn Ninh, Khánh Hòa" in kept[0].alternatives


def test_decode_cell_takes_the_home_area_from_the_units_lexicon() -> None:
    text = "Tại nhà, Vạn Phúc"
    lines = [frames(text, {text.index("c"): {"c": 0.6}})]
    book = LocalLexicon(home=(HomeUnit("Xã Đại Lãnh"),))  # as ingest passes a unit known by name
    assert texts(decode_cell(lines, "place", book)) == ["Tại nhà, Vạn Phú"]
    assert texts(decode_cell(lines, "place")) == [text]
    elsewhere = LocalLexicon(home=(HomeUnit("Xã Tân Lập"), HomeUnit("Huyện Đồng Phú")))
    assert texts(decode_cell(lines, "place", elsewhere)) == [text]


# --- real rendered cells read by AsterNet ------------------------------------------------------


@cache
def _page_place_cells(seed: int) -> list[tuple[str, list[LineLogProbs]]]:
    """(expected value, line frames) of the place cells of the first synthetic page of ``seed``."""
    page = next(iter(synthetic_pages(seed, 1)))
    samples = [s for s in page if s.field_type == "place" and not s.cell.is_empty]
    evidence = iter(get_asternet().line_log_probs([ln for s in samples for ln in s.cell.lines]))
    return [(s.expected, [next(evidence) for _ in s.cell.lines]) for s in samples]


@pytest.mark.model
def test_rendered_page_place_cells_are_fixed_and_none_is_broken() -> None:
    fixed = 0
    for expected, lines in _page_place_cells(23):
        before = [constrained_decode(llp, field_constraints("place", llp.alphabet)) for llp in lines]
        after = decode_place_cell(lines, before)
        assert len(after) == len(before)
        value_before, value_after = read_field("place", before).value, read_field("place", after).value
        assert not (value_before == expected and value_after != expected), (expected, value_after)
        fixed += value_before != expected and value_after == expected
        for old, new in zip(before, after, strict=True):
            if new.reading.text != old.reading.text:  # the writer's reading is kept as an alternative
                assert new.used_lexicon and old.reading.text in new.alternatives
    assert fixed >= 2  # "Xã Vạn Thắng huyện Vạn Ninh" -> "Xã Vạn Thắng, huyện Vạn Ninh" and one more


@pytest.mark.model
def test_rendered_page_place_cells_read_with_the_books_unit_break_nothing() -> None:
    home = place_index().home_area([("Xã Đại Lãnh", "ward")])  # the unit the page is rendered for
    for expected, lines in _page_place_cells(23):
        before = [constrained_decode(llp, field_constraints("place", llp.alphabet)) for llp in lines]
        without, with_home = decode_place_cell(lines, before), decode_place_cell(lines, before, home)
        if read_field("place", without).value == expected:
            assert read_field("place", with_home).value == expected


@pytest.mark.model
def test_decode_cell_reads_a_rendered_two_line_place_with_the_gazetteer() -> None:
    font = next(f for f in handwriting_fonts() if "Dancing" in f.name)
    images = [render_line(t, font, size=44) for t in ("Xã Đại Lãnh,", "huyện Vạn Ninh")]
    lines = get_asternet().line_log_probs(images)
    decoded = decode_cell(lines, "place")
    assert read_field("place", decoded).value == "Xã Đại Lãnh, huyện Vạn Ninh"
    assert len(decoded) == 2
    # The whole cell's evidence is one text: the two lines joined with a sure space.
    joined = " ".join(d.reading.text for d in decoded)
    assert text_log_likelihood(join_lines(lines), joined) > -30


def test_a_name_scope_does_not_depend_on_the_order_its_names_come_in() -> None:
    # Names equally near a misreading are kept up to a limit in the scope's order, and scopes are
    # cached: an order that followed how a set was built made a page's reading depend on the pages
    # read before it.
    names = ["Vạn Thạnh", "Vạn Thắng", "Vạn Thọ", "Vạn Phú", "Vạn Phước", "Vạn Long", "Vạn Lương", "Đại Lãnh"]
    forward, backward = NameScope.of("commune", names), NameScope.of("commune", reversed(names))
    assert forward == backward
    assert forward.near("Vạn Thanh", 3, limit=2) == backward.near("Vạn Thanh", 3, limit=2)
