"""Sửa lưới trang: see a page's rulings over its image, move, add or remove them, then re-cut and
re-read the page with the active model (workbench.intake.segmentation does the work and the checks)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from models import Role
from workbench.errors import ServiceError
from workbench.intake.contractor import BookSummary, PageSummary, list_books, list_pages
from workbench.intake.segmentation import (
    GridLines,
    PageGrid,
    SegmentationResult,
    check_lines,
    correct_segmentation,
    load_page_grid,
)
from workbench.training.model_registry import SHIPPED_VERSION
from workbench.ui.guard import require
from workbench.ui.imaging import draw_boxes, draw_numbered_grid, fit_width, line_window, to_rgb
from workbench.ui.labels import GRID_SOURCE_VI
from workbench.ui.plain import plain
from workbench.ui.rendering import load_page

PREVIEW_WIDTH = 1100  # px sent to the browser; the preview column is ~600 px at 1366x768
STEP_PX = 2
PER_ROW = 2  # inputs side by side in the editor's column (wider ones would hide their -/+ buttons)

ctx = require(Role.CONTRACTOR)
settings = ctx.wb.settings


@dataclass
class EditorState:
    """The lines being edited for one page; `revision` renews the inputs after an add or remove."""

    columns: list[int]
    rows: list[int]
    revision: int = 0
    closeup: str = field(default="")


def book_title(book: BookSummary) -> str:
    return f"{book.type_label} · {book.unit_name} · năm {book.year} · quyển {book.volume}"


def page_title(page: PageSummary) -> str:
    codes = {w.code for w in page.warnings}
    note = " · chưa thấy khung kẻ" if "no_grid" in codes else ""
    note += " · đã sửa lưới" if "manual_grid" in codes else ""
    return f"Trang {page.page_index} · {page.rows_found} dòng{note}"


def model_name(version: str | None) -> str:
    if version is None:
        return "chưa đọc bằng máy"
    return "mô hình gốc (kèm phần mềm)" if version == SHIPPED_VERSION else f"mô hình {version}"


def editor_state(grid: PageGrid) -> EditorState:
    key = f"grid-editor-{grid.page_id}"
    if key not in st.session_state:
        st.session_state[key] = EditorState(list(grid.lines.column_lines), list(grid.lines.row_lines))
    state: EditorState = st.session_state[key]
    return state


def renew(state: EditorState, columns: list[int], rows: list[int]) -> None:
    state.columns, state.rows = columns, rows
    state.revision += 1
    st.rerun()


def slots(positions: list[int]) -> Iterator[tuple[DeltaGenerator, int, int]]:
    """(column, index, position) for each line: PER_ROW inputs to a row, each row its own columns
    aligned at the bottom, so a label that wraps onto two lines does not push the next ones out of line."""
    for start in range(0, len(positions), PER_ROW):
        row = st.columns(PER_ROW, vertical_alignment="bottom")
        for slot, index in zip(row, range(start, min(start + PER_ROW, len(positions))), strict=False):
            yield slot, index, positions[index]


def column_inputs(grid: PageGrid, state: EditorState) -> list[int]:
    labels = grid.column_labels
    st.caption(f"Số đường dọc cố định theo mẫu sổ: {len(state.columns):d} đường, mỗi đường là mép trái của cột "
               "ghi bên cạnh (đường cuối là mép phải bảng). Dời một đường: sửa số (điểm ảnh) rồi bấm Enter.")
    values = []
    for slot, index, x in slots(state.columns):
        where = labels[index] if index < len(labels) else "mép phải bảng"
        with slot:
            values.append(int(st.number_input(f"{index + 1:d} · {plain(where)}", min_value=0, max_value=grid.width,
                                              value=int(x), step=STEP_PX,
                                              key=f"gx-{grid.page_id}-{state.revision}-{index}")))
    return values


def row_inputs(grid: PageGrid, state: EditorState) -> list[int]:
    st.caption("Đường 1 (xanh lá) là mép dưới tiêu đề; mỗi đường sau là mép dưới một dòng đăng ký.")
    values = []
    for slot, index, y in slots(state.rows):
        with slot:
            values.append(int(st.number_input(
                f"{index + 1:d} · " + ("dưới tiêu đề" if index == 0 else f"dưới dòng {index:d}"),
                min_value=0, max_value=grid.height, value=int(y), step=STEP_PX,
                key=f"gy-{grid.page_id}-{state.revision}-{index}")))
    return values


def row_tools(grid: PageGrid, state: EditorState, columns: list[int], rows: list[int]) -> None:
    """Add a row line at a position, remove one, or go back to the stored grid."""
    pitch = (rows[-1] - rows[0]) // max(1, len(rows) - 1) if len(rows) > 1 else 100
    add_col, remove_col = st.columns(2)
    with add_col, st.form(f"grid-add-{grid.page_id}", border=False):
        at = st.number_input("Thêm đường ngang tại y =", min_value=0, max_value=grid.height,
                             value=min(grid.height, rows[-1] + pitch) if rows else 0, step=STEP_PX,
                             key=f"grid-add-y-{grid.page_id}-{state.revision}")
        if st.form_submit_button("Thêm đường ngang", icon=":material/add:"):
            renew(state, columns, sorted({*rows, int(at)}))
    with remove_col, st.form(f"grid-remove-{grid.page_id}", border=False):
        which = st.selectbox("Bỏ đường ngang số", list(range(1, len(rows) + 1)), index=len(rows) - 1,
                             key=f"grid-remove-n-{grid.page_id}-{state.revision}")
        if st.form_submit_button("Bỏ đường ngang", icon=":material/remove:", disabled=len(rows) <= 2):
            renew(state, columns, [y for i, y in enumerate(rows, start=1) if i != which])
    if st.button("Trở về lưới đã lưu", key=f"grid-reset-{grid.page_id}", icon=":material/undo:"):
        renew(state, list(grid.lines.column_lines), list(grid.lines.row_lines))


def preview(grid: PageGrid, columns: list[int], rows: list[int]) -> None:
    image = load_page(settings.data_dir, grid.image_path)
    if image is None:
        st.error("Không đọc được ảnh trang.")
        return
    st.image(to_rgb(fit_width(draw_numbered_grid(image, columns, rows), PREVIEW_WIDTH)), width="stretch",
             caption="Xem trước: đường dọc xanh dương, đường ngang đỏ (đường 1 xanh lá là mép dưới tiêu đề)")
    choices = {"": "Không xem gần"} | {f"c{i}": f"Đường dọc {i + 1:d}" for i in range(len(columns))} | {
        f"r{i}": f"Đường ngang {i + 1:d}" for i in range(len(rows))}
    picked = st.selectbox("Xem gần một đường (ảnh gốc, không thu nhỏ)", list(choices),
                          format_func=lambda k: choices[k], key=f"grid-closeup-{grid.page_id}")
    if picked:
        vertical, index = picked[0] == "c", int(picked[1:])
        drawn = draw_numbered_grid(image, columns, rows)
        if vertical:
            window = line_window(drawn, True, columns[index], along=(rows[0] - 200, rows[0] + 500))
        else:
            window = line_window(drawn, False, rows[index], half=120, along=(columns[0] - 80, columns[0] + 1100))
        st.image(to_rgb(window), caption=plain(choices[picked]))


def show_result(grid: PageGrid, result: SegmentationResult) -> None:
    kept = f" Giữ nguyên {result.records_kept:d} dòng cán bộ đã làm." if result.records_kept else ""
    st.success(f"Đã cắt lại và đọc lại trang {grid.page_index:d}: {result.records_created:d} dòng mới, "
               f"thay {result.records_replaced:d} dòng cũ, đọc bằng "
               + plain(model_name(result.model_version)) + "." + plain(kept))
    if not result.rows:
        st.warning("Không có dòng nào có chữ viết trong lưới này.")
        return
    with st.expander("Các dòng vừa đọc", expanded=True):
        result_rows(grid, result)


def result_rows(grid: PageGrid, result: SegmentationResult) -> None:
    labels = dict(zip(grid.column_keys, grid.column_labels, strict=True))
    table = pd.DataFrame([{"Dòng": row.row_index, **{labels[k]: v for k, v in row.values.items() if k in labels},
                           "Độ tin cậy": round(row.confidence, 2)} for row in result.rows])
    st.dataframe(table, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(table)))
    image = load_page(settings.data_dir, grid.image_path)
    if image is not None and st.toggle("Xem các dòng mới trên ảnh trang", key=f"grid-result-boxes-{grid.page_id}"):
        boxes = [row.box for row in result.rows]
        st.image(to_rgb(fit_width(draw_boxes(image, boxes), PREVIEW_WIDTH)), width="stretch",
                 caption="Các dòng mới trên trang")


def run_correction(grid: PageGrid, lines: GridLines) -> None:
    with ctx.session() as (_, user):
        actor = user
    try:
        with st.spinner("Đang cắt lại và đọc lại trang…"):
            result = correct_segmentation(ctx.wb.sessions, actor, grid.page_id, lines, settings.data_dir,
                                          ocr_threads=settings.ocr_threads)
    except ServiceError as exc:
        st.error(plain(exc.message_vi))
        return
    st.session_state["grid-result"] = (grid.page_id, result)
    st.rerun()


st.title("Sửa lưới trang")
with ctx.session() as (session, user):
    books = list_books(session, user)
if not books:
    st.info("Chưa có sổ nào.")
    st.stop()
books_by_id = {b.id: b for b in books}
book_col, page_col = st.columns(2)
with book_col:
    book_id = st.selectbox("Sổ", list(books_by_id), format_func=lambda b: book_title(books_by_id[b]),
                           key="grid-book")
with ctx.session() as (session, user):
    pages = [p for p in list_pages(session, user, book_id) if p.status == "done"]
if not pages:
    st.info("Sổ này chưa có trang nào xử lý xong.")
    st.stop()
pages_by_id = {p.id: p for p in pages}
with page_col:
    page_id = st.selectbox("Trang", list(pages_by_id), format_func=lambda p: page_title(pages_by_id[p]),
                           key=f"grid-page-{book_id}")
try:
    with ctx.session() as (session, user):
        grid = load_page_grid(session, user, page_id)
except ServiceError as exc:
    st.error(plain(exc.message_vi))
    st.stop()

st.caption(f"{plain(GRID_SOURCE_VI.get(grid.source, grid.source))} · {grid.records:d} bản ghi · "
           f"{plain(model_name(grid.model_version))}"
           + (f" · {grid.kept:d} bản ghi cán bộ đã làm sẽ được giữ nguyên" if grid.kept else ""))
if not grid.correctable:
    st.error(f"Trang này đã có {grid.approved:d} bản ghi được duyệt nên không cắt lại được. "
             "Nếu lưới sai, hãy báo tổ kiểm tra để trả lại các bản ghi đó trước.")

done = st.session_state.get("grid-result")
if done is not None and done[0] == grid.page_id:
    show_result(grid, done[1])

state = editor_state(grid)
edit_col, view_col = st.columns([2, 3])
with edit_col:
    columns_tab, rows_tab = st.tabs([f"Đường dọc ({len(state.columns):d})", f"Đường ngang ({len(state.rows):d})"])
    with columns_tab:
        columns = column_inputs(grid, state)
    with rows_tab:
        rows = row_inputs(grid, state)
        row_tools(grid, state, columns, rows)
    state.columns, state.rows = columns, rows
    lines = GridLines(tuple(columns), tuple(rows))
    problem = None
    try:
        check_lines(grid, lines)
    except ServiceError as exc:
        problem = exc.message_vi
    if problem:
        st.warning(plain(problem))
    st.caption("Máy sẽ cắt lại các ô theo lưới này và đọc lại trang bằng mô hình đang dùng. "
               "Bản ghi chưa ai làm được thay mới; bản ghi cán bộ đã làm được giữ nguyên.")
    if st.button("Cắt lại và đọc lại", type="primary", icon=":material/content_cut:",
                 disabled=bool(problem) or not grid.correctable, key=f"grid-apply-{grid.page_id}"):
        run_correction(grid, lines)
with view_col:
    preview(grid, columns, rows)
