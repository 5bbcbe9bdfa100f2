"""bench.synthetic_hands: a folder of N labelled lines that `train --from-folder` reads, tuning hands only."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.synthetic_hands import LINE_HEIGHT, REPO_ROOT, write_folder
from samples.fonts import handwriting_fonts
from workbench.training.folder import import_folder

LINES = 12


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))


def test_writes_n_labelled_lines_in_tuning_hands_only(tmp_path: Path) -> None:
    write_folder(tmp_path / "hands", LINES, seed=5)
    lines = import_folder(tmp_path / "hands")  # the training loader's own checks
    assert len(lines) == LINES
    assert all(line.image.shape[0] == LINE_HEIGHT and line.text.strip() for line in lines)
    assert sum("," in line.text for line in lines) >= LINES // 2  # mostly addresses, like the real target
    used = {font for _, font in _rows(tmp_path / "hands" / "fonts.tsv")}
    assert used <= {p.name for p in handwriting_fonts("tuning")}
    assert not used & {p.name for p in handwriting_fonts("held_out")}


def test_same_seed_same_labels_and_never_inside_the_repository(tmp_path: Path) -> None:
    write_folder(tmp_path / "a", 4, seed=9)
    write_folder(tmp_path / "b", 4, seed=9)
    assert _rows(tmp_path / "a" / "labels.tsv") == _rows(tmp_path / "b" / "labels.tsv")
    with pytest.raises(ValueError, match="inside the repository"):
        write_folder(REPO_ROOT / "data" / "synthetic_hands", 1)
