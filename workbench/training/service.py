"""The whole `train` run: collect lines -> fine-tune -> export ONNX -> verify -> calibrate -> register.

Starts from the active model (``parent``; the shipped AsterNet when none was activated) and
registers the result without activating it: a supervisor compares and activates.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ocr.engines.asternet import AsterNetRecognizer
from workbench.context import Workbench
from workbench.model_registry import ModelVersion, get_model, new_version_name, recognizer_for, register_model
from workbench.training.calibration import refit_calibrator
from workbench.training.dataset import LabelledLine, TrainingSet, build_training_set
from workbench.training.evaluate import evaluate_recognizer
from workbench.training.fields import fields_from_lines
from workbench.training.preprocess import HEIGHT

if TYPE_CHECKING:  # torch stays optional until a model is trained
    from workbench.training.trainer import FineTuneResult

log = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass(frozen=True)
class TrainRequest:
    since: datetime | None = None
    from_folder: Path | None = None
    max_minutes: float = 55.0
    device: str = "auto"
    epochs: int = 8
    lr: float = 3e-4
    batch_size: int = 16
    validation_share: float = 0.15
    synthetic_ratio: float = 0.0  # synthetic sample lines added per real training line
    base_version: str | None = None  # None: the active model
    threads: int = 2
    seed: int = 0


@dataclass(frozen=True)
class TrainOutcome:
    model: ModelVersion
    training_set: TrainingSet
    meta: dict[str, Any]
    fine_tune: FineTuneResult  # holds the PyTorch model (for tests and further checks)


def collect_lines(wb: Workbench, request: TrainRequest) -> tuple[list[LabelledLine], dict[str, int]]:
    if request.from_folder is not None:
        from workbench.training.folder import import_folder

        return import_folder(request.from_folder), {}
    from workbench.training.db_lines import lines_from_database

    with wb.sessions() as session:
        return lines_from_database(session, wb.settings.data_dir, request.since)


def build_set(wb: Workbench, request: TrainRequest, say: Say) -> TrainingSet:
    lines, notes = collect_lines(wb, request)
    synthetic: list[LabelledLine] = []
    if request.synthetic_ratio > 0:
        from workbench.training.synthetic import committed_sample_lines

        synthetic = committed_sample_lines()
    training_set = build_training_set(lines, validation_share=request.validation_share, synthetic=synthetic,
                                      synthetic_ratio=request.synthetic_ratio, seed=request.seed, notes=notes)
    summary = training_set.summary()
    say(f"training set: {summary['train']['lines']} lines from {summary['train']['pages']} pages; "
        f"validation: {summary['validation']['lines']} lines from {summary['validation']['pages']} pages; "
        f"notes {summary['notes']}")
    return training_set


def train_model(
    wb: Workbench, request: TrainRequest, say: Say = print, training_set: TrainingSet | None = None
) -> TrainOutcome:
    """Fine-tune, export, verify, re-fit the calibrator and register a new (inactive) version.

    ``training_set`` (already built with :func:`build_set`) avoids collecting the lines twice.
    """
    from workbench.training.export import export_onnx, verify_export
    from workbench.training.trainer import FineTuneConfig, fine_tune

    data_dir = wb.settings.data_dir
    parent = get_model(data_dir, request.base_version)
    training_set = training_set or build_set(wb, request, say)
    if not training_set.train:
        raise ValueError("no labelled lines to train on (confirm some fields first, or give --from-folder)")
    config = FineTuneConfig(epochs=request.epochs, lr=request.lr, batch_size=request.batch_size,
                            max_minutes=request.max_minutes, device=request.device, seed=request.seed,
                            threads=request.threads)
    result = fine_tune(training_set.train, training_set.validation, parent.onnx_path, parent.vocab_path, config, say)
    version = new_version_name(data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_onnx(result.model, Path(tmp) / "model.onnx")
        check_lines = [line.image for line in (training_set.validation or training_set.train)[:16]]
        check_lines.append(_wide_line(check_lines))
        check = verify_export(result.model, onnx_path, check_lines)
        say(f"onnxruntime vs PyTorch: max |diff| {check.max_abs_diff:.2e}, same greedy labels {check.same_argmax}, "
            f"widest input {check.widest_input} px")
        if not check.same_argmax or check.max_abs_diff > 1e-2:
            raise RuntimeError(f"exported ONNX does not reproduce PyTorch ({check})")
        meta = _meta(request, parent, training_set, result, check)
        calibration = None
        if training_set.validation:
            candidate = _engine(onnx_path, parent.vocab_path, request.threads)
            held_out = fields_from_lines(training_set.validation)
            before = evaluate_recognizer(recognizer_for(data_dir, parent.version, request.threads),
                                         training_set.validation)
            after = evaluate_recognizer(candidate, training_set.validation)
            # The headline numbers come from the inference path (ONNX engine), as officials will see it.
            meta.update({"validation_cer_before": round(before.cer, 4), "validation_cer_after": round(after.cer, 4),
                         "validation_line_exact_before": round(before.line_exact, 4),
                         "validation_line_exact_after": round(after.line_exact, 4)})
            say(f"validation (ONNX engine): CER {before.cer:.4f} -> {after.cer:.4f}, "
                f"line exact {before.line_exact:.3f} -> {after.line_exact:.3f}")
            fit = refit_calibrator(candidate, held_out, f"{version}-calibration")
            calibration = fit.calibrator
            meta["calibration_fit"] = {"fields": fit.fields, "accuracy": round(fit.accuracy, 4),
                                       "ece": None if fit.ece is None else round(fit.ece, 4), "result": fit.reason}
            say(f"calibrator: {fit.reason}")
        model = register_model(data_dir, onnx_path, parent.vocab_path, meta, calibration=calibration, version=version)
    return TrainOutcome(model, training_set, meta, result)


def _engine(onnx_path: Path, vocab_path: Path, threads: int) -> AsterNetRecognizer:
    return AsterNetRecognizer(model_path=onnx_path, vocab_path=vocab_path, threads=threads)


def _wide_line(lines: list[np.ndarray]) -> np.ndarray:
    """Lines side by side at height 32, wider than the shipped model's 1024-px limit (proves the fix)."""
    resized = [cv2.resize(line, (max(1, round(line.shape[1] * HEIGHT / line.shape[0])), HEIGHT)) for line in lines]
    parts: list[np.ndarray] = []
    while sum(p.shape[1] for p in parts) <= 1100:
        parts.extend(resized)
    return np.concatenate(parts, axis=1)


def _meta(request: TrainRequest, parent: ModelVersion, training_set: TrainingSet, result, check) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "parent_version": parent.version,
        "request": {k: (str(v) if isinstance(v, Path | datetime) else v) for k, v in asdict(request).items()},
        "training_set": training_set.summary(),
        "validation_pages": sorted({line.page_key for line in training_set.validation}),
        # The trainer's own validation (PyTorch, cached stem); replaced below by the ONNX engine's figures.
        "trainer_validation": {"before": result.val_before and result.val_before.as_dict(),
                               "after": result.val_after and result.val_after.as_dict()},
        "validation_cer_before": None,
        "validation_cer_after": None,
        "history": [asdict(e) for e in result.history],
        "minutes": round(result.minutes, 2),
        "stopped": result.stopped,
        "device": result.device,
        "skipped_lines": result.skipped_lines,
        "export_check": asdict(check),
    }
