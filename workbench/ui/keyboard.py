"""The verification screen's keyboard layer and the cell crop that follows the focused field.

Rendered with `st.html(..., unsafe_allow_javascript=True)`, which is not iframed: the script
attaches one capturing `keydown` handler to the page (replacing the previous record's) and:
- focuses the first field when a new record arrives (so approving takes one keystroke),
- Enter in a field moves to the next field (from the last field: to the Duyệt button),
- Ctrl+Enter clicks Duyệt, Ctrl+S clicks Lưu (store and re-run the validators),
- F8 jumps to the flag-reason box (Enter there clicks Chuyển tổ kiểm tra),
  F9 clicks Bỏ qua,
- on focus, swaps the large crop above the form to the focused field's cell,
- remembers every field the official has been in (`window.__wbVisited`) and writes that list into a
  hidden input of the form, so an approval knows which amber/red fields were never looked at,
- while any dialog is open (the approval confirmation, or any modal Streamlit shows) the action keys
  do nothing: no approval can happen behind a dialog (issue #15).
Buttons and inputs are found by Streamlit's `st-key-<key>` container classes.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

APPROVE_KEY = "Ctrl+Enter"
SAVE_KEY = "Ctrl+S"
FLAG_KEY = "F8"
SKIP_KEY = "F9"

KEY_HELP_VI = (
    f"**Phím tắt:** Enter / Tab: trường tiếp theo · **{APPROVE_KEY}: Duyệt** và sang bản ghi kế tiếp · "
    f"{SAVE_KEY}: Lưu và kiểm tra lại · {FLAG_KEY}: Chuyển tổ kiểm tra (gõ lý do rồi Enter) · "
    f"{SKIP_KEY}: Bỏ qua · Shift+Tab: trường trước"
)


@dataclass(frozen=True)
class KeyboardField:
    widget_key: str  # Streamlit key of the field's text_input
    label: str
    crop_url: str | None  # data: URL of the cell crop, None when the cell has no box
    field_key: str = ""  # the template key (what the visited list holds); the widget key when empty


@dataclass(frozen=True)
class KeyboardTargets:
    approve_key: str
    flag_key: str
    skip_key: str
    reason_key: str
    save_key: str
    visited_key: str = ""  # hidden text_input of the form that carries the visited field keys (JSON)


def visited_css(visited_key: str) -> str:
    """Hide the form's visited-fields carrier (it is data for the server, not for the official)."""
    return f"<style>.st-key-{visited_key} {{ display: none !important; }}</style>"


def keyboard_html(
    token: str,
    fields: list[KeyboardField],
    targets: KeyboardTargets,
    crop_height: int = 150,
    *,
    visited: tuple[str, ...] = (),
    focus_request: tuple[int, int] | None = None,
) -> str:
    """The crop panel plus the script; `token` changes per record version (focus resets then).
    `visited`: field keys already visited (restored from a draft); `focus_request`: (request id,
    field index) to put the focus on once, e.g. the field a cancelled approval named."""
    config = {
        "token": token,
        "fields": [{"key": f.widget_key, "label": f.label, "crop": f.crop_url, "name": f.field_key or f.widget_key}
                   for f in fields],
        "approve": targets.approve_key,
        "flag": targets.flag_key,
        "skip": targets.skip_key,
        "reason": targets.reason_key,
        "save": targets.save_key,
        "visitedInput": targets.visited_key,
        "visited": list(visited),
        "focusRequest": list(focus_request) if focus_request else None,
    }
    first = fields[0] if fields else None
    first_src = html.escape(first.crop_url or "") if first else ""
    first_label = html.escape(first.label) if first else ""
    # json.dumps output is safe inside <script> once "</" is escaped.
    payload = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    return f"""
<div class="wb-crop" data-token="{html.escape(token)}">
  <div class="wb-crop-label" id="wb-crop-label">{first_label}</div>
  <div class="wb-crop-frame" style="height:{crop_height}px">
    <img id="wb-crop-img" alt="Ảnh ô đang nhập" src="{first_src}" />
  </div>
</div>
<style>
  .wb-crop {{ margin-bottom: 0.25rem; }}
  .wb-crop-label {{ font-weight: 600; font-size: 0.95rem; margin-bottom: 2px; }}
  .wb-crop-frame {{ display: flex; align-items: center; justify-content: center; background: #fff;
                    border: 2px solid #1f6feb; border-radius: 6px; overflow: hidden; }}
  .wb-crop-frame img {{ width: 100%; height: 100%; object-fit: contain; image-rendering: auto; }}
</style>
<script>
(function () {{
  const cfg = {payload};
  const doc = document;
  const win = window;
  const input = (key) => doc.querySelector('.st-key-' + CSS.escape(key) + ' input');
  const button = (key) => doc.querySelector('.st-key-' + CSS.escape(key) + ' button');
  const fieldInputs = () => cfg.fields.map((f) => input(f.key));
  function showCrop(index) {{
    const f = cfg.fields[index];
    const img = doc.getElementById('wb-crop-img');
    const label = doc.getElementById('wb-crop-label');
    if (!f || !img || !label) return;
    label.textContent = f.label;
    if (f.crop) {{ img.src = f.crop; img.style.visibility = 'visible'; }}
    else {{ img.removeAttribute('src'); img.style.visibility = 'hidden'; }}
  }}
  function focusField(index) {{
    const el = fieldInputs()[index];
    if (!el) return false;
    el.focus();
    el.select();
    return true;
  }}
  // Focus the first field once per record version (not on zoom/contrast reruns), and only once the
  // whole form has arrived: focus is the signal that every key works (Streamlit renders progressively).
  const formReady = () => fieldInputs().every((el) => el) && input(cfg.reason) && button(cfg.approve)
    && button(cfg.flag) && button(cfg.skip) && button(cfg.save);
  // After Lưu the same record comes back (new version): stay on the field the official was in.
  const record = cfg.token.split('-')[0];
  const start = win.__wbRecord === record ? Math.min(win.__wbIndex || 0, cfg.fields.length - 1) : 0;
  // Fields visited on this record: kept across Lưu (same record) and restored drafts; the form's
  // hidden input carries them to the server with Duyệt. React inputs only see a value set through
  // the native setter followed by an input event.
  if (!win.__wbVisited || win.__wbVisited.record !== record) {{
    win.__wbVisited = {{ record: record, keys: new Set() }};
  }}
  cfg.visited.forEach((name) => win.__wbVisited.keys.add(name));
  function writeVisited() {{
    const carrier = cfg.visitedInput ? input(cfg.visitedInput) : null;
    if (!carrier) return;
    const text = JSON.stringify([...win.__wbVisited.keys]);
    if (carrier.value === text) return;
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(carrier, text);
    carrier.dispatchEvent(new Event('input', {{ bubbles: true }}));
  }}
  function markVisited(index) {{
    const f = cfg.fields[index];
    if (!f) return;
    win.__wbVisited.keys.add(f.name);
    writeVisited();
  }}
  const request = cfg.focusRequest;
  if (request && win.__wbFocusRequest !== request[0]) {{
    let tries = 0;
    const attempt = () => {{
      if (formReady() && focusField(request[1])) {{ win.__wbFocusRequest = request[0]; showCrop(request[1]); }}
      else if (tries++ < 200) setTimeout(attempt, 50);
    }};
    attempt();
  }} else if (win.__wbFocusedToken !== cfg.token) {{
    let tries = 0;
    const attempt = () => {{
      if (formReady() && focusField(start)) {{
        win.__wbFocusedToken = cfg.token; win.__wbRecord = record; win.__wbIndex = start; showCrop(start);
        markVisited(start);
      }} else if (tries++ < 200) setTimeout(attempt, 50);
    }};
    attempt();
  }}
  if (win.__wbKeydown) doc.removeEventListener('keydown', win.__wbKeydown, true);
  if (win.__wbFocusin) doc.removeEventListener('focusin', win.__wbFocusin, true);
  win.__wbFocusin = (event) => {{
    const index = fieldInputs().indexOf(event.target);
    if (index >= 0) {{
      win.__wbIndex = index; win.__wbRecord = cfg.token.split('-')[0]; showCrop(index); markVisited(index);
    }}
  }};
  // Any open dialog (role=dialog: st.dialog, Streamlit's own modals) owns the keyboard.
  const dialogOpen = () => doc.querySelector('[role="dialog"]') !== null;
  win.__wbKeydown = (event) => {{
    if (dialogOpen()) {{
      const ctrl = event.ctrlKey || event.metaKey;
      const action = (ctrl && (event.key === 'Enter' || event.key === 's' || event.key === 'S'))
        || event.key === 'F8' || event.key === 'F9';
      if (action) {{ event.preventDefault(); event.stopPropagation(); }}
      return;
    }}
    const inputs = fieldInputs();
    const index = inputs.indexOf(event.target);
    const click = (key) => {{
      const b = button(key);
      if (b) {{ event.preventDefault(); event.stopPropagation(); b.click(); }}
    }};
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) return click(cfg.approve);
    if ((event.key === 's' || event.key === 'S') && (event.ctrlKey || event.metaKey)) return click(cfg.save);
    if (event.key === 'F9') return click(cfg.skip);
    if (event.key === 'F8') {{
      const reason = input(cfg.reason);
      if (reason) {{ event.preventDefault(); reason.focus(); }}
      return;
    }}
    if (event.key === 'Enter' && event.target === input(cfg.reason)) return click(cfg.flag);
    if (event.key === 'Enter' && index >= 0 && !event.shiftKey && !event.altKey) {{
      event.preventDefault();
      event.stopPropagation();
      if (!focusField(index + 1)) {{ const b = button(cfg.approve); if (b) b.focus(); }}
    }}
  }};
  doc.addEventListener('keydown', win.__wbKeydown, true);
  doc.addEventListener('focusin', win.__wbFocusin, true);
}})();
</script>
"""
