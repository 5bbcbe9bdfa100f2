"""File-based registry of recognition models under ``<WORKBENCH_DATA>/models/``.

Each version is a folder ``models/<version>/`` with ``model.onnx``, ``vocab.json``,
``meta.json`` (training-set summary, validation CER before/after, calibration, created_at,
parent version) and optionally ``calibration.json`` (the confidence calibrator re-fitted for
that model). ``models/active`` names the active version; without it the model shipped in the
``asterocr`` wheel is active. Every activation is appended to ``models/activations.jsonl`` and
written to the audit trail, so a rollback knows what was active before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from models import User
from ocr.confidence import Calibrator, load_calibrator
from ocr.fields.local_lexicon import LocalLexicon
from ocr.read.engines.asternet import AsterNetRecognizer, asternet_asset_dir, get_asternet
from ocr.reader import SHIPPED_MODEL_VERSION, ModelFiles, Reader, build_reader
from workbench.audit import record_event

SHIPPED_VERSION = SHIPPED_MODEL_VERSION
MODELS_DIR = "models"
ACTIVE_FILE = "active"
ACTIVATIONS_FILE = "activations.jsonl"
MODEL_FILE = "model.onnx"
VOCAB_FILE = "vocab.json"
META_FILE = "meta.json"
CALIBRATION_FILE = "calibration.json"
_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class ModelRegistryError(ValueError):
    pass


@dataclass(frozen=True)
class ModelVersion:
    version: str
    onnx_path: Path
    vocab_path: Path
    meta: dict[str, Any]
    calibration_path: Path | None  # None: the default calibrator applies

    @property
    def is_shipped(self) -> bool:
        return self.version == SHIPPED_VERSION


def models_dir(data_dir: Path) -> Path:
    return data_dir / MODELS_DIR


def shipped_model() -> ModelVersion:
    assets = asternet_asset_dir()
    return ModelVersion(SHIPPED_VERSION, assets / "asternet.onnx", assets / "vocab.json",
                        {"version": SHIPPED_VERSION, "description": "AsterNet as shipped in the asterocr wheel"}, None)


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def new_version_name(data_dir: Path, now: datetime | None = None) -> str:
    """``ft-YYYYMMDD-HHMMSS``, with a suffix if that name is taken."""
    stamp = (now or datetime.now(UTC)).strftime("ft-%Y%m%d-%H%M%S")
    name, n = stamp, 1
    while (models_dir(data_dir) / name).exists():
        n += 1
        name = f"{stamp}-{n}"
    return name


def register_model(
    data_dir: Path,
    onnx_path: Path,
    vocab_path: Path,
    meta: dict[str, Any],
    *,
    calibration: Calibrator | None = None,
    version: str | None = None,
) -> ModelVersion:
    """Copy a trained model into the registry (not activated); returns its version."""
    version = version or new_version_name(data_dir)
    if not _VERSION_PATTERN.match(version) or version == SHIPPED_VERSION:
        raise ModelRegistryError(f"invalid model version name '{version}'")
    target = models_dir(data_dir) / version
    if target.exists():
        raise ModelRegistryError(f"model version '{version}' already exists")
    staging = Path(tempfile.mkdtemp(dir=_ensure(models_dir(data_dir)), prefix=".staging-"))
    shutil.copyfile(onnx_path, staging / MODEL_FILE)
    shutil.copyfile(vocab_path, staging / VOCAB_FILE)
    full_meta = {"version": version, "created_at": datetime.now(UTC).isoformat(timespec="seconds"), **meta}
    if calibration is not None:
        calibration.version = f"{version}-calibration"
        calibration.save(staging)
        (staging / f"{calibration.version}.json").rename(staging / CALIBRATION_FILE)
        full_meta["calibration"] = {"file": CALIBRATION_FILE, **(calibration.trained_on or {})}
    (staging / META_FILE).write_text(json.dumps(full_meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    staging.rename(target)  # the version appears whole or not at all
    return get_model(data_dir, version)


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def get_model(data_dir: Path, version: str | None = None) -> ModelVersion:
    """A registered version, the shipped model (``shipped``), or the active one (None)."""
    version = version or active_version(data_dir)
    if version == SHIPPED_VERSION:
        return shipped_model()
    folder = models_dir(data_dir) / version
    if not _VERSION_PATTERN.match(version) or not (folder / MODEL_FILE).is_file():
        raise ModelRegistryError(f"unknown model version '{version}'")
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    calibration = folder / CALIBRATION_FILE
    return ModelVersion(version, folder / MODEL_FILE, folder / VOCAB_FILE, meta,
                        calibration if calibration.is_file() else None)


def list_models(data_dir: Path) -> list[ModelVersion]:
    """The shipped model first, then registered versions oldest first."""
    root = models_dir(data_dir)
    found = []
    if root.is_dir():
        for folder in root.iterdir():
            if folder.is_dir() and not folder.name.startswith(".") and (folder / MODEL_FILE).is_file():
                found.append(get_model(data_dir, folder.name))
    found.sort(key=lambda m: (str(m.meta.get("created_at", "")), m.version))
    return [shipped_model(), *found]


def active_version(data_dir: Path) -> str:
    pointer = models_dir(data_dir) / ACTIVE_FILE
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip()
        if name:
            return name
    return SHIPPED_VERSION


def _activation_history(data_dir: Path) -> list[dict[str, Any]]:
    path = models_dir(data_dir) / ACTIVATIONS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def activate(session: Session, data_dir: Path, version: str, actor: User | None, *, reason: str = "activate") -> str:
    """Make ``version`` the active model (audited); returns the previously active version."""
    get_model(data_dir, version)  # must exist
    previous = active_version(data_dir)
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "version": version, "previous": previous,
             "by": actor.username if actor else None, "reason": reason}
    root = _ensure(models_dir(data_dir))
    with (root / ACTIVATIONS_FILE).open("a", encoding="utf-8") as log_file:
        log_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
    _atomic_text(root / ACTIVE_FILE, version + "\n")
    record_event(session, actor=actor, entity_type="model", entity_id=None, action=f"model_{reason}",
                 old={"version": previous}, new={"version": version})
    return previous


def activation_stack(data_dir: Path) -> list[str]:
    """Versions activated in turn, rollbacks popping them: the last entry is the active one."""
    stack = [SHIPPED_VERSION]
    for entry in _activation_history(data_dir):
        if entry.get("reason") == "rollback":
            if len(stack) > 1:
                stack.pop()
            if stack[-1] != entry["version"]:  # the log disagrees with the replay: trust the log
                stack.append(entry["version"])
        else:
            stack.append(entry["version"])
    return stack


def rollback(session: Session, data_dir: Path, actor: User | None) -> str:
    """Re-activate the version that was active before the current one was activated; returns it."""
    stack = activation_stack(data_dir)
    if len(stack) < 2:
        raise ModelRegistryError("nothing to roll back to: the shipped model is active")
    target = stack[-2]
    activate(session, data_dir, target, actor, reason="rollback")
    return target


def model_files_for(data_dir: Path, version: str | None = None) -> ModelFiles:
    """The files (and version) of a registered model (default: the active one), as a worker loads them."""
    model = get_model(data_dir, version)
    return ModelFiles(str(model.onnx_path), str(model.vocab_path),
                      str(model.calibration_path) if model.calibration_path else None, model.version)


def reader_for(data_dir: Path, version: str | None = None, threads: int = 2,
               local: LocalLexicon | None = None) -> Reader:
    """The Reader of a registered model (default: the active one): its engine, its own calibrator
    (else the default one) and its version; ``local``: the unit's confirmed words."""
    return build_reader(model_files_for(data_dir, version), threads=threads, local=local)


def recognizer_for(data_dir: Path, version: str | None = None, threads: int = 2) -> AsterNetRecognizer:
    """An AsterNet engine running the given (default: active) version, cached per file."""
    model = get_model(data_dir, version)
    return get_asternet(threads, model.onnx_path, model.vocab_path)


def calibrator_for(data_dir: Path, version: str | None = None) -> Calibrator:
    """The calibrator fitted for that model, else the default one."""
    model = get_model(data_dir, version)
    return Calibrator.load(model.calibration_path) if model.calibration_path else load_calibrator()
