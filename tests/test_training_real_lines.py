"""Fine-tuning on real-sized handwritten lines: the export check stays inside the exported graph's
limits, and a failing export never loses the trained model (issue #14).

Real address lines are ~580 px wide at height 32; the old check put 16 of them side by side
(9,300 px = 2,331 frames against a 2,048-row positional table) and crashed after training.
The last test fine-tunes on a small subset of ``../shared/real_lines/address_lines`` (skipped,
saying why, when that folder or PyTorch is absent). No real line is copied into the repository:
the subset is a folder of symlinks under pytest's tmp_path.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import cv2
import numpy as np
import pytest

from ocr.read.engines.asternet import MAX_WIDTH, STRIDE, AsterNetRecognizer, asternet_asset_dir
from workbench.context import Workbench
from workbench.training.dataset import LabelledLine
from workbench.training.folder import LABELS_FILE, export_folder

if TYPE_CHECKING:  # torch is optional
    from workbench.training.trainer import FineTuneConfig, FineTuneResult

pytestmark = pytest.mark.train
HAS_TORCH = importlib.util.find_spec("torch") is not None
requires_torch = pytest.mark.skipif(
    not HAS_TORCH, reason="PyTorch not installed: pip install -r requirements-train.txt"
)
ASSETS = asternet_asset_dir()
REPO = Path(__file__).resolve().parents[1]
REAL_LINES = REPO.parent / "shared" / "real_lines" / "address_lines"  # <repo>/../shared, never inside the repo
REAL_WIDTH = 580  # px at height 32, a typical real address line
TEXTS = ["Số 253 đường Trần Phú", "Phường 26, Quận Bình Thạnh", "Thị trấn Nam Sách", "Huyện Nam Sách, Hải Dương"]


def _line_like_real(rng: np.random.Generator, text: str, width: int = REAL_WIDTH) -> np.ndarray:
    """An address rendered in a handwriting font, the size of a real address line at height 32."""
    from samples.lines import Degradation, handwriting_fonts, render_line

    fonts = handwriting_fonts()
    line = render_line(text, fonts[int(rng.integers(len(fonts)))], 40, Degradation.random(rng), rng)
    return cv2.resize(line, (width, 32), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def real_sized_lines() -> list[np.ndarray]:
    rng = np.random.default_rng(14)
    return [_line_like_real(rng, ", ".join(TEXTS[i % 4 :] + TEXTS[: i % 4])) for i in range(16)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    """The shipped weights with the extended positional table, exported as `train` exports."""
    import torch

    from workbench.training.asternet_torch import build_from_onnx
    from workbench.training.export import export_onnx

    torch.set_num_threads(1)
    model = build_from_onnx(ASSETS / "asternet.onnx")
    return model, export_onnx(model, tmp_path_factory.mktemp("export") / "model.onnx")


@requires_torch
def test_graph_limits_come_from_the_positional_table(exported) -> None:
    from workbench.training.asternet_torch import EXTENDED_POSITIONS
    from workbench.training.export import exported_max_width

    _, path = exported
    assert exported_max_width(ASSETS / "asternet.onnx") == MAX_WIDTH  # the shipped 1024-px limit
    assert exported_max_width(path) == EXTENDED_POSITIONS * STRIDE


@requires_torch
def test_wide_check_line_of_real_sized_lines_stays_inside_the_model(real_sized_lines, exported) -> None:
    from workbench.training.export import WIDE_CHECK_WIDTH, exported_max_width, verify_export, wide_check_line

    model, path = exported
    max_width = exported_max_width(path)
    wide = wide_check_line(real_sized_lines, max_width)
    assert wide.shape == (32, WIDE_CHECK_WIDTH) and MAX_WIDTH < WIDE_CHECK_WIDTH < max_width
    # The old check line: all 16 side by side, 9,280 px = 2,328 frames with the side padding.
    assert sum(line.shape[1] for line in real_sized_lines) > max_width
    # A graph that reads less than the target never gets more than it reads.
    assert wide_check_line(real_sized_lines, MAX_WIDTH).shape[1] <= MAX_WIDTH - 32
    too_long = np.concatenate(real_sized_lines, axis=1)  # one line beyond the graph's limit
    check = verify_export(model, path, [*real_sized_lines[:4], wide, too_long])
    assert check.same_argmax and check.max_abs_diff < 1e-2, check
    assert check.split_lines == 1 and MAX_WIDTH < check.widest_input <= check.max_width == max_width
    # The engine cuts what it is given into pieces the graph reads: the long line reads, no error.
    engine = AsterNetRecognizer(path, ASSETS / "vocab.json", threads=1)
    assert len(engine.read_lines([too_long, wide])) == 2


def _folder_of_lines(root: Path, count: int) -> Path:
    rng = np.random.default_rng(7)
    texts = [TEXTS[i % len(TEXTS)] for i in range(count)]
    lines = [LabelledLine(_line_like_real(rng, text, width=12 * len(text)), text, f"page-{i % 4}", "folder")
             for i, text in enumerate(texts)]
    export_folder(lines, root / "lines")
    return root / "lines"


@pytest.fixture()
def quick_workbench(tmp_path: Path):
    from workbench.config import Settings
    from workbench.context import open_workbench

    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp_path / 'wb.db'}", data_dir=tmp_path / "data",
                                 ocr_threads=1))
    yield wb
    wb.engine.dispose()


def _untrained(train_lines: list[LabelledLine], validation_lines: list[LabelledLine], onnx_path: Path,
               vocab_path: Path, config: FineTuneConfig, progress: object) -> FineTuneResult:
    """Stands in for fine_tune: the shipped weights as the 'trained' model (this test is about export)."""
    from workbench.training.asternet_torch import build_from_onnx
    from workbench.training.trainer import FineTuneResult, Recipe, load_alphabet

    return FineTuneResult(model=build_from_onnx(onnx_path), alphabet=load_alphabet(vocab_path), history=[],
                          val_before=None, val_after=None, minutes=40.0, stopped="epochs", device="cpu",
                          recipe=Recipe(epochs=8, augment_views=1, patience=2), train_lines=len(train_lines),
                          skipped_lines=0)


@requires_torch
def test_a_failed_export_check_keeps_the_checkpoint_and_names_it(quick_workbench, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.training.export as export
    import workbench.training.trainer as trainer
    from workbench.training.checkpoint import load_checkpoint, work_root
    from workbench.training.model_registry import SHIPPED_VERSION, get_model, list_models
    from workbench.training.service import ExportFailed, TrainRequest, train_model

    wb = quick_workbench
    request = TrainRequest(from_folder=_folder_of_lines(tmp_path, 12), device="cpu", threads=1,
                           validation_share=0.25)

    def broken_check(*args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("onnxruntime: Non-zero status code returned while running Add node pos_encoder/Add")

    monkeypatch.setattr(trainer, "fine_tune", _untrained)
    monkeypatch.setattr(export, "verify_export", broken_check)
    with pytest.raises(ExportFailed) as failure:
        train_model(wb, request, say=lambda message: None)
    checkpoint = failure.value.checkpoint
    assert checkpoint.is_file() and checkpoint.parent.parent == work_root(wb.settings.data_dir)
    assert str(checkpoint) in str(failure.value) and "pos_encoder/Add" in str(failure.value)
    assert "--export-checkpoint" in str(failure.value)
    assert [m.version for m in list_models(wb.settings.data_dir)] == [SHIPPED_VERSION]  # nothing half-registered
    kept = load_checkpoint(checkpoint)
    assert kept.result.minutes == 40.0 and kept.parent_version == SHIPPED_VERSION and kept.validation_pages

    # The cause is fixed: the command the error names turns the kept checkpoint into a registered model.
    finished = _cli(wb, "train", "--export-checkpoint", str(checkpoint))
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().splitlines()[-1] == f"model_version={kept.version}"
    model = get_model(wb.settings.data_dir, kept.version)
    assert model.meta["export_check"]["same_argmax"] and model.meta["validation_cer_after"] is not None
    assert model.meta["validation_pages"] == kept.validation_pages and model.meta["minutes"] == 40.0
    assert not checkpoint.parent.exists()  # registered: the work folder is removed
    missing = _cli(wb, "train", "--export-checkpoint", str(checkpoint))
    assert missing.returncode != 0 and "no such checkpoint" in " ".join(missing.stderr.split())  # rich wraps


def _cli(wb: Workbench, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKBENCH_DB": wb.settings.db_url, "WORKBENCH_DATA": str(wb.settings.data_dir),
           "WORKBENCH_OCR_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)


def _real_subset(target: Path, count: int) -> Path:
    """The first ``count`` labelled real lines as symlinks plus their labels (nothing copied)."""
    target.mkdir(parents=True)
    rows = (REAL_LINES / LABELS_FILE).read_text(encoding="utf-8").splitlines()[:count]
    for row in rows:
        (target / row.split("\t", 1)[0]).symlink_to(REAL_LINES / row.split("\t", 1)[0])
    (target / LABELS_FILE).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return target


@requires_torch
@pytest.mark.skipif(not (REAL_LINES / LABELS_FILE).is_file(),
                    reason=f"real handwritten lines not present at {REAL_LINES} (see ../shared/real_lines/README.md)")
def test_train_from_folder_on_real_lines_registers_a_checked_model(quick_workbench, tmp_path: Path) -> None:
    from workbench.training.checkpoint import work_root
    from workbench.training.model_registry import list_models
    from workbench.training.service import TrainRequest, train_model

    wb = quick_workbench
    folder = _real_subset(tmp_path / "real", 48)  # one epoch on 36 lines: ~1.5 min on 2 idle cores
    request = TrainRequest(from_folder=folder, epochs=1, batch_size=12, device="cpu", max_minutes=2,
                           validation_share=0.25, threads=2)
    outcome = train_model(wb, request, say=lambda message: None)
    meta = outcome.meta
    assert meta["training_set"]["train"]["lines"] == 36 and meta["training_set"]["validation"]["lines"] == 12
    assert meta["history"] and meta["stopped"] in ("epochs", "time_limit")
    assert outcome.model.version in [m.version for m in list_models(wb.settings.data_dir)]
    check = meta["export_check"]
    assert check["same_argmax"] and check["max_abs_diff"] < 1e-2
    assert MAX_WIDTH < check["widest_input"] <= check["max_width"]
    assert meta["validation_cer_before"] is not None and meta["validation_cer_after"] is not None
    assert not any(work_root(wb.settings.data_dir).iterdir())  # the checkpoint went with registration
