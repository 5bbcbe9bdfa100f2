"""Concurrency with real concurrent sessions, on SQLite and on PostgreSQL.

Two officials saving the same record at the same moment: exactly one wins, the other gets
ConflictError, and nothing of the loser's is stored (no lost update). Several separate PROCESSES
working one queue never claim or approve the same record. (Threads claiming at once are in
tests/test_review.py; the version re-check inside the UPDATE is tested there too.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Record, RecordStatus, Unit, User
from tests.backends import BACKENDS, fresh_engine
from tests.conftest import insert_book, make_official
from workbench.db import session_factory, transaction
from workbench.errors import ConflictError
from workbench.review.review import save_record

ROOT = Path(__file__).resolve().parent.parent


def _unit_with_book(sessions: sessionmaker[Session], records: int) -> tuple[int, list[int]]:
    with transaction(sessions) as session:
        unit = Unit(name="Xã Tân Lập", level="xa")
        session.add(unit)
        session.flush()
        book_id = insert_book(session, unit.id, [0.9] * records, rows_per_page=20)
        ids = list(session.scalars(select(Record.id).where(Record.book_id == book_id).order_by(Record.id)))
        return unit.id, ids


def _save_at_once(sessions: sessionmaker[Session], officials: list[User], record_id: int, version: int,
                  typed: dict[int, str]) -> dict[int, str]:
    """Every official saves the record (opened at `version`) in their own session, all released together."""
    barrier = threading.Barrier(len(officials))
    outcome: dict[int, str] = {}

    def save(official: User) -> None:
        try:
            with transaction(sessions) as session:
                barrier.wait(10)
                save_record(session, official, record_id, version, {"full_name": typed[official.id]}, "approve")
            outcome[official.id] = "saved"
        except ConflictError:
            outcome[official.id] = "conflict"

    threads = [threading.Thread(target=save, args=(official,)) for official in officials]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_officials_saving_the_same_record_at_once_one_wins_no_lost_update(backend: str, tmp_path: Path) -> None:
    engine = fresh_engine(backend, tmp_path)
    sessions = session_factory(engine)
    unit_id, ids = _unit_with_book(sessions, records=8)
    officials = [make_official(sessions, name, unit_id) for name in ("can_bo_a", "can_bo_b")]
    typed = {officials[0].id: "Nguyễn Văn Một", officials[1].id: "Nguyễn Văn Hai"}
    for record_id in ids:
        with sessions() as session:
            version = session.get(Record, record_id).version  # both opened the record at this version
        outcome = _save_at_once(sessions, officials, record_id, version, typed)
        assert sorted(outcome.values()) == ["conflict", "saved"], (record_id, outcome)
        [winner] = [uid for uid, result in outcome.items() if result == "saved"]
        with sessions() as session:
            record = session.get(Record, record_id)
            assert record.status == RecordStatus.APPROVED and record.approved_by_id == winner
            assert record.field_map()["full_name"].final_value == typed[winner]
            assert record.version == version + 1  # written exactly once
            events = session.execute(select(AuditEvent.user_id, AuditEvent.action).where(
                AuditEvent.entity_type == "record", AuditEvent.entity_id == record_id)).all()
            assert events == [(winner, "approve")]
            field_editors = set(session.scalars(select(AuditEvent.user_id).where(
                AuditEvent.entity_type == "field", AuditEvent.entity_id.in_([f.id for f in record.fields]))))
            assert field_editors == {winner}  # the loser left no trace
    engine.dispose()


WORKER = """  # one official in its own process: claim and approve until the queue is empty
import sys
from sqlalchemy import select
from models import User
from workbench.db import make_engine, session_factory, transaction
from workbench.review.queue import next_record
from workbench.review.review import save_record

sessions = session_factory(make_engine(sys.argv[1]))
with sessions() as session:
    user = session.scalar(select(User).where(User.username == sys.argv[2]))
while True:
    with transaction(sessions) as session:
        claim = next_record(session, user)
    if claim is None:
        break
    with transaction(sessions) as session:
        save_record(session, user, claim.record_id, claim.version, {}, "approve")
    print(claim.record_id, flush=True)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_officials_in_separate_processes_never_share_a_record(backend: str, tmp_path: Path) -> None:
    engine = fresh_engine(backend, tmp_path)
    sessions = session_factory(engine)
    unit_id, ids = _unit_with_book(sessions, records=12)
    names = [f"can_bo_{n}" for n in range(3)]
    for name in names:
        make_official(sessions, name, unit_id)
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, url, name], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in names]
    approved_by: dict[str, list[int]] = {}
    for name, worker in zip(names, workers, strict=True):
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        approved_by[name] = [int(line) for line in out.split()]
    everything = [rid for rids in approved_by.values() for rid in rids]
    assert sorted(everything) == ids  # each record approved once, by exactly one process
    with sessions() as session:
        user_ids = dict(session.execute(select(User.username, User.id)).all())
        approvals = dict(session.execute(select(Record.id, Record.approved_by_id)).all())
        approve_events = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "approve"))
    assert all(approvals[rid] == user_ids[name] for name, rids in approved_by.items() for rid in rids)
    assert approve_events == len(ids)
    engine.dispose()
