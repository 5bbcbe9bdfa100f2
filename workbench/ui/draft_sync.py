"""Sends the verification form's typing to the server as it happens (issue #15 item 1).

The form itself only reaches the server on Lưu/Duyệt. This invisible component (Streamlit
components v2: inline, not iframed) watches the form's field inputs and, 0.6 s after the last
keystroke, when the focus leaves a field, and when the page is being left, sets its `draft` state
to {token, values, visited} if the values differ from what it last sent. A state change reruns the
page, which stores it with `workbench.review.drafts.save_draft`. Component state is also what Streamlit
sends again after a reconnect, so typing done while the connection was down still arrives.

A reload within the debounce (F5 right after typing) tears the connection down before that message
leaves, so every keystroke is also copied to the tab's sessionStorage (this form only; it dies with
the tab). When the same form comes back and the copy differs from what the server restored, the
inputs are refilled from it and it is sent at once, marked `rescued` so the page says so.

When an action button is pressed (keyboard.js sends a `wb-form-action` event first), the pending
draft is dropped: the submitted form carries the same typing, and a draft run arriving after the
press would preempt the press's run (issue #15: Ctrl+Enter right after typing was lost that way; the
press itself also survives a preempting run, see keyboard.FormAction).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

DEBOUNCE_MS = 600
# After a reload: how long the tab's copy waits for the form to arrive, and how long a refill is kept
# against a rerun redrawing the inputs with the server's older values (CI saw F5-right-after-typing
# lose the retyped name now and then; it never failed alone, so a slow first run is the suspect).
FORM_WAIT_MS = 60_000
KEEP_MS = 10_000

_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const cfg = data;
  const doc = document;
  const win = window;
  const input = (key) => doc.querySelector('.st-key-' + CSS.escape(key) + ' input');
  const snapshot = () => {
    const values = {};
    for (const f of cfg.fields) {
      const el = input(f.widget);
      if (!el) return null;  // the form is still arriving
      values[f.name] = el.value;
    }
    return values;
  };
  const visited = () => (win.__wbVisited ? [...win.__wbVisited.keys] : []);
  let last = JSON.stringify(cfg.shown);
  let timer = null;
  let rescued = false;
  const send = () => {
    clearTimeout(timer);
    timer = null;
    const values = snapshot();
    if (values === null) return;
    const text = JSON.stringify(values);
    if (text === last) return;
    last = text;
    setStateValue('draft', { token: cfg.token, values: values, visited: visited(), rescued: rescued });
  };
  const storeKey = 'wb-draft:' + cfg.token;
  const storage = () => { try { return win.sessionStorage; } catch (e) { return null; } };
  const keepLocal = () => {
    const values = snapshot();
    const store = storage();
    if (values === null || store === null) return;
    try { store.setItem(storeKey, JSON.stringify({ values: values, visited: visited() })); } catch (e) {}
  };
  const isField = (el) => cfg.fields.some((f) => el === input(f.widget));
  const onInput = (event) => {
    if (!isField(event.target)) return;
    keepLocal();
    clearTimeout(timer);
    timer = setTimeout(send, cfg.debounce);
  };
  // The tab's copy of this form's typing (other forms' copies are stale: dropped).
  const store = storage();
  let local = null;
  if (store !== null) {
    try {
      for (let i = store.length - 1; i >= 0; i--) {
        const k = store.key(i);
        if (k && k.startsWith('wb-draft:') && k !== storeKey) store.removeItem(k);
      }
      local = JSON.parse(store.getItem(storeKey) || 'null');
    } catch (e) { local = null; }
  }
  // The refill waits for the form (a slow rerun after the reload: up to FORM_WAIT_MS) and then keeps
  // watching for KEEP_MS: a rerun that redraws the inputs with the server's older values would
  // otherwise wipe it (the tab's copy is re-read each time, so typing done since is what is kept).
  let stopped = false;
  if (local && local.values && typeof local.values === 'object') {
    const started = Date.now();
    let refilledAt = null;
    const rescue = () => {
      if (stopped) return;
      if (snapshot() === null) { if (Date.now() - started < cfg.formWaitMs) setTimeout(rescue, 50); return; }
      let copy = local;
      try { copy = JSON.parse(store.getItem(storeKey) || 'null') || local; } catch (e) { copy = local; }
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      let refilled = false;
      for (const f of cfg.fields) {
        const value = copy.values ? copy.values[f.name] : undefined;
        const el = input(f.widget);
        if (typeof value !== 'string' || value === cfg.shown[f.name] || el.value === value) continue;
        setter.call(el, value);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        refilled = true;
      }
      if (refilled) {
        if (win.__wbVisited && Array.isArray(copy.visited)) copy.visited.forEach((k) => win.__wbVisited.keys.add(k));
        rescued = true;
        refilledAt = refilledAt === null ? Date.now() : refilledAt;
        send();
      }
      if (refilledAt !== null && Date.now() - refilledAt < cfg.keepMs) setTimeout(rescue, 200);
    };
    rescue();
  }
  const onFocusOut = (event) => { if (isField(event.target)) send(); };
  // Duyệt / Lưu / Chuyển / Bỏ qua pressed (keyboard.js): the form itself now carries this typing to the
  // server. A draft sent after the press would start a run of its own that preempts the press's run
  // (and cost a run for nothing): the pending one is dropped, this typing counts as sent.
  const onAction = (event) => {
    if (!event.detail || event.detail.token !== cfg.token) return;
    clearTimeout(timer);
    timer = null;
    const values = snapshot();
    if (values !== null) last = JSON.stringify(values);
  };
  const reload = (event) => event.key === 'F5' || (event.key === 'r' && (event.ctrlKey || event.metaKey));
  const onKey = (event) => { if (reload(event)) send(); };
  if (win.__wbDraftCleanup) win.__wbDraftCleanup();
  doc.addEventListener('input', onInput, true);
  doc.addEventListener('focusout', onFocusOut, true);
  doc.addEventListener('keydown', onKey, true);
  doc.addEventListener('wb-form-action', onAction);
  win.addEventListener('pagehide', send);
  win.addEventListener('beforeunload', send);
  const cleanup = () => {
    stopped = true;
    clearTimeout(timer);
    doc.removeEventListener('input', onInput, true);
    doc.removeEventListener('focusout', onFocusOut, true);
    doc.removeEventListener('keydown', onKey, true);
    doc.removeEventListener('wb-form-action', onAction);
    win.removeEventListener('pagehide', send);
    win.removeEventListener('beforeunload', send);
    if (win.__wbDraftCleanup === cleanup) win.__wbDraftCleanup = null;
  };
  win.__wbDraftCleanup = cleanup;
  return cleanup;
}
"""

_component = st.components.v2.component("wb_draft_sync", js=_JS)


@dataclass(frozen=True)
class DraftField:
    widget_key: str  # the field's text_input key
    field_key: str  # the template key the server stores the value under


@dataclass(frozen=True)
class DraftPayload:
    token: str  # the form (record-version) the values were typed into
    values: dict[str, str]
    visited: tuple[str, ...]
    rescued: bool = False  # refilled from the tab's copy after a reload the server had not heard of


def draft_sync(
    token: str, fields: list[DraftField], shown: Mapping[str, str], on_change: Callable[[], None] | None = None
) -> DraftPayload | None:
    """Mount the watcher for the form `token` (prefilled with `shown`); returns the last typing it
    sent, or None. `on_change` runs (before the page) when new typing arrives."""
    result = _component(
        key=f"draft-sync-{token}",
        data={"token": token, "debounce": DEBOUNCE_MS, "shown": dict(shown), "formWaitMs": FORM_WAIT_MS,
              "keepMs": KEEP_MS,
              "fields": [{"widget": f.widget_key, "name": f.field_key} for f in fields]},
        default={"draft": None},
        height="content",
        on_draft_change=on_change or (lambda: None),
    )
    return parse_payload(_state(result), token)


def parse_payload(raw: Any, token: str) -> DraftPayload | None:
    """The component's state as typed data; anything malformed or for another form is ignored
    (the browser is not trusted to send what the script meant)."""
    if not isinstance(raw, dict) or raw.get("token") != token or not isinstance(raw.get("values"), dict):
        return None
    values = {str(k): str(v) for k, v in raw["values"].items() if isinstance(v, str)}
    visited = raw.get("visited")
    keys = tuple(str(k) for k in visited if isinstance(k, str)) if isinstance(visited, list) else ()
    return DraftPayload(token, values, keys, raw.get("rescued") is True)


def _state(result: Any) -> Any:
    try:
        return result["draft"]
    except (KeyError, TypeError):
        return getattr(result, "draft", None)
