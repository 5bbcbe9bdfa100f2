"""Mô hình nhận dạng: model versions, comparison, activation/rollback, re-recognition, lexicons."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Role
from workbench.training.model_admin import (
    MAX_COMPARE_FIELDS,
    TRAIN_COMMAND,
    ComparisonResult,
    ModelSummary,
    activate_model,
    compare_with_active,
    list_model_summaries,
    refresh_lexicons,
    rerecognition_job,
    rerecognition_progress,
    rollback_model,
    rollback_target,
    start_rerecognition,
)
from workbench.ui import notices
from workbench.ui.guard import require
from workbench.ui.labels import HELD_OUT_VI
from workbench.ui.model_tables import comparison_table
from workbench.ui.plain import plain

ctx = require(Role.SUPERVISOR)
data_dir = ctx.wb.settings.data_dir
db_url = ctx.wb.settings.db_url
COMPARISON_KEY = "model-comparison"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def model_label(model: ModelSummary) -> str:
    if model.is_shipped:
        return "Mô hình gốc (kèm phần mềm)"
    return f"{model.version} · {(model.created_at or '')[:16].replace('T', ' ')}"


st.title("Mô hình nhận dạng")
notices.show()
with ctx.session() as (session, user):
    models = list_model_summaries(session, user, data_dir)
    previous = rollback_target(session, user, data_dir)
by_version = {m.version: m for m in models}
active = next((m for m in models if m.is_active), models[-1])
st.info(f"Đang dùng: **{plain(model_label(active))}**")

st.dataframe(pd.DataFrame([
    {"Phiên bản": model_label(m), "Đang dùng": "✔" if m.is_active else "",
     "Dòng huấn luyện": m.train_lines, "Số trang": m.train_pages, "Dòng kiểm tra": m.validation_lines,
     "Lỗi ký tự trước": percent(m.validation_cer_before), "Lỗi ký tự sau": percent(m.validation_cer_after),
     "Đơn vị có dữ liệu": ", ".join(m.units), "Từ mô hình": m.parent_version or ""}
    for m in models
]), hide_index=True, width="stretch")
st.caption("Lỗi ký tự: tỉ lệ ký tự đọc sai trên các trang giữ lại để kiểm tra (không dùng để huấn luyện); "
           "càng thấp càng tốt.")

with st.expander("Huấn luyện mô hình mới (chạy trên máy chủ)"):
    st.markdown("Việc huấn luyện chạy bằng dòng lệnh trên máy chủ, từ các trường đã được cán bộ xác nhận "
                "hoặc sửa kể từ ngày ghi ở `--since`. Mô hình mới được lưu nhưng **chưa được dùng** cho "
                "đến khi được so sánh và kích hoạt ở trang này.")
    st.code(TRAIN_COMMAND, language="bash")

# --- comparison and activation ---------------------------------------------------------------------
st.header("So sánh và kích hoạt")
candidates = [m.version for m in models if not m.is_active]
if not candidates:
    st.caption("Chưa có mô hình nào khác để so sánh.")
else:
    chosen = st.selectbox("Mô hình cần xem xét", candidates, format_func=lambda v: model_label(by_version[v]),
                          key="model-candidate")
    if st.button("So sánh với mô hình đang dùng", key="model-compare"):
        with st.spinner(f"Đang đọc lại tối đa {MAX_COMPARE_FIELDS} trường bằng cả hai mô hình…"):
            compared = ctx.run(lambda session, user: compare_with_active(session, user, data_dir, chosen), None)
        if compared.ok:
            st.session_state[COMPARISON_KEY] = compared.value
    result: ComparisonResult | None = st.session_state.get(COMPARISON_KEY)
    if result is not None and result.candidate == chosen and result.active == active.version:
        if result.comparison is None:
            st.warning("Không có trường đã xác nhận nào mà mô hình này chưa từng học, nên chưa so sánh được. "
                       "Hãy chờ cán bộ xác nhận thêm bản ghi rồi so sánh lại.")
        else:
            source = HELD_OUT_VI.get(result.held_out.source, "")
            st.markdown(f"Đọc lại **{len(result.held_out.fields)}** trường đã xác nhận ({plain(source)}, "
                        f"{result.held_out.pages:d} trang) bằng cả hai mô hình:")
            st.dataframe(pd.DataFrame(comparison_table(result)), hide_index=True, width="stretch")
            st.caption(f"“Độ tin cậy cao”: từ {result.comparison.high_threshold:.0%} trở lên — các trường này "
                       "được cán bộ xem nhanh hơn, nên tỉ lệ đọc đúng của chúng phải rất cao.")
            if result.comparison.candidate_better:
                st.success("Mô hình mới đọc sai ít ký tự hơn và không đọc đúng ít trường hơn mô hình đang dùng.")
            else:
                st.warning("Mô hình mới **không** tốt hơn mô hình đang dùng trên các trường này. "
                           "Chỉ kích hoạt nếu có lý do rõ ràng.")
    confirmed = st.checkbox(f"Tôi xác nhận dùng mô hình {plain(chosen)} để nhận dạng cho mọi đơn vị",
                            key=f"model-confirm-{chosen}")
    if st.button("Kích hoạt mô hình", type="primary", disabled=not confirmed, key="model-activate") and ctx.run(
        lambda s, u: f"Đã kích hoạt {chosen} (trước đó: {activate_model(s, u, data_dir, chosen, confirm=confirmed)}). "
                     "Bấm “Nhận dạng lại” để đọc lại các bản ghi chưa duyệt bằng mô hình này.",
        str,  # the call returns the success notice
    ).ok:
        st.session_state.pop(COMPARISON_KEY, None)
        st.rerun()

if previous is not None:
    st.subheader("Quay lại mô hình trước")
    previous_label = model_label(by_version[previous]) if previous in by_version else previous
    undo = st.checkbox(f"Tôi xác nhận quay lại {plain(previous_label)}", key="model-rollback-confirm")
    if st.button("Quay lại", disabled=not undo, key="model-rollback") and ctx.run(
        lambda s, u: f"Đã quay lại {rollback_model(s, u, data_dir, confirm=undo)}.", str
    ).ok:
        st.rerun()

# --- re-recognition ------------------------------------------------------------------------------
st.header("Nhận dạng lại bản ghi chưa duyệt")
st.caption("Đọc lại các trường còn ở dạng đề xuất của những bản ghi chưa duyệt bằng mô hình đang dùng. "
           "Các trường cán bộ đã xác nhận hoặc sửa, và bản ghi đang có người xác minh, không bị thay đổi.")
with ctx.session() as (session, user):
    progress = rerecognition_progress(session, user, data_dir)
job = rerecognition_job(db_url)
done_col, total_col = st.columns(2)
done_col.metric("Trang đã dùng mô hình hiện tại", progress.pages_on_model)
total_col.metric("Trang có bản ghi chưa duyệt", progress.pages_open)
if job is not None and job.running:
    share = job.pages_done / job.pages_total if job.pages_total else 0.0
    st.progress(share, text=f"Đang nhận dạng lại bằng {plain(job.model_version)}: "
                             f"{job.pages_done:d}/{job.pages_total:d} trang")
    st.button("Cập nhật tiến độ", key="rerecognize-refresh")
else:
    if job is not None and job.finished:
        if job.error:
            st.error(f"Lượt nhận dạng lại gần nhất dừng vì lỗi: {plain(job.error)}")
        elif job.report is not None:
            failed = len(job.report.pages_failed)
            st.caption(f"Lượt gần nhất ({plain(job.model_version)}): {job.report.pages:d} trang, "
                       f"{job.report.fields_updated:d} trường được đọc lại, "
                       f"{job.report.fields_changed:d} trường đổi giá trị"
                       + (f", {failed:d} trang lỗi." if failed else "."))
    if st.button("Nhận dạng lại", key="rerecognize-start", disabled=progress.pages_open == 0) and ctx.run(
        lambda s, u: "Đã bắt đầu nhận dạng lại "
                     f"({start_rerecognition(s, u, ctx.wb.sessions, db_url, data_dir).model_version}).",
        str,
    ).ok:
        st.rerun()

# --- lexicons ------------------------------------------------------------------------------------
st.header("Từ điển tên và địa danh của đơn vị")
st.caption("Tính lại từ các họ tên, địa danh đã được xác nhận, để tên riêng của địa phương không bị coi là đọc sai.")
if st.button("Cập nhật từ điển", key="lexicon-refresh") and ctx.run(
    lambda s, u: f"Đã cập nhật từ điển của {len(refresh_lexicons(s, u, data_dir))} đơn vị.", str
).ok:
    st.rerun()
