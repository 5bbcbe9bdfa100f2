"""Checks on the run of registration numbers through a book: gaps, repeats, disorder.

Numbers restart at 1 each year; a book may hold several years, so a "1" after a higher number
opens a new run, and numbers written with a year suffix ("12/2003") are grouped by that suffix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ocr.fields.issues import SequenceIssue
from ocr.fields.normalize import normalize_registration_no

# "12", "12/2003", and the printed-label form "Số 12".
_NUMBER = re.compile(r"(?:số\s*:?\s*)?(?P<n>\d+)(?:/(?P<suffix>\d{2,4}))?", re.IGNORECASE)


@dataclass
class _Run:
    """Numbers of one year's run, in book order."""

    positions: dict[int, int] = field(default_factory=dict)  # number -> first position
    numbers: list[tuple[int, int]] = field(default_factory=list)  # (position, number)


def _format_range(missing: list[int]) -> str:
    return str(missing[0]) if len(missing) == 1 else f"{missing[0]}–{missing[-1]}"


def _split_runs(numbers: list[str]) -> tuple[list[_Run], list[SequenceIssue]]:
    runs: dict[str, _Run] = {}
    finished: list[_Run] = []
    unreadable: list[SequenceIssue] = []
    for position, raw in enumerate(numbers):
        written = normalize_registration_no(raw)
        match = _NUMBER.fullmatch(written)
        if not match:
            unreadable.append(
                SequenceIssue("unreadable", position, written, f"Không đọc được số đăng ký \"{written}\"")
            )
            continue
        number, suffix = int(match["n"]), match["suffix"] or ""
        run = runs.setdefault(suffix, _Run())
        if number == 1 and not suffix and run.numbers and max(n for _, n in run.numbers) > 1:
            finished.append(run)  # numbering restarted: a new year in the same book
            run = runs[suffix] = _Run()
        run.numbers.append((position, number))
        run.positions.setdefault(number, position)
    return finished + list(runs.values()), unreadable


def _run_issues(run: _Run, written: list[str], unreadable: set[int]) -> list[SequenceIssue]:
    issues: list[SequenceIssue] = []
    present = set(run.positions)
    last: int | None = None
    previous_position = -1
    for position, number in run.numbers:
        text = normalize_registration_no(written[position])
        first = run.positions[number]
        if first != position:
            issues.append(
                SequenceIssue("repeat", position, text, f"Số {number} bị trùng (đã có ở vị trí {first + 1})")
            )
            continue
        if last is not None and number < last:
            issues.append(
                SequenceIssue("out_of_order", position, text, f"Số {number} nhỏ hơn số đứng trước ({last})")
            )
        elif last is not None and number > last + 1:
            missing = [k for k in range(last + 1, number) if k not in present]
            # Unreadable numbers in between may be the missing ones: not a gap we can be sure of.
            unread_between = sum(previous_position < p < position for p in unreadable)
            if len(missing) > unread_between:
                issues.append(
                    SequenceIssue("gap", position, text, f"Thiếu số {_format_range(missing)}", tuple(missing))
                )
        last = number if last is None else max(last, number)
        previous_position = position
    return issues


def check_registration_sequence(numbers: list[str]) -> list[SequenceIssue]:
    """Gaps, repeats, out-of-order and unreadable numbers, in book order (by position)."""
    runs, issues = _split_runs(numbers)
    unreadable = {issue.index for issue in issues}
    for run in runs:
        issues.extend(_run_issues(run, numbers, unreadable))
    return sorted(issues, key=lambda issue: issue.index)
