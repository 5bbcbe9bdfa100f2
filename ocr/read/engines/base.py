"""Recognizer contract shared by every text-line engine.

A recognizer turns text-line images (grayscale or BGR uint8, one text line each)
into :class:`~ocr.types.LineReading` objects.  CTC engines additionally expose the
raw per-frame log-probabilities so that :mod:`ocr.read.decoding` can run a
lexicon-constrained beam search over them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ocr.types import LineReading


@dataclass(frozen=True)
class LineLogProbs:
    """CTC output for one line.

    ``log_probs`` is ``[T, C]`` log-softmax over ``alphabet`` (index 0 = blank).
    ``frame_x`` is ``[T, 2]``: the x-span (x0, x1) each frame covers, in the
    pixel coordinates of the *input* line image, so characters can be underlined.
    """

    log_probs: np.ndarray
    frame_x: np.ndarray
    alphabet: tuple[str, ...]

    @property
    def num_frames(self) -> int:
        return int(self.log_probs.shape[0])


@runtime_checkable
class Recognizer(Protocol):
    """Anything that reads text lines."""

    name: str

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineReading]: ...


@runtime_checkable
class CTCRecognizer(Recognizer, Protocol):
    """A recognizer whose raw CTC frame posteriors are available for custom decoding."""

    def line_log_probs(self, lines: Sequence[np.ndarray]) -> list[LineLogProbs]: ...


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Grayscale / BGR / BGRA uint8 -> RGB uint8 (engines are fed RGB)."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 4:
        image = image[:, :, :3]
    return np.ascontiguousarray(image[:, :, ::-1])


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grayscale / BGR uint8 -> grayscale uint8."""
    if image.ndim == 2:
        return image
    rgb = to_rgb(image).astype(np.float32)
    return (rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).clip(0, 255).astype(np.uint8)
