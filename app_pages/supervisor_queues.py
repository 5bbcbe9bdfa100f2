"""Hàng đợi tổ kiểm tra: flagged, low-confidence, QA sample, cross-check mismatches, bulk approval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

import pandas as pd
import streamlit as st

from models import RecordStatus, Role
from workbench.errors import ServiceError
from workbench.intake.contractor import list_books
from workbench.review.progress import VIETNAM_TZ
from workbench.review.queue import FieldRisk, get_queue_order, set_queue_order
from workbench.review.record_view import RecordSummary, RecordView, get_record_view
from workbench.supervision.qa import QaItem, QaResult, draw_qa_sample, qa_queue, submit_qa, verifier_error_rates
from workbench.supervision.supervision import (
    FlaggedRecord,
    RankedRecord,
    bulk_approve_high_confidence,
    count_bulk_approvable,
    crosscheck_mismatch_queue,
    flagged_queue,
    list_reviewers,
    low_confidence_queue,
    reassign,
    reject,
    unflag,
)
from workbench.ui import notices
from workbench.ui.field_display import PAGE_PANEL_KEY, sticky_panels_css
from workbench.ui.guard import require
from workbench.ui.labels import CONTRAST_LABELS, FIELD_TYPES_VI, QUEUE_ORDERS_VI, RECORD_STATUS_VI
from workbench.ui.navigation import VERIFY, to_st_page
from workbench.ui.plain import plain
from workbench.ui.record_panel import ZOOM_OPTIONS, field_crops_rgb, page_image

ctx = require(Role.SUPERVISOR)
policy = ctx.wb.settings.review_policy()
data_dir = ctx.wb.settings.data_dir
TABS = {"flagged": "Bị chuyển kiểm tra", "low": "Độ tin cậy thấp", "qa": "Kiểm tra mẫu",
        "mismatch": "Lệch với CSDL dân cư", "bulk": "Duyệt hàng loạt"}
TAB_LABELS = list(TABS.values())
Picked = TypeVar("Picked", bound=RecordSummary)
OPEN_RECORD_KEY = "verify_open_record"  # read by app_pages/verify.py
RETURN_KEY = "queues_return"  # (tab, record id) of the record opened from here, until we are back
QA_RESULT_KEY = "qa_last_result"


def vn_time(moment: datetime | None) -> str:
    return moment.astimezone(VIETNAM_TZ).strftime("%d/%m/%Y %H:%M") if moment else "—"


def open_in_verification(tab: str, record_id: int) -> None:
    st.session_state[OPEN_RECORD_KEY] = record_id
    st.session_state[RETURN_KEY] = (tab, record_id)
    st.switch_page(to_st_page(VERIFY))


def picked(records: Sequence[Picked], table_key: str) -> Picked:
    """The row the supervisor clicked in the table (the first row until they click one)."""
    state = st.session_state.get(table_key)
    rows = list(state.selection.rows) if state is not None else []
    return records[rows[0]] if rows and rows[0] < len(records) else records[0]


def queue_table(frame: pd.DataFrame, table_key: str) -> None:
    st.caption("Bấm vào một dòng để chọn bản ghi.")
    st.dataframe(frame, hide_index=True, width="stretch", key=table_key, on_select="rerun",
                 selection_mode="single-row", selection_default={"selection": {"rows": [0], "columns": []}},
                 height=min(38 + 35 * len(frame), 360))


def record_actions(record: RecordSummary, tab: str, officials: dict[int, str], detail: str = "") -> None:
    """Act on the chosen record: open it beside its page, send it back, reject it, give it to someone.
    `detail` (plain text) is shown under the record's name."""
    st.markdown(f"**Bản ghi #{record.record_id:d}** · {plain(record.book_label)} · trang {record.page_index:d} · "
                f"dòng {record.row_index:d}")
    if detail:
        st.markdown(plain(detail))
    open_col, unflag_col, reject_col, assign_col = st.columns(4)
    if open_col.button("Mở để xác minh", key=f"{tab}-open", type="primary", width="stretch"):
        open_in_verification(tab, record.record_id)
    if record.status == RecordStatus.FLAGGED and unflag_col.button("Trả về hàng đợi", key=f"{tab}-unflag",
                                                                   width="stretch") and ctx.run(
        lambda s, u: unflag(s, u, record.record_id, record.version),
        f"Đã trả bản ghi #{record.record_id} về hàng đợi cán bộ.",
    ).ok:
        st.rerun()
    with reject_col.popover("Loại bản ghi", width="stretch"):
        reason = st.text_input("Lý do loại", key=f"{tab}-reject-reason")
        if st.button("Xác nhận loại", key=f"{tab}-reject") and ctx.run(
            lambda s, u: reject(s, u, record.record_id, record.version, reason), f"Đã loại bản ghi #{record.record_id}."
        ).ok:
            st.rerun()
    if record.status in (RecordStatus.PROPOSED, RecordStatus.IN_REVIEW):
        with assign_col.popover("Giao cho cán bộ", width="stretch"):
            target = st.selectbox("Cán bộ", [None, *officials], key=f"{tab}-assignee",
                                  format_func=lambda uid: "— Bỏ giao —" if uid is None else officials[uid])
            if st.button("Giao", key=f"{tab}-assign") and ctx.run(
                lambda s, u: reassign(s, u, record.record_id, target, expected_version=record.version, policy=policy),
                f"Đã giao lại bản ghi #{record.record_id}.",
            ).ok:
                st.rerun()


def officials_in_scope() -> dict[int, str]:
    with ctx.session() as (session, user):
        reviewers = list_reviewers(session, user)
    return {u.id: f"{u.full_name or u.username} ({u.username})" for u in reviewers}


def after_return(flagged: list[FlaggedRecord]) -> str | None:
    """Back from the verification page: the tab to show; a handled flagged record opens the next one."""
    came_back = st.session_state.pop(RETURN_KEY, None)
    if came_back is None:
        return None
    tab, record_id = came_back
    still_there = any(r.record_id == record_id for r in flagged)
    if tab == "flagged" and not still_there and flagged and st.session_state.get(OPEN_RECORD_KEY) is None:
        open_in_verification("flagged", flagged[0].record_id)  # approved/rejected: straight to the next one
    return str(tab)


# --- flagged --------------------------------------------------------------------------------------

def flagged_tab(records: list[FlaggedRecord], officials: dict[int, str]) -> None:
    if not records:
        st.info("Không còn bản ghi nào bị chuyển kiểm tra.")
        return
    by_name = {name.rsplit(" (", 1)[-1].rstrip(")"): name for name in officials.values()}
    frame = pd.DataFrame([
        {"Mã": r.record_id, "Sổ": r.book_label, "Đơn vị": r.unit_name, "Trang": r.page_index, "Dòng": r.row_index,
         "Người chuyển": by_name.get(r.flagged_by or "", r.flagged_by or "—"), "Lúc chuyển": vn_time(r.flagged_at),
         "Lý do": r.flag_reason or ""}
        for r in records
    ])
    queue_table(frame, "flagged-table")
    record_actions(picked(records, "flagged-table"), "flagged", officials)


# --- low confidence -------------------------------------------------------------------------------

def weak_field_note(field: FieldRisk) -> str:
    if field.unread:
        return "chưa đọc"  # uploaded without recognition: nothing says whether the cell is written
    return "trống, nghi có chữ" if field.empty else f"{field.confidence:.0%}"


def weak_fields_text(record: RankedRecord) -> str:
    labels = dict(record.field_labels)
    return ", ".join(f"{labels.get(f.key, f.key)} ({weak_field_note(f)})" for f in record.weak_fields)


def expected_wrong_text(expected: float) -> str:
    """One decimal with the Vietnamese decimal comma ("2,6"; "2.6" reads as a thousands separator)."""
    return f"{expected:.1f}".replace(".", ",")


def low_filters(officials: dict[int, str]) -> tuple[float, str | None, int | None, int | None]:
    with ctx.session() as (session, user):
        books = {b.id: f"{b.type_label} {b.year} quyển {b.volume} · {b.unit_name}" for b in list_books(session, user)}
    threshold_col, type_col, book_col, official_col = st.columns([2, 2, 3, 3])
    threshold = threshold_col.slider("Trường yếu: độ tin cậy dưới", 0.0, 1.0, policy.bands.medium, 0.05,
                                     key="low-threshold")
    field_type = type_col.selectbox("Loại trường", [None, *FIELD_TYPES_VI], key="low-field-type",
                                    format_func=lambda t: "Tất cả" if t is None else FIELD_TYPES_VI[t])
    book_id = book_col.selectbox("Sổ", [None, *books], key="low-book",
                                 format_func=lambda b: "Tất cả" if b is None else books[b])
    official_id = official_col.selectbox("Cán bộ", [None, *officials], key="low-official",
                                         format_func=lambda o: "Tất cả" if o is None else officials[o])
    return threshold, field_type, book_id, official_id


def low_tab(officials: dict[int, str]) -> None:
    threshold, field_type, book_id, official_id = low_filters(officials)
    try:
        with ctx.session() as (session, user):
            records = low_confidence_queue(session, user, threshold, field_type=field_type, book_id=book_id,
                                           official_id=official_id)
    except ServiceError as exc:
        st.error(plain(exc.message_vi))
        return
    st.caption("Xếp theo số trường dự kiến sai (tổng xác suất sai của các trường chưa ai xác nhận): "
               "bản ghi nhiều trường đáng ngờ nhất lên đầu.")
    if not records:
        st.info("Không có bản ghi nào có trường yếu theo bộ lọc này.")
        return
    # At 1366 px the table shows about 900 px: the long weak-field list goes last (it is written out
    # in full for the chosen row below), so the official and the status stay in view.
    frame = pd.DataFrame([
        {"Mã": r.record_id, "Sổ": r.book_label, "Trang": r.page_index, "Dòng": r.row_index,
         "Dự kiến sai": expected_wrong_text(r.expected_wrong),
         "Cán bộ": officials.get(r.official_id, "—") if r.official_id else "—",
         "Trạng thái": RECORD_STATUS_VI.get(r.status, r.status), "Trường yếu": weak_fields_text(r)}
        for r in records
    ])
    queue_table(frame, "low-table")
    chosen = picked(records, "low-table")
    record_actions(chosen, "low", officials, detail=f"Trường yếu ({expected_wrong_text(chosen.expected_wrong)} "
                   f"trường dự kiến sai): {weak_fields_text(chosen)}")


# --- QA -------------------------------------------------------------------------------------------

def show_last_qa_result() -> None:
    """After a re-check: what QA keyed beside what the official had approved (revealed only now)."""
    shown = st.session_state.pop(QA_RESULT_KEY, None)
    if shown is None:
        return
    result, labels = shown
    assert isinstance(result, QaResult)
    st.success(f"Đã ghi kết quả kiểm tra bản ghi #{result.record_id:d}: {result.fields_changed:d}/"
               f"{result.fields_checked:d} trường khác với giá trị cán bộ đã duyệt.")
    if result.comparison:
        st.dataframe(pd.DataFrame([
            {"Trường": labels.get(c.key, c.key), "Tổ kiểm tra nhập": c.qa_value, "Cán bộ đã duyệt": c.verifier_value,
             "Khác": "✗ khác" if c.changed else "✓"}
            for c in result.comparison
        ]), hide_index=True, width="stretch", key="qa-comparison")


def qa_submit(item: QaItem, view: RecordView, typed: dict[str, str], apply: bool) -> None:
    submitted = ctx.run(lambda session, user: submit_qa(session, user, item.qa_id, typed, apply_corrections=apply),
                        None)
    if not submitted.ok:
        return
    st.session_state[QA_RESULT_KEY] = (submitted.value, {f.key: f.label for f in view.fields})
    st.rerun()


def qa_page_image(view: RecordView) -> int:
    """The page with the record outlined, with the verification page's zoom and contrast; returns the contrast."""
    zoom_col, contrast_col = st.columns(2)
    zoom = zoom_col.segmented_control("Phóng to", ZOOM_OPTIONS, default=1.5, required=True, key="qa-zoom",
                                      format_func=lambda z: f"{z:g}×")
    contrast = contrast_col.segmented_control("Tương phản (mực mờ)", list(CONTRAST_LABELS), default=0,
                                              required=True, key="qa-contrast",
                                              format_func=lambda level: CONTRAST_LABELS[level])
    image = page_image(data_dir, view.image_path, view.record_bbox, float(zoom), int(contrast))
    if image is None:
        st.error("Không đọc được ảnh trang. Báo đơn vị số hoá kiểm tra lại trang này.")
    else:
        st.image(image, caption=f"Trang {view.page_index:d}, dòng {view.row_index:d} (khung đỏ)", width="stretch")
    return int(contrast)


def qa_form(item: QaItem, view: RecordView, contrast: int) -> None:
    crops = field_crops_rgb(str(data_dir), view.image_path, tuple(f.cell_bbox for f in view.fields), contrast)
    with st.form(f"qa-{item.qa_id}", enter_to_submit=False, border=False):
        typed: dict[str, str] = {}
        for field, crop in zip(view.fields, crops, strict=True):
            crop_col, input_col = st.columns([5, 4], vertical_alignment="bottom")
            if crop is not None:
                crop_col.image(crop, width="content")  # a narrow cell is not blown up to the column
            else:
                crop_col.caption("(không có ô ảnh)")
            typed[field.key] = input_col.text_input(field.label, value=field.value_to_show,
                                                    key=f"qa-{item.qa_id}-{field.key}")
        apply = st.checkbox("Sửa luôn bản ghi theo kết quả kiểm tra", value=True, key=f"qa-{item.qa_id}-apply")
        submitted = st.form_submit_button("Ghi kết quả kiểm tra", type="primary")
    if submitted:
        qa_submit(item, view, typed, apply)


def qa_tab(officials: dict[int, str]) -> None:
    st.markdown("Kiểm tra lại **mù** một tỷ lệ bản ghi đã duyệt của từng cán bộ: đọc từ ảnh trang, chỉ thấy đề "
                "xuất của máy; giá trị cán bộ đã duyệt chỉ hiện sau khi ghi kết quả.")
    verifier_col, percent_col, draw_col = st.columns([3, 2, 1], vertical_alignment="bottom")
    verifier = verifier_col.selectbox("Cán bộ xác minh", list(officials), key="qa-verifier",
                                      format_func=lambda uid: officials[uid]) if officials else None
    percent = percent_col.slider("Tỷ lệ mẫu (%)", 1, 50, 5, key="qa-percent")
    if draw_col.button("Rút mẫu", key="qa-draw", disabled=verifier is None) and verifier is not None and ctx.run(
        lambda s, u: draw_qa_sample(s, u, verifier, float(percent)), "Đã rút mẫu kiểm tra."
    ).ok:
        st.rerun()
    show_last_qa_result()
    with ctx.session() as (session, user):
        items = qa_queue(session, user)
        quality = verifier_error_rates(session, user)
    if quality:
        with st.expander("Tỷ lệ lỗi theo cán bộ (từ kiểm tra mẫu)", expanded=not items):
            st.dataframe(pd.DataFrame([
                {"Cán bộ": q.username, "Bản ghi đã kiểm": q.records_checked, "Trường đã kiểm": q.fields_checked,
                 "Trường phải sửa": q.fields_changed,
                 "Tỷ lệ lỗi": f"{q.error_rate:.1%}" if q.error_rate is not None else "—"}
                for q in quality
            ]), hide_index=True, width="stretch")
    if not items:
        st.info("Không có bản ghi nào chờ kiểm tra mẫu.")
        return
    by_id = {item.qa_id: item for item in items}
    qa_id = st.selectbox(f"Bản ghi cần kiểm tra (còn {len(items):d})", list(by_id), key="qa-pick",
                         format_func=lambda q: f"#{by_id[q].record.record_id} · {by_id[q].record.book_label} · "
                         f"trang {by_id[q].record.page_index} dòng {by_id[q].record.row_index}")
    item = by_id[qa_id]
    with ctx.session() as (session, user):
        view = get_record_view(session, user, item.record.record_id, policy, blind=True)
    st.html(sticky_panels_css())
    image_col, form_col = st.columns([6, 5], gap="medium")
    with image_col, st.container(key=PAGE_PANEL_KEY):
        contrast = qa_page_image(view)
    with form_col:
        qa_form(item, view, contrast)


# --- bulk, order ----------------------------------------------------------------------------------

def bulk_tab() -> None:
    st.markdown("Duyệt hàng loạt chỉ các bản ghi mà **mọi trường** đều có độ tin cậy cao. "
                "Thao tác được ghi nhật ký và cần xác nhận.")
    threshold = st.slider("Ngưỡng tin cậy tối thiểu của mọi trường", 0.80, 1.0, policy.bands.high, 0.01,
                          key="bulk-threshold")
    with ctx.session() as (session, user):
        count = count_bulk_approvable(session, user, threshold=threshold, policy=policy)
    st.metric("Số bản ghi sẽ được duyệt", count)
    confirmed = st.checkbox(f"Tôi xác nhận duyệt {count:d} bản ghi này", key="bulk-confirm")
    if st.button("Duyệt hàng loạt", type="primary", disabled=not (confirmed and count), key="bulk-approve") and ctx.run(
        lambda s, u: bulk_approve_high_confidence(s, u, confirm=True, threshold=threshold, policy=policy),
        "Đã duyệt hàng loạt.",
    ).ok:
        st.rerun()


def order_setting() -> None:
    with ctx.session() as (session, user):
        units = {u.id: u.name for u in user.units} if user.role != Role.ADMIN else {}
        current = {uid: get_queue_order(session, user, uid) for uid in units}
    if not units:
        return
    with st.expander("Thứ tự hàng đợi của cán bộ"):
        unit_id = st.selectbox("Đơn vị", list(units), format_func=lambda uid: units[uid], key="order-unit")
        order = st.radio("Thứ tự", list(QUEUE_ORDERS_VI), format_func=lambda order: QUEUE_ORDERS_VI[order],
                         key="order-value", index=list(QUEUE_ORDERS_VI).index(str(current[unit_id])))
        if st.button("Lưu thứ tự", key="order-save") and ctx.run(
            lambda s, u: set_queue_order(s, u, order, unit_id), "Đã lưu thứ tự hàng đợi."
        ).ok:
            st.rerun()


st.title("Hàng đợi tổ kiểm tra")
officials = officials_in_scope()
with ctx.session() as (session, user):
    flagged = flagged_queue(session, user)
back_to = after_return(flagged)
notices.show()
tabs = st.tabs(TAB_LABELS, default=TABS.get(back_to or "flagged"))
with tabs[0]:
    flagged_tab(flagged, officials)
with tabs[1]:
    low_tab(officials)
with tabs[2]:
    qa_tab(officials)
with tabs[3]:
    with ctx.session() as (session, user):
        mismatches = crosscheck_mismatch_queue(session, user)
    st.caption("Bản ghi có người “tìm thấy nhưng khác” trong CSDL quốc gia về dân cư: cần xác minh, không ghi đè.")
    if mismatches:
        queue_table(pd.DataFrame([
            {"Mã": r.record_id, "Sổ": r.book_label, "Đơn vị": r.unit_name, "Trang": r.page_index,
             "Dòng": r.row_index, "Trạng thái": RECORD_STATUS_VI.get(r.status, r.status)}
            for r in mismatches
        ]), "mismatch-table")
        record_actions(picked(mismatches, "mismatch-table"), "mismatch", officials)
    else:
        st.info("Hàng đợi trống.")
with tabs[4]:
    bulk_tab()
order_setting()
