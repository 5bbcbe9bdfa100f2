"""How one field looks on the verification form: confidence colour, doubtful characters, notes."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

# Background / stripe colours per confidence band (light, so the handwriting-like text stays legible).
BAND_COLOURS = {
    "high": ("#e9f7ef", "#2e7d32"),
    "medium": ("#fff8e1", "#f9a825"),
    "low": ("#fdecea", "#c62828"),
    "corrected": ("#e8f0fe", "#1a73e8"),  # typed by a person: the machine's confidence no longer applies
}
BAND_LABELS_VI = {"high": "tin cậy cao", "medium": "tin cậy trung bình", "low": "tin cậy thấp",
                  "corrected": "đã sửa tay; máy đọc tin cậy"}


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


def underline_doubtful(chars: Sequence[CharSpan], doubtful: Sequence[int]) -> str:
    """The machine reading with doubtful characters underlined in red (HTML, escaped)."""
    marked = set(doubtful)
    parts = []
    for index, span in enumerate(chars):
        text = html.escape(span[0])
        if index in marked:
            title = html.escape(f"{span[1]:.0%}")
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
        items.append(f"máy đọc: <span style='font-family:monospace'>{underline_doubtful(chars, doubtful)}</span>")
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
