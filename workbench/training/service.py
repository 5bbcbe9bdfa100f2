"""The whole `train` run: collect lines -> fine-tune -> checkpoint -> export ONNX -> verify -> calibrate -> register.

Starts from the active model (``parent``; the shipped AsterNet when none was activated) and
registers the result without activating it: a supervisor compares and activates. The trained
model is saved as a checkpoint in the run's work folder (``<WORKBENCH_DATA>/training/<version>/``,
see ``checkpoint``) before it is exported, so a failing export or check never loses it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocr.read.engines.asternet import AsterNetRecognizer
from workbench.context import Workbench
from workbench.training.calibration import refit_calibrator
from workbench.training.dataset import LabelledLine, TrainingSet, build_training_set, deduplicate
from workbench.training.evaluate import evaluate_recognizer
from workbench.training.fields import fields_from_lines
from workbench.training.model_registry import (
    ModelVersion,
    get_model,
    models_dir,
    new_version_name,
    recognizer_for,
    register_model,
)

if TYPE_CHECKING:  # torch stays optional until a model is trained
    from workbench.training.checkpoint import Checkpoint
    from workbench.training.export import ExportCheck
    from workbench.training.trainer import FineTuneResult

log = logging.getLogger(__name__)

Say = Callable[[str], None]
CHECK_LINES = 16  # lines the export check runs (besides one wide line built from them)


@dataclass(frozen=True)
class TrainRequest:
    since: datetime | None = None
    from_folder: Path | None = None
    max_minutes: float = 55.0
    device: str = "auto"
    epochs: int | None = None  # None: the trainer's automatic recipe within max_minutes
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
    """Fine-tune, save a checkpoint, export, verify, re-fit the calibrator and register a new (inactive) version.

    ``training_set`` (already built with :func:`build_set`) avoids collecting the lines twice.
    The checkpoint is written before anything can fail on the trained model: if the export,
    its check or the registration fails, :class:`ExportFailed` names the file that keeps it.
    """
    from workbench.training.checkpoint import CHECKPOINT_FILE, Checkpoint, save_checkpoint, work_dir
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
    checkpoint = Checkpoint(
        version=_free_version(data_dir), parent_version=parent.version, request=_request_fields(request),
        train_pages=_pages(training_set.train), validation_pages=_pages(training_set.validation),
        training_summary=training_set.summary(), result=result)
    path = save_checkpoint(work_dir(data_dir, checkpoint.version) / CHECKPOINT_FILE, checkpoint)
    say(f"checkpoint saved: {path} (removed once the model is registered)")
    return _finish(wb, request, parent, training_set, checkpoint, path, say)


def export_checkpoint(wb: Workbench, path: Path, say: Say = print) -> TrainOutcome:
    """Finish a run whose export or check failed: export, verify, evaluate and register its checkpoint.

    The lines are collected again from the run's own source (folder or database) and split by
    the pages the checkpoint recorded, so validation stays on pages the model never trained on.
    """
    from workbench.training.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(path)
    request = _request_from(checkpoint.request)
    parent = get_model(wb.settings.data_dir, checkpoint.parent_version)
    training_set = _recorded_split(wb, request, checkpoint, say)
    if (models_dir(wb.settings.data_dir) / checkpoint.version).exists():  # finished once already
        checkpoint = replace(checkpoint, version=_free_version(wb.settings.data_dir))
    say(f"exporting checkpoint {path} as {checkpoint.version} (fine-tuned from {parent.version})")
    return _finish(wb, request, parent, training_set, checkpoint, path, say)


class ExportFailed(RuntimeError):
    """Export, check or registration of a trained model failed; its checkpoint is kept."""

    def __init__(self, message: str, checkpoint: Path) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


def _finish(wb: Workbench, request: TrainRequest, parent: ModelVersion, training_set: TrainingSet,
            checkpoint: Checkpoint, path: Path, say: Say) -> TrainOutcome:
    try:
        outcome = _export_and_register(wb, request, parent, training_set, checkpoint, path.parent, say)
    except Exception as exc:  # whatever failed, the trained model must stay findable
        message = (f"export of the trained model failed: {exc}. The trained model is kept in the checkpoint "
                   f"{path}; after fixing the cause, finish it with: "
                   f"python -m workbench train --export-checkpoint {path}")
        log.error(message)
        raise ExportFailed(message, path) from exc
    _discard_work_folder(wb.settings.data_dir, path, say)
    return outcome


def _export_and_register(wb: Workbench, request: TrainRequest, parent: ModelVersion, training_set: TrainingSet,
                         checkpoint: Checkpoint, folder: Path, say: Say) -> TrainOutcome:
    from workbench.training.checkpoint import EXPORT_FILE
    from workbench.training.export import export_onnx, exported_max_width, verify_export, wide_check_line

    data_dir = wb.settings.data_dir
    result, version = checkpoint.result, checkpoint.version
    onnx_path = export_onnx(result.model, folder / EXPORT_FILE)
    check_lines = [line.image for line in (training_set.validation or training_set.train)[:CHECK_LINES]]
    if not check_lines:
        raise ValueError("no lines to check the export on")
    check_lines.append(wide_check_line(check_lines, exported_max_width(onnx_path)))
    check = verify_export(result.model, onnx_path, check_lines)
    say(f"onnxruntime vs PyTorch: max |diff| {check.max_abs_diff:.2e}, same greedy labels {check.same_argmax}, "
        f"widest input {check.widest_input} px (limit {check.max_width} px)")
    if not check.same_argmax or check.max_abs_diff > 1e-2:
        raise RuntimeError(f"exported ONNX does not reproduce PyTorch ({check})")
    meta = _meta(request, parent, checkpoint, check)
    calibration = None
    if training_set.validation:
        # The engine cuts lines wider than the shipped 1024-px limit into pieces, so no
        # validation line reaches the graph wider than its positional table.
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


def _free_version(data_dir: Path) -> str:
    """A new version name that no registered model and no kept checkpoint uses."""
    from workbench.training.checkpoint import work_dir

    base = new_version_name(data_dir)
    name, n = base, 1
    while work_dir(data_dir, name).exists() or (models_dir(data_dir) / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _pages(lines: list[LabelledLine]) -> list[str]:
    return sorted({line.page_key for line in lines})


def _request_fields(request: TrainRequest) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path | datetime) else v) for k, v in asdict(request).items()}


def _request_from(fields: dict[str, Any]) -> TrainRequest:
    # Only fields TrainRequest still has: a checkpoint may come from an older version.
    values = {k: v for k, v in fields.items() if k in TrainRequest.__dataclass_fields__}
    if values.get("from_folder"):
        values["from_folder"] = Path(values["from_folder"])
    if values.get("since"):
        values["since"] = datetime.fromisoformat(values["since"])
    return TrainRequest(**values)


def _recorded_split(wb: Workbench, request: TrainRequest, checkpoint: Checkpoint, say: Say) -> TrainingSet:
    """The run's lines again, split by the pages the checkpoint recorded (not re-drawn)."""
    lines, notes = collect_lines(wb, request)
    kept, _ = deduplicate(lines)
    train_pages, validation_pages = set(checkpoint.train_pages), set(checkpoint.validation_pages)
    train = [line for line in kept if line.page_key in train_pages]
    validation = [line for line in kept if line.page_key in validation_pages]
    unseen = len(kept) - len(train) - len(validation)
    if unseen:
        say(f"{unseen} lines on pages the run never saw are left out")
    if not train and not validation:
        raise ValueError("none of the checkpoint's lines were found again (was the folder moved or emptied?)")
    return TrainingSet(train, validation, notes)


def _discard_work_folder(data_dir: Path, path: Path, say: Say) -> None:
    """The registry holds the model now; remove the run's own work folder (never a folder elsewhere)."""
    from workbench.training.checkpoint import work_root

    folder = path.parent
    if folder.resolve().parent != work_root(data_dir).resolve():
        return
    try:
        shutil.rmtree(folder)
    except OSError as exc:  # the model is registered: a leftover folder is only disk space
        say(f"could not remove the work folder {folder}: {exc}")


def _meta(request: TrainRequest, parent: ModelVersion, checkpoint: Checkpoint, check: ExportCheck) -> dict[str, Any]:
    result = checkpoint.result
    return {
        "parent_version": parent.version,
        "request": _request_fields(request),
        "training_set": checkpoint.training_summary,
        "validation_pages": checkpoint.validation_pages,
        # The trainer's own validation (PyTorch, cached stem); replaced below by the ONNX engine's figures.
        "trainer_validation": {"before": result.val_before and result.val_before.as_dict(),
                               "after": result.val_after and result.val_after.as_dict()},
        "validation_cer_before": None,
        "validation_cer_after": None,
        "history": [asdict(e) for e in result.history],
        "minutes": round(result.minutes, 2),
        "stopped": result.stopped,
        "recipe": asdict(result.recipe),
        "device": result.device,
        "skipped_lines": result.skipped_lines,
        "export_check": asdict(check),
    }
