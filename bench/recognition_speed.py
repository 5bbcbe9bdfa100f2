"""AsterNet inference speed per engine set-up: ONNX seconds per page, lines/s, greedy exact-match.

    .venv/bin/python -m bench.recognition_speed --pages 4 --seed 11 [--variants reference,float32,int8]
                                                [--threads 2] [--repeat 2] [--json OUT.json]

Same cells as bench.recognition (synthetic pages, oracle line boxes, filled cells only). Variants:
  reference  the set-up before: one batch at a time spread over ``threads`` intra-op threads, float32
  float32    the engine's scheduling: ``threads`` batches at once, one thread each; float32 weights
  int8       the same with int8 MatMul/Gemm/LSTM weights (``precision="int8"``, opt-in)
Per page, the fastest of ``--repeat`` runs of ``line_log_probs`` (wall and CPU seconds; CPU counts
every thread and is robust to other processes on the shared cores; on an idle machine wall is
about CPU / threads). Reported per variant: median seconds per page, lines/s, greedy field
exact-match and CER, lines whose greedy text differs from the first variant and the largest
log-probability difference to it. Greedy decoding only: the field decoders are timed by
bench.recognition.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.recognition import cer
from ocr.read.decoding import greedy_decode
from ocr.read.engines.asternet import AsterNetRecognizer, asternet_session
from ocr.read.engines.base import LineLogProbs
from ocr.recognition import DecodedLine, read_field
from samples.fields import FieldSample, synthetic_pages

VARIANTS = ("reference", "float32", "int8")


@dataclass
class VariantResult:
    variant: str
    pages: int
    lines: int
    median_s_per_page: float
    median_cpu_s_per_page: float
    lines_per_s: float  # all lines / sum of per-page wall seconds
    greedy_exact: float
    greedy_cer: float
    lines_differing: int | None  # greedy text differs from the first variant's
    max_log_prob_diff: float | None


def make_recognizer(variant: str, threads: int) -> AsterNetRecognizer:
    if variant == "reference":
        recognizer = AsterNetRecognizer(threads=1, precision="float32")  # runs batches one by one
        recognizer.session = asternet_session(recognizer.model_path, intra_op_threads=threads)
        return recognizer
    return AsterNetRecognizer(threads=threads, precision=variant)


def timed_log_probs(recognizer: AsterNetRecognizer, lines: list[np.ndarray], repeat: int
                    ) -> tuple[list[LineLogProbs], float, float]:
    """Evidence for the lines and the fastest wall and CPU seconds of ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        evidence = recognizer.line_log_probs(lines)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    return evidence, min(walls), min(cpus)


def greedy_fields(page: list[FieldSample], evidence: list[LineLogProbs]) -> list[str]:
    """Field values read with greedy CTC decoding only (as bench.recognition's 'asternet' engine)."""
    lines = iter(evidence)
    values = []
    for sample in page:
        readings = [greedy_decode(next(lines)) for _ in sample.cell.lines]
        values.append(read_field(sample.field_type, [DecodedLine(r, r, r.text) for r in readings]).value)
    return values


def measure(variant: str, recognizer: AsterNetRecognizer, pages: list[list[FieldSample]], repeat: int,
            reference: list[LineLogProbs] | None) -> tuple[VariantResult, list[LineLogProbs]]:
    walls, cpus, exact, errors, all_evidence = [], [], [], [], []
    for page in pages:
        evidence, wall, cpu = timed_log_probs(recognizer, [ln for s in page for ln in s.cell.lines], repeat)
        walls.append(wall)
        cpus.append(cpu)
        all_evidence.extend(evidence)
        for sample, value in zip(page, greedy_fields(page, evidence), strict=True):
            exact.append(value == sample.expected)
            errors.append(cer(sample.expected, value))
    differing, max_diff = None, None
    if reference is not None:
        differing = sum(greedy_decode(a).text != greedy_decode(b).text
                        for a, b in zip(reference, all_evidence, strict=True))
        max_diff = max(float(np.abs(a.log_probs - b.log_probs).max())
                       for a, b in zip(reference, all_evidence, strict=True))
    result = VariantResult(
        variant=variant,
        pages=len(pages),
        lines=len(all_evidence),
        median_s_per_page=round(statistics.median(walls), 3),
        median_cpu_s_per_page=round(statistics.median(cpus), 3),
        lines_per_s=round(len(all_evidence) / sum(walls), 1),
        greedy_exact=round(float(np.mean(exact)), 4),
        greedy_cer=round(float(np.mean(errors)), 4),
        lines_differing=differing,
        max_log_prob_diff=None if max_diff is None else round(max_diff, 4),
    )
    return result, all_evidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="runs per page; the fastest counts")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    variants = args.variants.split(",")
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"unknown variants {sorted(unknown)}; choose from {VARIANTS}")
    pages = [[s for s in page if not s.cell.is_empty] for page in synthetic_pages(args.seed, args.pages)]
    recognizers = {v: make_recognizer(v, args.threads) for v in variants}  # int8 copy made before timing
    results: list[VariantResult] = []
    reference: list[LineLogProbs] | None = None
    for variant, recognizer in recognizers.items():
        recognizer.line_log_probs([ln for s in pages[0][:4] for ln in s.cell.lines])  # warm-up
        result, evidence = measure(variant, recognizer, pages, args.repeat, reference)
        reference = evidence if reference is None else reference
        results.append(result)

    print(f"pages={args.pages} seed={args.seed} threads={args.threads} repeat={args.repeat} "
          f"load_avg={os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    print("| variant | s/page wall | CPU s/page | lines/s | greedy exact | greedy CER | lines differing | max dlogp |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.variant} | {r.median_s_per_page} | {r.median_cpu_s_per_page} | {r.lines_per_s} | "
              f"{r.greedy_exact:.3f} | {r.greedy_cer:.4f} | "
              f"{'-' if r.lines_differing is None else f'{r.lines_differing}/{r.lines}'} | "
              f"{'-' if r.max_log_prob_diff is None else r.max_log_prob_diff} |")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
