"""Tesseract 5 ``vie`` line recognizer via tesserocr (optional; a printed-text peer for benchmarks).

Needs ``requirements-ocr-extra.txt`` (the tesserocr wheel bundles libtesseract) and the Debian
packages ``tesseract-ocr tesseract-ocr-vie`` for the ``vie`` traineddata. Tesseract reads
printed Vietnamese well and handwriting poorly.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ocr.read.decoding import line_reading
from ocr.read.engines.base import to_gray
from ocr.types import CharConfidence, LineReading

TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")


def tesseract_available(tessdata: Path = TESSDATA, lang: str = "vie") -> str | None:
    """None when usable, else why not (for test skips and the benchmark)."""
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return "tesserocr is not installed (pip install -r requirements-ocr-extra.txt)"
    if not (tessdata / f"{lang}.traineddata").exists():
        return f"{tessdata}/{lang}.traineddata missing (apt-get install tesseract-ocr-{lang})"
    return None


class TesseractRecognizer:
    """Reads one text line per image with Tesseract (page segmentation mode: single line)."""

    name = "tesseract-vie"

    def __init__(self, tessdata: Path = TESSDATA, lang: str = "vie"):
        import tesserocr

        self._tesserocr = tesserocr
        self._api = tesserocr.PyTessBaseAPI(path=str(tessdata) + "/", lang=lang, psm=tesserocr.PSM.SINGLE_LINE)
        self._lock = threading.Lock()  # a TessBaseAPI is not thread-safe

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineReading]:
        with self._lock:
            return [self._read(line) for line in lines]

    def _read(self, line: np.ndarray) -> LineReading:
        tesserocr = self._tesserocr
        api = self._api
        api.SetImage(Image.fromarray(to_gray(line)))
        api.Recognize()
        chars: list[CharConfidence] = []
        iterator = api.GetIterator()
        if iterator is not None:
            for symbol in tesserocr.iterate_level(iterator, tesserocr.RIL.SYMBOL):
                try:
                    text = symbol.GetUTF8Text(tesserocr.RIL.SYMBOL)
                except RuntimeError:  # tesserocr raises on a symbol without text
                    continue
                if not text:
                    continue
                if chars and symbol.IsAtBeginningOf(tesserocr.RIL.WORD):
                    chars.append(CharConfidence(" ", 1.0, chars[-1].x1, chars[-1].x1))
                box = symbol.BoundingBox(tesserocr.RIL.SYMBOL) or (0, 0, 0, 0)
                confidence = round(symbol.Confidence(tesserocr.RIL.SYMBOL) / 100.0, 4)
                chars.extend(CharConfidence(ch, confidence, box[0], box[2]) for ch in text)
        return line_reading(chars)

    def close(self) -> None:
        self._api.End()
