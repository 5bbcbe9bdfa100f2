"""What reads a page's cells: one recognition model as ingest, the grid editor and re-recognition use it.

A ``Reader`` carries the text-line engine, the calibrator fitted for it, the model version recorded with
its proposals and (optionally) the words confirmed in the book's unit. ``build_reader`` is the one place
production code puts these together; ``ModelFiles`` is the small picklable description of a model that
travels to worker processes, which build their own Reader from it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

from ocr.confidence import Calibrator, load_calibrator
from ocr.fields.local_lexicon import LocalLexicon
from ocr.read.engines.base import Recognizer

SHIPPED_MODEL_VERSION = "shipped"  # the AsterNet model shipped in the asterocr wheel


@dataclass(frozen=True)
class ModelFiles:
    """Which recognition model a worker loads (None: the one shipped in the asterocr wheel)."""

    onnx_path: str | None = None
    vocab_path: str | None = None
    calibration_path: str | None = None  # None: the default calibration
    version: str = SHIPPED_MODEL_VERSION  # recorded with the proposals (``Page.model_version``)


@functools.cache
def calibrator_from_file(path: str | None) -> Calibrator | None:
    return Calibrator.load(Path(path)) if path else None


@dataclass(frozen=True)
class Reader:
    """One model version as ingest reads with it: engine, calibrator, the version recorded, and the
    unit's confirmed words (``ocr.fields.local_lexicon``; None: the shipped lexicons only)."""

    recognizer: Recognizer
    calibrator: Calibrator
    model_version: str
    local: LocalLexicon | None = None

    @property
    def engine(self) -> str:
        """The engine's name, as the recognition step records it."""
        return getattr(self.recognizer, "name", type(self.recognizer).__name__)

    def with_local(self, local: LocalLexicon | None) -> Reader:
        """The same model decoding with another unit's confirmed words."""
        return replace(self, local=local)


def build_reader(
    model: ModelFiles = ModelFiles(),
    *,
    threads: int = 2,
    local: LocalLexicon | None = None,
    recognizer: Recognizer | None = None,
    calibrator: Calibrator | None = None,
) -> Reader:
    """The Reader of ``model``: its AsterNet engine (process-wide, per file and thread count), its own
    calibrator (the default one when it has none) and its version; ``local``: the unit's confirmed words.

    ``recognizer`` / ``calibrator`` replace the model's own (an engine already loaded, another engine
    for comparison, a calibrator being evaluated); the model's version is still the one recorded.
    """
    if recognizer is None:
        from ocr.read.engines.asternet import get_asternet  # onnxruntime: loaded only when a model is

        recognizer = get_asternet(threads, model.onnx_path, model.vocab_path)
    if calibrator is None:
        own = calibrator_from_file(model.calibration_path)
        calibrator = own if own is not None else load_calibrator()
    return Reader(recognizer, calibrator, model.version, local)


__all__ = ["SHIPPED_MODEL_VERSION", "ModelFiles", "Reader", "build_reader", "calibrator_from_file"]
