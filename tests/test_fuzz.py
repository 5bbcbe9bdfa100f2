"""Property-based fuzzing of the two parsers that read files from outside: the page image loader
and the population-extract importer. Whatever the bytes, each either succeeds with a well-formed
result or raises its own error type (ImageLoadError / ExtractError) with a message; nothing else.

Examples are derandomized (the same inputs on every run, so CI is reproducible) and bounded so the
module stays well under 30 s; raise FUZZ_EXAMPLES locally for a longer hunt.
"""

from __future__ import annotations

import io
import os
import string

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from PIL import Image

from ocr.image.loading import ImageLoadError, load_images
from tests.test_bad_inputs import FAR_IFD_TIFF, page_image, pdf_bytes, tiff_second_frame_without_size
from workbench.crosscheck.extract import COLUMN_ALIASES, CitizenTable, ExtractError, read_extract

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


FUZZ = fuzz_settings(EXAMPLES)
FUZZ_LOADER = fuzz_settings(3 * EXAMPLES)  # the loader runs in milliseconds: give it more
# Small enough that a mutated header cannot make one example decode for long.
FUZZ_MAX_PIXELS = 4_000_000


def _seed_files() -> dict[str, bytes]:
    """One small valid file per format the loader accepts."""
    jpeg = page_image(320, 200, seed=11)
    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    rgb = Image.fromarray(bgr[:, :, ::-1])
    files = {"jpg": jpeg, "png": cv2.imencode(".png", bgr)[1].tobytes(), "pdf": pdf_bytes([(200, 120)])}
    for fmt, kwargs in (("tiff", {"save_all": True, "append_images": [rgb.convert("L")], "compression": "tiff_lzw"}),
                        ("bmp", {}), ("webp", {"quality": 60}), ("gif", {})):
        buffer = io.BytesIO()
        rgb.save(buffer, format=fmt.upper(), **kwargs)
        files[fmt] = buffer.getvalue()
    return files


SEEDS = _seed_files()


@st.composite
def mutated(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    """A valid file with a few random edits: flipped bytes, a cut, an insertion, a spliced-in block."""
    data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "overwrite"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            data = data[:at] + data[at + draw(st.integers(1, 4096)):] if draw(st.booleans()) else data[:at]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            block = draw(st.sampled_from([b"\xff" * 8, b"\x00" * 8, b"\x7f\xff\xff\xff", b"\xff\xd8\xff\xc0"]))
            data[at:at + len(block)] = block
    return bytes(data)


def _check_loader(data: bytes) -> None:
    try:
        pages = load_images(data, "fuzz.bin", pdf_dpi=30, max_pixels=FUZZ_MAX_PIXELS)
    except ImageLoadError as exc:
        assert str(exc).startswith("fuzz.bin: ")
        return
    assert pages
    for page in pages:
        assert page.image.dtype == np.uint8 and page.image.ndim == 3 and page.image.shape[2] == 3
        assert page.image.shape[0] * page.image.shape[1] <= FUZZ_MAX_PIXELS


@FUZZ_LOADER
@given(st.binary(max_size=4096))
def test_loader_on_random_bytes(data: bytes) -> None:
    _check_loader(data)


@FUZZ_LOADER
@given(mutated(SEEDS))
@example(SEEDS["pdf"].replace(b"4 0 obj", b"5 0 obj"))  # found by a long run: page object missing
@example(tiff_second_frame_without_size())  # found by a long run: Pillow's TypeError on seek
@example(FAR_IFD_TIFF)  # found by a long run: Pillow's ValueError on open
def test_loader_on_mutated_valid_files(data: bytes) -> None:
    _check_loader(data)


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_fuzz_seeds_are_valid(fmt: str) -> None:
    """The mutations start from files the loader reads, so they probe its deeper paths."""
    assert load_images(SEEDS[fmt], f"seed.{fmt}", pdf_dpi=30)


# --- the population extract importer -------------------------------------------------------------

HEADER_NAMES = [alias for aliases in COLUMN_ALIASES.values() for alias in aliases[:2]] + ["ghi_chu", "", "x"]
CELL_ALPHABET = string.digits * 4 + "ăâđêôơưĂÂĐÊÔƠƯàảãáạềểễếệ /-;,\"'\t\r\n\x00\u0301\u200b" + string.ascii_letters
cells = st.one_of(
    st.text(alphabet=CELL_ALPHABET, max_size=20),
    st.integers(0, 10**11 - 1).map(lambda n: f"0{n:011d}"),  # a well-formed personal ID number
    st.sampled_from(["05/03/1998", "1998", "03/1998", "1998-03-05", "31/02/2000", "", "Nam", "Nữ"]),
)


@st.composite
def csv_extracts(draw: st.DrawFn) -> bytes:
    """CSV-ish text: a header of real or junk column names, rows of plausible and hostile cells."""
    header = draw(st.lists(st.sampled_from(HEADER_NAMES), min_size=1, max_size=8))
    separator = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(st.lists(cells, max_size=9), max_size=12))
    quote = draw(st.booleans())

    def line(values: list[str]) -> str:
        return separator.join(f'"{v}"' if quote else v for v in values)

    text = "\n".join(line(row) for row in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]))
    return text.encode(encoding, errors="replace")


def _check_import(data: bytes, name: str) -> None:
    try:
        table = read_extract(data, name)
    except ExtractError as exc:
        assert str(exc) and exc.message_vi
        return
    assert isinstance(table, CitizenTable) and len(table) > 0
    columns = [table.full_name, table.birth, table.birth_text, table.sex, table.father_name, table.mother_name,
               table.residence]
    assert all(len(column) == len(table) for column in columns)
    assert len(set(table.id_number)) == len(table)
    assert all(len(i) == 12 and i.isascii() and i.isdigit() for i in table.id_number)
    assert all(name.strip() for name in table.full_name)
    assert set(table.sex) <= {"Nam", "Nữ", ""}


@FUZZ
@given(csv_extracts())
def test_csv_importer_on_csv_like_text(data: bytes) -> None:
    _check_import(data, "dan_cu.csv")


@FUZZ
@given(st.binary(max_size=2048))
def test_csv_importer_on_random_bytes(data: bytes) -> None:
    _check_import(data, "dan_cu.csv")


def _valid_xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Số định danh cá nhân", "Họ và tên", "Ngày sinh", "Giới tính"])
    for n in range(5):
        workbook.active.append([f"00109800000{n}", f"Nguyễn Văn {n}", "05/03/1998", "Nam"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@FUZZ
@given(mutated({"xlsx": _valid_xlsx()}))
def test_excel_importer_on_mutated_workbooks(data: bytes) -> None:
    _check_import(data, "dan_cu.xlsx")
