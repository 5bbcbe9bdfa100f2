"""PP-OCR recognizer (RapidOCR 3.10.0, ONNX models inside the wheel) as a benchmark peer.

Optional (``requirements-ocr-extra.txt``). Its character list lacks about 60 of the 134
Vietnamese letters, which it silently drops: never use it for Vietnamese names in production.
It gives one score per line, so every character gets that score and an even share of the width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ocr.read.engines.base import to_rgb
from ocr.types import CharConfidence, LineReading


def rapidocr_available() -> str | None:
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        return "rapidocr is not installed (pip install -r requirements-ocr-extra.txt)"
    return None


class RapidOCRRecognizer:
    name = "rapidocr-ppocr"

    def __init__(self, threads: int = 2):
        from rapidocr import RapidOCR

        self._engine = RapidOCR(params={
            "Global.use_cls": False,
            "Global.use_det": False,
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        })

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineReading]:
        return [self._read(line) for line in lines]

    def _read(self, line: np.ndarray) -> LineReading:
        out: Any = self._engine(to_rgb(line), use_det=False, use_cls=False, use_rec=True)  # a TextRecOutput
        text = out.txts[0] if out.txts else ""
        score = float(out.scores[0]) if out.scores else 0.0
        step = line.shape[1] / max(1, len(text))
        chars = [CharConfidence(ch, round(score, 4), int(i * step), int((i + 1) * step)) for i, ch in enumerate(text)]
        return LineReading(text, chars, score)
