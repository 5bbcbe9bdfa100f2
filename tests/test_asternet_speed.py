"""AsterNet speed set-up on real rendered lines and the real model: concurrent batches and int8 weights.

Speed itself is measured by bench/recognition_speed.py, not here.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil

import numpy as np
import pytest

from ocr.read.engines.asternet import (
    MAX_BATCH,
    MAX_WIDTH,
    AsterNetRecognizer,
    _split_line,
    _width_groups,
    asternet_asset_dir,
    get_asternet,
    int8_model,
)
from samples.lines import Degradation, handwriting_fonts, render_line

DANCING = next(f for f in handwriting_fonts() if "Dancing" in f.name)
TEXTS = ["Nam", "Kinh", "Trần Thị Bích Ngọc", "125", "Việt Nam", "12/05/1987", "Xã Tân Lập, huyện Đồng Phú",
         "Nguyễn Văn An", "Lê"]


@pytest.fixture(scope="module")
def lines() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    rendered = [render_line(t, DANCING, size=int(rng.integers(36, 50)), degradation=Degradation(blur=0.5, noise=5))
                for t in TEXTS]
    place = "Xã Tân Lập, huyện Đồng Phú, tỉnh Bình Phước; nay là xã Thuận Lợi, huyện Đồng Phú, tỉnh Bình Phước"
    long_text = f"{place}; {place}"
    long_line = render_line(long_text, DANCING, size=40)
    assert long_line.shape[1] * 32 / long_line.shape[0] > MAX_WIDTH  # read in pieces
    return [*rendered, long_line]


@pytest.fixture(scope="module")
def float32_serial() -> AsterNetRecognizer:
    return get_asternet(1, precision="float32")


def test_concurrent_batches_give_exactly_the_serial_evidence(lines, float32_serial) -> None:
    concurrent = get_asternet(2, precision="float32")
    serial = float32_serial.line_log_probs(lines)
    parallel = concurrent.line_log_probs(lines)
    assert concurrent._worker_pool() is not None and float32_serial._worker_pool() is None
    assert len(parallel) == len(lines)
    for a, b, line in zip(serial, parallel, lines, strict=True):
        np.testing.assert_array_equal(a.log_probs, b.log_probs)
        np.testing.assert_array_equal(a.frame_x, b.frame_x)
        assert b.frame_x.max() <= line.shape[1]


def _read_in_child(lines: list[np.ndarray]) -> list[str]:
    return [r.text for r in get_asternet(2, precision="float32").read_lines(lines)]


def test_a_forked_worker_reads_with_the_inherited_recognizer(lines) -> None:
    parent = get_asternet(2, precision="float32")
    expected = [r.text for r in parent.read_lines(lines[:4])]  # the parent's worker threads now exist
    with multiprocessing.get_context("fork").Pool(1) as pool:  # as a process pool may fork ingest workers
        assert pool.apply_async(_read_in_child, (lines[:4],)).get(timeout=120) == expected


def test_batches_widest_first_and_enough_for_every_worker(lines) -> None:
    pieces = [p for i, line in enumerate(lines) for p in _split_line(i, line)]
    groups = _width_groups(pieces, min_groups=2)
    assert sorted(id(p) for g in groups for p in g) == sorted(id(p) for p in pieces)
    assert all(len(g) <= MAX_BATCH for g in groups)
    widths = [max(p.tensor.shape[2] for p in g) for g in groups]
    assert widths == sorted(widths, reverse=True)
    few = pieces[:3]  # three lines on two workers: no batch may hold them all
    assert len(_width_groups(few, min_groups=2)) >= 2
    assert len(_width_groups(few, min_groups=1)) <= len(_width_groups(few, min_groups=2))


def test_int8_reads_like_float32(lines, float32_serial) -> None:
    int8 = get_asternet(1, precision="int8")
    assert int8.precision == "int8" and int8.model_path == asternet_asset_dir() / "asternet.onnx"
    assert get_asternet(1).precision == "float32"  # the default
    exact = float32_serial.read_lines(lines)
    quantized = int8.read_lines(lines)
    assert [r.text for r in quantized[: len(TEXTS)]] == [r.text for r in exact[: len(TEXTS)]] == TEXTS
    evidence_exact, evidence_int8 = float32_serial.line_log_probs(lines), int8.line_log_probs(lines)
    for a, b in zip(evidence_exact, evidence_int8, strict=True):
        assert a.log_probs.shape == b.log_probs.shape
        np.testing.assert_array_equal(a.frame_x, b.frame_x)
        # Character probabilities move a little, not the best path.
        assert (a.log_probs.argmax(axis=1) == b.log_probs.argmax(axis=1)).mean() > 0.97


def test_int8_copy_of_a_registered_model_is_made_once_and_keyed_by_content(tmp_path, monkeypatch, lines) -> None:
    model = tmp_path / "models" / "v2" / "model.onnx"
    model.parent.mkdir(parents=True)
    shutil.copyfile(asternet_asset_dir() / "asternet.onnx", model)
    cache = tmp_path / "cache"
    monkeypatch.setenv("ASTERNET_CACHE_DIR", str(cache))
    recognizer = AsterNetRecognizer(model_path=model, threads=1, precision="int8")
    copies = list(cache.glob("*.onnx"))
    assert len(copies) == 1 and copies[0].name.endswith("-int8.onnx")
    assert copies[0].stat().st_size < model.stat().st_size * 0.6  # int8 weights
    made = copies[0].stat().st_mtime_ns
    assert int8_model(model) == copies[0] and copies[0].stat().st_mtime_ns == made  # reused, not remade
    assert recognizer.read_lines(lines[:2])[0].text == "Nam"
    with model.open("ab") as f:  # another model file (e.g. a re-export) gets its own copy
        f.write(b"\0")
    assert int8_model(model) != copies[0]
    assert not [p for p in os.listdir(cache) if p.endswith(".partial")]


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision"):
        AsterNetRecognizer(threads=1, precision="float16")


def test_without_a_usable_cache_folder_it_runs_float32(tmp_path, monkeypatch, caplog, lines) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("ASTERNET_CACHE_DIR", str(blocker / "asternet"))
    recognizer = AsterNetRecognizer(threads=1, precision="int8")
    assert recognizer.precision == "float32"
    assert "running float32" in caplog.text
    assert recognizer.read_lines(lines[:1])[0].text == "Nam"
