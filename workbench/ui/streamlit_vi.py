"""Streamlit's own English strings, shown in Vietnamese.

Streamlit has no translations: the file uploader ("Drag and drop files here", "Upload", "1GB per
file"), the select boxes' "Choose an option", form hints ("Press Enter to submit form"), the
"Page not found" dialog, the "Skip to main content" link, the "Running..." status and the table
toolbar's tooltips are written into its JavaScript bundle. A small script, placed once per browser
tab, watches the page (a MutationObserver) and rewrites those texts and tooltips where they appear.

Only texts that are entirely one of Streamlit's strings are rewritten, and never inside Markdown
(labels and user values are ours, already Vietnamese, and a user's value must stay as typed), except
in the uploader's drop zone, which holds only Streamlit's own words.
tests/e2e/test_no_english.py walks every page of every role in Chromium and fails on English left.
"""

from __future__ import annotations

import json

import streamlit as st

# Whole texts (trimmed) as Streamlit 1.67 writes them.
TEXTS_VI: dict[str, str] = {
    "Skip to main content": "Chuyển đến nội dung chính",
    "Drag and drop files here": "Kéo thả tệp vào đây",
    "Drag and drop a file here": "Kéo thả một tệp vào đây",
    "Drag and drop directories here": "Kéo thả thư mục vào đây",
    "Browse files": "Chọn tệp",
    "Upload": "Tải lên",
    "Add files": "Thêm tệp",
    "Upload directories": "Tải thư mục lên",
    "Choose an option": "Chọn một mục",
    "Choose options": "Chọn các mục",
    "Choose or add an option": "Chọn hoặc thêm một mục",
    "Choose or add options": "Chọn hoặc thêm các mục",
    "No results": "Không có kết quả",
    "No options": "Không có lựa chọn",
    "No options to select": "Không có lựa chọn nào",
    "No options to select.": "Không có lựa chọn nào.",
    "Clear all": "Xoá hết",
    "Close": "Đóng",
    "Running...": "Đang chạy...",
    "Stop": "Dừng",
    "Rerun": "Chạy lại",
    "Connecting": "Đang kết nối",
    "Page not found": "Không tìm thấy trang",
    "The page that you have requested does not seem to exist. Running the app's main page.":
        "Trang bạn yêu cầu không tồn tại. Đang mở trang chính.",
    "Download as CSV": "Tải về dạng CSV",
    "Clear selection": "Bỏ chọn",  # the toolbar of a table whose rows can be chosen (the supervisor's queues)
    "Show/hide columns": "Hiện/ẩn cột",
    "Search": "Tìm kiếm",
    "Fullscreen": "Toàn màn hình",
    "Show password": "Hiện mật khẩu",
    "Hide password": "Ẩn mật khẩu",
    "File type not allowed.": "Loại tệp này không được nhận.",
    "File size is too small.": "Tệp quá nhỏ.",
    "Press Enter to submit form": "Nhấn Enter để gửi",
    "Press Enter to apply": "Nhấn Enter để áp dụng",
    "Press Ctrl+Enter to submit form": "Nhấn Ctrl+Enter để gửi",
    "Press ⌘+Enter to submit form": "Nhấn ⌘+Enter để gửi",
    "Press Ctrl+Enter to apply": "Nhấn Ctrl+Enter để áp dụng",
    "Press ⌘+Enter to apply": "Nhấn ⌘+Enter để áp dụng",
}
# Texts with a part that varies: (JavaScript regular expression, replacement with $1...).
PATTERNS_VI: tuple[tuple[str, str], ...] = (
    (r"^(\S+) per file$", "Tối đa $1 mỗi tệp"),
    (r"^File must be (\S+) or smaller\.$", "Tệp phải nhỏ hơn hoặc bằng $1."),
    (r"^(\S+) files are not allowed\.$", "Không nhận tệp loại $1."),
    (r"^You have requested page /(.*), but no corresponding file was found in the app's pages/ directory\. "
     r"Running the app's main page\.$", "Không có trang /$1. Đang mở trang chính."),
)
# Tooltips and screen-reader names only (as a visible text these could be a user's words).
ATTRIBUTE_PATTERNS_VI: tuple[tuple[str, str], ...] = ((r"^Remove (.+)$", "Xoá $1"),)

_SCRIPT = """<script>
(() => {
  if (window.__wbVietnamese) return;
  window.__wbVietnamese = true;
  const texts = %(texts)s;
  const patterns = %(patterns)s.map(([re, to]) => [new RegExp(re), to]);
  const attributePatterns = %(attribute_patterns)s.map(([re, to]) => [new RegExp(re), to]);
  const ATTRIBUTES = ["placeholder", "aria-label", "title"];
  const translate = (text, extra) => {
    const core = text.trim();
    if (!core || !/[A-Za-z]/.test(core)) return null;
    let found = Object.prototype.hasOwnProperty.call(texts, core) ? texts[core] : null;
    for (const [re, to] of patterns.concat(extra)) {
      if (found === null && re.test(core)) found = core.replace(re, to);
    }
    return found === null ? null : text.replace(core, found);
  };
  // Labels and users' values are Markdown: ours, already Vietnamese, or data to show as typed. Inside
  // the uploader's drop zone everything is Streamlit's (its button label is Markdown too).
  const ours = (node) => {
    const parent = node.parentElement;
    if (!parent) return true;
    if (parent.closest('[data-testid="stFileUploaderDropzone"]')) return false;
    return !!parent.closest('[data-testid="stMarkdownContainer"], code, pre, textarea');
  };
  const fixText = (node) => {
    if (ours(node)) return;
    const done = translate(node.data, []);
    if (done !== null && done !== node.data) node.data = done;
  };
  const fixAttributes = (element) => {
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      if (value === null) continue;
      const done = translate(value, attributePatterns);
      if (done !== null && done !== value) element.setAttribute(name, done);
    }
  };
  const fixTree = (root) => {
    if (root.nodeType === Node.TEXT_NODE) { fixText(root); return; }
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    fixAttributes(root);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) fixText(node); else fixAttributes(node);
    }
  };
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "characterData") fixText(change.target);
      else if (change.type === "attributes") fixAttributes(change.target);
      else change.addedNodes.forEach(fixTree);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                             attributeFilter: ATTRIBUTES});
  fixTree(document.body);
})();
</script>"""


def translation_script() -> str:
    """The <script> that rewrites Streamlit's English strings (JSON-embedded: no value is code)."""
    return _SCRIPT % {
        "texts": json.dumps(TEXTS_VI, ensure_ascii=False),
        "patterns": json.dumps(PATTERNS_VI, ensure_ascii=False),
        "attribute_patterns": json.dumps(ATTRIBUTE_PATTERNS_VI, ensure_ascii=False),
    }


def install() -> None:
    """Place the script (it acts once per browser tab); call inside a container that takes no room."""
    st.html(translation_script(), unsafe_allow_javascript=True)
