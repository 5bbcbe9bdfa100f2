// The verification page's keyboard layer (see workbench/ui/keyboard.py for what each key does).
// The configuration placeholder below is replaced by the page's JSON (keyboard.py: keyboard_html).
(function () { try {
  const cfg = __WB_CONFIG__;
  const doc = document;
  const win = window;
  const input = (key) => doc.querySelector('.st-key-' + CSS.escape(key) + ' input');
  const button = (key) => doc.querySelector('.st-key-' + CSS.escape(key) + ' button');
  const fieldInputs = () => cfg.fields.map((f) => input(f.key));
  const DOUBTFUL_BANDS = ['medium', 'low'];

  // --- doubtful letters ------------------------------------------------------------------------
  // cfg.fields[i].doubt holds [start, end) UTF-16 offsets into the machine's proposal. Once the
  // official edits, marks before and after the edited stretch stay on their letters; marks inside it go.
  function marks(index, value) {
    const f = cfg.fields[index];
    if (!f || !f.doubt.length) return [];
    const old = f.proposal;
    if (value === old) return f.doubt;
    let head = 0;
    while (head < old.length && head < value.length && old[head] === value[head]) head++;
    let tail = 0;
    while (tail < old.length - head && tail < value.length - head
           && old[old.length - 1 - tail] === value[value.length - 1 - tail]) tail++;
    const shift = value.length - old.length;
    return f.doubt.filter(([s, e]) => e <= head || s >= old.length - tail)
      .map(([s, e]) => (s >= old.length - tail ? [s + shift, e + shift] : [s, e]));
  }
  const isDoubtful = (index) => {
    const f = cfg.fields[index];
    const el = fieldInputs()[index];
    return !!f && (DOUBTFUL_BANDS.includes(f.band) || (el ? marks(index, el.value).length > 0 : f.doubt.length > 0));
  };
  const measure = doc.createElement('canvas').getContext('2d');
  function drawMarks(index) {
    const el = fieldInputs()[index];
    if (!el || !el.parentElement) return;
    const host = el.parentElement;
    let layer = host.querySelector(':scope > .wb-doubt-layer');
    const found = marks(index, el.value);
    if (!found.length) { if (layer) layer.replaceChildren(); return; }
    if (!layer) { layer = doc.createElement('div'); layer.className = 'wb-doubt-layer'; host.appendChild(layer); }
    const style = getComputedStyle(el);
    measure.font = style.font;
    const left = el.offsetLeft + el.clientLeft + parseFloat(style.paddingLeft) - el.scrollLeft;
    const boxes = found.map(([s, e]) => {
      const x = measure.measureText(el.value.slice(0, s)).width;
      const w = Math.max(measure.measureText(el.value.slice(s, e)).width, 6);
      const mark = doc.createElement('span');
      mark.className = 'wb-doubt';
      mark.style.left = (left + x - 1) + 'px';
      mark.style.width = (w + 2) + 'px';
      mark.style.top = (el.offsetTop + el.clientTop + 4) + 'px';
      mark.style.height = (el.clientHeight - 8) + 'px';
      return mark;
    });
    layer.replaceChildren(...boxes);
  }
  const drawAllMarks = () => cfg.fields.forEach((_, i) => drawMarks(i));

  // Focus lands on the first doubtful letter, selected (typing the right letter replaces it), or at
  // the end of the value: never on the whole value (a one-letter fix must not mean retyping it).
  function placeCaret(index) {
    const el = fieldInputs()[index];
    if (!el) return;
    const found = marks(index, el.value);
    if (found.length) el.setSelectionRange(found[0][0], found[0][1]);
    else el.setSelectionRange(el.value.length, el.value.length);
  }

  // --- comfortable scrolling -------------------------------------------------------------------
  function scroller(el) {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowY;
      if ((overflow === 'auto' || overflow === 'scroll') && node.scrollHeight > node.clientHeight) return node;
    }
    return doc.scrollingElement;
  }
  // The focused field (its label too) sits in the upper half of the screen, never at an edge.
  function comfort(el) {
    const box = (el.closest('[data-testid="stTextInput"]') || el).getBoundingClientRect();
    const height = win.innerHeight;
    if (box.top >= height * 0.18 && box.bottom <= height * 0.66) return;
    scroller(el).scrollBy({ top: box.top - height * 0.34, behavior: 'instant' });
  }

  // --- the page image: zoom follows the focused field, keyboard pan ------------------------------
  const ZOOMS = [1, 1.5, 2, 3, 4];
  if (!win.__wbView) {
    let zoom = 1;
    try { zoom = Number(win.sessionStorage.getItem('wb-zoom')) || 1; } catch (e) { /* no storage: 1x */ }
    win.__wbView = { zoom: ZOOMS.includes(zoom) ? zoom : 1, panX: 0, panY: 0 };
  }
  const view = win.__wbView;
  function applyView() {
    const v = cfg.viewer;
    if (!v) return;
    const panel = doc.querySelector('.st-key-' + CSS.escape(v.key));
    const img = panel ? panel.querySelector('img') : null;
    if (!img || !img.parentElement) return;
    const frame = img.parentElement;
    const [pageW, pageH] = v.page;
    const width = panel.clientWidth;  // the keyed container spans the column; the image's own boxes follow it
    if (!width) return;
    const fit = width / pageW;
    const fitH = pageH * fit;
    const scale = fit * view.zoom;
    const height = Math.round(Math.min(fitH * view.zoom, Math.max(fitH, win.innerHeight - 290)));
    Object.assign(frame.style, { position: 'relative', overflow: 'hidden', width: width + 'px', height: height + 'px' });
    const index = win.__wbIndex ?? -1;
    const f = cfg.fields[index];
    const target = f && f.cell ? f.cell : v.record;
    const cx = target[0] + target[2] / 2;
    const cy = target[1] + target[3] / 2;
    const clamp = (value, low) => Math.min(0, Math.max(low, value));
    const baseX = width / 2 - cx * scale;
    const baseY = height / 2 - cy * scale;
    const tx = clamp(baseX + view.panX, width - pageW * scale);
    const ty = clamp(baseY + view.panY, height - pageH * scale);
    view.panX = tx - baseX; view.panY = ty - baseY;  // never pan past the page edge
    const transform = `translate(${tx}px, ${ty}px) scale(${view.zoom})`;
    Object.assign(img.style, { position: 'absolute', left: '0', top: '0', width: width + 'px', height: fitH + 'px',
                               maxWidth: 'none', transformOrigin: '0 0', transform: transform });
    let layer = frame.querySelector(':scope > .wb-view-layer');
    if (!layer) {
      layer = doc.createElement('div');
      layer.className = 'wb-view-layer';
      for (const name of ['wb-view-record', 'wb-view-cell']) {
        const box = doc.createElement('div');
        box.className = name;
        layer.appendChild(box);
      }
      frame.appendChild(layer);
    }
    Object.assign(layer.style, { width: width + 'px', height: fitH + 'px', transform: transform });
    const place = (el, box) => {
      if (!box) { el.style.display = 'none'; return; }
      Object.assign(el.style, { display: 'block', left: (box[0] * fit) + 'px', top: (box[1] * fit) + 'px',
                                width: (box[2] * fit) + 'px', height: (box[3] * fit) + 'px' });
    };
    place(layer.children[0], v.record);
    place(layer.children[1], f && f.cell ? f.cell : null);
    const label = doc.getElementById('wb-zoom-level');
    if (label) label.textContent = String(view.zoom).replace('.', ',') + '×';
    if (!img.__wbLoadHook) { img.__wbLoadHook = true; img.addEventListener('load', applyView); }
  }
  function setZoom(step) {
    const at = ZOOMS.indexOf(view.zoom);
    const next = step === 0 ? 1 : ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, at + step))];
    view.zoom = next; view.panX = 0; view.panY = 0;
    try { win.sessionStorage.setItem('wb-zoom', String(next)); } catch (e) { /* zoom not kept over F5 */ }
    applyView();
  }
  function pan(dx, dy) {
    const v = cfg.viewer;
    const panel = v ? doc.querySelector('.st-key-' + CSS.escape(v.key)) : null;
    const width = panel ? panel.clientWidth : 600;
    view.panX -= dx * width * 0.25; view.panY -= dy * width * 0.2;
    applyView();
  }
  function nextContrast() {
    const buttons = [...doc.querySelectorAll('.st-key-' + CSS.escape(cfg.contrastKey) + ' button')];
    if (buttons.length) buttons[(cfg.contrast + 1) % buttons.length].click();  // a click() keeps the focus
  }

  // --- crop panel, visited fields ---------------------------------------------------------------
  function showCrop(index) {
    const f = cfg.fields[index];
    const img = doc.getElementById('wb-crop-img');
    const label = doc.getElementById('wb-crop-label');
    if (!f || !img || !label) return;
    label.textContent = f.label;
    if (f.crop) { img.src = f.crop; img.style.visibility = 'visible'; }
    else { img.removeAttribute('src'); img.style.visibility = 'hidden'; }
  }
  const record = cfg.token.split('-')[0];
  if (!win.__wbVisited || win.__wbVisited.record !== record) {
    win.__wbVisited = { record: record, keys: new Set() };
  }
  cfg.visited.forEach((name) => win.__wbVisited.keys.add(name));
  // The form's hidden input carries the visited list to the server with Duyệt; React inputs only
  // see a value set through the native setter followed by an input event.
  function writeVisited() {
    const carrier = cfg.visitedInput ? input(cfg.visitedInput) : null;
    if (!carrier) return;
    const text = JSON.stringify([...win.__wbVisited.keys]);
    if (carrier.value === text) return;
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(carrier, text);
    carrier.dispatchEvent(new Event('input', { bubbles: true }));
  }
  function markVisited(index) {
    const f = cfg.fields[index];
    if (!f) return;
    win.__wbVisited.keys.add(f.name);
    writeVisited();
  }
  function entered(index) {
    win.__wbIndex = index; win.__wbRecord = record;
    showCrop(index); markVisited(index); applyView(); drawMarks(index);
  }
  // A new record's inputs can get their values a moment after they appear (Streamlit sets a widget's
  // value after mounting it, and may reuse the previous record's input): the caret placed on the old
  // value would end up at the end of the new one. Until the official presses a key, a value that
  // changes under the focus gets its caret placed again.
  function holdCaret(index, el) {
    const keysAt = win.__wbKeys || 0;
    let seen = el.value;
    let tries = 0;
    const check = () => {
      if (doc.activeElement !== el || (win.__wbKeys || 0) !== keysAt) return;
      if (el.value !== seen) { seen = el.value; placeCaret(index); drawMarks(index); }
      if (tries++ < 30) setTimeout(check, 50);
    };
    setTimeout(check, 50);
  }
  function focusField(index) {
    const el = fieldInputs()[index];
    if (!el) return false;
    el.focus({ preventScroll: true });
    placeCaret(index);
    comfort(el);
    holdCaret(index, el);
    return true;
  }
  const focusApprove = () => { const b = button(cfg.approve); if (b) { b.focus({ preventScroll: true }); comfort(b); } };
  function nextDoubtful(from, step) {
    const n = cfg.fields.length;
    for (let k = 1; k <= n; k++) {
      const i = ((from + step * k) % n + n) % n;
      if (isDoubtful(i)) return i;
    }
    return -1;
  }
  // F4: every green field the official has not changed counts as seen (so Lưu confirms it too),
  // and the focus goes to the first amber/red field not yet seen.
  function acceptGreen() {
    const inputs = fieldInputs();
    cfg.fields.forEach((f, i) => {
      if (f.band === 'high' && inputs[i]) {
        win.__wbVisited.keys.add(f.name);
        const box = inputs[i].closest('[data-testid="stTextInput"]');
        if (box) box.classList.add('wb-accepted');
      }
    });
    writeVisited();
    const open = cfg.fields.findIndex((f, i) => isDoubtful(i) && !win.__wbVisited.keys.has(f.name));
    const any = nextDoubtful(-1, 1);
    const target = open >= 0 ? open : any;
    if (target < 0 || !focusField(target)) focusApprove();
  }

  // --- first focus ------------------------------------------------------------------------------
  // Once per record version (not on contrast reruns), once the whole form has arrived: focus is the
  // signal that every key works (Streamlit renders progressively). A new record starts on its first
  // doubtful field (a record read right starts on the first field); after Lưu the same record comes
  // back (new version) and the official stays where they were.
  const formReady = () => fieldInputs().every((el) => el) && input(cfg.reason) && button(cfg.approve)
    && button(cfg.flag) && button(cfg.skip) && button(cfg.save);
  const firstDoubtful = () => { const i = nextDoubtful(-1, 1); return i >= 0 ? i : 0; };
  const request = cfg.focusRequest;
  const retry = (step) => { let tries = 0; const go = () => { if (!step() && tries++ < 200) setTimeout(go, 50); }; go(); };
  if (request && win.__wbFocusRequest !== request[0]) {
    retry(() => {
      if (!(formReady() && focusField(request[1]))) return false;
      win.__wbFocusRequest = request[0]; entered(request[1]); drawAllMarks();
      return true;
    });
  } else if (win.__wbFocusedToken !== cfg.token) {
    retry(() => {
      if (!formReady()) return false;
      const start = win.__wbRecord === record ? Math.min(win.__wbIndex || 0, cfg.fields.length - 1) : firstDoubtful();
      if (!focusField(start)) return false;
      win.__wbFocusedToken = cfg.token; view.panX = 0; view.panY = 0;
      entered(start); drawAllMarks();
      return true;
    });
  } else {
    // A contrast rerun redraws the crop panel with the first field's crop: put the focused field's back.
    retry(() => {
      if (!formReady()) return false;
      drawAllMarks(); applyView();
      if (win.__wbRecord === record) showCrop(win.__wbIndex || 0);
      return true;
    });
  }

  // --- action carrier ---------------------------------------------------------------------------
  // A press of Duyệt / Lưu / Chuyển / Bỏ qua (key or mouse) is a one-shot trigger that Streamlit drops
  // when a newer run (the typing's draft) preempts the run carrying it. So, before the press reaches
  // the form, it is also written into the form's hidden action input with a fresh id: that value goes
  // with every later run, and the server does the action once (keyboard.py: FormAction). The draft
  // watcher is told too: the form now carries the typing, so no draft run follows to preempt it.
  const ACTIONS = [['approve', cfg.approve], ['save', cfg.save], ['flag', cfg.flag], ['skip', cfg.skip]];
  function carryAction(kind) {
    const carrier = cfg.actionInput ? input(cfg.actionInput) : null;
    if (carrier) {
      const id = Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set
        .call(carrier, JSON.stringify({ action: kind, id: id }));
      carrier.dispatchEvent(new Event('input', { bubbles: true }));
    }
    doc.dispatchEvent(new CustomEvent('wb-form-action', { detail: { token: cfg.token, action: kind } }));
  }

  // --- events -------------------------------------------------------------------------------------
  for (const [type, name] of [['keydown', '__wbKeydown'], ['focusin', '__wbFocusin'], ['input', '__wbInput'],
                              ['mousedown', '__wbMousedown'], ['scroll', '__wbScroll'], ['keyup', '__wbKeyup'],
                              ['click', '__wbClick']]) {
    if (win[name]) doc.removeEventListener(type, win[name], true);
  }
  if (win.__wbResize) win.removeEventListener('resize', win.__wbResize);
  if (win.__wbObserver) win.__wbObserver.disconnect();
  win.__wbClick = (event) => {
    if (!(event.target instanceof Element)) return;
    const found = ACTIONS.find(([, key]) => event.target.closest('.st-key-' + CSS.escape(key) + ' button'));
    if (found) carryAction(found[0]);
  };
  win.__wbMousedown = (event) => {
    win.__wbMouseAt = Date.now();
    // Zoom and contrast controls do not take the focus from the field.
    if (event.target.closest('.wb-zoom-bar button, .st-key-' + CSS.escape(cfg.contrastKey) + ' button')) {
      event.preventDefault();
    }
  };
  win.__wbFocusin = (event) => {
    const index = fieldInputs().indexOf(event.target);
    if (index < 0) return;
    entered(index);
    // Tab selects the whole value and a click puts the caret where clicked: only the keyboard's is changed.
    if (Date.now() - (win.__wbMouseAt || 0) > 400) {
      placeCaret(index);
      requestAnimationFrame(() => { if (doc.activeElement === event.target) placeCaret(index); });
      comfort(event.target);
    }
  };
  const redrawFor = (event) => { const i = fieldInputs().indexOf(event.target); if (i >= 0) drawMarks(i); };
  win.__wbInput = redrawFor;
  win.__wbKeyup = redrawFor;
  win.__wbScroll = redrawFor;
  win.__wbResize = () => { applyView(); drawAllMarks(); };
  // Streamlit replaces the page image after a contrast change: draw the view again on the new one.
  if (cfg.viewer) {
    const panel = doc.querySelector('.st-key-' + CSS.escape(cfg.viewer.key));
    if (panel) {
      win.__wbObserver = new MutationObserver(() => requestAnimationFrame(applyView));
      win.__wbObserver.observe(panel, { childList: true, subtree: true, attributes: true, attributeFilter: ['src'] });
    }
  }
  const zoomBar = doc.querySelector('.wb-zoom-bar');
  if (zoomBar) {
    zoomBar.onclick = (event) => {
      const b = event.target.closest('button[data-zoom]');
      if (b) setZoom(Number(b.dataset.zoom));
    };
  }
  // Any open dialog (role=dialog: st.dialog, Streamlit's own modals) owns the keyboard.
  const dialogOpen = () => doc.querySelector('[role="dialog"]') !== null;
  win.__wbKeydown = (event) => {
    win.__wbKeys = (win.__wbKeys || 0) + 1;  // the official is acting: holdCaret lets go
    const ctrl = event.ctrlKey || event.metaKey;
    if (dialogOpen()) {
      const action = (ctrl && (event.key === 'Enter' || event.key === 's' || event.key === 'S'))
        || ['F2', 'F4', 'F8', 'F9'].includes(event.key);
      if (action) { event.preventDefault(); event.stopPropagation(); }
      return;
    }
    const inputs = fieldInputs();
    const index = inputs.indexOf(event.target);
    const handled = () => { event.preventDefault(); event.stopPropagation(); };
    const click = (key) => { const b = button(key); if (b) { handled(); b.click(); } };
    // Page image: Alt + arrows pan, Alt + '+' / '-' / '0' zoom, Alt+C contrast (layout-independent codes).
    if (event.altKey && !ctrl) {
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (moves[event.key]) { handled(); pan(...moves[event.key]); return; }
      if (['Equal', 'NumpadAdd'].includes(event.code)) { handled(); setZoom(1); return; }
      if (['Minus', 'NumpadSubtract'].includes(event.code)) { handled(); setZoom(-1); return; }
      if (['Digit0', 'Numpad0'].includes(event.code)) { handled(); setZoom(0); return; }
      if (event.code === 'KeyC') { handled(); nextContrast(); return; }
    }
    if (event.key === 'Enter' && ctrl) return click(cfg.approve);
    if ((event.key === 's' || event.key === 'S') && ctrl) return click(cfg.save);
    if (event.key === 'F9') return click(cfg.skip);
    if (event.key === 'F8') {
      const reason = input(cfg.reason);
      if (reason) { handled(); reason.focus(); }
      return;
    }
    if (event.key === 'F2') {
      handled();
      const from = index >= 0 ? index : (event.shiftKey ? 0 : -1);
      const target = nextDoubtful(from, event.shiftKey ? -1 : 1);
      if (target < 0 || !focusField(target)) focusApprove();
      return;
    }
    if (event.key === 'F4') { handled(); acceptGreen(); return; }
    if (event.key === 'Escape' && index >= 0) { handled(); event.target.select(); return; }
    if (event.key === 'Enter' && event.target === input(cfg.reason)) return click(cfg.flag);
    if (event.key === 'Enter' && index >= 0 && !event.shiftKey && !event.altKey) {
      handled();
      if (!focusField(index + 1)) focusApprove();
    }
  };
  doc.addEventListener('keydown', win.__wbKeydown, true);
  doc.addEventListener('focusin', win.__wbFocusin, true);
  doc.addEventListener('input', win.__wbInput, true);
  doc.addEventListener('keyup', win.__wbKeyup, true);
  doc.addEventListener('scroll', win.__wbScroll, true);
  doc.addEventListener('mousedown', win.__wbMousedown, true);
  doc.addEventListener('click', win.__wbClick, true);
  win.addEventListener('resize', win.__wbResize);
} catch (e) { console.error('WBERR', e.message, e.stack); } })();
