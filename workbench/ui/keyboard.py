"""The verification screen's keyboard layer, the cell crop that follows the focused field, and the
page image's zoom/pan (issue #15 items 4 and 5).

Rendered with `st.html(..., unsafe_allow_javascript=True)`, which is not iframed: the script
(`keyboard.js`, next to this file) attaches capturing handlers to the page (replacing the previous
record's) and:
- focuses the record's first doubtful field when a new record arrives (the first field when none is),
- on focus by keyboard selects the field's first doubtful letter (typing the right letter replaces
  it) or puts the caret at the end; never selects the whole value. Esc selects the whole value,
- marks the doubtful letters inside the input (a red box behind each letter, kept on its letter
  while the rest of the value is edited),
- Enter in a field moves to the next field (from the last field: to the Duyệt button),
  F2 / Shift+F2 jump to the next / previous doubtful field (amber/red, or a doubtful letter),
  F4 accepts every green field (counted as seen) and jumps to the first amber/red field not seen,
- Ctrl+Enter clicks Duyệt, Ctrl+S clicks Lưu (store and re-run the validators),
- F8 jumps to the flag-reason box (Enter there clicks Chuyển tổ kiểm tra), F9 clicks Bỏ qua,
- keeps the focused field in the upper half of the screen (never at an edge, never under a panel),
- on focus swaps the large crop to the focused field's cell and moves the page image's view to that
  cell (zoom follows the field); Alt+arrows pan, Alt+'+'/'-'/'0' zoom, Alt+C steps the contrast;
  these and the zoom buttons leave the focus in the field,
- remembers every field the official has been in (`window.__wbVisited`) and writes that list into a
  hidden input of the form, so an approval knows which amber/red fields were never looked at,
- while any dialog is open (the approval confirmation, or any modal Streamlit shows) the action keys
  do nothing: no approval can happen behind a dialog (issue #15).
- writes every press of Duyệt / Lưu / Chuyển tổ kiểm tra / Bỏ qua (key or mouse) into a hidden input
  of the form, with a fresh id, before the press submits the form (see FormAction): a press whose own
  script run was preempted by a newer one is still done, once, by the next run (issue #15: Ctrl+Enter
  right after typing was lost to the typing's draft run), and tells the draft watcher that the form
  now carries the typing.
Buttons and inputs are found by Streamlit's `st-key-<key>` container classes.

`navigation_keys_html` is a second, smaller script for the book-order buttons (issue #15 item 6):
Alt+PageUp / Alt+PageDown step to the record before / after in the book, Alt+End goes back to the
record being worked on, Alt+Z undoes the last approval. It runs on the form and on the read-only view
of a record stepped back to (which has no form), and also does nothing while a dialog is open.
"""

from __future__ import annotations

import html
import json
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path

APPROVE_KEY = "Ctrl+Enter"
SAVE_KEY = "Ctrl+S"
FLAG_KEY = "F8"
SKIP_KEY = "F9"

NEXT_DOUBT_KEY = "F2"
ACCEPT_GREEN_KEY = "F4"
SELECT_ALL_KEY = "Esc"

# Book order (issue #15 item 6): Alt with the page keys, which no other key of this page uses and the
# browser leaves alone (Ctrl+PageUp/PageDown switch tabs; Ctrl+Z is the field's own undo). Written as
# printed on the keycaps.
PREVIOUS_KEY = "Alt+PgUp"
NEXT_KEY = "Alt+PgDn"
BACK_TO_WORK_KEY = "Alt+End"
UNDO_APPROVAL_KEY = "Alt+Z"

# One line per group, read top to bottom at the start of a shift (Markdown: constants only).
KEY_HELP_VI = (
    f"**{APPROVE_KEY}: Duyệt** và sang bản ghi kế tiếp · {SAVE_KEY}: Lưu và kiểm tra lại · "
    f"{FLAG_KEY}: Chuyển tổ kiểm tra (gõ lý do rồi Enter) · {SKIP_KEY}: Bỏ qua  \n"
    f"Enter / Tab: trường tiếp theo · Shift+Tab: trường trước · **{NEXT_DOUBT_KEY}: trường nghi ngờ tiếp theo** "
    f"(Shift+{NEXT_DOUBT_KEY}: trước) · {ACCEPT_GREEN_KEY}: nhận mọi trường xanh, sang trường vàng/đỏ  \n"
    "Vào một trường, chữ nghi ngờ đầu tiên (ô đỏ trong trường) được chọn sẵn: gõ chữ đúng để thay; "
    f"không có chữ nghi ngờ thì con trỏ ở cuối · {SELECT_ALL_KEY}: chọn cả trường để gõ lại  \n"
    "Ảnh trang: Alt+mũi tên: di chuyển · Alt+= / Alt+−: phóng to / thu nhỏ · Alt+0: cả trang · "
    "Alt+C: đổi độ tương phản (con trỏ vẫn ở trường đang gõ)  \n"
    f"Trong sổ: **{PREVIOUS_KEY}: bản ghi trước** · {NEXT_KEY}: bản ghi sau · {BACK_TO_WORK_KEY}: về bản ghi "
    f"đang làm · **{UNDO_APPROVAL_KEY}: hoàn tác lần duyệt vừa rồi** (khi chưa ai khác động đến bản ghi đó)"
)


@dataclass(frozen=True)
class KeyboardField:
    widget_key: str  # Streamlit key of the field's text_input
    label: str
    crop_url: str | None  # data: URL of the cell crop, None when the cell has no box
    field_key: str = ""  # the template key (what the visited list holds); the widget key when empty
    proposal: str = ""  # the machine's value the doubtful ranges refer to
    doubtful: tuple[tuple[int, int], ...] = ()  # [start, end) UTF-16 offsets of doubtful letters in `proposal`
    band: str = ""  # display band: high / medium / low / corrected
    cell: tuple[int, int, int, int] | None = None  # (x, y, w, h) on the page image: where the zoom goes


@dataclass(frozen=True)
class PageViewer:
    """The page image the script zooms and pans (a keyed container holding one st.image)."""

    container_key: str
    page_size: tuple[int, int]  # (width, height) of the page the boxes refer to
    record_box: tuple[int, int, int, int]
    contrast_key: str  # the contrast control, stepped by Alt+C
    contrast: int  # its current level (index into its options)


@dataclass(frozen=True)
class KeyboardTargets:
    approve_key: str
    flag_key: str
    skip_key: str
    reason_key: str
    save_key: str
    visited_key: str = ""  # hidden text_input of the form that carries the visited field keys (JSON)
    action_key: str = ""  # hidden text_input of the form that carries the action pressed (see FormAction)


FORM_ACTIONS = ("approve", "save", "flag", "skip")


@dataclass(frozen=True)
class FormAction:
    """An action button pressed on the form. The script writes {"action", "id"} (a fresh id per press)
    into the form's action carrier just before the press submits the form. The press itself is a
    one-shot trigger: if a newer script run (the typing's draft) preempts the run that carried it,
    Streamlit drops it. The carrier is an ordinary value, sent with every later run, so the next run
    still sees the action and does it, once (its id is then handled)."""

    kind: str  # one of FORM_ACTIONS
    request_id: str  # "" when only the button's own trigger said so (no script)


def carried_action(raw: object) -> FormAction | None:
    """The carrier's JSON as a FormAction; anything malformed (the browser is not trusted): None."""
    try:
        parsed = json.loads(str(raw or "null"))
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    kind, request_id = parsed.get("action"), parsed.get("id")
    if kind not in FORM_ACTIONS or not isinstance(request_id, str) or not request_id:
        return None
    return FormAction(str(kind), request_id)


def form_action(pressed: dict[str, bool], carried: FormAction | None, handled: Collection[str]) -> FormAction | None:
    """What this run must do: the button pressed in this run (its carrier id, when the script wrote one
    for that press), else a carried action no run has handled yet (its own run was preempted)."""
    for kind in FORM_ACTIONS:
        if pressed.get(kind):
            same = carried is not None and carried.kind == kind
            return FormAction(kind, carried.request_id if same and carried is not None else "")
    if carried is not None and carried.request_id not in handled:
        return carried
    return None


def hidden_inputs_css(*keys: str) -> str:
    """Hide the form's carriers (visited fields, action pressed): data for the server, not the official."""
    return "".join(f"<style>.st-key-{key} {{ display: none !important; }}</style>" for key in keys if key)


def visited_css(visited_key: str) -> str:
    """Hide the form's visited-fields carrier (it is data for the server, not for the official)."""
    return hidden_inputs_css(visited_key)


@cache
def _script_source() -> str:
    return (Path(__file__).with_name("keyboard.js")).read_text(encoding="utf-8")


def zoom_bar_html() -> str:
    """The zoom buttons above the page image (the script binds them; they never take the focus)."""
    return """<div class="wb-zoom-bar" role="toolbar" aria-label="Phóng to ảnh trang">
  <button type="button" data-zoom="-1" title="Thu nhỏ (Alt+−)" aria-label="Thu nhỏ">−</button>
  <span id="wb-zoom-level" aria-live="polite">1×</span>
  <button type="button" data-zoom="1" title="Phóng to (Alt+=)" aria-label="Phóng to">+</button>
  <button type="button" data-zoom="0" title="Cả trang (Alt+0)">Cả trang</button>
</div>
<style>
  .wb-zoom-bar { display: flex; align-items: center; gap: 6px; font-size: 0.9rem; height: 2.1rem;
                 white-space: nowrap; }
  .wb-zoom-bar button { min-width: 2rem; height: 1.9rem; border: 1px solid #c8c8c8; border-radius: 6px;
                        background: #fff; cursor: pointer; font-size: 0.9rem; padding: 0 0.5rem; }
  #wb-zoom-level { min-width: 2.4rem; text-align: center; font-weight: 600; }
</style>"""


def keyboard_html(
    token: str,
    fields: list[KeyboardField],
    targets: KeyboardTargets,
    crop_height: int = 100,
    *,
    visited: tuple[str, ...] = (),
    focus_request: tuple[int, int] | None = None,
    viewer: PageViewer | None = None,
) -> str:
    """The crop panel plus the script; `token` changes per record version (focus resets then).
    `visited`: field keys already visited (restored from a draft); `focus_request`: (request id,
    field index) to put the focus on once, e.g. the field a cancelled approval named; `viewer`:
    the page image whose view follows the focused field."""
    config = {
        "token": token,
        "fields": [{"key": f.widget_key, "label": f.label, "crop": f.crop_url, "name": f.field_key or f.widget_key,
                    "proposal": f.proposal, "doubt": [list(r) for r in f.doubtful], "band": f.band,
                    "cell": list(f.cell) if f.cell else None}
                   for f in fields],
        "approve": targets.approve_key,
        "flag": targets.flag_key,
        "skip": targets.skip_key,
        "reason": targets.reason_key,
        "save": targets.save_key,
        "visitedInput": targets.visited_key,
        "actionInput": targets.action_key,
        "visited": list(visited),
        "focusRequest": list(focus_request) if focus_request else None,
        "viewer": {"key": viewer.container_key, "page": list(viewer.page_size), "record": list(viewer.record_box)}
        if viewer else None,
        "contrastKey": viewer.contrast_key if viewer else "",
        "contrast": viewer.contrast if viewer else 0,
    }
    first = fields[0] if fields else None
    first_src = html.escape(first.crop_url or "") if first else ""
    first_label = html.escape(first.label) if first else ""
    # json.dumps output is safe inside <script> once "</" is escaped.
    payload = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    script = _script_source().replace("__WB_CONFIG__", payload, 1)
    return f"""
<div class="wb-crop" data-token="{html.escape(token)}">
  <div class="wb-crop-label" id="wb-crop-label">{first_label}</div>
  <div class="wb-crop-frame" style="height:{crop_height}px">
    <img id="wb-crop-img" alt="Ảnh ô đang nhập" src="{first_src}" />
  </div>
</div>
<style>
  .wb-crop {{ margin-bottom: 0.25rem; }}
  .wb-crop-label {{ font-weight: 600; font-size: 0.95rem; margin-bottom: 2px; white-space: nowrap;
                    overflow: hidden; text-overflow: ellipsis; }}
  .wb-crop-frame {{ display: flex; align-items: center; justify-content: center; background: #fff;
                    border: 2px solid #1f6feb; border-radius: 6px; overflow: hidden; }}
  .wb-crop-frame img {{ width: 100%; height: 100%; object-fit: contain; image-rendering: auto; }}
</style>
<script>
{script}
</script>
"""


@dataclass(frozen=True)
class NavigationTargets:
    """The book-order buttons (Streamlit keys); an empty key: that button is not on the page."""

    previous_key: str
    next_key: str
    back_key: str = ""
    undo_key: str = ""


def navigation_keys_html(targets: NavigationTargets) -> str:
    """The script that gives the book-order buttons their keys (see the module docstring). Before a
    click it forgets which form version had its first focus, so coming back to a record puts the focus
    in its field again (keyboard.js focuses once per form version)."""
    keys = json.dumps({"PageUp": targets.previous_key, "PageDown": targets.next_key, "End": targets.back_key,
                       "KeyZ": targets.undo_key}).replace("</", "<\\/")
    return f"""<script>(function () {{
  const keys = {keys};
  const doc = document;
  const win = window;
  if (win.__wbNavKeydown) doc.removeEventListener('keydown', win.__wbNavKeydown, true);
  win.__wbNavKeydown = (event) => {{
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const name = event.code === 'KeyZ' ? 'KeyZ' : event.key;
    const key = keys[name];
    if (key === undefined) return;
    event.preventDefault(); event.stopPropagation();
    if (!key || doc.querySelector('[role="dialog"]') !== null) return;
    const b = doc.querySelector('.st-key-' + CSS.escape(key) + ' button');
    if (!b || b.disabled) return;
    win.__wbFocusedToken = null;
    b.click();
  }};
  doc.addEventListener('keydown', win.__wbNavKeydown, true);
}})();</script>"""
