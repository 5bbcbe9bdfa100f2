"""PP-OCRv6's line recognizer (ONNX, inside the ``rapidocr`` wheel) as a second reader of digits and
of the bare letters of names.

Its character list lacks about 60 Vietnamese letters (ocr.read.engines.rapidocr), but it has every
digit and date separator and every bare Latin letter, and it was trained on other data than
AsterNet: its misreadings are not AsterNet's. Only the model file is used, with onnxruntime (as
AsterNet). Its output is cut down to the digit alphabet (``digit_frames``: a date or a registration
number scored under both readers, ocr.read.digit_check), or summed into bare letters
(``letter_frames``: every label whose letter without diacritics is "e" counts for "e"; it sees which
letters are written, not their tone marks, ocr.read.surname_check). No network: the file comes with
the package.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ocr.fields.text import strip_diacritics
from ocr.read.engines.base import LineLogProbs, to_gray

log = logging.getLogger(__name__)

MODEL_FILE = "PP-OCRv6_rec_small.onnx"
HEIGHT = 48  # the model's input height
# Margin (the line's own edge pixels: paper) added around a cut line: the model was trained on
# detector boxes, which leave some paper around the writing; our line crops are tight.
PAD_X, PAD_Y = 8, 4
# Blank first (ocr.read.decoding.BLANK), the characters a date or a number is written with, a space.
DIGIT_ALPHABET: tuple[str, ...] = ("", *"0123456789", "/", ".", "-", " ")
# What a name or a place is written with, without diacritics (strip_diacritics), blank first.
LETTER_ALPHABET: tuple[str, ...] = ("", *"abcdefghijklmnopqrstuvwxyz", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                    *"0123456789", *" ,.-/:;()'")


def ppocr_model_path() -> Path | None:
    """The recognizer file inside the installed rapidocr package (found without importing it)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL_FILE
    return path if path.is_file() else None


class SecondReader:
    """Frames of PP-OCRv6 over the digit alphabet or the bare letters, one LineLogProbs per line."""

    name = "ppocr-v6"

    def __init__(self, model_path: Path, threads: int = 1):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        characters = self._session.get_modelmeta().custom_metadata_map["character"].split("\n")
        labels = ["", *characters, " "]  # the model's blank is 0, its space the last label
        self._columns = np.array([0, *(labels.index(ch) for ch in DIGIT_ALPHABET[1:])])
        # Each model label's bare letter in LETTER_ALPHABET (-1: none, e.g. a Chinese character).
        bare = {ch: i for i, ch in enumerate(LETTER_ALPHABET)}
        self._letter_of = np.array([0, *(bare.get(strip_diacritics(ch), -1) for ch in labels[1:])])
        self._input = self._session.get_inputs()[0].name

    def _probs(self, line: np.ndarray) -> np.ndarray:
        """[T, model labels] softmax of one line."""
        gray = to_gray(line) if line.ndim == 3 else line
        padded = cv2.copyMakeBorder(gray, PAD_Y, PAD_Y, PAD_X, PAD_X, cv2.BORDER_REPLICATE)
        height, width = padded.shape
        resized = cv2.resize(padded, (max(16, round(width * HEIGHT / height)), HEIGHT))
        tensor = (np.repeat(resized[None], 3, axis=0).astype(np.float32) / 255.0 - 0.5) / 0.5
        return np.asarray(self._session.run(None, {self._input: tensor[None]})[0][0])

    def digit_frames(self, lines: Sequence[np.ndarray]) -> list[LineLogProbs]:
        """Each line's frames over DIGIT_ALPHABET: what it would say if it could only write these."""
        return [_frames(line, probs[:, self._columns], DIGIT_ALPHABET)
                for line, probs in zip(lines, map(self._probs, lines), strict=True)]

    def letter_frames(self, lines: Sequence[np.ndarray]) -> list[LineLogProbs]:
        """Each line's frames over LETTER_ALPHABET: every label's probability given to its bare letter."""
        out = []
        kept = self._letter_of >= 0
        for line in lines:
            probs = self._probs(line)
            letters = np.zeros((probs.shape[0], len(LETTER_ALPHABET)))
            np.add.at(letters.T, self._letter_of[kept], probs[:, kept].T)
            out.append(_frames(line, letters, LETTER_ALPHABET))
        return out


def _frames(line: np.ndarray, probs: np.ndarray, alphabet: tuple[str, ...]) -> LineLogProbs:
    """``probs`` (frames x ``alphabet``, not normalised) as the line's LineLogProbs."""
    kept = probs.astype(np.float64) + 1e-12
    kept /= kept.sum(axis=1, keepdims=True)
    stride = (line.shape[1] + 2 * PAD_X) / max(1, probs.shape[0])  # input pixels per frame
    starts = np.arange(probs.shape[0]) * stride - PAD_X
    frame_x = np.stack([starts, starts + stride], axis=1).clip(0, line.shape[1])
    return LineLogProbs(np.log(kept).astype(np.float32), frame_x, alphabet)


@lru_cache(maxsize=1)
def get_second_reader() -> SecondReader | None:
    """The process-wide second reader, or None (logged once) when rapidocr is not installed."""
    path = ppocr_model_path()
    if path is None:
        log.warning("rapidocr's %s not found: dates, numbers and surnames are read by one reader only "
                    "(pip install -r requirements.txt)", MODEL_FILE)
        return None
    return SecondReader(path)


def second_reader_name() -> str:
    """The second reader's name as the recognition step records it ("": not installed)."""
    reader = get_second_reader()
    return reader.name if reader is not None else ""
