"""Synthetic handwriting-style text lines for recognition tests and calibration.

Lines are rendered with OFL handwriting fonts with full Vietnamese coverage (the ``fontpkg-*``
packages by default; ``handwriting_fonts("tuning")`` adds the vendored hands that may be trained
on, see samples/fonts.py), then degraded with ink variation, blur, slant, noise and
JPEG-like speckle so that recognition is not trivial. Synthetic only: these test the
pipeline, they do not measure accuracy on real handwriting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from samples import fonts


def handwriting_fonts(group: str = "packaged") -> tuple[Path, ...]:
    """Handwriting .ttf files with Vietnamese coverage, of one of samples/fonts.py's hand groups.

    The default (`packaged`: the five fontpkg fonts, in their usual order) keeps every existing
    caller's lines as they were. Anything that trains or fits on synthetic lines asks for
    `tuning`; `held_out` hands are for judging only and must never be trained on.
    """
    return fonts.handwriting_fonts(group)


@dataclass(frozen=True)
class Degradation:
    """How much to spoil a rendered line (0 = clean)."""

    blur: float = 0.0  # gaussian sigma in px
    noise: float = 0.0  # gaussian noise std in grey levels
    slant: float = 0.0  # horizontal shear factor
    rotate: float = 0.0  # degrees
    ink: int = 20  # ink grey level (0 = black)
    paper: int = 245  # paper grey level

    @classmethod
    def random(cls, rng: np.random.Generator, strength: float = 1.0) -> Degradation:
        return cls(
            blur=float(rng.uniform(0, 1.2) * strength),
            noise=float(rng.uniform(0, 14) * strength),
            slant=float(rng.uniform(-0.15, 0.25) * strength),
            rotate=float(rng.uniform(-1.5, 1.5) * strength),
            ink=int(rng.integers(10, 90)),
            paper=int(rng.integers(200, 250)),
        )


def render_line(
    text: str,
    font_path: Path,
    size: int = 40,
    degradation: Degradation | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Render ``text`` as a grayscale uint8 line image with a small margin."""
    degradation = degradation or Degradation()
    rng = rng or np.random.default_rng(0)
    font = ImageFont.truetype(str(font_path), size)
    left, top, right, bottom = font.getbbox(text)
    margin = size // 3
    width, height = right - left + 2 * margin, bottom - top + 2 * margin
    canvas = Image.new("L", (width, height), 255)
    ImageDraw.Draw(canvas).text((margin - left, margin - top), text, font=font, fill=0)
    img = np.asarray(canvas, dtype=np.float32) / 255.0  # 1 = paper, 0 = ink

    if degradation.slant or degradation.rotate:
        shear = np.array([[1, -degradation.slant, degradation.slant * height / 2], [0, 1, 0]], np.float32)
        rot = cv2.getRotationMatrix2D((width / 2, height / 2), degradation.rotate, 1.0)
        m = np.vstack([rot, [0, 0, 1]]) @ np.vstack([shear, [0, 0, 1]])
        img = cv2.warpAffine(img, m[:2].astype(np.float32), (width, height), borderValue=1.0)
    if degradation.blur > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), degradation.blur)
    grey = degradation.paper - (degradation.paper - degradation.ink) * (1.0 - img)
    if degradation.noise > 0:
        grey = grey + rng.normal(0, degradation.noise, grey.shape)
    return np.clip(grey, 0, 255).astype(np.uint8)
