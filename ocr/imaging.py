"""Small image helpers shared by the page-pipeline steps (grey conversion, ink masks, resizing)."""

from __future__ import annotations

import cv2
import numpy as np


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grey uint8 view of a BGR or grey image."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def ink_gray(image: np.ndarray) -> np.ndarray:
    """Grey image where coloured ink (blue/red pen, coloured rulings) stays dark.

    Plain luminance makes blue ballpoint and red/green rulings light; the per-pixel minimum of
    the channels keeps any coloured stroke as dark as its strongest absorbing channel.
    """
    if image.ndim == 2:
        return image
    blue, green, red = cv2.split(image[:, :, :3])
    return cv2.min(cv2.min(blue, green), red)


def resize_to_width(gray: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """Downscale (never upscale) to the given width; returns the image and the scale used."""
    scale = min(1.0, width / gray.shape[1])
    if scale >= 1.0:
        return gray, 1.0
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def ink_mask(gray: np.ndarray, block: int, offset: float) -> np.ndarray:
    """Binary mask (uint8 0/255) of pixels darker than their neighbourhood by ``offset`` levels."""
    block = max(3, block | 1)
    return cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, offset
    )
