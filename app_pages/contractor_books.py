"""Sổ và trang: create books, upload scans, watch processing, fix bad pages."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from models import Role
from workbench.accounts.admin import list_units
from workbench.book_types import all_book_types
from workbench.intake.book_type_hold import book_type_label_vi, confirm_page_book_type
from workbench.intake.contractor import (
    BookSummary,
    PageSummary,
    create_book,
    delete_page,
    list_books,
    list_pages,
    rerun_page,
    restore_page,
)
from workbench.intake.ingest import IngestOptions, IngestReport
from workbench.intake.upload_log import error_vi, upload_log
from workbench.intake.uploads import store_uploads
from workbench.review.progress import book_sequence_counts
from workbench.ui import notices
from workbench.ui.book_processing import is_processing, start_processing
from workbench.ui.guard import require
from workbench.ui.labels import PAGE_STATUS_VI, page_warnings_vi
from workbench.ui.navigation import GRID, to_st_page
from workbench.ui.plain import plain
from workbench.ui.rendering import thumbnail_rgb
from workbench.ui.resources import get_recognizer

MAX_FILE_MB = 200  # per uploaded file; = server.maxUploadSize in .streamlit/config.toml (the uploader shows it)
UPLOAD_TYPES = ["jpg", "jpeg", "png", "tif", "tiff", "bmp", "webp", "pdf", "zip"]

ctx = require(Role.CONTRACTOR)
settings = ctx.wb.settings
db_url = settings.db_url


BOOK_PICK = "book-pick"
PICK_NEXT = "book-pick-next"  # a book to select on the next run (the picker exists by then)
BOOK_PARAM = "so"  # the picked book's id in the address (?so=<id>), so a reload stays on that book
NEW_BOOK_OPEN = "new-book-open"  # the "Tạo sổ mới" expander's state (open/closed)
NEW_BOOK_DONE = "new-book-done"  # a book was created on the last run: close and empty the form


def book_title(book: BookSummary) -> str:
    return f"{book.type_label} · {book.unit_name} · năm {book.year} · quyển {book.volume}"


def create_book_form() -> None:
    with ctx.session() as (session, user):
        units = {u.id: u.path for u in list_units(session, user)}
    book_types = all_book_types()
    # The fields take their values from the session (no value= on the widgets), so the form can be put
    # back to these after a book is created: closed and empty, a second "Tạo sổ" cannot resend the book.
    defaults = {"new-book-unit": next(iter(units), None), "new-book-type": next(iter(book_types)),
                "new-book-year": 2000, "new-book-volume": 1, "new-book-count": 0}
    created_last_run = st.session_state.pop(NEW_BOOK_DONE, False)
    for key, value in defaults.items():
        if value is not None and (created_last_run or key not in st.session_state):
            st.session_state[key] = value
    if created_last_run:
        st.session_state[NEW_BOOK_OPEN] = False
    with st.expander("Tạo sổ mới", key=NEW_BOOK_OPEN, on_change="rerun"), st.form("create-book"):
        unit_id = st.selectbox("Đơn vị", list(units), format_func=lambda uid: units[uid], key="new-book-unit")
        type_key = st.selectbox("Loại sổ", list(book_types), format_func=lambda k: book_types[k].label,
                                key="new-book-type")
        year_col, volume_col, count_col = st.columns(3)
        year = year_col.number_input("Năm", min_value=1900, max_value=2100, step=1, key="new-book-year")
        volume = volume_col.number_input("Quyển số", min_value=1, step=1, key="new-book-volume")
        declared = count_col.number_input("Số đăng ký trong sổ (nếu biết)", min_value=0, step=1, key="new-book-count")
        if st.form_submit_button("Tạo sổ", type="primary"):
            if unit_id is None:
                st.error("Chưa có đơn vị nào trong phạm vi của bạn.")
                return
            created = ctx.run(
                lambda s, u: create_book(s, u, unit_id=int(unit_id), book_type=type_key, year=int(year),
                                         volume=int(volume), declared_count=int(declared) or None),
                "Đã tạo sổ; sổ mới đang được chọn.",
            )
            if created.ok and isinstance(created.value, int):
                st.session_state[PICK_NEXT] = created.value  # the contractor goes on with the book just made
                st.session_state[NEW_BOOK_DONE] = True  # a second "Tạo sổ" must not send the same book again
                st.rerun()


def upload_section(book: BookSummary) -> None:
    notices.show_pinned(_upload_slot(book.id))
    st.markdown(f"Ảnh (JPG, PNG, TIFF), PDF hoặc ZIP; tối đa **{MAX_FILE_MB} MB** mỗi tệp.")
    files = st.file_uploader("Tải lên ảnh trang", type=UPLOAD_TYPES, accept_multiple_files=True,
                             key=f"upload-{book.id}")
    run_ocr = st.checkbox("Nhận dạng chữ viết sau khi tải lên", value=True, key=f"upload-ocr-{book.id}")
    if not st.button("Tải lên và xử lý", type="primary", disabled=not files, key=f"upload-go-{book.id}"):
        return
    too_big = [f.name for f in files or [] if f.size > MAX_FILE_MB * 1024 * 1024]
    if too_big:
        st.error(f"Các tệp vượt quá {MAX_FILE_MB} MB, chưa được tải lên: {plain(', '.join(too_big))}. "
                 "Hãy chia nhỏ (ví dụ mỗi ZIP một phần sổ) rồi tải lại.")
    accepted = [f for f in files or [] if f.name not in too_big]
    if not accepted:
        return
    options = IngestOptions(run_ocr=run_ocr, ocr_threads=settings.ocr_threads)
    bar = st.progress(0.0, text="Đang lưu tệp…")
    with ctx.session() as (_, user):
        actor = user
    result = store_uploads(
        ctx.wb.sessions, settings.data_dir, book.id, [(f.name, f.getvalue) for f in accepted], options, actor,
        on_file=lambda number, name: bar.progress(
            (number - 1) / len(accepted), text=f"Đang lưu {plain(name)} ({number:d}/{len(accepted)})"),
    )
    bar.progress(1.0, text="Đã lưu tất cả tệp; đang xử lý các trang ở chế độ nền.")
    recognizer = get_recognizer(settings.ocr_threads) if run_ocr else None
    if result.report.pages_added:
        start_processing(ctx.wb.sessions, db_url, settings.data_dir, book.id, options, recognizer)
    notices.pin(_upload_slot(book.id), upload_outcome(result.report, result.skipped, result.zip_errors, too_big))
    st.rerun()


def _upload_slot(book_id: int) -> str:
    return f"upload-outcome-{book_id:d}"


def upload_outcome(report: IngestReport, skipped: list[str], zip_errors: list[str],
                   too_big: list[str]) -> list[tuple[str, str]]:
    """Every outcome of one upload, in Vietnamese, to stay on screen until read (kept in the
    book's upload log too)."""
    messages: list[tuple[str, str]] = []
    if report.pages_added:
        messages.append(("success", f"Đã thêm {report.pages_added:d} trang vào sổ; các trang đang được xử lý "
                                    "(xem thẻ Trạng thái xử lý)."))
    else:
        messages.append(("info", "Không có trang mới nào được thêm vào sổ."))
    messages += [("warning", f"Tệp lỗi: {error_vi(error)}") for error in [*zip_errors, *report.errors]]
    if skipped:
        messages.append(("info", f"{len(skipped):d} tệp đã có trong sổ, bỏ qua: {', '.join(skipped)}."))
    if too_big:
        messages.append(("warning", f"Chưa tải lên (quá {MAX_FILE_MB:d} MB): {', '.join(too_big)}."))
    return messages


def pages_frame(pages: list[PageSummary]) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "Trang": p.page_index, "Tệp": p.original_name, "Trạng thái": PAGE_STATUS_VI.get(p.status, p.status),
            # Text, so a page without an angle (failed, not yet processed) shows a dash, not "None".
            "Góc nghiêng (°)": f"{p.deskew_angle:+.2f}" if p.deskew_angle is not None else "—",
            "Số dòng": str(p.rows_found) if p.rows_expected is None else f"{p.rows_found}/{p.rows_expected}",
            "Cảnh báo": page_warnings_vi(p.warnings), "Lỗi": p.error_vi,
            "Đã xoá": "có" if p.deleted else "",
        }
        for p in pages
    ])


@st.fragment(run_every=3)
def page_status(book_id: int) -> None:
    """Re-reads page states from the database every few seconds (survives reloads and other tabs)."""
    with ctx.session() as (session, user):
        pages = list_pages(session, user, book_id, include_deleted=True)
        sequence = book_sequence_counts(session, user, book_id)
    live = [p for p in pages if not p.deleted]
    if not live:
        st.info("Sổ chưa có trang nào.")
        return
    finished = sum(p.status in ("done", "failed") for p in live)
    counts = {s: sum(p.status == s for p in live) for s in PAGE_STATUS_VI}
    alarm = (f" · Thiếu/trùng số đăng ký: {sequence.pages_with_warnings} trang"
             if sequence.pages_with_warnings else "")
    st.progress(finished / len(live), text=f"Đã xử lý {finished:d}/{len(live)} trang · "
                + plain(" · ".join(f"{PAGE_STATUS_VI[s]}: {n}" for s, n in counts.items() if n) + alarm))
    st.dataframe(pages_frame(pages), hide_index=True, width="stretch")
    pending = counts["queued"] + counts["processing"]
    if pending and not is_processing(db_url, book_id) and st.button(
        "Tiếp tục xử lý các trang đang chờ", key=f"resume-{book_id}"
    ):
        start_processing(ctx.wb.sessions, db_url, settings.data_dir, book_id,
                         IngestOptions(ocr_threads=settings.ocr_threads), get_recognizer(settings.ocr_threads))
        st.rerun()


@st.fragment(run_every=3)
def held_pages(book: BookSummary) -> None:
    """Pages that may belong to another book type: officials do not see them until confirmed here."""
    with ctx.session() as (session, user):
        held = [p for p in list_pages(session, user, book.id) if p.held]
    if not held:
        return
    these = "trang này" if len(held) == 1 else "các trang này"
    st.warning(f"{len(held):d} trang bị giữ lại vì có vẻ không thuộc {plain(book_type_label_vi(book.book_type))}: "
               f"cán bộ chưa thấy bản ghi nào của {plain(these)}. Hãy xem ảnh trang (thẻ Ảnh trang) rồi xác nhận trang "
               "thuộc sổ này, hoặc xoá trang (thẻ Sửa trang) và tải lên đúng sổ.", icon=":material/pan_tool:")
    for page in held:
        text_col, button_col = st.columns([4, 1])
        text_col.markdown(f"**Trang {page.page_index:d}** · {plain(page.original_name)} · có vẻ thuộc "
                          f"{plain(book_type_label_vi(page.suspected_type or ''))} · {page.rows_found:d} dòng")
        if button_col.button("Xác nhận thuộc sổ này", key=f"confirm-type-{page.id}") and ctx.run(
            partial(confirm_page_book_type, page_id=page.id),
            f"Đã xác nhận trang {page.page_index:d} thuộc sổ này; bản ghi đã chuyển cho cán bộ.",
        ).ok:
            st.rerun(scope="app")


def upload_history(book: BookSummary) -> None:
    """The book's upload log: every file's outcome, kept with the book (from the audit trail)."""
    with ctx.session() as (session, user):
        entries = upload_log(session, user, book.id)
    if not entries:
        st.info("Chưa có lần tải lên nào.")
        return
    st.dataframe(pd.DataFrame([
        {
            "Thời gian": e.at_text, "Người thực hiện": e.actor_vi,
            "Tệp": e.file, "Trang": e.page_index if e.page_index is not None else "", "Kết quả": e.outcome_vi,
            "Chi tiết": e.detail_vi,
        }
        for e in entries
    ]), hide_index=True, width="stretch")


def thumbnails(pages: list[PageSummary]) -> None:
    live = [p for p in pages if not p.deleted]
    columns = st.columns(4)
    for index, page in enumerate(live[:48]):
        with columns[index % 4]:
            image = thumbnail_rgb(str(settings.data_dir), page.image_path)
            if image is not None:
                st.image(image, width="stretch")
            angle = f"{page.deskew_angle:+.1f}°" if page.deskew_angle is not None else "—"
            warn = page_warnings_vi(page.warnings)
            # Warnings name other pages' files (duplicate_of): the uploader's text, shown literally.
            st.caption(f"Trang {page.page_index:d} · {plain(PAGE_STATUS_VI.get(page.status, page.status))} · "
                       f"nghiêng {plain(angle)} · {page.rows_found:d} dòng" + (f" · ⚠ {plain(warn)}" if warn else ""))
    if len(live) > 48:
        st.caption(f"… và {len(live) - 48} trang khác (xem bảng trạng thái).")


def page_tools(book: BookSummary, pages: list[PageSummary]) -> None:
    if not pages:
        return
    by_id = {p.id: p for p in pages}
    page_id = st.selectbox("Chọn trang", list(by_id), key=f"tool-page-{book.id}",
                           format_func=lambda pid: f"Trang {by_id[pid].page_index} · {by_id[pid].original_name}"
                           + (" (đã xoá)" if by_id[pid].deleted else ""))
    page = by_id[page_id]
    rerun_col, delete_col = st.columns(2)
    with rerun_col:
        force = st.checkbox("Chạy lại dù cán bộ đã xác minh một phần (công sức đó sẽ mất)",
                            key=f"force-{page_id}", disabled=not page.has_human_work)
        if st.button("Xử lý lại trang", key=f"rerun-{page_id}") and ctx.run(
            lambda s, u: rerun_page(s, u, page_id, force=force), f"Đã đưa trang {page.page_index} vào hàng chờ."
        ).ok:
            start_processing(ctx.wb.sessions, db_url, settings.data_dir, book.id,
                             IngestOptions(ocr_threads=settings.ocr_threads), get_recognizer(settings.ocr_threads))
            st.rerun()
    with delete_col:
        if page.deleted:
            if st.button("Khôi phục trang", key=f"restore-{page_id}") and ctx.run(
                lambda s, u: restore_page(s, u, page_id), f"Đã khôi phục trang {page.page_index}."
            ).ok:
                st.rerun()
        else:
            reason = st.text_input("Lý do xoá trang", key=f"delete-reason-{page_id}")
            if st.button("Xoá trang (có thể khôi phục)", key=f"delete-{page_id}") and ctx.run(
                lambda s, u: delete_page(s, u, page_id, reason), f"Đã xoá trang {page.page_index}."
            ).ok:
                st.rerun()
    # The grid editor has its own page (app_pages/contractor_grid.py): rulings drawn over the page, moved,
    # added or removed, then the page re-cut and re-read with the book's active model.
    st.page_link(to_st_page(GRID), label="Sửa khung kẻ của trang (khi máy tách dòng/cột sai)",
                 icon=":material/grid_on:")


st.title("Sổ và trang")
notices.show()
create_book_form()
with ctx.session() as (session, user):
    books = list_books(session, user)
if not books:
    st.info("Chưa có sổ nào. Hãy tạo sổ mới.")
    st.stop()
books_by_id = {b.id: b for b in books}
if st.session_state.get(PICK_NEXT) in books_by_id:  # a book created on the last run is selected
    st.session_state[BOOK_PICK] = st.session_state.pop(PICK_NEXT)
elif BOOK_PICK not in st.session_state:  # a new session (F5, a dropped connection): the book in the address
    from_address = st.query_params.get(BOOK_PARAM, "")
    if from_address.isdigit() and int(from_address) in books_by_id:
        st.session_state[BOOK_PICK] = int(from_address)
book_id = st.selectbox("Sổ", list(books_by_id), format_func=lambda b: book_title(books_by_id[b]), key=BOOK_PICK)
if st.query_params.get(BOOK_PARAM) != str(book_id):
    st.query_params[BOOK_PARAM] = str(book_id)
book = books_by_id[book_id]
st.caption(f"{book.pages:d} trang · {book.records:d} bản ghi"
           + (f" · sổ ghi {book.declared_count:d} đăng ký" if book.declared_count else ""))
held_pages(book)
upload_tab, status_tab, log_tab, thumbs_tab, tools_tab = st.tabs(
    ["Tải lên", "Trạng thái xử lý", "Nhật ký tải lên", "Ảnh trang", "Sửa trang"])
with upload_tab:
    upload_section(book)
with status_tab:
    page_status(book.id)
with log_tab:
    upload_history(book)
with ctx.session() as (session, user):
    all_pages = list_pages(session, user, book.id, include_deleted=True)
with thumbs_tab:
    thumbnails(all_pages)
with tools_tab:
    page_tools(book, all_pages)
