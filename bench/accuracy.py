"""Score an export JSON against a synthetic book's truth.json.

Per field, per field type and overall: exact match after normalization and character error rate,
plus row recall and extra rows; the scorer and its definitions are samples/export_scores.py.

    python bench/accuracy.py EXPORT.json TRUTH.json [--book-type khai_sinh]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from samples.export_scores import score  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("truth", type=Path)
    parser.add_argument("--book-type", default=None, help="default: the truth's book type")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    export = json.loads(args.export.read_text(encoding="utf-8"))
    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    report = score(export, truth, args.book_type)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1) if args.json else report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
