"""Hàng đợi tổ kiểm tra: flagged, low-confidence, QA sample, cross-check mismatches, bulk approval."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from models import Role, User
from workbench.errors import ServiceError
from workbench.policy import ReviewPolicy
from workbench.qa import draw_qa_sample, qa_queue, submit_qa, verifier_error_rates
from workbench.queue import get_queue_order, set_queue_order
from workbench.record_view import RecordSummary, get_record_view
from workbench.supervision import (
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
from workbench.ui.guard import require
from workbench.ui.labels import RECORD_STATUS_VI
from workbench.ui.navigation import VERIFY, to_st_page
from workbench.ui.plain import plain

ctx = require(Role.SUPERVISOR)
policy = ReviewPolicy.from_settings(ctx.wb.settings)
QUEUE_ORDERS_VI = {"easy_first": "Dễ trước (tin cậy cao trước)", "hard_first": "Khó trước (tin cậy thấp trước)",
                   "book_order": "Theo thứ tự trong sổ"}


def run_action(action: Callable[[Session, User], object], success_vi: str) -> None:
    """Run one service call in a transaction; show its Vietnamese error, or reload with a notice."""
    try:
        with ctx.session() as (session, user):
            action(session, user)
    except ServiceError as exc:
        st.error(plain(exc.message_vi))
        return
    notices.push("success", success_vi)
    st.rerun()


def summary_table(records: list[RecordSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Mã": r.record_id, "Sổ": r.book_label, "Đơn vị": r.unit_name, "Trang": r.page_index,
                "Dòng": r.row_index, "Độ tin cậy": round(r.confidence, 2),
                "Trạng thái": RECORD_STATUS_VI.get(r.status, r.status), "Lý do": r.flag_reason or "",
            }
            for r in records
        ]
    )


def open_in_verification(record_id: int) -> None:
    st.session_state["verify_open_record"] = record_id
    st.switch_page(to_st_page(VERIFY))


def record_actions(records: list[RecordSummary], prefix: str, officials: dict[int, str]) -> None:
    """Pick one record of a queue and act on it (open, unflag, reject, reassign)."""
    if not records:
        st.info("Hàng đợi trống.")
        return
    st.dataframe(summary_table(records), hide_index=True, width="stretch")
    by_id = {r.record_id: r for r in records}
    chosen = st.selectbox(
        "Chọn bản ghi", list(by_id), key=f"{prefix}-pick",
        format_func=lambda rid: f"#{rid} · {by_id[rid].book_label} · trang {by_id[rid].page_index} "
        f"dòng {by_id[rid].row_index}",
    )
    record = by_id[chosen]
    open_col, unflag_col, reject_col, assign_col = st.columns(4)
    if open_col.button("Mở để xác minh", key=f"{prefix}-open", type="primary"):
        open_in_verification(record.record_id)
    if record.status == "flagged" and unflag_col.button("Trả về hàng đợi", key=f"{prefix}-unflag"):
        run_action(lambda s, u: unflag(s, u, record.record_id, record.version),
                   f"Đã trả bản ghi #{record.record_id} về hàng đợi cán bộ.")
    with reject_col.popover("Loại bản ghi"):
        reason = st.text_input("Lý do loại", key=f"{prefix}-reject-reason")
        if st.button("Xác nhận loại", key=f"{prefix}-reject"):
            run_action(lambda s, u: reject(s, u, record.record_id, record.version, reason),
                       f"Đã loại bản ghi #{record.record_id}.")
    with assign_col.popover("Giao cho cán bộ"):
        target = st.selectbox("Cán bộ", [None, *officials], key=f"{prefix}-assignee",
                              format_func=lambda uid: "— Bỏ giao —" if uid is None else officials[uid])
        if st.button("Giao", key=f"{prefix}-assign"):
            run_action(lambda s, u: reassign(s, u, record.record_id, target, expected_version=record.version,
                                              policy=policy),
                       f"Đã giao lại bản ghi #{record.record_id}.")


def officials_in_scope() -> dict[int, str]:
    with ctx.session() as (session, user):
        reviewers = list_reviewers(session, user)
    return {u.id: f"{u.full_name or u.username} ({u.username})" for u in reviewers}


def qa_tab(officials: dict[int, str]) -> None:
    st.markdown("Kiểm tra lại **mù** một tỷ lệ bản ghi đã duyệt của từng cán bộ: chỉ thấy đề xuất của máy, "
                "không thấy giá trị cán bộ đã nhập.")
    verifier_col, percent_col, draw_col = st.columns([3, 2, 1], vertical_alignment="bottom")
    verifier = verifier_col.selectbox("Cán bộ xác minh", list(officials), key="qa-verifier",
                                      format_func=lambda uid: officials[uid]) if officials else None
    percent = percent_col.slider("Tỷ lệ mẫu (%)", 1, 50, 5, key="qa-percent")
    if draw_col.button("Rút mẫu", key="qa-draw", disabled=verifier is None) and verifier is not None:
        run_action(lambda s, u: draw_qa_sample(s, u, verifier, float(percent)), "Đã rút mẫu kiểm tra.")
    with ctx.session() as (session, user):
        items = qa_queue(session, user)
        quality = verifier_error_rates(session, user)
    if quality:
        st.markdown("**Tỷ lệ lỗi theo cán bộ (từ kiểm tra mẫu)**")
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
    qa_id = st.selectbox("Bản ghi cần kiểm tra", list(by_id), key="qa-pick",
                         format_func=lambda q: f"#{by_id[q].record.record_id} · {by_id[q].record.book_label} · "
                         f"trang {by_id[q].record.page_index} dòng {by_id[q].record.row_index}")
    item = by_id[qa_id]
    with ctx.session() as (session, user):
        view = get_record_view(session, user, item.record.record_id, policy, blind=True)
    with st.form(f"qa-{qa_id}", enter_to_submit=False):
        typed = {f.key: st.text_input(f.label, value=f.value_to_show, key=f"qa-{qa_id}-{f.key}") for f in view.fields}
        apply = st.checkbox("Sửa luôn bản ghi theo kết quả kiểm tra", value=True, key=f"qa-{qa_id}-apply")
        if st.form_submit_button("Ghi kết quả kiểm tra", type="primary"):
            run_action(lambda s, u: submit_qa(s, u, qa_id, typed, apply_corrections=apply),
                       "Đã ghi kết quả kiểm tra mẫu.")


def bulk_tab() -> None:
    st.markdown("Duyệt hàng loạt chỉ các bản ghi mà **mọi trường** đều có độ tin cậy cao. "
                "Thao tác được ghi nhật ký và cần xác nhận.")
    threshold = st.slider("Ngưỡng tin cậy tối thiểu của mọi trường", 0.80, 1.0, policy.high_confidence, 0.01,
                          key="bulk-threshold")
    with ctx.session() as (session, user):
        count = count_bulk_approvable(session, user, threshold=threshold, policy=policy)
    st.metric("Số bản ghi sẽ được duyệt", count)
    confirmed = st.checkbox(f"Tôi xác nhận duyệt {count:d} bản ghi này", key="bulk-confirm")
    if st.button("Duyệt hàng loạt", type="primary", disabled=not (confirmed and count), key="bulk-approve"):
        run_action(lambda s, u: bulk_approve_high_confidence(s, u, confirm=True, threshold=threshold, policy=policy),
                   "Đã duyệt hàng loạt.")


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
        if st.button("Lưu thứ tự", key="order-save"):
            run_action(lambda s, u: set_queue_order(s, u, order, unit_id), "Đã lưu thứ tự hàng đợi.")


st.title("Hàng đợi tổ kiểm tra")
notices.show()
officials = officials_in_scope()
flagged_tab, low_tab, qa_sample_tab, mismatch_tab, bulk = st.tabs(
    ["Bị chuyển kiểm tra", "Độ tin cậy thấp", "Kiểm tra mẫu (QA)", "Lệch với CSDL dân cư", "Duyệt hàng loạt"]
)
with flagged_tab:
    with ctx.session() as (session, user):
        flagged = flagged_queue(session, user)
    record_actions(flagged, "flagged", officials)
with low_tab:
    threshold = st.slider("Ngưỡng độ tin cậy", 0.0, 1.0, policy.medium_confidence, 0.05, key="low-threshold")
    with ctx.session() as (session, user):
        low = low_confidence_queue(session, user, threshold)
    record_actions(low, "low", officials)
with qa_sample_tab:
    qa_tab(officials)
with mismatch_tab:
    with ctx.session() as (session, user):
        mismatches = crosscheck_mismatch_queue(session, user)
    st.caption("Bản ghi có người “tìm thấy nhưng khác” trong CSDL quốc gia về dân cư: cần xác minh, không ghi đè.")
    record_actions(mismatches, "mismatch", officials)
with bulk:
    bulk_tab()
order_setting()
