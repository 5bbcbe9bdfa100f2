"""Issue #16 items 6, 7 and 9 on the contractor's page: every upload outcome in Vietnamese, on screen
until dismissed and kept in the book's upload log; held pages confirmed from the page; a newly
created book is selected. AppTest for the page logic; one real Chromium run for what a person sees
(screenshots at 1366x768 in /tmp/shots_C/)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from models import Book, Page, User
from ocr.image.loading import iter_input_files
from ocr.page_warnings import decode_warnings
from tests.browser_harness import launch_chromium, login, new_page, running_app
from tests.test_app_pages import errors, open_page, signed_in_app
from workbench.accounts.auth import create_user
from workbench.books import BookIdentity, get_or_create_unit
from workbench.config import Settings
from workbench.context import Workbench, open_workbench
from workbench.db import transaction
from workbench.intake.book_type_hold import is_held
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.intake.upload_log import error_vi

ROOT = Path(__file__).resolve().parent.parent
BIRTH = ROOT / "samples" / "books" / "khai_sinh" / "page_001.jpg"
MARRIAGE = ROOT / "samples" / "books" / "ket_hon" / "page_001.jpg"
PAGE = "app_pages/contractor_books.py"
# English words of the loading/storage errors: none may reach a contractor's screen.
ENGLISH = re.compile(r"\b(not an image|expected|refused|the file|damaged|cannot|None)\b")


@pytest.fixture()
def app_env(wb: Workbench, monkeypatch: pytest.MonkeyPatch) -> Workbench:
    monkeypatch.setenv("WORKBENCH_DB", wb.settings.db_url)
    monkeypatch.setenv("WORKBENCH_DATA", str(wb.settings.data_dir))
    return wb


def ingest(wb: Workbench, book_type: str, paths: list[Path]) -> int:
    report = ingest_files(wb.sessions, wb.settings.data_dir, iter_input_files(paths),
                          identity=BookIdentity("Xã Tân Lập", book_type, 2003, 1), options=IngestOptions(run_ocr=False))
    assert report.errors == []
    return report.book_id


def shown(at: AppTest) -> list[str]:
    return [m.value for kind in (at.success, at.info, at.warning, at.error) for m in kind]


def upload(at: AppTest, book_id: int, files: list[tuple[str, bytes]]) -> AppTest:
    uploader = at.file_uploader(key=f"upload-{book_id}")
    for name, data in files:
        uploader.upload(name, data, "image/jpeg")
    at.checkbox(key=f"upload-ocr-{book_id}").uncheck()
    at.run()
    at.button(key=f"upload-go-{book_id}").click()
    return at.run()


def test_upload_outcomes_are_vietnamese_stay_until_read_and_are_kept_with_the_book(
    app_env: Workbench, users: dict[str, User]
) -> None:
    book_id = ingest(app_env, "khai_sinh", [BIRTH])
    at = open_page(signed_in_app(users["contractor"]), PAGE)
    at = upload(at, book_id, [("ghi_chu.jpg", b"this is not a scan"), (BIRTH.name, BIRTH.read_bytes())])
    assert not errors(at)
    expected = ["Tệp lỗi: ghi_chu.jpg: không phải tệp ảnh (cần JPEG, PNG, TIFF hoặc PDF)",
                "1 tệp đã có trong sổ, bỏ qua: page_001.jpg."]
    for _ in range(3):  # later reruns (the status refresh, other clicks) leave them on screen
        messages = [m.replace("\\", "") for m in shown(at)]  # plain() escapes Markdown marks
        for text in expected:
            assert any(text in m for m in messages), (text, messages)
        assert not any(ENGLISH.search(m) for m in messages), messages
        at.run()
    next(b for b in at.button if b.label == "Đã đọc, ẩn thông báo").click()
    at.run()
    assert not any("Tệp lỗi" in m for m in shown(at))

    # Kept with the book: the upload log (from the audit trail) and the status table, in Vietnamese.
    log = next(d.value for d in at.dataframe if "Kết quả" in d.value.columns)
    outcomes = dict(zip(log["Tệp"], log["Kết quả"], strict=False))
    assert outcomes["ghi_chu.jpg"] == "Lỗi"
    assert "Đã có trong sổ, bỏ qua" in set(log["Kết quả"])
    assert "không phải tệp ảnh" in " ".join(log["Chi tiết"])
    status = next(d.value for d in at.dataframe if "Trạng thái" in d.value.columns)
    failed = status[status["Tệp"] == "ghi_chu.jpg"].iloc[0]
    assert failed["Góc nghiêng (°)"] == "—" and failed["Lỗi"].startswith("ghi_chu.jpg: không phải tệp ảnh")
    assert not any(ENGLISH.search(str(v)) for v in [*status["Lỗi"], *log["Chi tiết"]])


def test_every_known_loading_error_reads_in_vietnamese() -> None:
    samples = [
        "a.jpg: not an image file (JPEG, PNG, TIFF or PDF expected).",
        "a.jpg: the file is empty (0 bytes).",
        "scan.tif: the image data is damaged or truncated (frame 2: broken data stream).",
        "so.pdf: the PDF cannot be opened; it is damaged, password-protected or has no pages (x).",
        "so.pdf: page 3 of the PDF cannot be rendered (x).",
        "b.zip/__MACOSX/._a.jpg: refused: macOS archive metadata (__MACOSX), not a page.",
        "b.zip/inner.zip: refused: a ZIP inside a ZIP is not opened; unpack it and upload its files.",
        "b.zip/big.tif: refused: unpacks to 900 MB, above the 256 MB limit for one file in a ZIP (a ZIP bomb).",
        "b.zip: not a valid ZIP archive (File is not a zip file).",
        "x.png: page 1 is 30000x30000 = 900 megapixels, above the 300 MP limit; it looks like a bomb",
        "x.png: page pipeline failed (ValueError: boom)",
    ]
    for message in samples:
        text = error_vi(message)
        assert not ENGLISH.search(text) and "chi tiết trong nhật ký" not in text, (message, text)
        assert text.split(":")[0] == message.split(":")[0]  # the file name is kept
    assert error_vi("something nobody foresaw") == "lỗi khi đọc hoặc xử lý tệp (chi tiết trong nhật ký kỹ thuật)"
    assert "trang 1 quá lớn (900 triệu điểm ảnh, tối đa 300)" in error_vi(samples[9])


def test_held_page_is_shown_and_confirmed_from_the_contractor_page(
    app_env: Workbench, users: dict[str, User], sessions: sessionmaker[Session]
) -> None:
    book_id = ingest(app_env, "khai_sinh", [MARRIAGE])
    at = open_page(signed_in_app(users["contractor"]), PAGE)
    assert not errors(at)
    warning = next(w.value for w in at.warning if "bị giữ lại" in w.value)
    assert "1 trang" in warning and "cán bộ chưa thấy" in warning
    at.button(key=f"confirm-type-{_page_id(sessions, book_id)}").click()
    at.run()
    assert not errors(at)
    with sessions() as session:
        assert not is_held(decode_warnings(session.scalar(select(Page.warnings).where(Page.book_id == book_id))))
    assert not any("bị giữ lại" in w.value for w in at.warning)
    log = next(d.value for d in at.dataframe if "Kết quả" in d.value.columns)
    assert {"Đã xác nhận thuộc sổ", "Bị giữ lại (nghi sai loại sổ)", "Đã thêm"} <= set(log["Kết quả"])


def _page_id(sessions: sessionmaker[Session], book_id: int) -> int:
    with sessions() as session:
        return int(session.scalar(select(Page.id).where(Page.book_id == book_id)))


def test_a_new_book_is_selected_in_the_picker(
    app_env: Workbench, users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
    build_book: Callable[..., int],
) -> None:
    build_book(units["xa_a"], [], book_type="khai_sinh", year=2003)  # an existing book is picked first
    at = open_page(signed_in_app(users["contractor"]), PAGE)
    first = at.selectbox(key="book-pick").value
    at.selectbox(key="new-book-unit").select(units["xa_a"])
    at.selectbox(key="new-book-type").select("khai_tu")
    at.number_input(key="new-book-year").set_value(1999)
    next(b for b in at.button if b.label == "Tạo sổ").click()
    at.run()
    assert not errors(at)
    with sessions() as session:
        created = session.scalar(select(Book.id).where(Book.book_type == "khai_tu"))
    assert at.selectbox(key="book-pick").value == created != first
    at.run()  # and it stays selected
    assert at.selectbox(key="book-pick").value == created


def test_upload_messages_stay_on_screen_in_a_real_browser(tmp_path: Path) -> None:
    """Chromium at the office screen size: the outcome is still there seconds after the upload
    (the status refreshes every 3 s), and the held page's warning is visible above the tabs."""
    from playwright.sync_api import sync_playwright

    shots = Path("/tmp/shots_C")
    shots.mkdir(parents=True, exist_ok=True)
    bad = tmp_path / "ghi_chu.jpg"
    bad.write_bytes(b"this is not a scan")
    with contractor_server(tmp_path, [MARRIAGE]) as (url, username, password), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, {"width": 1366, "height": 768}, 30_000)
            login(page, url, username, password)
            page.get_by_role("heading", name="Sổ và trang").wait_for()
            page.get_by_text("bị giữ lại vì có vẻ không thuộc").wait_for()
            page.screenshot(path=shots / "01-trang-bi-giu-lai.png")
            page.locator("input[type=file]").set_input_files([str(bad), str(MARRIAGE)])
            page.get_by_role("button", name="Tải lên và xử lý").click()
            page.get_by_text("Tệp lỗi: ghi_chu.jpg: không phải tệp ảnh").wait_for()
            time.sleep(4)  # past a status refresh: a flashed message would be gone by now
            assert page.get_by_text("Tệp lỗi: ghi_chu.jpg: không phải tệp ảnh").is_visible()
            assert page.get_by_text("1 tệp đã có trong sổ, bỏ qua").is_visible()
            assert page.get_by_text("not an image").count() == 0
            page.screenshot(path=shots / "02-ket-qua-tai-len.png")
            page.get_by_role("tab", name="Nhật ký tải lên").click()
            page.locator('[data-testid="stDataFrame"]:visible').first.wait_for()  # a canvas grid: no text to find
            time.sleep(1)  # the grid paints its canvas after it appears
            page.screenshot(path=shots / "03-nhat-ky-tai-len.png")
        finally:
            browser.close()


@contextmanager
def contractor_server(tmp_path: Path, pages: list[Path]) -> Iterator[tuple[str, str, str]]:
    """A Streamlit server on a fresh database: one contractor, a birth book holding `pages`."""
    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp_path / 'ui.db'}", data_dir=tmp_path / "data"))
    username, password = "nhathau_c", "mat-khau-nha-thau"
    with transaction(wb.sessions) as session:
        get_or_create_unit(session, "Xã Tân Lập")
        create_user(session, username, password, "contractor", ["Xã Tân Lập"], full_name="Nhà thầu thử")
    ingest(wb, "khai_sinh", pages)
    try:
        with running_app(wb.settings.db_url, wb.settings.data_dir, "contractor-upload-server.log") as url:
            yield url, username, password
    finally:
        wb.engine.dispose()
