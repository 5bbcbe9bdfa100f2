"""Simulate the learn-from-corrections loop: fine-tune on N labelled lines, read other pages.

Takes N "confirmed" lines (N = 300, 1000, 2000 by default), fine-tunes AsterNet on them (the
same trainer `python -m workbench train` uses, early stopping on 10% of the training pages),
exports ONNX and reads a held-out set of lines from OTHER pages/writers with the ONNX engine,
before (shipped model) and after. Prints a table and writes JSON.

    python bench/learning_curve.py --folder LINES_DIR --test-folder TEST_DIR --sizes 300 1000 2000
    python bench/learning_curve.py --folder ../shared/real_lines/address_lines --holdout 0.2 \
        --sizes 100 300 1000 1458 --max-minutes 40      # real hands: your own split of one folder
    python bench/learning_curve.py --sizes 300            # synthetic sample lines (see below)

Without folders the lines are synthetic: the held-out set is the committed sample book
``samples/books/nuoi_con_nuoi`` and the training pool is the other committed books plus freshly
rendered pages (new writers) as needed. Synthetic handwriting fonts are NOT real handwriting:
the shipped model already reads them well, so these numbers test the loop, not the accuracy
that matters (see ENGINEERING.md for real-handwriting figures).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr.read.engines.asternet import AsterNetRecognizer, asternet_asset_dir  # noqa: E402
from workbench.training.dataset import LabelledLine, split_by_page  # noqa: E402
from workbench.training.evaluate import evaluate_recognizer  # noqa: E402
from workbench.training.folder import import_folder  # noqa: E402
from workbench.training.synthetic import SAMPLE_BOOKS, rendered_lines, sample_book_lines  # noqa: E402

HELD_OUT_BOOK = "nuoi_con_nuoi"


def synthetic_sets(largest: int, seed: int) -> tuple[list[LabelledLine], list[LabelledLine]]:
    test = sample_book_lines(SAMPLE_BOOKS / HELD_OUT_BOOK)
    pool = [line for folder in sorted(SAMPLE_BOOKS.iterdir())
            if folder.name != HELD_OUT_BOOK and (folder / "truth.json").is_file()
            for line in sample_book_lines(folder)]
    if len(pool) < largest:
        pool += rendered_lines(largest - len(pool), seed=seed)
    return pool, test


def take_by_page(pool: list[LabelledLine], n: int, seed: int) -> list[LabelledLine]:
    """The first n lines of the pool in a random page order (whole pages, as officials confirm them)."""
    pages = sorted({line.page_key for line in pool})
    random.Random(seed).shuffle(pages)
    rank = {page: i for i, page in enumerate(pages)}
    return sorted(pool, key=lambda line: rank[line.page_key])[:n]


def run(pool: list[LabelledLine], test: list[LabelledLine], sizes: list[int], args: argparse.Namespace) -> dict:
    from workbench.training.export import export_onnx
    from workbench.training.trainer import FineTuneConfig, fine_tune

    assets = asternet_asset_dir()
    shipped = AsterNetRecognizer(threads=args.threads)
    started = time.monotonic()
    before = evaluate_recognizer(shipped, test)
    print(f"held-out: {len(test)} lines from {len({t.page_key for t in test})} other pages; "
          f"shipped CER {before.cer:.4f}, line exact {before.line_exact:.3f} ({time.monotonic() - started:.0f} s)",
          flush=True)
    rows = []
    for n in sizes:
        chosen = take_by_page(pool, n, args.seed)
        train, validation = split_by_page(chosen, 0.1, args.seed)
        config = FineTuneConfig(epochs=args.epochs, lr=args.lr, max_minutes=args.max_minutes, device=args.device,
                                threads=args.threads, seed=args.seed)
        cpu_started = time.process_time()

        def say(message: str, n: int = n) -> None:
            print(f"  [{n}] {message}", flush=True)

        result = fine_tune(train, validation, assets / "asternet.onnx", assets / "vocab.json", config, say)
        cpu_minutes = (time.process_time() - cpu_started) / 60.0
        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = export_onnx(result.model, Path(tmp) / "model.onnx")
            after = evaluate_recognizer(AsterNetRecognizer(onnx_path, assets / "vocab.json", args.threads), test)
        row = {"n": len(chosen), "train_lines": len(train), "validation_lines": len(validation),
               "minutes": round(result.minutes, 2), "cpu_minutes": round(cpu_minutes, 2),
               "recipe": asdict(result.recipe),
               "epochs_run": len(result.history), "stopped": result.stopped,
               "device": result.device, "cer_before": round(before.cer, 4), "cer_after": round(after.cer, 4),
               "line_exact_before": round(before.line_exact, 4), "line_exact_after": round(after.line_exact, 4)}
        rows.append(row)
        print(f"N={row['n']}: CER {row['cer_before']:.4f} -> {row['cer_after']:.4f}, line exact "
              f"{row['line_exact_before']:.3f} -> {row['line_exact_after']:.3f}, {row['minutes']} min training "
              f"({row['cpu_minutes']} CPU-min) "
              f"({row['stopped']}, {row['epochs_run']} epochs, {row['device']})", flush=True)
    return {"test_lines": len(test), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="training pool: line images + labels.tsv (3rd column = page)")
    parser.add_argument("--test-folder", type=Path, help="held-out lines from other pages/writers")
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 2000])
    parser.add_argument("--holdout", type=float,
                        help="with --folder alone: hold out this share of its pages as the test set (seeded)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the trainer's automatic recipe")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--max-minutes", type=float, default=55.0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    if args.folder is None and (args.test_folder is not None or args.holdout is not None):
        parser.error("--test-folder and --holdout need --folder")
    if args.folder is not None and (args.test_folder is None) == (args.holdout is None):
        parser.error("with --folder give either --test-folder or --holdout")
    if args.folder and args.holdout is not None:
        pool, test = split_by_page(import_folder(args.folder), args.holdout, seed=1000 + args.seed)
        source = f"folder, {args.holdout:.0%} of its pages held out"
    elif args.folder:
        pool, test, source = import_folder(args.folder), import_folder(args.test_folder), "folder"
    else:
        pool, test = synthetic_sets(max(args.sizes), args.seed)
        source = "synthetic (samples/): NOT real handwriting"
    result = {"source": source, **run(pool, test, args.sizes, args)}
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
