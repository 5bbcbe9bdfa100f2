"""Sản phẩm bàn giao: a book's deliverables (DL Import Excel, ZIP of PDFs, PAGE XML) and the
population cross-check (import the extract, run it, the tracking list), for supervisors and admins.

Layout and calls only: the scoped services are in workbench.deliverables.deliverables, the background jobs in
workbench.ui.deliverable_jobs.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Role
from workbench.accounts.auth import local_time_text
from workbench.crosscheck.tracking import FIELD_LABELS_VI, ROLE_LABELS_VI, STATUS_LABELS_VI
from workbench.deliverables.deliverables import (
    FORMATS,
    DeliverableBook,
    book_tracking_list,
    deliverable_books,
    export_tracking_list,
    import_population_extract,
    population_extracts,
)
from workbench.ui import notices
from workbench.ui.deliverable_jobs import JobView, download_bytes, jobs_of, start_crosscheck, start_export
from workbench.ui.guard import require
from workbench.ui.labels import FORMAT_LABELS_VI
from workbench.ui.plain import plain

ctx = require(Role.SUPERVISOR)
settings = ctx.wb.settings
USER_ID = ctx.identity.user_id
MIME = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".zip": "application/zip"}
RUNNING_KEY = "deliverables-running"


def book_text(book: DeliverableBook) -> str:
    return f"{book.unit_name} · {book.label} · {book.approved} đã duyệt, {book.open_records} chưa duyệt"


def mime_of(file_name: str) -> str:
    return next((m for suffix, m in MIME.items() if file_name.endswith(suffix)), "application/octet-stream")


def download(book_id: int, file_name: str, key: str) -> None:
    """The file is read (scope re-checked, download audited) only when the button is clicked."""
    st.download_button(
        "Tải về", lambda: download_bytes(ctx.wb.sessions, settings.data_dir, USER_ID, book_id, file_name),
        file_name=file_name, mime=mime_of(file_name), key=key, on_click="ignore", type="primary",
        icon=":material/download:")


def job_title(job: JobView, books: dict[int, DeliverableBook]) -> str:
    book = books.get(job.book_id)
    where = f"{book.label} · {book.unit_name}" if book else f"sổ số {job.book_id}"
    return f"{FORMAT_LABELS_VI.get(job.kind, job.kind)} · {where}"


def job_progress_text(job: JobView) -> str:
    unit = "trang" if job.kind == "pagexml" else "hồ sơ" if job.kind == "crosscheck" else "tệp"
    counted = f": {job.done:d}/{job.total:d} {unit}" if job.total else ""
    return f"Đang thực hiện{counted}"


@st.fragment(run_every=1)
def running_jobs(books: dict[int, DeliverableBook]) -> None:
    """Progress of this user's running jobs; when one finishes the whole page reruns to show its file."""
    running = [j for j in jobs_of(settings.db_url, USER_ID) if j.running]
    ids = {j.job_id for j in running}
    if set(st.session_state.get(RUNNING_KEY, set())) - ids:
        st.session_state[RUNNING_KEY] = ids
        st.rerun(scope="app")
    st.session_state[RUNNING_KEY] = ids
    for job in running:
        st.progress(job.fraction, text=plain(job_title(job, books)) + " — " + plain(job_progress_text(job)))


def finished_job(job: JobView, books: dict[int, DeliverableBook]) -> None:
    with st.container(border=True):
        st.markdown(f"**{plain(job_title(job, books))}**")
        if job.error_vi is not None:
            st.error(plain(job.error_vi))
        elif job.result is not None:
            result = job.result
            inside = f" · {result.files:d} tệp bên trong" if result.kind != "xlsx" else ""
            size = f"{result.size_bytes / 1_000_000:.1f} MB" if result.size_bytes >= 100_000 else (
                f"{result.size_bytes / 1000:.0f} kB")
            st.progress(1.0, text=f"Xong: {result.records:d} hồ sơ ({result.unapproved:d} chưa duyệt){plain(inside)}")
            if result.unfinished_pages:
                st.warning(f"{result.unfinished_pages:d} trang của sổ chưa xử lý xong (đang chờ hoặc lỗi): "
                           "các hồ sơ trên những trang đó không có trong tệp.")
            # The name on its own line, the button under it: side by side, the button's label was cut at 1366 px.
            st.text(f"{result.file_name} ({size})")
            download(result.book_id, result.file_name, f"download-{job.job_id}")
        elif job.outcome is not None:
            outcome = job.outcome
            counts = " · ".join(f"{STATUS_LABELS_VI.get(k, k)}: {n}" for k, n in outcome.counts.items())
            st.progress(1.0, text=f"Xong: {outcome.records:d} hồ sơ, {outcome.people:d} người")
            st.text(counts)


def export_tab(book: DeliverableBook) -> None:
    st.caption(f"{book.approved:d} hồ sơ đã duyệt · {book.open_records:d} chưa duyệt · {book.pages:d} trang"
               + (f" ({book.unfinished_pages:d} trang chưa xử lý xong)" if book.unfinished_pages else ""))
    fmt = st.radio("Định dạng", list(FORMATS), format_func=lambda f: FORMAT_LABELS_VI[f], key="deliverables-format")
    include = st.checkbox("Gồm cả hồ sơ chưa duyệt (tên tệp và cột ghi chú đánh dấu CHƯA DUYỆT)",
                          key="deliverables-include-unapproved")
    if st.button("Bắt đầu xuất", type="primary", key="deliverables-export", icon=":material/file_export:"):
        if not start_export(ctx.wb.sessions, settings.db_url, settings.data_dir, USER_ID, book.id, str(fmt),
                            bool(include)):
            notices.push("info", "Sổ này đang được xuất theo định dạng đó; hãy chờ lần xuất đang chạy.")
        st.rerun()


def crosscheck_tab(book: DeliverableBook) -> None:
    with st.expander("Nhập tệp trích xuất từ CSDL quốc gia về dân cư"):
        st.caption("Tệp CSV (UTF-8) hoặc Excel, dòng 1 là tiêu đề: số định danh cá nhân (12 chữ số), họ và tên, "
                   "ngày sinh; có thể thêm giới tính, họ tên cha, họ tên mẹ, nơi cư trú. Một dòng sai thì cả tệp "
                   "không được nhập.")
        upload = st.file_uploader("Tệp trích xuất", type=["csv", "xlsx"], key="deliverables-extract-file")
        if upload is not None and st.button("Nhập tệp", key="deliverables-extract-import"):
            with st.spinner("Đang kiểm tra và lưu tệp…"):
                imported = ctx.run(lambda session, user: import_population_extract(
                    session, user, settings.data_dir, upload.name, upload.getvalue()),
                    lambda info: f"Đã nhập {info.rows} người từ tệp {info.file_name}.")
            if imported.ok:
                st.rerun()
    with ctx.session() as (session, user):
        extracts = population_extracts(session, user)
    if not extracts:
        st.info("Chưa có tệp trích xuất dân cư nào. Hãy nhập một tệp ở trên.")
    else:
        labels = {e.id: f"Số {e.id} · {e.file_name} · {e.rows} người · nhập lúc {local_time_text(e.imported_at)}"
                  for e in extracts}
        extract_id = st.selectbox("Tệp trích xuất dùng để đối chiếu", list(labels), format_func=labels.__getitem__,
                                  key="deliverables-extract")
        st.caption("Đối chiếu từng người trong các hồ sơ đã duyệt của sổ: khớp (số định danh vào tệp Excel nhập "
                   "liệu), có trong CSDL nhưng khác (vào danh sách theo dõi, không ghi đè sổ), không tìm thấy.")
        if st.button("Đối chiếu sổ này", type="primary", key="deliverables-crosscheck", icon=":material/sync_alt:"):
            if not start_crosscheck(ctx.wb.sessions, settings.db_url, settings.data_dir, USER_ID, book.id,
                                    int(extract_id)):
                notices.push("info", "Sổ này đang được đối chiếu; hãy chờ lần đang chạy.")
            st.rerun()
    tracking(book)


def tracking(book: DeliverableBook) -> None:
    st.subheader("Danh sách theo dõi của sổ")
    with ctx.session() as (session, user):
        items = book_tracking_list(session, user, book.id)
    if not items:
        st.caption("Không có người nào cần xác minh (có trong CSDL nhưng khác, hoặc nhiều kết quả).")
        return
    st.dataframe(pd.DataFrame([
        {"Trang": i.page_index, "Dòng": i.row_index, "Người": ROLE_LABELS_VI.get(i.role, i.role),
         "Kết quả": STATUS_LABELS_VI.get(i.status, i.status),
         "Trường khác nhau": ", ".join(FIELD_LABELS_VI.get(f, f) for f in i.differing_fields),
         "Họ và tên (sổ)": i.book_values.get("full_name", ""),
         "Họ và tên (CSDL)": i.citizen_values.get("full_name", ""), "Số ứng viên": i.candidate_count}
        for i in items
    ]), hide_index=True, width="stretch")
    if st.button("Tạo tệp Excel danh sách theo dõi", key="deliverables-tracking"):
        tracking = ctx.run(lambda session, user: export_tracking_list(session, user, settings.data_dir, book.id),
                           None)
        if tracking.ok:
            st.session_state["deliverables-tracking-file"] = tracking.value
    made = st.session_state.get("deliverables-tracking-file")
    if made is not None and made.book_id == book.id:
        st.text(f"{made.file_name} ({len(items)} người)")
        download(made.book_id, made.file_name, "download-tracking")


st.title("Sản phẩm bàn giao")
notices.show()
with ctx.session() as (session, user):
    books = {b.id: b for b in deliverable_books(session, user)}
if not books:
    st.info("Chưa có sổ nào trong các đơn vị bạn phụ trách.")
    st.stop()
book_id = st.selectbox("Sổ", list(books), format_func=lambda b: book_text(books[b]), key="deliverables-book")
chosen = books[int(book_id)]
export_col, jobs_col = st.columns([1, 1], gap="large")
with export_col:
    export, crosscheck = st.tabs(["Xuất sổ", "Đối chiếu dân cư"])
    with export:
        export_tab(chosen)
    with crosscheck:
        crosscheck_tab(chosen)
with jobs_col:
    st.subheader("Tiến trình và tệp tải về")
    jobs = jobs_of(settings.db_url, USER_ID)
    if not jobs:
        st.caption("Chưa có lần xuất hay đối chiếu nào trong phiên làm việc này.")
    running_jobs(books)
    for job in jobs:
        if job.finished:
            finished_job(job, books)
