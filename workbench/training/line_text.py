"""Which part of a confirmed value is written on which line of a multi-line cell.

An official confirms a cell's whole value; a cell written on two lines needs the value split
at a word boundary. The machine's proposal for the same cell knows its own lines (its
``char_confidences`` rows, split by ``workbench.intake.proposal_rows.char_row_lines``), so the
confirmed words are split where they best match the proposed lines (least total edit distance).
"""

from __future__ import annotations

from functools import cache

from rapidfuzz.distance import Levenshtein

from workbench.intake.proposal_rows import char_row_lines

MAX_SPLIT_COST = 0.5  # mean normalized edit distance above which the split is not trusted


def proposed_lines(char_confidences: list[list]) -> list[str]:
    """The proposal's text per line, from its stored character rows."""
    return ["".join(row[0] for row in line) for line in char_row_lines(char_confidences)]


def split_text_to_lines(text: str, line_guesses: list[str]) -> list[str] | None:
    """Split ``text`` at word boundaries into len(line_guesses) parts matching the guesses best.

    None when the text has fewer words than lines or the best split still disagrees a lot.
    """
    words = text.split()
    n = len(line_guesses)
    if n == 1:
        return [text]
    if len(words) < n:
        return None

    @cache
    def best(line: int, start: int) -> tuple[float, tuple[int, ...]]:
        """(cost, cut positions) for lines[line:] over words[start:]."""
        if line == n - 1:
            return _cost(" ".join(words[start:]), line_guesses[line]), ()
        options = []
        for end in range(start + 1, len(words) - (n - line - 1) + 1):
            rest_cost, rest_cuts = best(line + 1, end)
            options.append((_cost(" ".join(words[start:end]), line_guesses[line]) + rest_cost, (end, *rest_cuts)))
        return min(options)

    cost, cuts = best(0, 0)
    if cost / n > MAX_SPLIT_COST:
        return None
    bounds = [0, *cuts, len(words)]
    return [" ".join(words[bounds[i] : bounds[i + 1]]) for i in range(n)]


def _cost(truth: str, guess: str) -> float:
    return Levenshtein.normalized_distance(truth, guess)
