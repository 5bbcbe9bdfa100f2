"""AsterNet CTC line recognizer (default engine), run with our own onnxruntime session.

Model and vocabulary come from the installed ``asterocr`` wheel
(``asterocr/assets/asternet.onnx`` + ``vocab.json``); we deliberately bypass asterocr's
own classes because they may fall back to downloading from a hub.

ONNX contract: input ``images`` float32 ``[B, 3, 32, W]`` RGB, ``(x/255 - 0.5)/0.5``,
W multiple of 4; output ``log_probs`` ``[W/4, B, 227]`` log-softmax, index 0 = blank.
The shipped graph fails for W > 1024 (256-entry positional table), so long lines are
cut at whitespace gaps and the frame posteriors of the pieces are concatenated.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ocr.decoding import greedy_decode
from ocr.engines.base import LineLogProbs, to_gray
from ocr.imaging import whiten_background
from ocr.types import LineReading

HEIGHT = 32
STRIDE = 4  # input pixels per output frame
MAX_WIDTH = 1024  # widest input the shipped ONNX accepts
PIECE_TARGET = 768  # preferred piece width when a line must be cut
MIN_WORD_GAP = 6  # blank columns (at height 32) that count as a word gap when cutting
MAX_BATCH = 4  # measured: larger batches are slower on 2 cores
SIDE_PAD = 16  # white margin left/right (px at height 32): measured +2.6% field exact-match vs 4


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


def _width_groups(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Batches of pieces with similar width (padding mixed widths costs more than it saves)."""
    ordered = sorted(pieces, key=lambda p: p.tensor.shape[2])
    groups: list[list[_Piece]] = []
    for piece in ordered:
        w = piece.tensor.shape[2]
        if groups and len(groups[-1]) < MAX_BATCH and w - groups[-1][0].tensor.shape[2] <= max(16, w // 10):
            groups[-1].append(piece)
        else:
            groups.append([piece])
    return groups


class AsterNetRecognizer:
    """Reads Vietnamese text lines with the AsterNet ONNX model."""

    name = "asternet"

    def __init__(self, model_path: Path | None = None, vocab_path: Path | None = None, threads: int = 2):
        assets = asternet_asset_dir()
        model_path = model_path or assets / "asternet.onnx"
        vocab_path = vocab_path or assets / "vocab.json"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Spinning worker threads collapse throughput when the 2 cores are shared (measured 2.2x).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        chars = json.loads(Path(vocab_path).read_text(encoding="utf-8"))["chars"]
        self.alphabet: tuple[str, ...] = tuple(chars)
        self.space_index = self.alphabet.index(" ")
        self.threads = threads

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """[B, 3, 32, W] -> [B, W/4, C] log-probs."""
        out = self.session.run(None, {self.input_name: batch.astype(np.float32)})[0]
        return np.transpose(out, (1, 0, 2))

    def line_log_probs(self, lines: Sequence[np.ndarray]) -> list[LineLogProbs]:
        pieces = [p for i, line in enumerate(lines) for p in _split_line(i, line)]
        outputs: dict[int, np.ndarray] = {}
        for group in _width_groups(pieces):
            width = max(p.tensor.shape[2] for p in group)
            batch = np.ones((len(group), 3, HEIGHT, width), dtype=np.float32)  # 1.0 = white
            for k, p in enumerate(group):
                batch[k, :, :, : p.tensor.shape[2]] = p.tensor
            result = self._run(batch)
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
    threads: int = 2, model_path: str | Path | None = None, vocab_path: str | Path | None = None
) -> AsterNetRecognizer:
    """Process-wide AsterNet recognizer per model file and thread count (a session costs ~0.3 s).

    Without paths: the model shipped in the asterocr wheel; with them: e.g. a fine-tuned version.
    """
    return _cached_asternet(
        int(threads), str(model_path) if model_path else None, str(vocab_path) if vocab_path else None
    )


@functools.cache
def _cached_asternet(threads: int, model_path: str | None, vocab_path: str | None) -> AsterNetRecognizer:
    return AsterNetRecognizer(
        model_path=Path(model_path) if model_path else None,
        vocab_path=Path(vocab_path) if vocab_path else None,
        threads=threads,
    )


__all__ = ["AsterNetRecognizer", "get_asternet"]
