"""User text shown through Streamlit's Markdown: escaped so that it shows literally.

st.markdown, st.caption, st.info/warning/error/success, st.toast, widget and expander labels and
tabs all render Markdown. A flag reason "![px](https://evil.example/x.png)" would make every
supervisor's browser fetch an outside image, a file name "[bấm vào đây](https://…)" would become a
link, and "www.…" or "https://…" an autolink. Every value that a user, an uploaded file or an
outside file can fill goes through `plain` before it meets Markdown (tests/test_hostile.py checks
the pages for it); numbers are interpolated with a numeric format ({n:d}) instead.
"""

from __future__ import annotations

import string

# CommonMark: any ASCII punctuation may be backslash-escaped and then stands for itself. All of it
# is escaped, which also defuses what Streamlit adds on top (":red[…]", ":material/…:", "$…$"
# LaTeX) and GitHub autolinks ("https\:…", "www\.…", "a@b\.vn"), except the marks Markdown never
# reads, which are common in Vietnamese text and dates: , ; ' " ? % / @
_INERT = ",;'\"?%/@"
_ESCAPES = str.maketrans({ch: "\\" + ch for ch in string.punctuation if ch not in _INERT})


def plain(value: object) -> str:
    """The value's text, to be shown literally inside Markdown; line breaks become spaces."""
    text = "" if value is None else str(value)
    return " ".join(text.splitlines()).translate(_ESCAPES)
