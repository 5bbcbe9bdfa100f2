"""Xác minh: one record at a time beside its page image, keyboard only (see KEY_HELP_VI).

Typing is kept on the server as a draft while it happens (workbench.review.drafts, via the draft_sync
component) and restored when the record is opened again. Approving with validator errors or
never-visited amber/red fields opens a confirmation naming them (workbench.review.approval_checks).
An action pressed on the form (Ctrl+Enter, Ctrl+S, F8, F9 or a click) is also carried in a hidden
input with a fresh id, so a newer script run that preempts the press's own run (the draft of a letter
typed just before) still does it, with the values the form carried, once (keyboard.FormAction).

Book order (issue #15 item 6, workbench.review.book_order): the head says where the record sits in its book
(trang 3/12 · dòng 5/8). Alt+PageUp / Alt+PageDown step to the record before / after it in the book:
an open record nobody holds is claimed and can be worked at once, any other is shown read-only with
the reason. Alt+End (or approving, flagging, skipping the record stepped to) returns to the record the
official was working on. Alt+Z undoes the official's last approval while nobody else has touched it:
the record opens again with its values kept.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass

import streamlit as st

from models import Role
from workbench.errors import ConflictError, ServiceError
from workbench.review.approval_checks import ApprovalConcern, approval_concerns, concern_lines_vi, fields_to_save
from workbench.review.book_order import (
    BookPosition,
    BrowsedRecord,
    LastApproval,
    book_position,
    last_approval,
    neighbour_record,
    open_in_book,
    undo_last_approval,
)
from workbench.review.drafts import Draft, load_draft, save_draft
from workbench.review.progress import ProgressStrip, my_progress
from workbench.review.queue import next_record, release_claim
from workbench.review.record_view import RecordView, get_record_view
from workbench.review.review import ReviewAction, save_record
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
    BACK_TO_WORK_KEY,
    KEY_HELP_VI,
    UNDO_APPROVAL_KEY,
    FormAction,
    KeyboardField,
    KeyboardTargets,
    NavigationTargets,
    PageViewer,
    carried_action,
    form_action,
    hidden_inputs_css,
    keyboard_html,
    navigation_keys_html,
    zoom_bar_html,
)
from workbench.ui.labels import CONTRAST_LABELS, FIELD_STATUS_VI
from workbench.ui.navigation import QUEUES, to_st_page
from workbench.ui.plain import plain
from workbench.ui.record_panel import page_image
from workbench.ui.rendering import crop_urls, load_page, page_plain_jpeg
from workbench.ui.standins import open_record_for_review

OPEN_RECORD_KEY = "verify_open_record"  # set by the supervisor queues to open one specific record
SHOWN_KEY = "verify_shown"  # (record id, version) the form was rendered with: what a submit refers to
RESTORED_KEY = "verify_restored"  # ((record id, version), Draft | None) read when that form was first shown
DRAFT_SENT_KEY = "verify_draft_saved"  # the last typing stored as a draft (so a rerun does not store it again)
PENDING_KEY = "verify_pending_approval"  # an approval waiting for the official's confirmation
FOCUS_KEY = "verify_focus_request"  # (request id, field index): where the focus goes after "Quay lại sửa"
BROWSE_KEY = "verify_browse"  # the record the official stepped to in book order (absent: the queue's)
WORK_KEY = "verify_work"  # the record the official was working on when they stepped away (Alt+End returns)
HANDLED_KEY = "verify_handled_actions"  # ids of the form actions already done (keyboard.FormAction)
HANDLED_KEEP = 50
PROGRESS_KEY = "verify_progress"  # (monotonic time read, ProgressStrip): the counters on the strip
PROGRESS_MAX_AGE_S = 30.0
NAV_BOX_KEY = "verify-book-nav"
NAV_TARGETS = NavigationTargets(previous_key="verify-prev", next_key="verify-next", back_key="verify-back",
                                undo_key="verify-undo")
CONTRAST_KEY = "verify_contrast"
CONTRAST_OPTIONS = (0, 1, 2, 3)

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
policy = ctx.wb.settings.review_policy()
data_dir = ctx.wb.settings.data_dir


def load_current() -> tuple[RecordView | None, BrowsedRecord | None]:
    """The record to show: one a supervisor opened, else the one stepped to in book order, else the one
    I was working on before stepping away, else my held claim or the next in my queue. The second
    value is set when the record was stepped to (it may then be read-only)."""
    with ctx.session() as (session, user):
        opened = st.session_state.get(OPEN_RECORD_KEY)
        if opened is not None:
            try:
                return open_record_for_review(session, user, int(opened), policy), None
            except ServiceError as exc:
                st.session_state.pop(OPEN_RECORD_KEY, None)
                st.warning(plain(exc.message_vi))
    for state_key in (BROWSE_KEY, WORK_KEY):
        wanted = st.session_state.get(state_key)
        if wanted is None:
            continue
        try:
            with ctx.session() as (session, user):
                stepped = open_in_book(session, user, int(wanted), policy)
                if state_key == BROWSE_KEY or stepped.editable:
                    view = get_record_view(session, user, stepped.record_id, policy)
                    return view, stepped if state_key == BROWSE_KEY else None
        except ServiceError as exc:
            st.warning(plain(exc.message_vi))
        st.session_state.pop(state_key, None)  # gone, or no longer mine: the queue decides
    with ctx.session() as (session, user):
        claim = next_record(session, user, policy)
        if claim is None:
            return None, None
        return get_record_view(session, user, claim.record_id, policy), None


def step_in_book(shown: RecordView | None, last: LastApproval | None, step: int) -> None:
    """Alt+PageUp / Alt+PageDown: the record before / after the one shown (with the queue empty: the
    record last approved)."""
    if shown is None:
        if last is None:
            return
        st.session_state[BROWSE_KEY] = last.record_id
        st.rerun()
    with ctx.session() as (session, user):
        target = neighbour_record(session, user, shown.record_id, step)
    if target is None:
        notices.push("info", "Đây là bản ghi đầu tiên của sổ." if step < 0 else "Đây là bản ghi cuối cùng của sổ.")
        st.rerun()
    if BROWSE_KEY not in st.session_state:
        st.session_state[WORK_KEY] = shown.record_id  # where Alt+End comes back to
    if target == st.session_state.get(WORK_KEY):
        st.session_state.pop(BROWSE_KEY, None)
    else:
        st.session_state[BROWSE_KEY] = target
    st.rerun()


def back_to_work() -> None:
    st.session_state.pop(BROWSE_KEY, None)
    st.rerun()


def undo_approval(shown: RecordView | None, last: LastApproval) -> None:
    """Alt+Z: the last approval is taken back; the record opens (stepped to) with its values kept, and
    approving it again returns to the record I was on."""
    outcome = ctx.run(
        lambda session, user: undo_last_approval(session, user, last.record_id, policy=policy),
        f"Đã hoàn tác lần duyệt bản ghi dòng {last.row_index:d} trang {last.page_index:d}. Bản ghi mở lại để "
        "sửa; các giá trị đã nhập vẫn giữ nguyên.",
    )
    if not outcome.ok:
        return
    st.session_state.pop(PROGRESS_KEY, None)  # my counters moved
    if BROWSE_KEY not in st.session_state and shown is not None and shown.record_id != last.record_id:
        st.session_state[WORK_KEY] = shown.record_id
    st.session_state[BROWSE_KEY] = last.record_id
    st.rerun()


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


def progress_strip() -> ProgressStrip:
    """My counters, read again after my own approvals (submit and undo forget them) or once they are
    PROGRESS_MAX_AGE_S old (other officials' work): not on every keystroke's run."""
    kept: tuple[float, ProgressStrip] | None = st.session_state.get(PROGRESS_KEY)
    if kept is not None and time.monotonic() - kept[0] < PROGRESS_MAX_AGE_S:
        return kept[1]
    with ctx.session() as (session, user):
        strip = my_progress(session, user)
    st.session_state[PROGRESS_KEY] = (time.monotonic(), strip)
    return strip


def show_progress_strip() -> None:
    strip = progress_strip()
    st.markdown(
        f"Tôi đã duyệt hôm nay: **{strip.approved_today_by_me:d}** · "
        f"Đơn vị còn lại: **{strip.unit_remaining:d}** / {strip.unit_total:d} · "
        f"Đơn vị đã duyệt hôm nay: **{strip.unit_approved_today:d}**",
        width="content",
    )


def mark_handled(request: FormAction | None) -> None:
    """This press is being done now: a later run that still carries it must not do it again."""
    if request is not None and request.request_id:
        kept: tuple[str, ...] = st.session_state.get(HANDLED_KEY, ())
        st.session_state[HANDLED_KEY] = (*kept[-(HANDLED_KEEP - 1):], request.request_id)


def submit(view: RecordView, action: ReviewAction, values: dict[str, str], reason: str,
           confirmed: tuple[ApprovalConcern, ...] = (), request: FormAction | None = None) -> None:
    mark_handled(request)  # before the save: no Streamlit call (no preemption point) until it commits
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
    st.session_state.pop(PROGRESS_KEY, None)  # my counters moved
    if action != ReviewAction.SAVE:
        # Done with a record stepped to: back to the one I was working on (or the queue's next).
        st.session_state.pop(BROWSE_KEY, None)
        if st.session_state.get(WORK_KEY) == view.record_id:
            st.session_state.pop(WORK_KEY, None)
    # Saving keeps the same record open; a record a supervisor opened goes back to that queue (issue #16).
    if action != ReviewAction.SAVE and st.session_state.pop(OPEN_RECORD_KEY, None) is not None:
        st.switch_page(to_st_page(QUEUES))
    st.rerun()


def do_action(view: RecordView, request: FormAction, typed: dict[str, str], visited: set[str], reason: str) -> None:
    """Duyệt / Lưu / Chuyển tổ kiểm tra / Bỏ qua with the values the form carried."""
    if request.kind == "approve":
        concerns = approval_concerns(view.fields, typed, visited)
        if not concerns:
            submit(view, ReviewAction.APPROVE, typed, reason, request=request)
            return
        mark_handled(request)
        keys = [f.key for f in view.fields]
        st.session_state[PENDING_KEY] = PendingApproval(view_token(view), typed, reason, concerns,
                                                        keys.index(concerns[0].key))
        # The press took the typing instead of a draft (keyboard.js): keep it on the server while the
        # confirmation is open, as a draft would have.
        keep_draft(view, DraftPayload(view_token(view), typed, tuple(sorted(visited))))
    elif request.kind == "flag":
        submit(view, ReviewAction.FLAG, typed, reason, request=request)
    elif request.kind == "save":
        # Only what the official changed or looked at becomes a person's decision.
        submit(view, ReviewAction.SAVE, fields_to_save(view.fields, typed, visited), reason, request=request)
    elif request.kind == "skip":
        submit(view, ReviewAction.SKIP, {}, reason, request=request)


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


def view_token(view: RecordView) -> str:
    """One record version's form: its widgets' keys and its draft carry it."""
    return f"{view.record_id}-{view.version}"


def form_names(view: RecordView) -> FormNames:
    token = view_token(view)
    targets = KeyboardTargets(
        approve_key="verify-approve", flag_key="verify-flag", skip_key="verify-skip", reason_key=f"reason-{token}",
        save_key="verify-save", visited_key=f"visited-{token}", action_key=f"action-{token}",
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
            st.image(page_plain_jpeg(str(data_dir), view.image_path, int(contrast)), width="stretch")
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
    st.html(band_css(by_band) + hidden_inputs_css(targets.visited_key, targets.action_key))
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
        action_raw = st.text_input("Thao tác", key=targets.action_key, label_visibility="collapsed", value="")
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
    # The press of this run, or one whose own run a newer run (the draft's) preempted: done once.
    request = form_action({"approve": approve, "save": save, "flag": flag, "skip": skip},
                          carried_action(action_raw), st.session_state.get(HANDLED_KEY, ()))
    if request is not None:
        do_action(view, request, typed, visited, reason)
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


def show_position(view: RecordView, position: BookPosition) -> None:
    """The head line: which book, and where in it ("trang 3/12 · dòng 5/8")."""
    st.markdown(
        f"**{plain(view.book.type_label)}** · {plain(view.book.unit_name)} · năm {view.book.year:d} · "
        f"quyển {view.book.volume:d} · **trang {position.page_number:d}/{position.page_count:d} · "
        f"dòng {position.row_number:d}/{position.row_count:d}** · "
        f"sổ còn {position.book_open:d}/{position.book_total:d} bản ghi chưa duyệt"
        # The flag reason is a supervisor's free text: shown literally, never as Markdown (issue #17).
        + (f" · ⚑ {plain(view.flag_reason)}" if view.flag_reason else "")
    )


def show_book_navigation(shown: RecordView | None, last: LastApproval | None, browsing: bool) -> None:
    """The book-order buttons (their keys come from navigation_keys_html) and what Alt+Z would undo;
    called inside the horizontal container keyed NAV_BOX_KEY (the progress strip's line)."""
    if st.button("◀ Bản ghi trước (Alt+PgUp)" if shown is not None else "◀ Bản ghi vừa duyệt (Alt+PgUp)",
                 key=NAV_TARGETS.previous_key, disabled=shown is None and last is None):
        step_in_book(shown, last, -1)
    if st.button("Bản ghi sau ▶ (Alt+PgDn)", key=NAV_TARGETS.next_key, disabled=shown is None):
        step_in_book(shown, last, 1)
    if browsing and st.button(f"Về bản ghi đang làm ({BACK_TO_WORK_KEY})", key=NAV_TARGETS.back_key,
                              type="primary"):
        back_to_work()
    if last is not None and last.undoable:
        if st.button(f"↶ Hoàn tác duyệt dòng {last.row_index:d} trang {last.page_index:d} ({UNDO_APPROVAL_KEY})",
                     key=NAV_TARGETS.undo_key):
            undo_approval(shown, last)
    else:  # shown disabled, with the reason: the key is known, and why it does nothing now
        st.button(f"↶ Hoàn tác duyệt ({UNDO_APPROVAL_KEY})", key=NAV_TARGETS.undo_key, disabled=True,
                  help=plain(last.refusal_vi) if last is not None else "Chưa có lần duyệt nào để hoàn tác.")


def show_navigation_keys(browsing: bool) -> None:
    """The book-order keys, and the buttons made compact: on the progress strip's line, at 1366x768
    the page image and the crop keep their height. Outside the buttons' horizontal container."""
    st.html(f"""<style>
  .st-key-{NAV_BOX_KEY} button {{ min-height: 2rem; padding: 0.1rem 0.55rem; }}
  .st-key-{NAV_BOX_KEY} button p {{ font-size: 0.85rem; white-space: nowrap; }}
</style>""")
    st.html(navigation_keys_html(NAV_TARGETS if browsing else
                                 NavigationTargets(NAV_TARGETS.previous_key, NAV_TARGETS.next_key, "",
                                                   NAV_TARGETS.undo_key)),
            unsafe_allow_javascript=True)


def read_only_table_html(view: RecordView) -> str:
    """The stored values as a plain HTML table (escaped: they are what people typed)."""
    rows = "".join(
        f"<tr><th>{html.escape(f.label)}</th><td>{html.escape(f.value_to_show)}</td>"
        f"<td class='wb-ro-status'>{html.escape(FIELD_STATUS_VI.get(f.status, f.status))}</td></tr>"
        for f in view.fields
    )
    return f"""<table class="wb-read-only" aria-label="Giá trị đã lưu của bản ghi">
<thead><tr><th>Trường</th><th>Giá trị</th><th>Trạng thái</th></tr></thead><tbody>{rows}</tbody></table>
<style>
  .wb-read-only {{ width: 100%; border-collapse: collapse; font-size: 0.92rem; }}
  .wb-read-only th, .wb-read-only td {{ text-align: left; padding: 4px 6px; border-bottom: 1px solid #e3e3e3;
                                       vertical-align: top; }}
  .wb-read-only tbody th {{ font-weight: 600; width: 40%; }}
  .wb-read-only .wb-ro-status {{ color: #555; white-space: nowrap; }}
</style>"""


def show_head(current: RecordView | None, stepped_to: BrowsedRecord | None,
              supervisor_opened: bool) -> st.delta_generator.DeltaGenerator | None:
    """The progress strip with the book-order buttons, then where the record sits in its book (or that
    the queue is done); returns the slot for the restored-typing notice (None when there is no record)."""
    with ctx.session() as (session, user):
        last_done = last_approval(session, user)
        position = book_position(session, user, current.record_id) if current is not None else None
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=NAV_BOX_KEY):
        show_progress_strip()
        if not supervisor_opened:
            show_book_navigation(current if position is not None else None, last_done, stepped_to is not None)
    if not supervisor_opened:
        show_navigation_keys(stepped_to is not None)
    if current is None or position is None:
        st.success("Đã hết bản ghi cần xác minh trong các đơn vị của bạn. Cảm ơn!")
        return None
    show_position(current, position)
    notice_slot = st.empty()  # filled once the form knows what was restored
    if supervisor_opened and st.button("Đóng bản ghi, quay lại hàng đợi", key="verify-close"):
        close_opened(current)
    st.html(verify_layout_css())
    return notice_slot


def show_read_only(view: RecordView, stepped: BrowsedRecord) -> None:
    """A record stepped to that I may not change here: the page with the row outlined, and its values."""
    st.info(plain(stepped.note_vi) + " Alt+End: về bản ghi đang làm · Alt+PgUp / Alt+PgDn: bản ghi trước / sau.",
            icon=":material/visibility:")
    image_col, values_col = st.columns([3, 2], gap="small")
    with image_col:
        image = page_image(data_dir, view.image_path, view.record_bbox, 1.0, 0)
        if image is None:
            st.error("Không đọc được ảnh trang. Báo đơn vị số hoá kiểm tra lại trang này.")
        else:
            st.image(image, width="stretch", output_format="JPEG")
    with values_col:
        st.html(read_only_table_html(view))


st.header("Xác minh bản ghi")
current, stepped_to = load_current()
read_only = stepped_to is not None and not stepped_to.editable
current_draft = restored_draft(current) if current is not None and not read_only else None
if current is not None and not read_only:
    current = with_draft(current, current_draft)
notices.show()
supervisor_opened = st.session_state.get(OPEN_RECORD_KEY) is not None
head = st.container()  # the progress strip, book navigation and position (drawn after the form's action)
if current is None or read_only:
    with head:
        show_head(current, stepped_to, supervisor_opened)
    if current is None:
        st.stop()
    if stepped_to is not None:
        show_read_only(current, stepped_to)
    st.caption(KEY_HELP_VI)
    st.stop()
names = form_names(current)
# 3:2 leaves the page image >= 600 px wide at 1366x768 and the form wide enough for names and buttons.
image_col, form_col = st.columns([3, 2], gap="small")
# The form first: an action pressed on it is saved (and the run starts again on the next record) before
# the head and the page image are drawn for a record that is done (issue #15, load).
with form_col, st.container(key=FORM_COLUMN_KEY):
    typing = show_form(current, names, current_draft)
    st.caption(KEY_HELP_VI)
with head:
    notice_slot = show_head(current, stepped_to, supervisor_opened)
with image_col, st.container(key=PAGE_PANEL_KEY):
    show_page_panel(current, names, current_draft)
if notice_slot is not None:
    show_restored_notice(notice_slot, current, current_draft, typing)
