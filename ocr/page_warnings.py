"""Page warnings as typed values, and the one codec between them and their stored text.

A page warning is a stable code with parameters: ``PageWarning("auto_rotated", ("180",))``. The
pipeline, the services and the pages pass these objects around; only this module builds or reads
the text stored in ``Page.warnings`` (a JSON list of strings, unchanged since the first schema):
the code, followed by each parameter after a ":" (``"blank"``, ``"auto_rotated:180"``,
``"registration_no_gap:35-37/2003:1.4:2.1"``). Any stored text reads back to the same text.

Adding a code: produce ``PageWarning(code, params)`` where the problem is found; add the code to
``SEVERITIES`` when it is not a plain "warning", and to ``PARAM_COUNTS`` when its last parameter is
free text that may hold ":" (a file name). The Vietnamese text is made in ``workbench.ui.labels``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["info", "warning", "error"]

SEPARATOR = ":"

# Codes that are not a plain "warning": "info" notes need nothing done (the normal grid, a turn the
# pipeline made itself, a grid someone fixed); an "error" holds the page until someone acts on it.
SEVERITIES: dict[str, Severity] = {
    "grid_rulings": "info",
    "auto_rotated": "info",
    "manual_grid": "info",
    "book_type_mismatch": "error",
}
# Codes with a fixed number of parameters, the last one taking the rest of the text (":" included).
# Other codes' parameters are split at every ":".
PARAM_COUNTS: dict[str, int] = {
    "auto_rotated": 1,  # degrees
    "duplicate_of": 1,  # the other page's file name
    "book_type_mismatch": 1,  # the book type the page looks like
}


@dataclass(frozen=True)
class PageWarning:
    """One quality warning on one page: a stable code and its parameters (texts, in order)."""

    code: str  # e.g. "blank", "no_grid", "auto_rotated", "registration_no_gap"
    params: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        return SEVERITIES.get(self.code, "warning")

    @property
    def param(self) -> str:
        """The first parameter ("" when there is none): the degrees, the file name, the book type."""
        return self.params[0] if self.params else ""


def warning_text(warning: PageWarning) -> str:
    """The stored text of ``warning``: ``code[:param[:param...]]``."""
    return SEPARATOR.join((warning.code, *warning.params))


def parse_warning(text: str) -> PageWarning:
    """The warning a stored text describes (``warning_text`` of it gives ``text`` back)."""
    code, found, rest = text.partition(SEPARATOR)
    if not found:
        return PageWarning(code)
    count = PARAM_COUNTS.get(code)
    return PageWarning(code, tuple(rest.split(SEPARATOR, count - 1) if count else rest.split(SEPARATOR)))


def encode_warnings(warnings: Iterable[PageWarning]) -> list[str]:
    """The stored form of a page's warnings (``Page.warnings``), in order."""
    return [warning_text(w) for w in warnings]


def decode_warnings(stored: Iterable[str] | None) -> tuple[PageWarning, ...]:
    """A page's stored warnings (``Page.warnings``, None for none) as typed values, in order."""
    return tuple(parse_warning(text) for text in stored or ())


def warning_codes(warnings: Iterable[PageWarning]) -> tuple[str, ...]:
    """The warnings' codes, in order (what the confidence features look at)."""
    return tuple(w.code for w in warnings)
