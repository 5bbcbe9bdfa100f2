"""How one field looks on the verification form: confidence colour, doubtful characters, notes."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workbench.ui.labels import BAND_LABELS_VI

# Background / stripe colours per confidence band (light, so the handwriting-like text stays legible).
BAND_COLOURS = {
    "high": ("#e9f7ef", "#2e7d32"),
    "medium": ("#fff8e1", "#f9a825"),
    "low": ("#fdecea", "#c62828"),
    "corrected": ("#e8f0fe", "#1a73e8"),  # typed by a person: the machine's confidence no longer applies
}


def display_band(band: str, status: str) -> str:
    """The colour code to show: a corrected field is marked as such, whatever the machine thought."""
    return "corrected" if status == "corrected" else band

CharSpan = tuple[str, float, int, int]


def band_css(widget_keys_by_band: Mapping[str, Sequence[str]]) -> str:
    """One <style> block colouring each field's input by its band."""
    rules = []
    for band, keys in widget_keys_by_band.items():
        background, stripe = BAND_COLOURS.get(band, BAND_COLOURS["low"])
        for key in keys:
            selector = f".st-key-{key} input"
            rules.append(
                f"{selector} {{ background-color: {background} !important; "
                f"border-left: 6px solid {stripe} !important; font-size: 1.05rem; }}"
            )
    rules.append("input:focus { outline: 3px solid #1f6feb !important; }")
    return "<style>\n" + "\n".join(rules) + "\n</style>"


@dataclass(frozen=True)
class Grapheme:
    """One letter as a person sees it: a base character with its combining marks, composed (NFC).

    Some engines store "ồ" as "ô" + U+0300 (or "o" + U+0302 + U+0300) in separate entries; shown one
    entry at a time the tone mark falls off its letter ("Hô`"). Grouped, it is one letter again, and
    it is doubtful when any of its parts is."""

    text: str
    confidence: float  # the lowest of its parts
    doubtful: bool


def graphemes(chars: Sequence[CharSpan], doubtful: Sequence[int]) -> tuple[Grapheme, ...]:
    """The machine reading as composed letters (entries that are only combining marks join the letter before)."""
    marked = set(doubtful)
    groups: list[tuple[str, float, bool]] = []
    for index, span in enumerate(chars):
        text, confidence, is_doubtful = str(span[0]), float(span[1]), index in marked
        if groups and text and all(unicodedata.combining(ch) for ch in text):
            previous = groups[-1]
            groups[-1] = (previous[0] + text, min(previous[1], confidence), previous[2] or is_doubtful)
        else:
            groups.append((text, confidence, is_doubtful))
    return tuple(Grapheme(unicodedata.normalize("NFC", text), confidence, flag) for text, confidence, flag in groups)


def utf16_len(text: str) -> int:
    """Length as the browser counts it (input selection offsets are UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def doubtful_ranges(value: str, letters: Sequence[Grapheme]) -> tuple[tuple[int, int], ...]:
    """(start, end) in UTF-16 units of each doubtful letter inside `value`, the text the input holds.

    The reading is walked along the value (extra or missing spaces tolerated: the stored value is
    whitespace-normalized); when they disagree anywhere else there is nothing to mark: ()."""
    text = unicodedata.normalize("NFC", value)
    ranges: list[tuple[int, int]] = []
    position = 0
    for letter in letters:
        if letter.text.isspace() or not letter.text:
            while position < len(text) and text[position].isspace():
                position += 1
            continue
        while position < len(text) and text[position].isspace() and not text.startswith(letter.text, position):
            position += 1
        if not text.startswith(letter.text, position):
            return ()
        end = position + len(letter.text)
        if letter.doubtful:
            ranges.append((utf16_len(text[:position]), utf16_len(text[:end])))
        position = end
    return tuple(ranges) if not text[position:].strip() else ()


def underline_doubtful(chars: Sequence[CharSpan], doubtful: Sequence[int]) -> str:
    """The machine reading, composed letter by letter, doubtful letters underlined in red (HTML, escaped)."""
    parts = []
    for letter in graphemes(chars, doubtful):
        text = html.escape(letter.text)
        if letter.doubtful:
            title = html.escape(f"{letter.confidence:.0%}")
            parts.append(
                f'<u style="text-decoration-color:#c62828;text-decoration-thickness:2px" title="{title}">{text}</u>'
            )
        else:
            parts.append(text)
    return "".join(parts)


def field_notes_html(
    band: str,
    confidence: float,
    chars: Sequence[CharSpan],
    doubtful: Sequence[int],
    messages: Sequence[str],
    current_unit: str | None,
) -> str:
    """The small line under a field: band, the reading with doubtful characters, messages, gazetteer."""
    _, stripe = BAND_COLOURS.get(band, BAND_COLOURS["low"])
    items = [f'<span style="color:{stripe}">● {BAND_LABELS_VI.get(band, band)} {confidence:.0%}</span>']
    if doubtful:
        # The page's own font: it has every composed Vietnamese letter (a monospace fallback may not).
        items.append(f"máy đọc: <span class='wb-reading'>{underline_doubtful(chars, doubtful)}</span>")
    if current_unit:
        items.append(f"đơn vị hiện nay: <b>{html.escape(current_unit)}</b>")
    notes = " · ".join(items)
    for message in messages:
        notes += f'<br><span style="color:#c62828">⚠ {html.escape(message)}</span>'
    return f'<div style="font-size:0.8rem;margin:-0.6rem 0 0.3rem 0;line-height:1.3">{notes}</div>'


PAGE_PANEL_KEY = "verify-page-panel"
CROP_PANEL_KEY = "verify-crop-panel"


def sticky_panels_css() -> str:
    """Keep the page image and the cell crop in view while the form scrolls (below the app header).

    The keyed container sits in a wrapper exactly its own height, so the wrapper is what sticks
    (inside the tall column); `:has()` selects it.
    """
    wrappers = f"div:has(> .st-key-{PAGE_PANEL_KEY}), div:has(> .st-key-{CROP_PANEL_KEY})"
    return f"""<style>
  {wrappers} {{ position: sticky; top: 3.75rem; z-index: 5; background: var(--background-color, #fff); }}
  .st-key-{CROP_PANEL_KEY} {{ padding-bottom: 0.4rem; }}
  /* A field focused by Enter/Tab must not end up hidden under the sticky crop panel. */
  [data-testid="stMain"] {{ scroll-padding-top: 16rem; }}
</style>"""


VIEWER_KEY = "verify-page-viewer"
FORM_COLUMN_KEY = "verify-form-column"


def verify_layout_css() -> str:
    """The verification page laid out for 1366x768 (issue #15 item 5): narrow margins, a compact
    head, the page image and the crop stuck beside the form, the doubtful-letter marks and the
    page view's boxes. Scoped to this page: the <style> goes when the page does."""
    return f"""<style>
  [data-testid="stMainBlockContainer"] {{ padding: 3.9rem 1rem 3rem 1rem !important; max-width: none !important; }}
  [data-testid="stSidebar"][data-collapsed="false"] {{ width: 232px !important; min-width: 232px !important;
                                                       max-width: 232px !important; }}
  [data-testid="stMainBlockContainer"] h2 {{ font-size: 1.4rem; padding: 0 0 0.1rem 0; }}
  [data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p {{ margin-bottom: 0.1rem; }}
  div:has(> .st-key-{PAGE_PANEL_KEY}) {{ position: sticky; top: 3.75rem; z-index: 5;
                                          background: var(--background-color, #fff); }}
  .st-key-{PAGE_PANEL_KEY} {{ gap: 0.35rem; }}
  .st-key-{VIEWER_KEY} img {{ transition: transform 120ms ease-out; }}
  .st-key-{VIEWER_KEY} [data-testid="stImage"] > div, .st-key-{VIEWER_KEY} [data-testid="stImageContainer"] {{
      border: 1px solid #d0d0d0; border-radius: 4px; background: #f4f1ea; }}
  .wb-view-layer {{ position: absolute; left: 0; top: 0; transform-origin: 0 0; pointer-events: none;
                    transition: transform 120ms ease-out; }}
  .wb-view-record {{ position: absolute; border: 2px solid #e00000;
                     box-shadow: 0 0 0 4000px rgba(255, 255, 255, 0.28); }}
  .wb-view-cell {{ position: absolute; border: 2px solid #1f6feb; background: rgba(31, 111, 235, 0.08); }}
  .st-key-{FORM_COLUMN_KEY} [data-testid="stTextInputRootElement"] {{ position: relative; }}
  .wb-doubt-layer {{ position: absolute; inset: 0; pointer-events: none; overflow: hidden; }}
  .wb-doubt {{ position: absolute; background: rgba(198, 40, 40, 0.16); border-bottom: 3px solid #c62828;
               border-radius: 2px; }}
  .wb-accepted label p::after {{ content: " ✓"; color: #2e7d32; font-weight: 700; }}
  .wb-reading {{ font-family: inherit; font-size: 0.95rem; letter-spacing: 0.02em; }}
  .st-key-{FORM_COLUMN_KEY} button p {{ white-space: nowrap; }}
</style>"""
