"""Bad inputs through the real ingest and import paths: every one gives a clear error and leaves the
database and the data directory complete (nothing half-stored), on SQLite and on PostgreSQL.

Complements tests/test_loading.py (loader messages) and tests/test_cli.py (corrupt files in a CLI
batch): here the assertions are on the rows and files the services leave behind.
"""

from __future__ import annotations

import io
import resource
import struct
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from openpyxl import Workbook
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Page, PopulationExtract, Record, User
from ocr.image.loading import ImageLoadError, InputFile, iter_input_files, zip_members
from tests.backends import BACKENDS, fresh_engine
from workbench.books import BookIdentity
from workbench.crosscheck.extract import ExtractError, read_extract
from workbench.crosscheck.index import CitizenIndex
from workbench.crosscheck.matching import match_person, person_queries
from workbench.crosscheck.service import import_extract
from workbench.db import session_factory, transaction
from workbench.intake.ingest import IngestOptions, IngestReport, ingest_files
from workbench.review.queue import next_record
from workbench.review.review import save_record

BOOK = BookIdentity("Xã Tân Lập", "khai_sinh", 2003, 1)
NO_OCR = IngestOptions(run_ocr=False)


# --- helpers shared with the other reliability test modules --------------------------------------


@dataclass
class Store:
    """One real database (SQLite file or PostgreSQL) and its data directory."""

    sessions: sessionmaker[Session]
    data_dir: Path

    def ingest(self, files: list[InputFile], identity: BookIdentity = BOOK) -> IngestReport:
        return ingest_files(self.sessions, self.data_dir, files, identity=identity, options=NO_OCR)

    def pages(self) -> list[tuple[str, str, str | None]]:
        with self.sessions() as session:
            rows = session.execute(select(Page.original_name, Page.status, Page.error).order_by(Page.id))
            return [tuple(row) for row in rows]

    def count(self, entity: type) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(entity)) or 0)

    def files(self) -> list[str]:
        """Every file under the data directory, relative (temporary files included, on purpose)."""
        if not self.data_dir.exists():
            return []
        return sorted(p.relative_to(self.data_dir).as_posix() for p in self.data_dir.rglob("*") if p.is_file())


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    engine = fresh_engine(request.param, tmp_path)
    yield Store(session_factory(engine), tmp_path / "data")
    engine.dispose()


def page_image(width: int = 900, height: int = 600, seed: int = 0) -> bytes:
    """A small ruled 'page' as JPEG bytes (different seeds give different files)."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 3), 232, np.uint8)
    for y in range(60, height - 40, 60):
        cv2.line(image, (30, y), (width - 30, y), (40, 40, 40), 2)
    cv2.putText(image, f"trang {seed}", (40, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    image = np.clip(image.astype(np.int16) + rng.integers(-6, 6, image.shape), 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bilevel_png(width: int, height: int, with_pixels: bool = True) -> bytes:
    """A real 1-bit PNG of width x height (all white compresses to a few kB even at 400 MP);
    without pixels it is only a header claiming that size."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = b""
    if with_pixels:
        row = b"\x00" + b"\xff" * ((width + 7) // 8)
        pixels = zlib.compress(row * height, 6)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")


def tiff_second_frame_without_size() -> bytes:
    """A two-page TIFF whose second page has lost its width/height tags (found by tests/test_fuzz.py)."""
    frames = [Image.new("L", (64, 48), 200), Image.new("L", (64, 48), 90)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    data = bytearray(buffer.getvalue())
    first = struct.unpack_from("<I", data, 4)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * struct.unpack_from("<H", data, first)[0])[0]
    for entry in range(struct.unpack_from("<H", data, second)[0]):
        at = second + 2 + 12 * entry
        if struct.unpack_from("<H", data, at)[0] in (256, 257):  # ImageWidth, ImageLength
            struct.pack_into("<H", data, at, 0xFDE8)  # now an unknown private tag
    return bytes(data)


def pdf_bytes(page_sizes_pt: list[tuple[float, float]]) -> bytes:
    """A real PDF (written by PDFium) with blank pages of the given sizes in points."""
    document = pdfium.PdfDocument.new()
    for width, height in page_sizes_pt:
        document.new_page(width, height)
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


def assert_only_content_addressed(store: Store) -> None:
    """Originals live at originals/<sha[:2]>/<sha><suffix>, derived images under derived/; nothing else."""
    for relative in store.files():
        parts = relative.split("/")
        assert parts[0] in ("originals", "derived") and len(parts) == 3, relative
        assert not parts[2].startswith(".tmp-"), f"leftover temporary file {relative}"
        sha = parts[2].split("_")[0].split(".")[0]
        assert len(sha) == 64 and parts[1] == sha[:2], relative


# --- unreadable page files -----------------------------------------------------------------------

GOOD_JPEG = page_image()
# A BigTIFF header whose first page lies past 2**63 (Pillow: ValueError; found by tests/test_fuzz.py).
FAR_IFD_TIFF = b"II+\x00\x08\x00\x00\x00" + (2**63).to_bytes(8, "little") + bytes(64)
GOOD_PNG = cv2.imencode(".png", cv2.imdecode(np.frombuffer(GOOD_JPEG, np.uint8), cv2.IMREAD_COLOR))[1].tobytes()
BAD_FILES: dict[str, tuple[bytes, str]] = {
    # name: (content, what the error must say)
    "cut.jpg": (GOOD_JPEG[: len(GOOD_JPEG) // 3], "damaged or truncated"),
    "scrambled.png": (GOOD_PNG[:300] + bytes(b ^ 0x5A for b in GOOD_PNG[300:3000]) + GOOD_PNG[3000:],
                      "damaged or truncated"),
    "notes.jpg": ("Họ và tên, ngày sinh\n".encode() * 50, "not an image file"),
    "random.tif": (bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)), "not an image file"),
    "empty.pdf": (pdf_bytes([]), "PDF"),
    "broken.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF", "PDF cannot be opened"),
    # The page tree points at an object that is not there (found by tests/test_fuzz.py).
    "dangling_page.pdf": (pdf_bytes([(200, 120)]).replace(b"4 0 obj", b"5 0 obj"), "cannot be loaded"),
    "sizeless_page_2.tif": (tiff_second_frame_without_size(), "the image data is damaged"),
    "far_ifd.tif": (FAR_IFD_TIFF, "the image file is damaged"),
    "header_only.png": (bilevel_png(800, 600, with_pixels=False), "damaged or truncated"),
}


def test_each_unreadable_file_fails_alone_and_the_batch_goes_on(store: Store) -> None:
    bad = [InputFile(name, data=data) for name, (data, _) in BAD_FILES.items()]
    files = [InputFile("a.jpg", data=page_image(seed=1)), *bad, InputFile("trang_trong.jpg", data=b""),
             InputFile("b.jpg", data=page_image(seed=2))]
    report = store.ingest(files)
    assert (report.pages_added, report.pages_done, report.records_created) == (2, 2, store.count(Record))
    assert report.pages_failed == len(BAD_FILES) + 1 and len(report.errors) == len(BAD_FILES) + 1
    pages = store.pages()
    # One failed page per bad file, whose error names the file and says what is wrong; the good
    # pages are done; the zero-byte file is only reported (there is nothing to keep).
    assert [name for name, _, _ in pages] == ["a.jpg", *BAD_FILES, "b.jpg"]
    for name, status, error in pages:
        if name in BAD_FILES:
            assert status == "failed" and name in error and BAD_FILES[name][1] in error, (name, error)
            assert error in report.errors
        else:
            assert status == "done" and error is None
    assert any("trang_trong.jpg" in e and "empty" in e for e in report.errors)
    # Each bad file is kept once (content-addressed) so the contractor can see it; nothing else.
    originals = [f for f in store.files() if f.startswith("originals/")]
    assert len(originals) == len(BAD_FILES) + 2
    stored = {(store.data_dir / f).read_bytes() for f in originals}
    assert all(data in stored for data, _ in BAD_FILES.values())
    assert len([f for f in store.files() if f.startswith("derived/")]) == 2  # the good pages' deskewed images
    assert_only_content_addressed(store)


# --- huge images: refused on the header, quickly, without decoding ------------------------------


def test_20000_by_20000_image_is_refused_fast_without_decoding(tmp_path: Path) -> None:
    store = Store(session_factory(fresh_engine("sqlite", tmp_path)), tmp_path / "data")
    data = bilevel_png(20_000, 20_000)  # a real, complete image of 400 megapixels (~60 kB of PNG)
    peak_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = store.ingest([InputFile("scan_600dpi.png", data=data)])
    seconds = time.perf_counter() - started
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kb) / 1024
    [(name, status, error)] = store.pages()
    assert (name, status) == ("scan_600dpi.png", "failed") and "absurdly large" in error
    # Decoding it as RGB would take 1.2 GB and many seconds; the header check takes neither.
    assert seconds < 5, seconds
    assert grew_mb < 300, grew_mb
    assert report.pages_done == 0 and store.count(Record) == 0
    assert not any(f.startswith("derived/") for f in store.files())


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("bomb.png", bilevel_png(100_000, 100_000, with_pixels=False), "absurdly large"),
        ("just_over.png", bilevel_png(12_000, 11_000, with_pixels=False), "above the 120 MP limit"),
        ("poster.pdf", pdf_bytes([(595, 842), (14_400, 14_400)]), "page 2 is 40000x40000"),
    ],
)
def test_decompression_bombs_fail_cleanly_in_a_batch(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    store = Store(session_factory(fresh_engine("sqlite", tmp_path)), tmp_path / "data")
    started = time.perf_counter()
    report = store.ingest([InputFile(name, data=data)])
    assert time.perf_counter() - started < 5
    [(_, status, error)] = store.pages()
    assert status == "failed" and expected in error and error == report.errors[0]
    assert store.count(Record) == 0


# --- ZIPs and file names ---------------------------------------------------------------------------


@pytest.mark.parametrize("evil", ["../evil.jpg", "scans/../../evil.jpg", "/etc/evil.jpg", "C:/Windows/evil.jpg",
                                  "..\\..\\evil.jpg"])
def test_zip_with_escaping_member_is_refused_whole_and_nothing_is_written(tmp_path: Path, evil: str) -> None:
    upload = tmp_path / "upload" / "book.zip"
    upload.parent.mkdir()
    upload.write_bytes(zip_bytes({"page_1.jpg": page_image(seed=1), evil: page_image(seed=2)}))
    before = sorted(p.as_posix() for p in tmp_path.rglob("*"))
    with pytest.raises(ImageLoadError, match="the ZIP is refused"):
        iter_input_files([upload])
    with pytest.raises(ImageLoadError, match="the ZIP is refused"):
        zip_members(upload.read_bytes(), "book.zip")  # the upload page's path
    assert sorted(p.as_posix() for p in tmp_path.rglob("*")) == before
    assert not (tmp_path / "evil.jpg").exists() and not Path("/etc/evil.jpg").exists()


HOSTILE_NAMES = ["../../etc/passwd.jpg", "/var/tmp/x/../../p.jpg", "a\x00b.jpg", "dòng\nmới\t.jpg",
                 "con\\..\\..\\p.jpg", "x" * 900 + ".jpg", ".jpg", "..", "bảng:ký?tự*lạ|<>.png"]


def test_hostile_file_names_never_become_paths_and_are_stored_cleanly(store: Store, tmp_path: Path) -> None:
    """Whatever a browser or a ZIP calls the file, it lands at originals/<sha>.<suffix> only, and
    the name kept for display is printable, bounded and storable in the database."""
    files = [InputFile(name, data=page_image(seed=i)) for i, name in enumerate(HOSTILE_NAMES)]
    report = store.ingest(files)
    assert report.pages_added == len(HOSTILE_NAMES) and report.pages_failed == 0, report.errors
    assert_only_content_addressed(store)
    originals = [f for f in store.files() if f.startswith("originals/")]
    assert len(originals) == len(HOSTILE_NAMES)
    assert all(f.endswith((".jpg", ".png", ".bin")) for f in originals)
    names = [name for name, _, _ in store.pages()]
    for name in names:
        assert name and len(name) <= 255 and "/" not in name and "\\" not in name
        assert all(ch.isprintable() for ch in name), ascii(name)
    assert names[0] == "passwd.jpg" and names[2] == "ab.jpg"
    # Nothing was written next to the data directory (where '../..' would have led).
    assert {p.name for p in tmp_path.iterdir()} <= {"data", "wb.db", "wb.db-wal", "wb.db-shm"}


# --- duplicate uploads -----------------------------------------------------------------------------


def test_same_file_twice_in_a_batch_and_across_batches_is_one_page(store: Store) -> None:
    data = page_image(seed=7)
    first = store.ingest([InputFile("trang_1.jpg", data=data), InputFile("ban_sao.jpg", data=data)])
    assert (first.pages_added, first.pages_already_present, first.pages_done) == (1, 1, 1)
    records = store.count(Record)
    files = store.files()
    again = store.ingest([InputFile("trang_1 (1).jpg", data=data)])
    assert (again.pages_added, again.pages_already_present, again.pages_done) == (0, 1, 0)
    assert [name for name, _, _ in store.pages()] == ["trang_1.jpg"]
    assert store.count(Record) == records and store.files() == files
    # The same scan filed in another book is a page of that book, but its file is stored once.
    volume_2 = BookIdentity("Xã Tân Lập", "khai_sinh", 2003, 2)
    other = store.ingest([InputFile("trang_1.jpg", data=data)], identity=volume_2)
    assert other.pages_added == 1 and len(store.pages()) == 2
    assert len([f for f in store.files() if f.startswith("originals/")]) == 1


# --- population extracts of the wrong kind -------------------------------------------------------


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER = ["so_dinh_danh", "ho_ten", "ngay_sinh"]
WRONG_EXTRACTS: dict[str, tuple[bytes, str]] = {
    "excel_doi_ten.csv": (_xlsx([HEADER, ["001098000001", "Nguyễn Văn An", "05/03/1998"]]), "Excel workbook"),
    "sai_tieu_de.csv": (b"ma,ten,ngay\n001098000001,A,1998\n", "lacks required column(s) id_number"),
    "rac.csv": (bytes(np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8)), "not UTF-8"),
    "utf16.csv": (",".join(HEADER).encode("utf-16"), "not UTF-8"),
    "khong_byte.csv": (b"", "is empty"),
    "chi_tieu_de.csv": (",".join(HEADER).encode(), "no citizen rows"),
    "csv_doi_ten.xlsx": (",".join(HEADER).encode() + b"\n001098000001,A,1998\n", "not a readable Excel"),
}


def test_wrong_kinds_of_extract_are_refused_and_nothing_is_stored(store: Store, tmp_path: Path) -> None:
    for name, (data, expected) in WRONG_EXTRACTS.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ExtractError) as raised, transaction(store.sessions) as session:
            import_extract(session, store.data_dir, path)
        assert expected in str(raised.value), (name, str(raised.value))
        assert raised.value.message_vi and raised.value.message_vi != str(raised.value)
    assert store.count(PopulationExtract) == 0 and store.count(AuditEvent) == 0
    assert store.files() == []


# --- Vietnamese text in odd Unicode forms -------------------------------------------------------

ODD_FORMS = {
    # what an official's keyboard/IME or a copy-paste may produce -> the NFC text to store
    "Nguye\u0302\u0303n Thi\u0323 Be\u0301": "Nguyễn Thị Bé",  # decomposed (NFD-like)
    "Le\u0302 Thi\u0323 Ha\u0323\u0302u Be\u0341": "Lê Thị Hậu Bé",  # marks out of canonical order, old acute
    "Tr\u200b\u1ea7n\u200d Th\u1ecb\ufeff M\u00ad\u1eabu\u2060": "Trần Thị Mẫu",  # zero-width and soft hyphen
    "  \u0110\u1eb7ng\u00a0\u00a0V\u0103n\u2003L\u00e2m ": "Đặng Văn Lâm",  # odd spaces
}


def test_corrections_in_odd_unicode_forms_are_stored_nfc_without_invisible_characters(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    official = users["official"]
    for typed, stored in ODD_FORMS.items():
        claim = call(next_record, official)
        call(save_record, official, claim.record_id, claim.version, {"full_name": typed, "mother_name": typed},
             "approve")
        with sessions() as session:
            values = {f.key: f.final_value for f in session.get(Record, claim.record_id).fields}
        assert values["full_name"] == values["mother_name"] == stored, ascii(values["full_name"])
        assert unicodedata.is_normalized("NFC", values["full_name"])


def test_extract_names_in_odd_unicode_forms_are_kept_nfc_and_still_match() -> None:
    rows = [["001098000001", "Nguye\u0302\u0303n\u200b Va\u0306n  An", "05/03/1998",
             "Tra\u0302\u0300n Thi\u0323 Cu\u0301c"]]
    data = "\n".join(",".join(row) for row in [[*HEADER, "ho_ten_me"], *rows]).encode("utf-8-sig")
    table = read_extract(data, "dan_cu.csv")
    # Composed as the book's values are; spacing and any invisible mark are kept as written, and
    # matching looks through both.
    assert table.full_name == ["Nguyễn\u200b Văn  An"] and table.mother_name == ["Trần Thị Cúc"]
    values = {"full_name": "Nguyễn Văn An", "birth_date": "05/03/1998", "sex": "", "father_name": "",
              "mother_name": "Trần Thị Cúc"}
    outcome = match_person(CitizenIndex.build(table), person_queries("khai_sinh", values)[0])
    assert outcome.status == "match" and table.id_number[outcome.row] == "001098000001"
