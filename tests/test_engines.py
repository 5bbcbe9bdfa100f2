"""The AsterNet engine on real rendered line images (no mocks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from ocr.read.engines.asternet import MAX_WIDTH, get_asternet
from ocr.read.engines.base import CTCRecognizer, Recognizer
from samples.lines import Degradation, handwriting_fonts, render_line

DANCING = next(f for f in handwriting_fonts() if "Dancing" in f.name)
PRINTED = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
pytestmark = pytest.mark.model  # every test here asserts what the shipped model reads


def cer(truth: str, text: str) -> float:
    return Levenshtein.distance(truth, text) / max(1, len(truth))


@pytest.fixture(scope="module")
def asternet():
    return get_asternet()


def test_asternet_is_a_ctc_recognizer_and_cached(asternet) -> None:
    assert isinstance(asternet, Recognizer) and isinstance(asternet, CTCRecognizer)
    assert get_asternet() is asternet
    assert asternet.name == "asternet"


def test_reads_a_vietnamese_name_with_diacritics(asternet) -> None:
    line = render_line("Nguyễn Văn An", DANCING, size=48)
    reading = asternet.read_lines([line])[0]
    assert reading.text == "Nguyễn Văn An"
    assert len(reading.chars) == len(reading.text)
    assert all(0.5 < c.confidence <= 1.0 for c in reading.chars)


def test_character_spans_are_ordered_and_inside_the_image(asternet) -> None:
    line = render_line("Trần Thị Bích Ngọc", DANCING, size=40, degradation=Degradation(blur=0.6, noise=6))
    reading = asternet.read_lines([line])[0]
    assert cer("Trần Thị Bích Ngọc", reading.text) <= 0.12
    starts = [c.x0 for c in reading.chars]
    assert starts == sorted(starts)
    assert all(0 <= c.x0 < c.x1 <= line.shape[1] for c in reading.chars)
    # The first letter lies in the left part of the line, the last in the right part.
    assert reading.chars[0].x1 < line.shape[1] * 0.3 < line.shape[1] * 0.7 < reading.chars[-1].x0


def test_bgr_and_grayscale_inputs_read_the_same(asternet) -> None:
    gray = render_line("12/05/1987", DANCING, size=44)
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    assert asternet.read_lines([gray])[0].text == asternet.read_lines([bgr])[0].text == "12/05/1987"


def test_a_line_wider_than_the_model_limit_is_read_whole(asternet) -> None:
    place = "Xã Tân Lập, huyện Đồng Phú, tỉnh Bình Phước"
    text = " ".join([f"{place}, nay là xã Thuận Lợi, huyện Đồng Phú, tỉnh Bình Phước; trước đây ở {place}"] * 2)
    line = render_line(text, DANCING, size=40)
    assert line.shape[1] * 32 / line.shape[0] > 2 * MAX_WIDTH  # needs at least three pieces
    reading = asternet.read_lines([line])[0]
    assert cer(text, reading.text) <= 0.08
    assert reading.text.count(" ") == text.count(" ")  # word gaps at the cuts survive
    assert max(c.x1 for c in reading.chars) <= line.shape[1]


def test_batch_of_mixed_widths_keeps_input_order(asternet) -> None:
    texts = ["Nam", "Trần Thị Bích Ngọc", "125", "Việt Nam"]
    lines = [render_line(t, DANCING, size=44) for t in texts]
    readings = asternet.read_lines(lines)
    assert [r.text for r in readings] == texts
    assert asternet.read_lines([]) == []


def test_tesseract_reads_printed_vietnamese_when_installed() -> None:
    from ocr.read.engines.tesseract import TesseractRecognizer, tesseract_available

    if (why := tesseract_available()) is not None:
        pytest.skip(why)
    printed = render_line("Nguyễn Văn An 12/05/1987", PRINTED, size=40)
    reading = TesseractRecognizer().read_lines([printed])[0]
    assert reading.text == "Nguyễn Văn An 12/05/1987"
    assert len(reading.chars) == len(reading.text)
