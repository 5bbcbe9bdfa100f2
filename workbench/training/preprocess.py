"""Line image -> AsterNet input, exactly as the inference engine prepares it.

The ONNX contract (ENGINEERING.md): height 32 keeping aspect, a white side margin (the
engine's ``SIDE_PAD``, imported so both follow one constant), width a multiple of 4, RGB
scaled to [-1, 1]. The ONNX<->PyTorch equality test runs the engine and this function on the
same lines, so any drift from ``ocr.read.engines.asternet`` shows up there.
"""

from __future__ import annotations

import numpy as np

from ocr.read.engines.asternet import HEIGHT, SIDE_PAD, STRIDE, normalize_piece, resize_to_height
from ocr.read.engines.base import to_gray

__all__ = ["HEIGHT", "SIDE_PAD", "STRIDE", "line_at_height", "normalized_line", "pad_batch"]


def line_at_height(image: np.ndarray) -> np.ndarray:
    """Grayscale/BGR uint8 line -> grayscale uint8 at height 32, resized as the engine resizes."""
    return resize_to_height(to_gray(image))[0]


def normalized_line(image: np.ndarray) -> np.ndarray:
    """Grayscale/BGR uint8 line -> float32 [3, 32, W] in [-1, 1], W % 4 == 0, as the engine feeds it."""
    return normalize_piece(line_at_height(image))


def pad_batch(tensors: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack [3, 32, W_i] into [B, 3, 32, max W] padded with white; returns (batch, frames per line)."""
    width = max(t.shape[2] for t in tensors)
    batch = np.ones((len(tensors), 3, HEIGHT, width), dtype=np.float32)
    for i, t in enumerate(tensors):
        batch[i, :, :, : t.shape[2]] = t
    frames = np.array([t.shape[2] // STRIDE for t in tensors], dtype=np.int64)
    return batch, frames
