"""Recognition benchmark: field exact-match / CER per field type, confidence quality, speed.

    .venv/bin/python -m bench.recognition --pages 8 --seed 2026 [--engines asternet,lexicon,tesseract,rapidocr]
                                          [--cells oracle|pipeline] [--calibrator FILE.json]
                                          [--unit "Xã Đại Lãnh"] [--labels DIR] [--json OUT.json]

Data: synthetic ledger pages rendered with a fresh seed (``samples.render`` through
``samples.fields``), and optionally a folder of labelled line images
(``DIR/labels.tsv``: filename<TAB>text, read as free text). ``--cells oracle`` (default) cuts
lines at their true ink boxes, so page analysis errors are excluded; ``--cells pipeline`` reads
the cells ingest's page pipeline cuts from sample-book-like scans: a written field the pipeline
found empty, or whose row it missed, is read as "" (confidence as ingest gives an empty cell).
Engines, side by side on the same cells:
  asternet   AsterNet greedy CTC (no field knowledge beyond normalization)
  lexicon    AsterNet + field decoding (lexicon beam, closed lists, character classes) -- the default
  tesseract  Tesseract 5 vie (optional extra)      rapidocr  PP-OCR via RapidOCR (optional extra)
``--unit`` names the book's unit as ingest knows it (default: the unit the synthetic pages are
rendered for, ``samples.render``'s default; "" for none): the lexicon engine decodes places with
its home area, resolved in the gazetteer from the name alone as ingest resolves a unit without
parents (a name of several communes: all their districts). A path "Xã A, Huyện B" narrows it.
For the default engine it also reports the share of fields with confidence >= 0.9 and their
precision, the ECE with a reliability table, and the median recognition seconds per page.
Timing is wall clock on this machine: note the load average printed with it.
Targets (synthetic held-out pages): exact >= 95%, high band precision >= 99% covering >= 70%,
ECE <= 0.05, <= 2 s/page on 2 cores. Synthetic fonts are not real handwriting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from bench.line_scores import LABELLED_PAGE_ID, cer, confidence_quality, labelled_lines
from ocr.confidence import Calibrator, load_calibrator
from ocr.fields.local_lexicon import HomeUnit, LocalLexicon
from ocr.read.decoding import greedy_decode
from ocr.read.engines.asternet import get_asternet
from ocr.read.engines.base import Recognizer
from ocr.recognition import (
    UNREAD_INK_CONFIDENCE,
    DecodedLine,
    empty_proposal,
    read_cells,
    read_field,
)
from samples.fields import CELL_SOURCES, FieldSample, field_pages, scored_fields
from samples.render import render_page

Reader = Callable[[list[FieldSample]], list[tuple[str, float]]]  # samples -> (value, confidence)
RENDERED_UNIT: str = (render_page.__kwdefaults__ or {})["unit"]  # the unit synthetic pages are written for


def unit_lexicon(unit: str) -> LocalLexicon | None:
    """What ingest hands the decoder for a book of ``unit`` with no confirmed words yet: its path
    ("Xã A" or "Xã A, Huyện B", smallest first), levels from the type words; None for ""."""
    path = tuple(HomeUnit(name.strip()) for name in unit.split(",") if name.strip())
    return LocalLexicon(home=path) if path else None


def asternet_reader(use_field_knowledge: bool, calibrator: Calibrator | None = None,
                    model: Path | None = None, local: LocalLexicon | None = None) -> Reader:
    recognizer = get_asternet(model_path=model)
    calibrator = calibrator or load_calibrator()

    def decode(samples: list[FieldSample]) -> Iterator[list[DecodedLine]]:
        """Decoded lines of the filled cells, as ingest decodes a page (with page context)."""
        if use_field_knowledge:
            yield from read_cells(recognizer, [s.cell.lines for s in samples], [s.field_type for s in samples],
                                  local, places=[(s.record, s.key) for s in samples])
            return
        evidence = iter(recognizer.line_log_probs([ln for s in samples for ln in s.cell.lines]))
        for s in samples:
            yield [DecodedLine(g, g, g.text) for g in (greedy_decode(next(evidence)) for _ in s.cell.lines)]

    def read(samples: list[FieldSample]) -> list[tuple[str, float]]:
        decoded_cells = decode([s for s in samples if not s.cell.is_empty])
        out = []
        for s in samples:
            if s.cell.is_empty:  # as ingest: an empty cell is proposed "" without reading
                empty = empty_proposal(s.cell.key, "", s.cell.ink_pixels, faint_ink=s.cell.faint_ink)
                out.append(("", empty.confidence))
                continue
            reading = read_field(s.field_type, next(decoded_cells), local)
            # As ingest: ink read as nothing is not calibrated (see proposal_from_lines).
            confidence = calibrator.probability(reading.features) if reading.value else UNREAD_INK_CONFIDENCE
            out.append((reading.value, confidence))
        return out

    return read


def plain_reader(recognizer: Recognizer) -> Reader:
    def read(samples: list[FieldSample]) -> list[tuple[str, float]]:
        decoded = read_cells(recognizer, [s.cell.lines for s in samples], [s.field_type for s in samples])
        out = []
        for s, lines in zip(samples, decoded, strict=True):
            reading = read_field(s.field_type, lines)
            out.append((reading.value, float(np.mean([d.reading.score for d in lines])) if lines else 0.0))
        return out

    return read


def make_readers(names: list[str], calibrator: Calibrator | None = None,
                 model: Path | None = None, local: LocalLexicon | None = None) -> dict[str, Reader]:
    readers: dict[str, Reader] = {}
    for name in names:
        if name == "asternet":
            readers[name] = asternet_reader(False, calibrator, model)
        elif name == "lexicon":
            readers[name] = asternet_reader(True, calibrator, model, local)
        elif name == "tesseract":
            from ocr.read.engines.tesseract import TesseractRecognizer, tesseract_available

            if (why := tesseract_available()) is None:
                readers[name] = plain_reader(TesseractRecognizer())
            else:
                print(f"skip tesseract: {why}")
        elif name == "rapidocr":
            from ocr.read.engines.rapidocr import RapidOCRRecognizer, rapidocr_available

            if (why := rapidocr_available()) is None:
                readers[name] = plain_reader(RapidOCRRecognizer())
            else:
                print(f"skip rapidocr: {why}")
    return readers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--engines", default="asternet,lexicon,tesseract,rapidocr")
    parser.add_argument("--cells", choices=list(CELL_SOURCES), default="oracle",
                        help="line crops at the true ink boxes (oracle) or as the page pipeline cuts them")
    parser.add_argument("--calibrator", type=Path, help="calibrator JSON for the asternet engines (default: v1)")
    parser.add_argument("--model", type=Path, help="AsterNet ONNX for the asternet engines (default: the shipped one)")
    parser.add_argument("--unit", default=RENDERED_UNIT,
                        help=f"the book's unit for the lexicon engine (default: {RENDERED_UNIT!r}; '' for none)")
    parser.add_argument("--labels", type=Path, help="folder with labels.tsv and line images")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    readers = make_readers(args.engines.split(","), Calibrator.load(args.calibrator) if args.calibrator else None,
                           args.model, unit_lexicon(args.unit))
    pages = [scored_fields(page) for page in field_pages(args.cells, args.seed, args.pages)]
    if args.labels:
        pages.append(labelled_lines(args.labels))
    results: dict[str, dict] = {}
    for name, reader in readers.items():
        per_type: dict[str, list[tuple[bool, float]]] = defaultdict(list)
        confidences, correct, seconds, cpu_seconds = [], [], [], []
        for page in pages:
            started, cpu_started = time.perf_counter(), time.process_time()
            values = reader(page)
            if page and page[0].page_id != LABELLED_PAGE_ID:
                seconds.append(time.perf_counter() - started)
                cpu_seconds.append(time.process_time() - cpu_started)
            for sample, (value, confidence) in zip(page, values, strict=True):
                ok = value == sample.expected
                group = "labelled_lines" if sample.page_id == LABELLED_PAGE_ID else sample.field_type
                per_type[group].append((ok, cer(sample.expected, value)))
                confidences.append(confidence)
                correct.append(float(ok))
        quality = confidence_quality(np.asarray(confidences), np.asarray(correct))
        right = np.asarray(correct)
        results[name] = {
            "fields": int(right.size),
            "exact_match": round(float(right.mean()), 4),
            "per_type": {
                t: {"n": len(v), "exact": round(float(np.mean([o for o, _ in v])), 4),
                    "cer": round(float(np.mean([c for _, c in v])), 4)}
                for t, v in sorted(per_type.items())
            },
            "median_s_per_page": round(statistics.median(seconds), 3) if seconds else None,
            # CPU seconds (all threads) are robust to other processes competing for the 2 cores.
            "median_cpu_s_per_page": round(statistics.median(cpu_seconds), 3) if cpu_seconds else None,
            "high_band_share": quality.high_band_share,
            "high_band_precision": quality.high_band_precision,
            "ece": quality.ece,
            "reliability": quality.reliability,
        }
    print_report(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


def print_report(results: dict[str, dict], args: argparse.Namespace) -> None:
    print(f"pages={args.pages} seed={args.seed} unit={args.unit!r} load_avg={os.getloadavg()[0]:.1f} (2 cores)")
    names = list(results)
    types = sorted({t for r in results.values() for t in r["per_type"]})
    print("| field type | " + " | ".join(f"{n} exact / CER" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for t in types:
        cells = []
        for n in names:
            row = results[n]["per_type"].get(t)
            cells.append(f"{row['exact']:.3f} / {row['cer']:.3f} (n={row['n']})" if row else "-")
        print(f"| {t} | " + " | ".join(cells) + " |")
    print("| **all** | " + " | ".join(f"{results[n]['exact_match']:.3f}" for n in names) + " |")
    for n in names:
        r = results[n]
        print(f"{n}: median {r['median_s_per_page']} s/page wall, {r['median_cpu_s_per_page']} CPU s/page; "
              f"confidence>=0.9 on {r['high_band_share']:.1%} "
              f"with precision {r['high_band_precision']}; ECE {r['ece']}")
    if "lexicon" in results:
        print("reliability (lexicon):")
        for row in results["lexicon"]["reliability"]:
            print(f"  {row['bin']}: n={row['n']} confidence={row['confidence']} accuracy={row['accuracy']}")


if __name__ == "__main__":
    main()
