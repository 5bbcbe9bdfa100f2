"""AsterNet CTC line recognizer (default engine), run with our own onnxruntime session.

Model and vocabulary come from the installed ``asterocr`` wheel
(``asterocr/assets/asternet.onnx`` + ``vocab.json``); we deliberately bypass asterocr's
own classes because they may fall back to downloading from a hub.

ONNX contract: input ``images`` float32 ``[B, 3, 32, W]`` RGB, ``(x/255 - 0.5)/0.5``,
W multiple of 4; output ``log_probs`` ``[W/4, B, 227]`` log-softmax, index 0 = blank.
The shipped graph fails for W > 1024 (256-entry positional table), so long lines are
cut at whitespace gaps and the frame posteriors of the pieces are concatenated.

Speed (bench/recognition_speed.py): ``threads`` batches run at once, one thread each. On request
(``precision="int8"``) the MatMul/Gemm/LSTM weights are int8 (dynamic quantization, made once
per model file from its float32 ONNX and kept in a cache folder; nothing is downloaded).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ocr.image.imaging import whiten_background
from ocr.read.decoding import greedy_decode
from ocr.read.engines.base import LineLogProbs, to_gray
from ocr.types import LineReading

log = logging.getLogger(__name__)

HEIGHT = 32
STRIDE = 4  # input pixels per output frame
MAX_WIDTH = 1024  # widest input the shipped ONNX accepts
PIECE_TARGET = 768  # preferred piece width when a line must be cut
MIN_WORD_GAP = 6  # blank columns (at height 32) that count as a word gap when cutting
MAX_BATCH = 4  # measured: 8 is no faster, 1-2 pay the per-call overhead (~5 ms) more often
SIDE_PAD = 16  # white margin left/right (px at height 32): measured +2.6% field exact-match vs 4
PRECISIONS = ("float32", "int8")
# Measured (bench/recognition_speed.py, seeds 11-13): int8 weights of the MatMul/Gemm/LSTM layers cost
# 5-13% less CPU per line, field exact-match unchanged (greedy -0.3..+0.2 points per seed, lexicon
# -0.2..+0.2), ~1-4% of lines' greedy text differs; but greedy CER rose ~0.001 on every seed and the
# share of fields with confidence >= 0.9 fell 0.3-0.7 points (the calibrator is fit on float32
# evidence), so float32 stays the default. int8 convolutions were slower (ConvInteger, also as 1x1
# convolutions turned into MatMul) or much less accurate (static quantization).
QUANTIZED_OPS = ("MatMul", "Gemm", "LSTM")
DEFAULT_PRECISION = "float32"


@dataclass(frozen=True)
class _Piece:
    """A normalized slice of one line, ready for the network."""

    line_index: int
    tensor: np.ndarray  # [3, 32, W]
    x_offset: float  # input-pixel x of this piece's left edge minus the padding
    x_scale: float  # input pixels per resized pixel
    space_before: bool  # the cut before this piece fell in a word gap


def asternet_asset_dir() -> Path:
    return Path(str(importlib.resources.files("asterocr") / "assets"))


def resize_to_height(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Resize to HEIGHT keeping aspect; returns (image, input px per resized px)."""
    h, w = gray.shape[:2]
    new_w = max(STRIDE, int(round(w * HEIGHT / max(h, 1))))
    interp = cv2.INTER_AREA if h > HEIGHT else cv2.INTER_LINEAR
    resized = cv2.resize(gray, (new_w, HEIGHT), interpolation=interp)
    return resized, w / new_w


def _ink_profile(resized_gray: np.ndarray) -> np.ndarray:
    """Per-column ink amount relative to the (bright) background."""
    background = float(np.percentile(resized_gray, 90))
    ink = np.clip(background - resized_gray.astype(np.float32) - 40.0, 0, None)
    return ink.sum(axis=0)


def _cut_points(profile: np.ndarray) -> list[tuple[int, bool]]:
    """Cut positions (multiples of STRIDE) keeping every piece <= MAX_WIDTH - 2*SIDE_PAD.

    Prefers the middle of the widest blank run inside the allowed window; returns
    (x, is_word_gap) pairs.
    """
    limit = MAX_WIDTH - 2 * SIDE_PAD - STRIDE
    cuts: list[tuple[int, bool]] = []
    start, width = 0, profile.size
    blank = profile <= 0
    while width - start > limit:
        lo, hi = start + PIECE_TARGET // 2, start + limit
        best_x, best_run = -1, 0
        x = lo
        while x < hi:
            if blank[x]:
                run_end = x
                while run_end < hi and blank[run_end]:
                    run_end += 1
                if run_end - x > best_run:
                    best_run, best_x = run_end - x, (x + run_end) // 2
                x = run_end
            else:
                x += 1
        if best_x < 0:  # no blank column: cut where there is least ink
            best_x = lo + int(np.argmin(profile[lo:hi]))
        best_x = max(start + STRIDE, best_x // STRIDE * STRIDE)
        cuts.append((best_x, best_run >= MIN_WORD_GAP))
        start = best_x
    return cuts


def normalize_piece(piece_gray: np.ndarray) -> np.ndarray:
    """A height-32 grayscale piece -> float32 [3, 32, W] in [-1, 1], white-padded, W % 4 == 0."""
    padded = cv2.copyMakeBorder(whiten_background(piece_gray), 0, 0, SIDE_PAD, SIDE_PAD, cv2.BORDER_CONSTANT,
                                value=255)
    w = padded.shape[1]
    w4 = max(STRIDE * 2, (w + STRIDE - 1) // STRIDE * STRIDE)
    if w4 != w:
        padded = cv2.copyMakeBorder(padded, 0, 0, 0, w4 - w, cv2.BORDER_CONSTANT, value=255)
    rgb = np.repeat(padded[None, :, :], 3, axis=0).astype(np.float32)
    return (rgb / 255.0 - 0.5) / 0.5


def _split_line(line_index: int, image: np.ndarray) -> list[_Piece]:
    gray = to_gray(image) if image.ndim == 3 else image
    resized, scale = resize_to_height(gray)
    if resized.shape[1] + 2 * SIDE_PAD <= MAX_WIDTH:
        bounds = [(0, resized.shape[1], False)]
    else:
        cuts = _cut_points(_ink_profile(resized))
        edges = [(0, False), *cuts, (resized.shape[1], False)]
        bounds = [(edges[i][0], edges[i + 1][0], edges[i][1]) for i in range(len(edges) - 1)]
    return [
        _Piece(line_index, normalize_piece(resized[:, x0:x1]), (x0 - SIDE_PAD) * scale, scale, gap)
        for x0, x1, gap in bounds
    ]


def _width_groups(pieces: list[_Piece], min_groups: int = 1) -> list[list[_Piece]]:
    """Batches of pieces with similar width (padding mixed widths costs more than it saves).

    Batches hold at most MAX_BATCH pieces, fewer when that gives ``min_groups`` batches (one
    per worker thread), widest first so that the longest runs start first.
    """
    ordered = sorted(pieces, key=lambda p: p.tensor.shape[2])
    batch_size = max(1, min(MAX_BATCH, len(pieces) // max(1, min_groups)))
    groups: list[list[_Piece]] = []
    for piece in ordered:
        w = piece.tensor.shape[2]
        if groups and len(groups[-1]) < batch_size and w - groups[-1][0].tensor.shape[2] <= max(16, w // 10):
            groups[-1].append(piece)
        else:
            groups.append([piece])
    return groups[::-1]


def _batch_tensor(group: list[_Piece]) -> np.ndarray:
    """Pieces of one batch, right-padded with white to the widest: [B, 3, 32, W]."""
    width = max(p.tensor.shape[2] for p in group)
    batch = np.ones((len(group), 3, HEIGHT, width), dtype=np.float32)  # 1.0 = white
    for k, p in enumerate(group):
        batch[k, :, :, : p.tensor.shape[2]] = p.tensor
    return batch


def model_cache_dir() -> Path:
    """Where derived model files (int8 copies) are kept: $ASTERNET_CACHE_DIR or the user cache."""
    if folder := os.environ.get("ASTERNET_CACHE_DIR"):
        return Path(folder)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "asternet"


def int8_model(model_path: Path, cache_dir: Path | None = None) -> Path:
    """An int8 copy of ``model_path`` (QUANTIZED_OPS' weights), made on first use and cached.

    Keyed by the file's content, so a re-exported fine-tuned model gets its own copy. Needs the
    ``onnx`` package only when the copy is made (~2 s).
    """
    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()[:16]
    folder = cache_dir or model_cache_dir()
    target = folder / f"asternet-{digest}-int8.onnx"  # by content: copies of one model share it
    if not target.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        quantize_dynamic(model_path, partial, op_types_to_quantize=list(QUANTIZED_OPS), weight_type=QuantType.QInt8)
        os.replace(partial, target)  # atomic: parallel workers never load a half-written file
    return target


def asternet_session(model_path: Path, intra_op_threads: int = 1) -> ort.InferenceSession:
    """A CPU onnxruntime session for an AsterNet ONNX file."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Spinning worker threads collapse throughput when the 2 cores are shared (measured 2.2x).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


class AsterNetRecognizer:
    """Reads Vietnamese text lines with the AsterNet ONNX model.

    ``threads`` batches run at once, each on one thread: measured 12-20% less CPU per line than
    one run spread over 2 intra-op threads (no per-operator hand-offs between threads), and the
    cores stay busy. An onnxruntime session may be run from several threads at once.
    ``precision`` "int8" runs the cached int8 copy of ``model_path`` (see :func:`int8_model`);
    where that copy cannot be made it falls back to float32 with a warning.
    """

    name = "asternet"

    def __init__(
        self,
        model_path: Path | None = None,
        vocab_path: Path | None = None,
        threads: int = 2,
        precision: str = DEFAULT_PRECISION,
    ):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        assets = asternet_asset_dir()
        model_path = model_path or assets / "asternet.onnx"
        vocab_path = vocab_path or assets / "vocab.json"
        self.model_path = Path(model_path)
        self.precision, runnable = precision, self.model_path
        if precision == "int8":
            try:
                runnable = int8_model(self.model_path)
            except (ImportError, OSError) as error:  # no onnx package, read-only cache folder
                log.warning("AsterNet int8 copy of %s not made (%s); running float32", self.model_path, error)
                self.precision = "float32"
        self.session = asternet_session(runnable)
        self.input_name = self.session.get_inputs()[0].name
        chars = json.loads(Path(vocab_path).read_text(encoding="utf-8"))["chars"]
        self.alphabet: tuple[str, ...] = tuple(chars)
        self.space_index = self.alphabet.index(" ")
        self.threads = max(1, int(threads))
        self._workers: ThreadPoolExecutor | None = None
        self._workers_pid = 0

    def _worker_pool(self) -> ThreadPoolExecutor | None:
        """The threads that run batches, made in the process that uses them (a forked copy has none)."""
        if self.threads == 1:
            return None
        if self._workers is None or self._workers_pid != os.getpid():
            self._workers, self._workers_pid = ThreadPoolExecutor(self.threads, "asternet"), os.getpid()
        return self._workers

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """[B, 3, 32, W] -> [B, W/4, C] log-probs."""
        out = self.session.run(None, {self.input_name: batch.astype(np.float32)})[0]
        return np.transpose(out, (1, 0, 2))

    def line_log_probs(self, lines: Sequence[np.ndarray]) -> list[LineLogProbs]:
        pieces = [p for i, line in enumerate(lines) for p in _split_line(i, line)]
        groups = _width_groups(pieces, self.threads)
        batches = map(_batch_tensor, groups)
        workers = self._worker_pool()
        results = workers.map(self._run, batches) if workers else map(self._run, batches)
        outputs: dict[int, np.ndarray] = {}
        for group, result in zip(groups, results, strict=True):
            for k, p in enumerate(group):
                outputs[id(p)] = result[k, : p.tensor.shape[2] // STRIDE]
        per_line: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in lines]
        for p in pieces:
            frames = outputs[id(p)]
            t = np.arange(frames.shape[0], dtype=np.float64)
            xs = np.stack([t * STRIDE, (t + 1) * STRIDE], axis=1) * p.x_scale + p.x_offset
            if p.space_before:  # a synthetic frame that is surely a space keeps the word gap
                per_line[p.line_index].append((self._space_frame(), xs[:1, [0, 0]]))
            per_line[p.line_index].append((frames, xs))
        result_list = []
        for i, parts in enumerate(per_line):
            log_probs = np.concatenate([lp for lp, _ in parts]).astype(np.float32)
            frame_x = np.concatenate([fx for _, fx in parts])
            width = lines[i].shape[1]
            result_list.append(LineLogProbs(log_probs, np.clip(frame_x, 0, width), self.alphabet))
        return result_list

    def _space_frame(self) -> np.ndarray:
        frame = np.full((1, len(self.alphabet)), -30.0, dtype=np.float32)
        frame[0, self.space_index] = 0.0
        return frame

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineReading]:
        return [greedy_decode(llp) for llp in self.line_log_probs(lines)]


def get_asternet(
    threads: int = 2,
    model_path: str | Path | None = None,
    vocab_path: str | Path | None = None,
    precision: str = DEFAULT_PRECISION,
) -> AsterNetRecognizer:
    """Process-wide AsterNet recognizer per model file, thread count and precision (a session costs ~0.3 s).

    Without paths: the model shipped in the asterocr wheel; with them: e.g. a fine-tuned version.
    """
    return _cached_asternet(
        int(threads), str(model_path) if model_path else None, str(vocab_path) if vocab_path else None, precision
    )


@functools.cache
def _cached_asternet(
    threads: int, model_path: str | None, vocab_path: str | None, precision: str
) -> AsterNetRecognizer:
    return AsterNetRecognizer(
        model_path=Path(model_path) if model_path else None,
        vocab_path=Path(vocab_path) if vocab_path else None,
        threads=threads,
        precision=precision,
    )


__all__ = ["PRECISIONS", "AsterNetRecognizer", "asternet_session", "get_asternet", "int8_model"]
