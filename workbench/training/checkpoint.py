"""A fine-tuned model saved before it is exported: a failed export or check cannot lose it.

A run's work folder is ``<WORKBENCH_DATA>/training/<version>/`` (``version``: the name it will
be registered under). It holds ``checkpoint.pt`` (the state dict plus what re-exporting and
registering need) and, while it is checked, the exported ``model.onnx``. Once the version is
registered the folder is removed (the registered ONNX loads back into PyTorch with
``build_from_onnx``); after a failure it stays, and ``train --export-checkpoint`` finishes it.

The file holds only tensors and plain values, so it loads with ``torch.load(weights_only=True)``
(no arbitrary unpickling of a file from disk).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from asterocr.models.model import AsterNet

from workbench.training.asternet_torch import build_from_state
from workbench.training.evaluate import LineScores
from workbench.training.trainer import EpochLog, FineTuneResult, Recipe

WORK_DIR = "training"
CHECKPOINT_FILE = "checkpoint.pt"
EXPORT_FILE = "model.onnx"
FORMAT = 1


class CheckpointError(ValueError):
    pass


@dataclass(frozen=True)
class Checkpoint:
    version: str  # the version the run registers as
    parent_version: str  # the model it was fine-tuned from (its vocabulary, the "before" figures)
    request: dict[str, Any]  # the TrainRequest, JSON-able
    train_pages: list[str]  # the split, so finishing later validates on the same pages
    validation_pages: list[str]
    training_summary: dict[str, Any]  # TrainingSet.summary() of the run, for the registered meta
    result: FineTuneResult


def work_root(data_dir: Path) -> Path:
    return data_dir / WORK_DIR


def work_dir(data_dir: Path, version: str) -> Path:
    return work_root(data_dir) / version


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> Path:
    """Write atomically (a crash mid-write leaves no half file under the final name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": checkpoint.version,
        "parent_version": checkpoint.parent_version,
        "request": checkpoint.request,
        "train_pages": list(checkpoint.train_pages),
        "validation_pages": list(checkpoint.validation_pages),
        "training_summary": checkpoint.training_summary,
        "result": _result_fields(checkpoint.result),
        "state_dict": {k: v.detach().cpu() for k, v in checkpoint.result.model.state_dict().items()},
    }
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)
    return path


def load_checkpoint(path: Path) -> Checkpoint:
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: say which file, not a pickle trace
        raise CheckpointError(f"{path}: not a training checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a training checkpoint of format {FORMAT}")
    model = build_from_state(payload["state_dict"])
    return Checkpoint(
        version=payload["version"], parent_version=payload["parent_version"], request=payload["request"],
        train_pages=list(payload["train_pages"]), validation_pages=list(payload["validation_pages"]),
        training_summary=payload["training_summary"], result=_result_from(payload["result"], model),
    )


def _result_fields(result: FineTuneResult) -> dict[str, Any]:
    return {
        "alphabet": list(result.alphabet),
        "history": [asdict(entry) for entry in result.history],
        "val_before": result.val_before and asdict(result.val_before),
        "val_after": result.val_after and asdict(result.val_after),
        "minutes": result.minutes, "stopped": result.stopped, "device": result.device,
        "recipe": asdict(result.recipe),
        "train_lines": result.train_lines, "skipped_lines": result.skipped_lines, "extra": dict(result.extra),
    }


def _result_from(fields: dict[str, Any], model: AsterNet) -> FineTuneResult:
    def scores(value: dict[str, Any] | None) -> LineScores | None:
        return LineScores(**value) if value else None

    return FineTuneResult(
        model=model, alphabet=tuple(fields["alphabet"]), history=[EpochLog(**e) for e in fields["history"]],
        val_before=scores(fields["val_before"]), val_after=scores(fields["val_after"]),
        minutes=fields["minutes"], stopped=fields["stopped"], device=fields["device"],
        recipe=Recipe(**fields["recipe"]),
        train_lines=fields["train_lines"], skipped_lines=fields["skipped_lines"], extra=dict(fields["extra"]),
    )
