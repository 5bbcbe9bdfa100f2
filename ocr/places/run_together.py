"""Unit names read with no comma between them: "Hòa An Cao Bằng" for "Hòa An, Cao Bằng".

A comma written tight against the last letter of a name, or at the end of a line before the writing
wraps, is the mark the reader drops most often in a place (fresh seed 6767: three addresses read so
at 0.90-0.95; fresh seed 2468: "Ấp 1 xã Vạn Khánh" at 0.93). A part of the address that is not
itself a unit name but reads as two or more names in turn (a commune, then its district, then its
province), or a hamlet running straight into its commune, lost its comma, or its writer left it out;
either way the official looks at it.
"""

from __future__ import annotations

from ocr.fields.issues import FieldIssue
from ocr.places.candidates import COMMA_HEADS, HAMLET_WORDS
from ocr.places.index import LEVELS, PlaceIndex, place_index, split_unit_name, unit_levels

UNITS_RUN_TOGETHER = FieldIssue(
    "units_run_together",
    "Các tên đơn vị hành chính liền nhau không có dấu phẩy: kiểm tra xem có sót dấu phẩy hoặc chữ không",
    severity="warning",
)
MAX_SEGMENT_WORDS = 10  # longer parts are free text ("Bệnh viện đa khoa ..."), not a run of names


# Type words no unit name holds: after a hamlet ("Ấp 1 xã Vạn Khánh") one starts the commune's part.
_UNIT_TYPE_WORDS = (("xã",), ("phường",), ("thị", "trấn"), ("huyện",), ("quận",), ("thị", "xã"), ("tỉnh",),
                    ("thành", "phố"))
_HEADS_WITH_COMMA = tuple(tuple(phrase.split()) for phrase in (*HAMLET_WORDS, *COMMA_HEADS))


def units_run_together(value: str, index: PlaceIndex | None = None) -> bool:
    """Whether a comma-separated part of ``value`` reads as two or more unit names in turn (each at a
    larger level than the one before) without being a unit name itself, or runs from a hamlet (or
    "Tại nhà") straight into a typed unit: the address grammar the place decoder reads with
    (``ocr.places.candidates``) puts a comma after both."""
    index = index or place_index()
    for segment in value.split(","):
        words = segment.split()
        if 2 <= len(words) <= MAX_SEGMENT_WORDS and (_names_in_turn(words, index) or _head_runs_on(words)):
            return True
    return False


def _head_runs_on(words: list[str]) -> bool:
    lowered = tuple(w.lower() for w in words)
    head = next((len(h) for h in _HEADS_WITH_COMMA if lowered[: len(h)] == h), 0)
    return head > 0 and any(lowered[k : k + len(t)] == t for k in range(head + 1, len(lowered))
                            for t in _UNIT_TYPE_WORDS)


def _names_in_turn(words: list[str], index: PlaceIndex) -> bool:
    if any(_unit_level(words, index, level) for level in LEVELS):
        return False  # the whole part names one unit
    # ends[i]: the levels a run of two or more names may have reached after words[:i] (1: one name).
    ends: dict[int, dict[int, int]] = {0: {-1: 0}}
    for start in range(len(words)):
        for last_level, names in ends.get(start, {}).items():
            for stop in range(start + 1, len(words) + 1):
                for level in range(last_level + 1, len(LEVELS)):
                    if _unit_level(words[start:stop], index, LEVELS[level]):
                        reached = ends.setdefault(stop, {})
                        reached[level] = max(reached.get(level, 0), names + 1)
    return any(count >= 2 for count in ends.get(len(words), {}).values())


def _unit_level(words: list[str], index: PlaceIndex, level: str) -> bool:
    """``words`` name a unit of ``level``, with or without its type word ("huyện Đại Lộc")."""
    type_word, name = split_unit_name(" ".join(words))
    return bool(name) and level in unit_levels(type_word) and index.exact(name, level) is not None
