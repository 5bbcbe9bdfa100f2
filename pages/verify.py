"""Xác minh: one record at a time beside its page image, keyboard only (see KEY_HELP_VI).

Typing is kept on the server as a draft while it happens (workbench.drafts, via the draft_sync
component) and restored when the record is opened again. Approving with validator errors or
never-visited amber/red fields opens a confirmation naming them (workbench.approval_checks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import streamlit as st

from models import Role
from workbench.approval_checks import ApprovalConcern, approval_concerns, concern_lines_vi, fields_to_save
from workbench.drafts import Draft, load_draft, save_draft
from workbench.errors import ConflictError, ServiceError
from workbench.policy import ReviewPolicy
from workbench.progress import my_progress
from workbench.queue import next_record, release_claim
from workbench.record_view import RecordView, get_record_view
from workbench.review import ReviewAction, save_record
from workbench.ui import notices
from workbench.ui.draft_sync import DraftField, DraftPayload, draft_sync
from workbench.ui.field_display import (
    FORM_COLUMN_KEY,
    PAGE_PANEL_KEY,
    VIEWER_KEY,
    band_css,
    display_band,
    doubtful_ranges,
    field_notes_html,
    graphemes,
    verify_layout_css,
)
from workbench.ui.guard import require
from workbench.ui.keyboard import (
    KEY_HELP_VI,
    KeyboardField,
    KeyboardTargets,
    PageViewer,
    keyboard_html,
    visited_css,
    zoom_bar_html,
)
from workbench.ui.navigation import QUEUES, to_st_page
from workbench.ui.plain import plain
from workbench.ui.rendering import crop_urls, load_page, page_plain_rgb
from workbench.ui.standins import open_record_for_review

OPEN_RECORD_KEY = "verify_open_record"  # set by the supervisor queues to open one specific record
SHOWN_KEY = "verify_shown"  # (record id, version) the form was rendered with: what a submit refers to
RESTORED_KEY = "verify_restored"  # ((record id, version), Draft | None) read when that form was first shown
DRAFT_SENT_KEY = "verify_draft_saved"  # the last typing stored as a draft (so a rerun does not store it again)
PENDING_KEY = "verify_pending_approval"  # an approval waiting for the official's confirmation
FOCUS_KEY = "verify_focus_request"  # (request id, field index): where the focus goes after "Quay lại sửa"
CONTRAST_KEY = "verify_contrast"
CONTRAST_OPTIONS = (0, 1, 2, 3)
CONTRAST_LABELS = {0: "Gốc", 1: "Tăng nhẹ", 2: "Tăng vừa", 3: "Tăng mạnh"}

CHANGED_VI = "Bản ghi đã thay đổi trong lúc bạn xem. Đã tải lại, vui lòng kiểm tra rồi thao tác lại."


@dataclass(frozen=True)
class PendingApproval:
    token: str  # the form the values came from
    values: dict[str, str]
    reason: str
    concerns: tuple[ApprovalConcern, ...]
    focus_index: int  # the form position of the first field named: where "Quay lại sửa" puts the focus

ctx = require(Role.OFFICIAL, Role.SUPERVISOR)
shown_before: tuple[int, int] | None = st.session_state.get(SHOWN_KEY)
policy = ReviewPolicy.from_settings(ctx.wb.settings)
data_dir = ctx.wb.settings.data_dir


def load_current() -> RecordView | None:
    """The record to verify: one a supervisor opened, else my held claim, else the next in my queue."""
    with ctx.session() as (session, user):
        opened = st.session_state.get(OPEN_RECORD_KEY)
        if opened is not None:
            try:
                return open_record_for_review(session, user, int(opened), policy)
            except ServiceError as exc:
                st.session_state.pop(OPEN_RECORD_KEY, None)
                st.warning(plain(exc.message_vi))
        claim = next_record(session, user, policy)
        if claim is None:
            return None
        return get_record_view(session, user, claim.record_id, policy)


def restored_draft(view: RecordView) -> Draft | None:
    """The draft left on this record (read once per record version shown in this browser session:
    later reruns keep what the browser holds)."""
    shown = (view.record_id, view.version)
    kept = st.session_state.get(RESTORED_KEY)
    if kept is None or kept[0] != shown:
        with ctx.session() as (session, user):
            kept = (shown, load_draft(session, user, view.record_id))
        st.session_state[RESTORED_KEY] = kept
    return kept[1]


def with_draft(view: RecordView, draft: Draft | None) -> RecordView:
    if draft is None or not draft.values:
        return view
    with ctx.session() as (session, user):
        return get_record_view(session, user, view.record_id, policy, overrides=draft.values)


def keep_draft(view: RecordView, payload: DraftPayload | None) -> None:
    """Store typing the browser sent (once per payload); refusals are silent: the next action says why."""
    if payload is None or st.session_state.get(DRAFT_SENT_KEY) == payload:
        return
    try:
        with ctx.session() as (session, user):
            save_draft(session, user, view.record_id, payload.values, payload.visited)
    except ServiceError:
        return
    st.session_state[DRAFT_SENT_KEY] = payload


def close_opened(view: RecordView) -> None:
    """Supervisor: put an opened record down unchanged and go back to the queues."""
    with ctx.session() as (session, user):
        if view.assigned_to_id == user.id:
            release_claim(session, user, view.record_id)
    st.session_state.pop(OPEN_RECORD_KEY, None)
    st.switch_page(to_st_page(QUEUES))


def show_progress_strip() -> None:
    with ctx.session() as (session, user):
        strip = my_progress(session, user)
    st.markdown(
        f"Tôi đã duyệt hôm nay: **{strip.approved_today_by_me:d}** · "
        f"Đơn vị còn lại: **{strip.unit_remaining:d}** / {strip.unit_total:d} · "
        f"Đơn vị đã duyệt hôm nay: **{strip.unit_approved_today:d}**"
    )


def submit(view: RecordView, action: ReviewAction, values: dict[str, str], reason: str,
           confirmed: tuple[ApprovalConcern, ...] = ()) -> None:
    # The form the official typed into was rendered in the previous run; if the record moved on
    # since (someone else saved it, or the claim passed to another record), nothing is saved.
    shown_id, shown_version = shown_before or (view.record_id, view.version)
    if shown_id != view.record_id:
        notices.push("warning", CHANGED_VI)
        st.rerun()
    try:
        with ctx.session() as (session, user):
            result = save_record(session, user, view.record_id, shown_version, values, action, reason=reason,
                                 confirmed=confirmed)
    except ConflictError as exc:
        # Never overwrite: show why and reload the record as it is now.
        notices.push("warning", exc.message_vi)
        st.rerun()
    except ServiceError as exc:
        st.error(plain(exc.message_vi))
        return
    done = {
        ReviewAction.APPROVE: f"Đã duyệt bản ghi dòng {view.row_index} trang {view.page_index}"
        f" ({result.corrected_on_record} trường được sửa).",
        ReviewAction.FLAG: f"Đã chuyển tổ kiểm tra bản ghi dòng {view.row_index} trang {view.page_index}.",
        ReviewAction.SKIP: f"Đã bỏ qua bản ghi dòng {view.row_index} trang {view.page_index}.",
        ReviewAction.SAVE: "Đã lưu; các thông báo kiểm tra đã được cập nhật.",
    }
    notices.push("success", done.get(action, "Đã lưu."))
    st.session_state.pop(PENDING_KEY, None)
    # Saving keeps the same record open; a record a supervisor opened goes back to that queue (issue #16).
    if action != ReviewAction.SAVE and st.session_state.pop(OPEN_RECORD_KEY, None) is not None:
        st.switch_page(to_st_page(QUEUES))
    st.rerun()


def cancel_approval() -> None:
    """Back to the form, focus on the first field the confirmation named."""
    pending: PendingApproval | None = st.session_state.pop(PENDING_KEY, None)
    if pending is None:
        return
    previous = st.session_state.get(FOCUS_KEY)
    st.session_state[FOCUS_KEY] = ((previous[0] + 1) if previous else 1, pending.focus_index)


@st.dialog("Xác nhận duyệt bản ghi", on_dismiss=cancel_approval)
def confirm_approval(view: RecordView, pending: PendingApproval) -> None:
    """Only an explicit "Vẫn duyệt" approves; Enter on the focused "Quay lại sửa" goes back."""
    st.markdown(f"Bản ghi còn **{len(pending.concerns):d}** điểm cần kiểm tra. Chỉ duyệt khi đã đối chiếu với sổ:")
    for line in concern_lines_vi(pending.concerns):  # labels and messages may quote typed values: plain
        st.markdown(f"- {plain(line)}")
    back_col, approve_col = st.columns(2)
    if back_col.button("Quay lại sửa (Enter)", key="verify-confirm-back", type="primary", width="stretch"):
        cancel_approval()
        st.rerun()
    if approve_col.button("Vẫn duyệt (Tab, Enter)", key="verify-confirm-approve", width="stretch"):
        submit(view, ReviewAction.APPROVE, pending.values, pending.reason, confirmed=pending.concerns)
    # Focus "Quay lại sửa": a habitual Enter must go back, never approve.
    st.html("""<script>(function () {
  let tries = 0;
  const go = () => {
    const b = document.querySelector('.st-key-verify-confirm-back button');
    if (b) { b.focus(); } else if (tries++ < 100) setTimeout(go, 30);
  };
  go();
})();</script>""", unsafe_allow_javascript=True)


@dataclass(frozen=True)
class FormNames:
    """The Streamlit keys of one record version's form (the keyboard layer finds them by these)."""

    token: str
    widget_keys: tuple[str, ...]
    targets: KeyboardTargets


def form_names(view: RecordView) -> FormNames:
    token = f"{view.record_id}-{view.version}"
    targets = KeyboardTargets(
        approve_key="verify-approve", flag_key="verify-flag", skip_key="verify-skip", reason_key=f"reason-{token}",
        save_key="verify-save", visited_key=f"visited-{token}",
    )
    return FormNames(token, tuple(f"fld-{token}-{index}" for index in range(len(view.fields))), targets)


def keyboard_fields(view: RecordView, names: FormNames, contrast: int) -> list[KeyboardField]:
    """What the keyboard layer needs per field: crop, doubtful letters (in the machine's value), band, cell."""
    readable = load_page(data_dir, view.image_path) is not None
    urls = crop_urls(str(data_dir), view.image_path, tuple(f.cell_bbox for f in view.fields), contrast) \
        if readable else tuple(None for _ in view.fields)
    result = []
    for key, field, url in zip(names.widget_keys, view.fields, urls, strict=True):
        band = display_band(field.band, field.status)
        # A person's correction replaced the reading: nothing of it is doubtful any more.
        doubt = () if band == "corrected" else doubtful_ranges(field.proposed_value,
                                                               graphemes(field.chars, field.doubtful_chars))
        result.append(KeyboardField(key, field.label, url, field.key, proposal=field.proposed_value,
                                    doubtful=doubt, band=band, cell=field.cell_bbox))
    return result


def show_page_panel(view: RecordView, names: FormNames, draft: Draft | None) -> None:
    """Left column: zoom and contrast, the page (its view follows the focused field), the cell crop,
    and the keyboard layer. Zoom runs in the browser; contrast is rendered here (Alt+C steps it)."""
    zoom_col, contrast_col = st.columns([2, 3], vertical_alignment="center")
    zoom_col.html(zoom_bar_html())
    contrast = contrast_col.segmented_control(
        "Tương phản (Alt+C)", CONTRAST_OPTIONS, default=0, required=True, key=CONTRAST_KEY,
        format_func=lambda level: CONTRAST_LABELS[level], label_visibility="collapsed",
    )
    page = load_page(data_dir, view.image_path)
    viewer = None
    if page is None:
        st.error("Không đọc được ảnh trang. Báo đơn vị số hoá kiểm tra lại trang này.")
    else:
        with st.container(key=VIEWER_KEY):
            st.image(page_plain_rgb(str(data_dir), view.image_path, int(contrast)), width="stretch",
                     output_format="JPEG")
        viewer = PageViewer(VIEWER_KEY, (int(page.shape[1]), int(page.shape[0])), view.record_bbox, CONTRAST_KEY,
                            CONTRAST_OPTIONS.index(int(contrast)))
    focus = st.session_state.pop(FOCUS_KEY, None)
    st.html(keyboard_html(names.token, keyboard_fields(view, names, int(contrast)), names.targets,
                          visited=draft.visited if draft else (), focus_request=focus, viewer=viewer),
            unsafe_allow_javascript=True)


def visited_keys(raw: object) -> set[str]:
    """The hidden form input's JSON list of visited field keys (anything else: none visited)."""
    try:
        parsed = json.loads(str(raw or "[]"))
    except ValueError:
        return set()
    return {str(key) for key in parsed} if isinstance(parsed, list) else set()


def show_form(view: RecordView, names: FormNames, draft: Draft | None) -> DraftPayload | None:
    """The form; returns the typing the browser sent this run (None if none)."""
    token, widget_keys, targets = names.token, names.widget_keys, names.targets
    st.session_state[SHOWN_KEY] = (view.record_id, view.version)
    restored_visited = draft.visited if draft else ()
    # Typing reaches the server as a draft before any button of this run is handled.
    sent = draft_sync(token, [DraftField(k, f.key) for k, f in zip(widget_keys, view.fields, strict=True)],
                      view.values)
    keep_draft(view, sent)
    by_band: dict[str, list[str]] = {}
    for key, field in zip(widget_keys, view.fields, strict=True):
        by_band.setdefault(display_band(field.band, field.status), []).append(key)
    st.html(band_css(by_band) + visited_css(targets.visited_key))
    with st.form(f"verify-{token}", enter_to_submit=False, border=False):
        typed: dict[str, str] = {}
        for key, field in zip(widget_keys, view.fields, strict=True):
            typed[field.key] = st.text_input(field.label, value=field.value_to_show, key=key)
            band = display_band(field.band, field.status)
            st.html(field_notes_html(band, field.confidence, field.chars, field.doubtful_chars, field.messages,
                                     field.current_unit))
        reason = st.text_input("Lý do chuyển tổ kiểm tra (F8)", key=targets.reason_key,
                               placeholder="Ví dụ: chữ mờ, không đọc được họ tên mẹ")
        visited_raw = st.text_input("Trường đã xem", key=targets.visited_key, label_visibility="collapsed",
                                    value=json.dumps(list(restored_visited)))
        # Two to a row: at 1366x768 every label is read whole (issue #15: "Duyệt (…", "Lưu (C…").
        approve_col, save_col = st.columns(2)
        flag_col, skip_col = st.columns([1.35, 0.65])
        approve = approve_col.form_submit_button(
            "Duyệt (Ctrl+Enter)", type="primary", key=targets.approve_key, width="stretch"
        )
        save = save_col.form_submit_button("Lưu (Ctrl+S)", key=targets.save_key, width="stretch")
        flag = flag_col.form_submit_button("Chuyển tổ kiểm tra (F8)", key=targets.flag_key, width="stretch")
        skip = skip_col.form_submit_button("Bỏ qua (F9)", key=targets.skip_key, width="stretch")
    visited = visited_keys(visited_raw) | set(sent.visited if sent else ()) | set(restored_visited)
    if approve:
        concerns = approval_concerns(view.fields, typed, visited)
        if concerns:
            keys = [f.key for f in view.fields]
            st.session_state[PENDING_KEY] = PendingApproval(token, typed, reason, concerns,
                                                            keys.index(concerns[0].key))
        else:
            submit(view, ReviewAction.APPROVE, typed, reason)
    elif flag:
        submit(view, ReviewAction.FLAG, typed, reason)
    elif save:
        # Only what the official changed or looked at becomes a person's decision.
        submit(view, ReviewAction.SAVE, fields_to_save(view.fields, typed, visited), reason)
    elif skip:
        submit(view, ReviewAction.SKIP, {}, reason)
    pending: PendingApproval | None = st.session_state.get(PENDING_KEY)
    if pending is not None and pending.token == token:
        confirm_approval(view, pending)
    return sent


def show_restored_notice(slot: st.delta_generator.DeltaGenerator, view: RecordView, draft: Draft | None,
                         sent: DraftPayload | None) -> None:
    """Tell the official that typing they had not saved was put back (from the server's draft, or
    from the tab's copy when the reload came before the server heard of it)."""
    restored = set(draft.values) if draft else set()
    if sent is not None and sent.rescued:
        restored |= {f.key for f in view.fields if sent.values.get(f.key, f.value_to_show) != f.value_to_show}
    if not restored:
        return
    labels = ", ".join(f.label for f in view.fields if f.key in restored)
    slot.info(plain(f"Đã khôi phục {len(restored)} trường bạn đã gõ nhưng chưa lưu "
                    f"(trang đã tải lại hoặc mất kết nối): {labels}. Kiểm tra rồi Lưu hoặc Duyệt."),
              icon=":material/restore:")


st.header("Xác minh bản ghi")
current = load_current()
current_draft = restored_draft(current) if current is not None else None
if current is not None:
    current = with_draft(current, current_draft)
notices.show()
show_progress_strip()
if current is None:
    st.success("Đã hết bản ghi cần xác minh trong các đơn vị của bạn. Cảm ơn!")
    st.stop()

st.markdown(
    f"**{plain(current.book.type_label)}** · {plain(current.book.unit_name)} · năm {current.book.year:d} · "
    f"quyển {current.book.volume:d} · trang {current.page_index:d} · dòng {current.row_index:d}"
    # The flag reason is a supervisor's free text: shown literally, never as Markdown (issue #17).
    + (f" · ⚑ {plain(current.flag_reason)}" if current.flag_reason else "")
)
notice_slot = st.empty()  # filled once the form knows what was restored
if st.session_state.get(OPEN_RECORD_KEY) is not None and st.button("Đóng bản ghi, quay lại hàng đợi",
                                                                  key="verify-close"):
    close_opened(current)
st.html(verify_layout_css())
names = form_names(current)
# 3:2 leaves the page image >= 600 px wide at 1366x768 and the form wide enough for names and buttons.
image_col, form_col = st.columns([3, 2], gap="small")
with image_col, st.container(key=PAGE_PANEL_KEY):
    show_page_panel(current, names, current_draft)
with form_col, st.container(key=FORM_COLUMN_KEY):
    typing = show_form(current, names, current_draft)
    st.caption(KEY_HELP_VI)
show_restored_notice(notice_slot, current, current_draft, typing)
