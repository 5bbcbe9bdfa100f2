"""Real-hands benchmark: every reader and decoder stage on the same real handwritten lines.

    .venv/bin/python -m bench.real_lines [--labels DIR] [--limit N] [--stages greedy,field,...]
                                         [--field-type place] [--rendered-pages 4] [--seed 2027]
                                         [--model FT.onnx] [--calibrator FILE.json] [--json OUT.json]

Data: the labelled real lines of ``--labels`` (default ``../shared/real_lines/address_lines``,
relative to the repository root: 1,823 handwritten addresses, read as ``--field-type`` place),
and, so that every change is judged on both, the written place and free-text cells of
``--rendered-pages`` synthetic pages of ``--seed`` (default 2027, the held-out seed; oracle line
boxes, as ``bench.recognition``). 0 pages: real lines only.

Stages, side by side on the same lines (AsterNet stages share one network pass per chunk of
CHUNK_LINES lines, batched as ingest batches a page; their s/line is that pass plus their own
decoding):
  greedy      the shipped AsterNet model, greedy CTC; confidence: the engine's line score (geometric
              mean of the character probabilities, ``ocr.read.decoding.line_score``)
  greedy_cal  the same text; confidence: the calibrator on its evidence as a field of the cell's type
              (what ``bench.recognition``'s ``asternet`` engine reports)
  beam        the word-lexicon prefix beam of the cell's field type alone (places: Vietnamese
              syllables plus gazetteer words; no grammar, no gazetteer rescoring), calibrated
  free_text   the cell decoded as free text (``ocr.recognition.decode_cell``), calibrated:
              ``python -m workbench recognize LINE`` (its default field type)
  field       the cell decoded as its own field type, gazetteer rescoring for places, calibrated,
              by AsterNet alone (no unit, no page context)
  ingest      the cell proposed as ingest proposes it (``ocr.recognition.propose_cells``): ``field``
              plus the second reader's checks (PP-OCRv6; places rescored by both readers,
              ``ocr.places.place_check``): ``python -m workbench recognize LINE --field-type place``
              (no unit, no page context); its own network pass
  tesseract   Tesseract 5 vie; rapidocr  PP-OCR via RapidOCR (optional extras; skipped, saying
              why, when not installed); confidence: their line score
Every value goes through the field type's normalizer (NFC, single spaces) and is compared with the
truth normalized the same way. Scores: CER = total edits / total truth characters; exact = share of
lines exactly right; conf>=0.9: share of lines at the review's high band, how often those are right
and how many are wrong; ECE over 10 equal-width confidence bins against exact-match.
The real lines are development data (../shared/real_lines/README.md): measure on them, never fit
shipped parameters on them.
The CLI reads one line per call; here lines of similar width share a batch (white right-padding up
to ~10% of the width), which can move a frame probability slightly and, rarely, a character.
Companion for every field type of the rendered pages as ingest decodes them (the book's unit,
page context): ``python -m bench.recognition --pages 4 --seed 2027 --labels DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from bench.line_scores import ConfidenceQuality, confidence_quality, edit_distance, labelled_lines
from ocr.confidence import Calibrator, load_calibrator
from ocr.fields.normalize import normalize
from ocr.read.decoding import DecodedLine, constrained_decode, greedy_decode, line_score
from ocr.read.engines.asternet import get_asternet
from ocr.read.engines.base import CTCRecognizer, LineLogProbs, Recognizer
from ocr.recognition import _line_constraints, constraints_for, decode_cells, proposal_from_lines, propose_cells
from ocr.types import FIELD_TYPES, CellImage, LineReading
from samples.fields import FieldSample, field_pages, scored_fields

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LABELS = REPO_ROOT / ".." / "shared" / "real_lines" / "address_lines"
RENDERED_FIELD_TYPES = ("place", "free_text")
DEFAULT_SEED = 2027  # the held-out seed of bench.recognition
CHUNK_LINES = 64  # lines per recognizer call: about one ledger page of cells, as ingest reads them
ENGINE = "asternet"

Reading = tuple[str, float]  # (normalized value, confidence)
# AsterNet frames of a chunk's cells, their field types, the calibrator -> one reading per cell
Decoder = Callable[[list[list[LineLogProbs]], list[str], Calibrator], list[Reading]]


def _calibrated(decoded: list[list[DecodedLine]], field_types: Sequence[str], calibrator: Calibrator) -> list[Reading]:
    """Value and calibrated confidence as ingest proposes them (``proposal_from_lines``)."""
    proposals = (proposal_from_lines("line", ft, lines, ENGINE, calibrator)
                 for lines, ft in zip(decoded, field_types, strict=True))
    return [(p.value, p.confidence) for p in proposals]


def _greedy_lines(cells: list[list[LineLogProbs]]) -> list[list[DecodedLine]]:
    return [[DecodedLine(g, g, g.text) for g in map(greedy_decode, lines)] for lines in cells]


def decode_greedy(cells: list[list[LineLogProbs]], field_types: list[str], calibrator: Calibrator) -> list[Reading]:
    out = []
    for lines, ft in zip(_greedy_lines(cells), field_types, strict=True):
        chars = [c for line in lines for c in line.reading.chars]
        out.append((normalize(ft, " ".join(line.reading.text for line in lines)), line_score(chars)))
    return out


def decode_greedy_calibrated(cells: list[list[LineLogProbs]], field_types: list[str],
                             calibrator: Calibrator) -> list[Reading]:
    return _calibrated(_greedy_lines(cells), field_types, calibrator)


def decode_word_beam(cells: list[list[LineLogProbs]], field_types: list[str], calibrator: Calibrator) -> list[Reading]:
    # decode_cell's per-line beam for word-lexicon fields, without what it adds after (gazetteer
    # rescoring of places, surname rescoring of names): the beam's own share of the gain.
    decoded = [
        [constrained_decode(llp, _line_constraints(constraints_for(ft, llp.alphabet), i))
         for i, llp in enumerate(lines)]
        for lines, ft in zip(cells, field_types, strict=True)
    ]
    return _calibrated(decoded, field_types, calibrator)


def decode_free_text(cells: list[list[LineLogProbs]], field_types: list[str], calibrator: Calibrator) -> list[Reading]:
    as_free_text = ["free_text"] * len(cells)
    return _calibrated(decode_cells(cells, as_free_text), as_free_text, calibrator)


def decode_field(cells: list[list[LineLogProbs]], field_types: list[str], calibrator: Calibrator) -> list[Reading]:
    return _calibrated(decode_cells(cells, field_types), field_types, calibrator)


DECODERS: dict[str, Decoder] = {
    "greedy": decode_greedy,
    "greedy_cal": decode_greedy_calibrated,
    "beam": decode_word_beam,
    "free_text": decode_free_text,
    "field": decode_field,
}
PEERS = ("tesseract", "rapidocr")
INGEST = "ingest"
STAGES = (*DECODERS, INGEST, *PEERS)


def peer_recognizer(name: str) -> Recognizer | str:
    """The peer engine, or why it cannot run here."""
    if name == "tesseract":
        from ocr.read.engines.tesseract import TesseractRecognizer, tesseract_available

        why = tesseract_available()
        return TesseractRecognizer() if why is None else why
    from ocr.read.engines.rapidocr import RapidOCRRecognizer, rapidocr_available

    why = rapidocr_available()
    return RapidOCRRecognizer() if why is None else why


def read_as_ingest(recognizer: Recognizer, cells: Sequence[CellImage], field_types: list[str],
                   calibrator: Calibrator) -> list[Reading]:
    """The cells proposed as ingest proposes them, one chunk in one call (``propose_cells``)."""
    proposals = propose_cells(list(zip(cells, field_types, strict=True)), recognizer, calibrator)
    return [(normalize(ft, p.value), p.confidence) for p, ft in zip(proposals, field_types, strict=True)]


def read_with_peer(recognizer: Recognizer, cells: list[list[np.ndarray]], field_types: list[str]) -> list[Reading]:
    """A peer's readings of whole cells: lines joined, confidence the line score of all characters."""
    readings = iter(recognizer.read_lines([line for lines in cells for line in lines]))
    out = []
    for lines, ft in zip(cells, field_types, strict=True):
        cell: list[LineReading] = [next(readings) for _ in lines]
        chars = [c for r in cell for c in r.chars]
        out.append((normalize(ft, " ".join(r.text for r in cell)), line_score(chars)))
    return out


@dataclass
class Clock:
    """Wall and CPU seconds (all threads of this process: robust to others sharing the 2 cores),
    added up over the calls timed with it."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @contextmanager
    def timing(self) -> Iterator[None]:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.process_time() - cpu_started


@dataclass
class StageRun:
    """What one stage read on one set of lines, in sample order, and the time it took."""

    stage: str
    truths: list[str] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)  # this stage's own work
    shared: Clock = field(default_factory=Clock)  # work done once for several stages (the AsterNet pass)


@dataclass(frozen=True)
class StageScore:
    stage: str
    lines: int
    truth_chars: int
    edits: int
    cer: float
    exact: float
    quality: ConfidenceQuality
    s_per_line: float
    cpu_s_per_line: float
    decode_s_per_line: float  # without the shared AsterNet pass


def score(run: StageRun) -> StageScore:
    edits = [edit_distance(t, v) for t, (v, _) in zip(run.truths, run.readings, strict=True)]
    right = np.array([float(t == v) for t, (v, _) in zip(run.truths, run.readings, strict=True)])
    confidences = np.array([c for _, c in run.readings], dtype=np.float64)
    n, chars = len(run.truths), sum(len(t) for t in run.truths)
    return StageScore(
        stage=run.stage,
        lines=n,
        truth_chars=chars,
        edits=sum(edits),
        cer=round(sum(edits) / max(1, chars), 4),
        exact=round(float(right.mean()), 4) if n else 0.0,
        quality=confidence_quality(confidences, right),
        s_per_line=round((run.clock.seconds + run.shared.seconds) / max(1, n), 4),
        cpu_s_per_line=round((run.clock.cpu_seconds + run.shared.cpu_seconds) / max(1, n), 4),
        decode_s_per_line=round(run.clock.seconds / max(1, n), 4),
    )


@dataclass
class Readers:
    """What the stages need: the AsterNet recognizer and calibrator, and the peers that can run."""

    recognizer: CTCRecognizer
    calibrator: Calibrator
    peers: dict[str, Recognizer]
    skipped: dict[str, str]  # stage -> why it was not run

    @classmethod
    def load(cls, stages: Sequence[str], model: Path | None = None, calibrator: Calibrator | None = None) -> Readers:
        peers: dict[str, Recognizer] = {}
        skipped: dict[str, str] = {}
        for name in (s for s in stages if s in PEERS):
            made = peer_recognizer(name)
            if isinstance(made, str):
                skipped[name] = made
            else:
                peers[name] = made
        return cls(get_asternet(model_path=model), calibrator or load_calibrator(), peers, skipped)


def _chunks(samples: Sequence[FieldSample], size: int) -> Iterator[Sequence[FieldSample]]:
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


def run_stages(samples: Sequence[FieldSample], stages: Sequence[str], readers: Readers,
               chunk_lines: int = CHUNK_LINES) -> dict[str, StageRun]:
    """Every stage (that can run) on every sample, chunk by chunk."""
    decoders = [s for s in stages if s in DECODERS]
    peers = [s for s in stages if s in readers.peers or s == INGEST]
    network = Clock()
    runs = {s: StageRun(s, shared=network if s in DECODERS else Clock()) for s in [*decoders, *peers]}
    evidence: list[list[LineLogProbs]] = []
    for chunk in _chunks(samples, chunk_lines):
        cells = [list(s.cell.lines) for s in chunk]
        types = [s.field_type for s in chunk]
        if decoders:
            with network.timing():
                frames = iter(readers.recognizer.line_log_probs([line for lines in cells for line in lines]))
                evidence = [[next(frames) for _ in lines] for lines in cells]
        for name in [*decoders, *peers]:
            run = runs[name]
            with run.clock.timing():
                if name in DECODERS:
                    readings = DECODERS[name](evidence, types, readers.calibrator)
                elif name == INGEST:
                    readings = read_as_ingest(readers.recognizer, [s.cell for s in chunk], types, readers.calibrator)
                else:
                    readings = read_with_peer(readers.peers[name], cells, types)
            run.truths.extend(s.expected for s in chunk)
            run.readings.extend(readings)
    return runs


def real_samples(folder: Path, field_type: str, limit: int | None = None) -> list[FieldSample]:
    """The labelled lines of ``folder`` as fields of ``field_type`` (expected: its normalizer's value)."""
    return [replace(s, field_type=field_type, expected=normalize(field_type, s.truth))
            for s in labelled_lines(folder, limit)]


def rendered_samples(seed: int, pages: int, field_type: str) -> list[FieldSample]:
    """The written cells of ``field_type`` on synthetic pages (oracle line boxes)."""
    return [s for page in field_pages("oracle", seed, pages) for s in scored_fields(page)
            if s.field_type == field_type and s.expected and not s.cell.is_empty]


def markdown_table(scores: Sequence[StageScore]) -> str:
    rows = [
        "| stage | lines | CER | exact | conf>=0.9 | right at >=0.9 (wrong) | ECE | s/line | CPU s/line |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        q = s.quality
        precision = "-" if q.high_band_precision is None else f"{q.high_band_precision:.1%}"
        rows.append(f"| {s.stage} | {s.lines} | {s.cer:.2%} | {s.exact:.1%} | {q.high_band_share:.1%} | "
                    f"{precision} ({q.high_band_wrong}) | {q.ece:.3f} | {s.s_per_line:.3f} | {s.cpu_s_per_line:.3f} |")
    return "\n".join(rows)


def table_notes(scores: Sequence[StageScore]) -> str:
    """What the table leaves out: the AsterNet pass inside every AsterNet stage's s/line, and how
    the product's confidences fare bin by bin."""
    notes = []
    if shared := [s for s in scores if s.stage in DECODERS]:
        network = shared[0].s_per_line - shared[0].decode_s_per_line
        notes.append(f"AsterNet network pass: {network:.3f} s/line (part of each AsterNet stage's s/line)")
    if product := [s for s in scores if s.stage == "field"]:
        bins = "; ".join(f"{r['bin']}: n={r['n']} conf={r['confidence']} right={r['accuracy']}"
                         for r in product[0].quality.reliability)
        notes.append(f"reliability (field): {bins}")
    return "\n".join(notes)


@dataclass(frozen=True)
class BenchSet:
    name: str
    samples: list[FieldSample]


def benchmark(sets: Sequence[BenchSet], stages: Sequence[str], readers: Readers) -> dict[str, list[StageScore]]:
    """Scores per set, stages in the order asked (those that ran)."""
    results = {}
    for bench_set in sets:
        runs = run_stages(bench_set.samples, stages, readers)
        results[bench_set.name] = [score(runs[s]) for s in stages if s in runs]
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="folder with labels.tsv and line images")
    parser.add_argument("--limit", type=int, help="the first N real lines only")
    parser.add_argument("--field-type", default="place", choices=FIELD_TYPES, help="what the real lines are")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of: {', '.join(STAGES)}")
    parser.add_argument("--rendered-pages", type=int, default=4,
                        help="synthetic pages for the rendered tables (0: none)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic pages")
    parser.add_argument("--model", type=Path, help="AsterNet ONNX (default: the shipped one)")
    parser.add_argument("--calibrator", type=Path, help="calibrator JSON (default: the shipped one)")
    parser.add_argument("--json", type=Path, help="write the scores here")
    args = parser.parse_args(argv)
    args.stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    if unknown := [s for s in args.stages if s not in STAGES]:
        parser.error(f"unknown stages {unknown} (known: {', '.join(STAGES)})")
    if not (args.labels / "labels.tsv").exists():
        parser.error(f"{args.labels}/labels.tsv not found (see ../shared/real_lines/README.md)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    readers = Readers.load(args.stages, args.model, Calibrator.load(args.calibrator) if args.calibrator else None)
    for name, why in readers.skipped.items():
        print(f"skip {name}: {why}")
    sets = [BenchSet(f"real {args.field_type} lines ({args.labels.resolve().name})",
                     real_samples(args.labels, args.field_type, args.limit))]
    sets += [BenchSet(f"rendered {ft} cells (seed {args.seed}, {args.rendered_pages} pages)",
                      rendered_samples(args.seed, args.rendered_pages, ft))
             for ft in RENDERED_FIELD_TYPES if args.rendered_pages > 0]
    results = benchmark(sets, args.stages, readers)
    wall = time.perf_counter() - started
    print(f"model={args.model or 'shipped AsterNet'} calibrator={readers.calibrator.version} "
          f"load_avg={os.getloadavg()[0]:.1f} (2 cores) wall={wall:.0f} s")
    for name, scores in results.items():
        print(f"\n### {name}\n{markdown_table(scores)}\n{table_notes(scores)}")
    if args.json:
        payload = {"wall_s": round(wall, 1), "skipped": readers.skipped,
                   "sets": {name: [asdict(s) for s in scores] for name, scores in results.items()}}
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
