"""A tiny run of the province-scale benchmark (bench/scale.py) so its seeder and queries keep working.

A few thousand records, one run per operation: the numbers mean nothing here, the shape does.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.scale import Context, explain, markdown, run_benchmarks
from bench.scale_seed import SeedPlan, seed
from models import Book, FieldValue, Page, Record, User
from tests.backends import BACKENDS, fresh_engine
from workbench.book_types import get_book_type
from workbench.db import session_factory

RECORDS = 3000
EXPORT_RECORDS = 20


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed_and_benchmark_small_province(backend: str, tmp_path: Path) -> None:
    engine = fresh_engine(backend, tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    summary = seed(engine, SeedPlan(records=RECORDS, export_records=EXPORT_RECORDS), tmp_path / "data",
                   log=lambda _line: None)
    from workbench.db import make_engine

    engine = make_engine(url)  # the seeder closed its raw connection
    factory = session_factory(engine)

    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == RECORDS == summary.records
        per_record = Counter(session.scalars(select(FieldValue.record_id)))
        assert len(per_record) == RECORDS and set(per_record.values()) <= {11, 12, 13}
        assert sum(per_record.values()) == summary.fields
        statuses = Counter(session.scalars(select(Record.status)))
        assert {"approved", "proposed", "in_review", "flagged"} <= set(statuses)
        assert 0.3 < statuses["approved"] / RECORDS < 0.5
        export_book = session.get(Book, summary.export_book_id)
        assert export_book is not None
        export_records = session.scalars(select(Record).where(Record.book_id == export_book.id)).all()
        assert len(export_records) == EXPORT_RECORDS and all(r.status == "approved" for r in export_records)
        keys = {f.key for f in export_records[0].fields}
        assert keys == {c.key for c in get_book_type(export_book.book_type).columns}
        assert session.scalar(select(func.count()).select_from(Page)) == summary.pages
        # ids were given explicitly: the sequences/rowids must continue after them
        session.add(User(username="after_seed", password_hash="!", role="official"))
        session.flush()
        session.rollback()

    ctx = Context(engine, factory, summary, tmp_path / "data", runs=1, warmup=0)
    run_benchmarks(ctx)
    names = [m.name for m in ctx.results]
    assert any(n.startswith("next_record") for n in names) and any(n.startswith("progress_report") for n in names)
    assert all(m.runs_ms and m.runs_ms[0] > 0 for m in ctx.results)
    report = next(m for m in ctx.results if m.name.startswith("progress_report"))
    count_per_book = next(s for s in report.statements if "GROUP BY records.book_id" in s.sql)
    plan = explain(engine, count_per_book)
    if backend == "sqlite":  # the Phụ lục 01 count reads only the covering index of migration 0004
        assert "COVERING INDEX ix_records_report" in plan, plan
    else:  # EXPLAIN ANALYZE ran it: every record of the province was counted
        assert f"rows={RECORDS}" in plan.replace(" ", "") or "Index Only Scan" in plan, plan
    text = markdown(ctx, backend, "smoke")
    assert "| next_record, commune official | ≤ 50 ms |" in text
    assert "export_book_zip" in text
