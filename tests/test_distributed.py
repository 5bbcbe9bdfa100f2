"""Batch ingest on a real Dask LocalCluster and on a local process pool."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Page, Record
from ocr.image.loading import iter_input_files
from samples.generator import generate_book
from workbench.books import BookIdentity
from workbench.config import Settings
from workbench.context import open_workbench
from workbench.intake.executors import ExecutorSpec
from workbench.intake.ingest import IngestOptions, ingest_files

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def book_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_book(tmp_path_factory.mktemp("dist") / "khai_tu", "khai_tu", pages=3, seed=515)


def _ingest(tmp_path: Path, book_dir: Path, executor: ExecutorSpec) -> tuple[int, int, int]:
    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp_path / 'wb.db'}", data_dir=tmp_path / "data"))
    report = ingest_files(
        wb.sessions, wb.settings.data_dir, iter_input_files(sorted(book_dir.glob("page_*.jpg"))),
        identity=BookIdentity("Phường Hoà Khánh", "khai_tu", 1998, 2),
        options=IngestOptions(run_ocr=False, ocr_threads=1, executor=executor),
    )
    assert report.errors == []
    with wb.sessions() as session:
        done = session.scalar(select(func.count()).select_from(Page).where(Page.status == "done"))
        records = session.scalar(select(func.count()).select_from(Record))
    wb.engine.dispose()
    return report.pages_done, done, records


def _expected_records(book_dir: Path) -> int:
    truth = json.loads((book_dir / "truth.json").read_text(encoding="utf-8"))
    return sum(len(p["records"]) for p in truth["pages"])


def test_ingest_through_a_dask_local_cluster(tmp_path: Path, book_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert len(cluster.workers) == 2
        result = _ingest(tmp_path, book_dir, ExecutorSpec(scheduler=cluster.scheduler_address))
    assert result == (3, 3, _expected_records(book_dir))


def test_ingest_through_a_local_process_pool(tmp_path: Path, book_dir: Path) -> None:
    assert _ingest(tmp_path, book_dir, ExecutorSpec(workers=2)) == (3, 3, _expected_records(book_dir))
