"""Unit lexicons: exact-match of rendered local names and hamlets without vs with the unit's words.

    .venv/bin/python -m bench.local_lexicon [--seed 2027] [--variants 2] [--json OUT.json]

A unit's books hold names and places the shipped lexicons barely know (Hmong, Thai, Khmer, Ede
names; hamlets), which the beam may "correct" to a near, better-known word. Here the unit's
lexicon holds every value of LOCAL_* (as if officials had confirmed each once or twice) plus
the ordinary values of CONTROL_* (confirmed as well, as in any unit). Each value is rendered
with every handwriting font, clean and with ``--variants - 1`` random degradations; the same
CTC evidence is decoded without and with the unit lexicon. CONTROL_* values measure harm: a
local word must not pull an ordinary name away from what is written. Values are made up.
Synthetic fonts are not real handwriting: this measures the decoder, not the reader.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr.confidence import load_calibrator
from ocr.fields.local_lexicon import LocalLexicon
from ocr.read.engines.asternet import get_asternet
from ocr.recognition import decode_cell, proposal_from_lines
from samples.lines import Degradation, handwriting_fonts, render_line

LOCAL_NAMES = (
    "Giàng A Páo", "Mùa A Sùng", "Sùng Thị Dợ", "Vừ A Dính", "Hờ A Chứ", "Lầu Thị Mỷ", "Thào A Pó",
    "Lò Văn Pỏm", "Quàng Thị Ến", "Cầm Văn Ỏn", "Lường Thị Pẻng", "Tòng Văn Khụt", "Thạch Sô Phanh",
    "Danh Sà Rết", "Kim Sóc Kha", "Y Blốc Niê", "Khiếu Văn Đởm", "Ông Thị Nở",
)
LOCAL_PLACES = (
    "Bản Lướt", "Xóm Bàu Sen", "Thôn Khuổi Nặm", "Bản Nà Khoang", "Ấp Sóc Ruộng", "Buôn Ko Tam",
    "Xóm Đồng Mỏm", "Thôn Pác Ngòi", "Bản Huổi Một", "Ấp Tà Lọt", "Làng Plei Ốp", "Xóm Gò Nổi",
    "Bản Pá Khoang", "Thôn Nậm Cắn", "Ấp Rạch Vọp",
)
CONTROL_NAMES = (
    "Nguyễn Văn An", "Trần Thị Mai", "Lê Văn Hùng", "Phạm Thị Lan", "Hoàng Văn Nam", "Vũ Thị Hoa",
    "Đặng Văn Long", "Bùi Thị Thu", "Lý Văn Tài", "Đỗ Thị Hương",
)
CONTROL_PLACES = (
    "Xã Tân Lập", "Thôn Đông", "Xóm Mới", "Huyện Đồng Phú", "Xã Vạn Ninh", "Thôn Lương Điền",
    "Phường Bến Thành", "Thị trấn Phước Bửu",
)


@dataclass(frozen=True)
class Case:
    text: str
    field_type: str
    group: str  # "local" or "control"


def cases() -> list[Case]:
    return [
        *(Case(t, "person_name", "local") for t in LOCAL_NAMES),
        *(Case(t, "place", "local") for t in LOCAL_PLACES),
        *(Case(t, "person_name", "control") for t in CONTROL_NAMES),
        *(Case(t, "place", "control") for t in CONTROL_PLACES),
    ]


def unit_lexicon() -> LocalLexicon:
    """The unit's confirmed values: each local one once or twice, each ordinary one once."""
    names = {t: 1 + i % 2 for i, t in enumerate(LOCAL_NAMES)} | dict.fromkeys(CONTROL_NAMES, 1)
    places = {t: 1 + i % 2 for i, t in enumerate(LOCAL_PLACES)} | dict.fromkeys(CONTROL_PLACES, 1)
    return LocalLexicon.from_counts({"person_name": names, "place": places})


def run(seed: int, variants: int) -> dict[str, object]:
    recognizer = get_asternet()
    calibrator = load_calibrator()
    local = unit_lexicon()
    rng = np.random.default_rng(seed)
    lines, labels = [], []
    for case in cases():
        for font in handwriting_fonts():
            for variant in range(variants):
                degradation = Degradation() if variant == 0 else Degradation.random(rng, 1.0)
                lines.append(render_line(case.text, font, size=44, degradation=degradation, rng=rng))
                labels.append(case)
    evidence = recognizer.line_log_probs(lines)
    results: dict[str, dict[str, float]] = {}
    for name, lexicon in (("shipped", None), ("with_unit", local)):
        started = time.process_time()
        tallies: dict[str, list[int]] = {}
        confidences: dict[str, list[float]] = {}
        for case, llp in zip(labels, evidence, strict=True):
            decoded = decode_cell([llp], case.field_type, lexicon)
            proposal = proposal_from_lines("x", case.field_type, decoded, recognizer.name, calibrator, lexicon)
            key = f"{case.group}/{case.field_type}"
            tallies.setdefault(key, []).append(int(proposal.value == case.text))
            confidences.setdefault(key, []).append(proposal.confidence)
        results[name] = {
            **{f"exact {k}": round(float(np.mean(v)), 4) for k, v in sorted(tallies.items())},
            **{f"mean confidence {k}": round(float(np.mean(v)), 4) for k, v in sorted(confidences.items())},
            "cpu_s": round(time.process_time() - started, 2),
        }
    return {"seed": seed, "lines": len(lines), "local_words": local.size, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--variants", type=int, default=2, help="renderings per font: clean + (n-1) degraded")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(args.seed, args.variants)
    print(f"seed {report['seed']}: {report['lines']} lines, unit lexicon {report['local_words']} words")
    results = report["results"]
    assert isinstance(results, dict)
    for metric in results["shipped"]:
        print(f"  {metric:<36} shipped {results['shipped'][metric]:>7}   with unit {results['with_unit'][metric]:>7}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
