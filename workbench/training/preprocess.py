"""Line image -> AsterNet input, exactly as the inference engine prepares it.

The ONNX contract (ENGINEERING.md): height 32 keeping aspect, a white side margin (the
engine's ``SIDE_PAD``, imported so both follow one constant), width a multiple of 4, RGB
scaled to [-1, 1]. The ONNX<->PyTorch equality test runs the engine and this function on the
same lines, so any drift from ``ocr.engines.asternet`` shows up there.
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr.engines.asternet import HEIGHT, SIDE_PAD, STRIDE
from ocr.engines.base import to_gray

__all__ = ["HEIGHT", "SIDE_PAD", "STRIDE", "normalized_line", "pad_batch"]


def normalized_line(image: np.ndarray) -> np.ndarray:
    """Grayscale/BGR uint8 line -> float32 [3, 32, W] in [-1, 1], W % 4 == 0."""
    gray = to_gray(image)
    h, w = gray.shape[:2]
    new_w = max(STRIDE, int(round(w * HEIGHT / max(h, 1))))
    interp = cv2.INTER_AREA if h > HEIGHT else cv2.INTER_LINEAR
    resized = cv2.resize(gray, (new_w, HEIGHT), interpolation=interp)
    padded = cv2.copyMakeBorder(resized, 0, 0, SIDE_PAD, SIDE_PAD, cv2.BORDER_CONSTANT, value=255)
    width = padded.shape[1]
    width4 = max(STRIDE * 2, (width + STRIDE - 1) // STRIDE * STRIDE)
    if width4 != width:
        padded = cv2.copyMakeBorder(padded, 0, 0, 0, width4 - width, cv2.BORDER_CONSTANT, value=255)
    rgb = np.repeat(padded[None, :, :], 3, axis=0).astype(np.float32)
    return (rgb / 255.0 - 0.5) / 0.5


def pad_batch(tensors: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack [3, 32, W_i] into [B, 3, 32, max W] padded with white; returns (batch, frames per line)."""
    width = max(t.shape[2] for t in tensors)
    batch = np.ones((len(tensors), 3, HEIGHT, width), dtype=np.float32)
    for i, t in enumerate(tensors):
        batch[i, :, :, : t.shape[2]] = t
    frames = np.array([t.shape[2] // STRIDE for t in tensors], dtype=np.int64)
    return batch, frames
