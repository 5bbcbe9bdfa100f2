"""Faults: a process killed mid-approval, the database unavailable for a while, the disk full.

In each case the work either completes or leaves nothing behind, the error says what happened,
and doing it again afterwards succeeds. (A process killed mid-INGEST is tests/test_cli.py.) Issue #17
item 8: a migration failing half way, two identical ingests at once, a forged audit event, an
unwritable output path, a kill during the PAGE XML export.
"""

from __future__ import annotations

import errno
import os
import select as select_module
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldStatus, FieldValue, Record, RecordStatus, Unit, User
from ocr.image.loading import InputFile
from tests.backends import BACKENDS, PG_URL, fresh_engine
from tests.conftest import insert_book, make_official
from tests.test_bad_inputs import BOOK, Store, assert_only_content_addressed, page_image
from workbench import db as db_module
from workbench import storage
from workbench.db import DatabaseUnavailableError, make_engine, session_factory, transaction
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.review.queue import next_record
from workbench.review.review import save_record

ROOT = Path(__file__).resolve().parent.parent
CORRECTED_NAME = "Lê Văn Sửa"


def _book_with_official(engine: Engine, records: int) -> tuple[sessionmaker[Session], User, list[int]]:
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        unit = Unit(name="Xã Tân Lập", level="xa")
        session.add(unit)
        session.flush()
        unit_id = unit.id
        book_id = insert_book(session, unit_id, [0.9] * records, rows_per_page=20)
        ids = list(session.scalars(select(Record.id).where(Record.book_id == book_id)))
    return sessions, make_official(sessions, "can_bo_duyet", unit_id), ids


# --- a process killed while approving ----------------------------------------------------------

APPROVER = f"""  # one official approving the whole queue, record after record
import sys
from sqlalchemy import select
from models import User
from workbench.db import make_engine, session_factory, transaction
from workbench.review.queue import next_record
from workbench.review.review import save_record

sessions = session_factory(make_engine(sys.argv[1]))
with sessions() as session:
    user = session.scalar(select(User).where(User.username == "can_bo_duyet"))
while True:
    with transaction(sessions) as session:
        claim = next_record(session, user)
    if claim is None:
        break
    with transaction(sessions) as session:
        save_record(session, user, claim.record_id, claim.version, {{"full_name": "{CORRECTED_NAME}"}}, "approve")
"""


def _approval_state(sessions: sessionmaker[Session], record_ids: list[int]) -> tuple[list[int], list[int]]:
    """Check every record is fully approved (with its audit trail) or untouched; return both lists."""
    approved, untouched = [], []
    with sessions() as session:
        for record_id in record_ids:
            record = session.get(Record, record_id)
            field_ids = [f.id for f in record.fields]
            approve_events = session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.entity_type == "record", AuditEvent.entity_id == record_id,
                AuditEvent.action == "approve"))
            field_events = session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.entity_type == "field", AuditEvent.entity_id.in_(field_ids)))
            statuses = {f.status for f in record.fields}
            if record.status == RecordStatus.APPROVED:
                assert record.approved_by_id is not None and record.assigned_to_id is None, record_id
                assert statuses <= {FieldStatus.CONFIRMED, FieldStatus.CORRECTED}, (record_id, statuses)
                assert record.field_map()["full_name"].final_value == CORRECTED_NAME
                assert (approve_events, field_events) == (1, len(field_ids)), record_id
                approved.append(record_id)
            else:
                # Untouched: a claim may have been taken (its own committed step), nothing else.
                assert record.status == RecordStatus.PROPOSED and record.approved_by_id is None, record_id
                assert statuses == {FieldStatus.PROPOSED}, (record_id, statuses)
                assert all(f.final_value is None for f in record.fields)
                assert (approve_events, field_events) == (0, 0), record_id
                untouched.append(record_id)
    return approved, untouched


@pytest.mark.parametrize("backend", BACKENDS)
def test_approver_killed_midway_leaves_each_record_approved_with_its_audit_or_untouched(
    backend: str, tmp_path: Path
) -> None:
    engine = fresh_engine(backend, tmp_path)
    sessions, official, ids = _book_with_official(engine, records=24)
    url = engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen([sys.executable, "-c", APPROVER, url], cwd=ROOT, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    approved_count = 0
    while time.monotonic() < deadline and process.poll() is None and approved_count < 4:
        time.sleep(0.02)
        with sessions() as session:
            approved_count = session.scalar(select(func.count()).select_from(Record).where(
                Record.status == RecordStatus.APPROVED)) or 0
    assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    approved, untouched = _approval_state(sessions, ids)
    assert 4 <= len(approved) < len(ids) and untouched
    # The official (or anyone) carries on: every record ends approved exactly once.
    while True:
        with transaction(sessions) as session:
            claim = next_record(session, official)
        if claim is None:
            break
        with transaction(sessions) as session:
            save_record(session, official, claim.record_id, claim.version, {"full_name": CORRECTED_NAME}, "approve")
    approved, untouched = _approval_state(sessions, ids)
    assert len(approved) == len(ids) and not untouched
    engine.dispose()


# --- the database unavailable for a while --------------------------------------------------------


class SQLiteWriteLock:
    """Another process-like connection holding SQLite's write lock (BEGIN IMMEDIATE) for a while."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def __enter__(self) -> SQLiteWriteLock:
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def release(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def __exit__(self, *_: object) -> None:
        self.release()
        self.connection.close()


def _save_name(sessions: sessionmaker[Session], official: User, record_id: int, name: str) -> None:
    """What the verification page does: one transaction (the version comes from the page shown)."""
    with transaction(sessions) as session:
        version = session.get(Record, record_id).version
        save_record(session, official, record_id, version, {"full_name": name}, "save")


def _name_of(sessions: sessionmaker[Session], record_id: int) -> str | None:
    with sessions() as session:
        return session.get(Record, record_id).field_map()["full_name"].final_value


def test_sqlite_locked_past_the_busy_timeout_is_a_clear_error_and_a_retry_succeeds(tmp_path: Path) -> None:
    engine = fresh_engine("sqlite", tmp_path)
    # Production waits 30 s for the lock; here 0.3 s, so holding it for a second exceeds it.
    event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA busy_timeout=300"))
    engine.dispose()
    sessions, official, ids = _book_with_official(engine, records=3)
    with SQLiteWriteLock(tmp_path / "wb.db"):
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailableError) as raised:
            _save_name(sessions, official, ids[0], "Tên Bị Khoá")
        assert time.monotonic() - started < 5
    assert "database is locked" in str(raised.value) and "nothing was saved" in str(raised.value)
    assert raised.value.message_vi == db_module.UNAVAILABLE_VI
    assert _name_of(sessions, ids[0]) is None  # rolled back: nothing half-saved
    _save_name(sessions, official, ids[0], "Tên Sau Khi Mở")  # the same action again, lock gone
    assert _name_of(sessions, ids[0]) == "Tên Sau Khi Mở"
    engine.dispose()


def test_sqlite_lock_shorter_than_the_busy_timeout_just_waits(tmp_path: Path) -> None:
    engine = fresh_engine("sqlite", tmp_path)  # the production 30 s busy timeout
    sessions, official, ids = _book_with_official(engine, records=2)
    with SQLiteWriteLock(tmp_path / "wb.db") as lock:
        threading.Timer(0.8, lock.release).start()
        started = time.monotonic()
        _save_name(sessions, official, ids[0], "Chờ Khoá")
        waited = time.monotonic() - started
    assert waited >= 0.5 and _name_of(sessions, ids[0]) == "Chờ Khoá"
    engine.dispose()


class TcpProxy:
    """A switchable TCP relay in front of the PostgreSQL server: `stop()` drops every connection
    and refuses new ones (as a server restart or a network cut does), `start()` brings it back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            if self._listener is not None:
                try:  # wakes the thread blocked in accept(); close() alone would not on Linux
                    self._listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select_module.select([a, b], [], [], 1.0)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        except (OSError, ValueError):
            return


@pytest.fixture()
def pg_through_proxy(tmp_path: Path) -> Iterator[tuple[TcpProxy, Engine, Engine]]:
    """(proxy, engine through the proxy, direct engine) on a fresh PostgreSQL schema."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need WORKBENCH_TEST_PG")
    direct = fresh_engine("postgresql", tmp_path)
    url = direct.url
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = make_engine(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    yield proxy, proxied, direct
    proxy.stop()
    proxied.dispose()
    direct.dispose()


@pytest.mark.postgres
def test_postgresql_unreachable_is_a_clear_error_then_work_resumes(
    pg_through_proxy: tuple[TcpProxy, Engine, Engine], monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy, proxied, direct = pg_through_proxy
    monkeypatch.setattr(db_module, "CONNECT_BACKOFF_S", 0.2)
    _, official, ids = _book_with_official(direct, records=3)
    sessions, direct_sessions = session_factory(proxied), session_factory(direct)
    _save_name(sessions, official, ids[0], "Trước Khi Mất Mạng")  # pooled connections now exist
    proxy.stop()  # the server is gone: pooled connections are dead, new ones refused
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError) as raised:
        _save_name(sessions, official, ids[1], "Trong Lúc Mất Mạng")
    gave_up_after = time.monotonic() - started
    assert f"after {db_module.CONNECT_ATTEMPTS} attempt(s)" in str(raised.value)
    assert raised.value.message_vi == db_module.UNAVAILABLE_VI and gave_up_after < 10
    assert _name_of(direct_sessions, ids[1]) is None
    # The server comes back while the next action is still retrying: it simply succeeds.
    threading.Timer(0.3, proxy.start).start()
    _save_name(sessions, official, ids[1], "Sau Khi Có Mạng")
    assert _name_of(direct_sessions, ids[1]) == "Sau Khi Có Mạng"
    assert _name_of(direct_sessions, ids[0]) == "Trước Khi Mất Mạng"  # nothing lost
    # A connection cut in the middle of a transaction rolls it back and says so.
    with pytest.raises(DatabaseUnavailableError, match="nothing was saved"), transaction(sessions) as session:
        session.get(Record, ids[2]).field_map()["full_name"].final_value = "Nửa Chừng"
        session.flush()
        proxy.stop()
        session.execute(select(func.count()).select_from(FieldValue))
    proxy.start()
    assert _name_of(direct_sessions, ids[2]) is None
    _save_name(sessions, official, ids[2], "Làm Lại")
    assert _name_of(direct_sessions, ids[2]) == "Làm Lại"


# --- the disk full while storing images -----------------------------------------------------------


@pytest.fixture()
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB tmpfs as the data directory (needs root, as CI runs; skipped otherwise)."""
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()}); the ENOSPC test below still runs")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def _fill(directory: Path, leave_bytes: int) -> Path:
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    filler = directory / "filler.bin"
    filler.write_bytes(b"\0" * max(free - leave_bytes, 0))
    return filler


def test_disk_full_on_a_real_tmpfs_fails_cleanly_and_retry_succeeds(tiny_disk: Path, tmp_path: Path) -> None:
    sessions = session_factory(fresh_engine("sqlite", tmp_path))
    store = Store(sessions, tiny_disk)
    data = page_image(1200, 900, seed=21)
    # 1) Not even the original fits: the file is reported, no page row, no partial file.
    filler = _fill(tiny_disk, leave_bytes=len(data) // 2)
    report = store.ingest([InputFile("trang_1.jpg", data=data)])
    assert report.pages_added == 0 and report.pages_failed == 1
    assert "No space left on device" in report.errors[0] and "Could not write" in report.errors[0]
    assert store.pages() == [] and store.files() == ["filler.bin"]
    # 2) The original fits but the deskewed copy does not: the page is failed with the reason.
    filler.unlink()
    filler = _fill(tiny_disk, leave_bytes=len(data) + 16 * 1024)
    report = store.ingest([InputFile("trang_1.jpg", data=data)])
    assert (report.pages_added, report.pages_done, report.pages_failed) == (1, 0, 1)
    [(_, status, error)] = store.pages()
    assert status == "failed" and "No space left on device" in error
    assert store.count(Record) == 0
    assert [f for f in store.files() if f != "filler.bin" and not f.startswith("originals/")] == []
    # 3) Space freed: retrying the failed page completes it.
    filler.unlink()
    retry_failed = IngestOptions(run_ocr=False, retry_failed=True)
    retry = ingest_files(sessions, tiny_disk, [], identity=BOOK, options=retry_failed)
    assert (retry.pages_done, retry.pages_failed) == (1, 0)
    assert [status for _, status, _ in store.pages()] == ["done"]
    assert_only_content_addressed(store)


def test_enospc_while_writing_an_image_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, by making fsync fail with ENOSPC: works without root, and checks the temp file is removed."""
    store = Store(session_factory(fresh_engine("sqlite", tmp_path)), tmp_path / "data")
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(storage.os, "fsync", full_disk)
    report = store.ingest([InputFile("trang_2.jpg", data=page_image(seed=22))])
    assert report.pages_failed == 1 and "No space left on device" in report.errors[0]
    assert store.pages() == [] and store.files() == []
    monkeypatch.setattr(storage.os, "fsync", real_fsync)
    report = store.ingest([InputFile("trang_2.jpg", data=page_image(seed=22))])
    assert (report.pages_added, report.pages_done) == (1, 1)


# --- issue #17 item 8: faults that leave damage ----------------------------------------------------

FAIL_AFTER_UPGRADE = '''

_upgrade_that_completes = upgrade


def upgrade() -> None:  # the disk fills up once this migration's work is done
    _upgrade_that_completes()
    raise OSError(errno.ENOSPC, "No space left on device")
'''


def _migrations_failing_in(tmp_path: Path, revision: str) -> Path:
    """A copy of the migrations in which `revision` does all its work, then fails."""
    copy = tmp_path / "migrations"
    shutil.copytree(db_module.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    [script] = copy.glob(f"versions/{revision}_*.py")
    script.write_text("import errno\n" + script.read_text() + FAIL_AFTER_UPGRADE)
    return copy


def _schema(engine: Engine) -> tuple[str | None, list[tuple[str, str]]]:
    """(alembic revision, every table/index/trigger SQLite holds)."""
    with engine.connect() as conn:
        objects = sorted(conn.exec_driver_sql(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"))
        has_version = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").first()
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() if has_version else None
    return revision, [tuple(row) for row in objects]


@pytest.mark.parametrize(("failing", "previous"), [("0001", None), ("0003", "0002")])
def test_a_migration_failing_half_way_leaves_the_previous_revision_and_a_rerun_succeeds(
    tmp_path: Path, failing: str, previous: str | None
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wb.db'}")
    with pytest.raises(OSError, match="No space left"):
        db_module.migrate(engine, script_location=_migrations_failing_in(tmp_path, failing))
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    if previous is not None:
        db_module.migrate(reference, previous)
    assert _schema(engine) == _schema(reference)  # nothing of the failed migration is left
    db_module.migrate(engine)  # init-db again, with room on the disk
    head = make_engine(f"sqlite:///{tmp_path / 'head.db'}")
    db_module.migrate(head)
    assert _schema(engine) == _schema(head)


def _forge_first_event(engine: Engine) -> None:
    columns = "(id, at, actor, entity_type, entity_id, action)"
    forged = "(1, '2020-01-01 00:00:00', 'forger', 'record', 1, 'approve')"
    if engine.dialect.name == "sqlite":
        sql = f"INSERT OR REPLACE INTO audit_events {columns} VALUES {forged}"
    else:  # PostgreSQL's overwrite is an upsert, an UPDATE underneath
        sql = f"INSERT INTO audit_events {columns} VALUES {forged} ON CONFLICT (id) DO UPDATE SET actor = 'forger'"
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)


@pytest.mark.parametrize("backend", BACKENDS)
def test_insert_or_replace_cannot_forge_an_audit_event_and_appends_still_work(backend: str, tmp_path: Path) -> None:
    from workbench.audit import record_event

    engine = fresh_engine(backend, tmp_path)
    sessions = session_factory(engine)

    def append(action: str) -> None:
        with transaction(sessions) as session:
            record_event(session, actor=None, entity_type="book", entity_id=7, action=action, new={"n": action})

    append("create")
    with pytest.raises(Exception, match="append-only"):
        _forge_first_event(engine)
    append("upload")
    append("upload_refused")
    with sessions() as session:
        events = [(e.id, e.actor, e.action) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert [action for _, _, action in events] == ["create", "upload", "upload_refused"]
    assert "forger" not in {actor for _, actor, _ in events}
    assert len({event_id for event_id, _, _ in events}) == 3


def test_an_ingest_that_loses_the_race_for_a_file_skips_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between this ingest's duplicate check and its insert, another ingest registers the same file."""
    from workbench.intake import ingest

    store = Store(session_factory(fresh_engine("sqlite", tmp_path)), tmp_path / "data")
    data = page_image(seed=31)
    real_store_original = ingest.store_original

    def rival_wins_first(data_dir: Path, content: bytes, name: str) -> storage.StoredFile:
        monkeypatch.setattr(ingest, "store_original", real_store_original)
        rival = store.ingest([InputFile("trang_1.jpg", data=content)])
        assert rival.pages_added == 1
        return real_store_original(data_dir, content, name)

    monkeypatch.setattr(ingest, "store_original", rival_wins_first)
    report = store.ingest([InputFile("trang_1.jpg", data=data)])
    assert (report.pages_added, report.pages_already_present, report.errors) == (0, 1, [])
    assert store.pages() == [("trang_1.jpg", "done", None)]


def _cli_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "WORKBENCH_DB": f"sqlite:///{tmp_path / 'wb.db'}", "WORKBENCH_DATA": str(tmp_path / "data")}


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "workbench", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


SAMPLE_PAGES = [str(ROOT / "samples" / "books" / "khai_sinh" / f"page_00{i}.jpg") for i in (1, 2)]
INGEST_ARGS = ("--no-ocr", "--book-type", "khai_sinh", "--unit", "Xã Đồng Thời", "--year", "2003")


def test_two_identical_ingests_at_once_both_finish_and_each_file_is_one_page(tmp_path: Path) -> None:
    env = _cli_env(tmp_path)
    assert _cli(env, "init-db").wait(timeout=120) == 0
    for _ in range(2):  # the race is lost within a few tries (both would start on an empty book)
        children = [_cli(env, "ingest", *SAMPLE_PAGES, *INGEST_ARGS) for _ in range(2)]
        for child in children:
            _, stderr = child.communicate(timeout=300)
            assert child.returncode == 0 and "Traceback" not in stderr and "IntegrityError" not in stderr, stderr
    with make_engine(env["WORKBENCH_DB"]).connect() as conn:
        pages = conn.exec_driver_sql("SELECT original_name, status FROM pages ORDER BY page_index").all()
        books = conn.exec_driver_sql("SELECT count(*) FROM books").scalar()
    assert books == 1
    assert [tuple(p) for p in pages] == [("page_001.jpg", "done"), ("page_002.jpg", "done")]


@pytest.fixture()
def cli_book(tmp_path: Path) -> tuple[dict[str, str], str]:
    """A book of one processed page, ingested through the CLI like a user would."""
    env = _cli_env(tmp_path)
    child = _cli(env, "ingest", SAMPLE_PAGES[0], *INGEST_ARGS)
    stdout, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    return env, stdout.strip().splitlines()[-1].split("=", 1)[1]


@pytest.mark.parametrize("args", [
    ("report", "--out", "/proc/x.xlsx"),
    ("export", "{book}", "--format", "json", "--out", "/proc/x.json"),
    ("export", "{book}", "--format", "xlsx", "--include-unapproved", "--out", "/proc/x.xlsx"),
    ("export", "{book}", "--format", "pagexml", "--include-unapproved", "--out", "/proc/x"),
])
def test_an_output_path_that_cannot_be_written_is_a_clear_error(
    cli_book: tuple[dict[str, str], str], args: tuple[str, ...]
) -> None:
    env, book = cli_book
    child = _cli(env, *(a.format(book=book) for a in args))
    _, stderr = child.communicate(timeout=120)
    target = args[-1]
    assert child.returncode == 2 and "Traceback" not in stderr, stderr
    assert f"error: cannot use {target}: " in " ".join(stderr.split()), stderr


KILLED_EXPORTER = """
import sys, time
from pathlib import Path
from workbench.context import open_workbench
from workbench.deliverables.exports import package
from workbench.deliverables.exports.command import export_files

written = package._write_page_files
def write_then_hang(*args):
    files = written(*args)
    print("page written", flush=True)
    time.sleep(60)  # killed here, half way through the book
    return files
package._write_page_files = write_then_hang
export_files(open_workbench(), int(sys.argv[1]), "pagexml", Path(sys.argv[2]), True)
"""


def test_a_kill_during_pagexml_export_leaves_nothing_under_the_final_name(
    cli_book: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, book = cli_book
    out = tmp_path / "pagexml"
    child = subprocess.Popen([sys.executable, "-c", KILLED_EXPORTER, book, str(out)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "page written"
    assert any(tmp_path.glob(".pagexml.*.tmp/*.xml"))  # the export really was half way
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert not out.exists()
    again = _cli(env, "export", book, "--format", "pagexml", "--include-unapproved", "--out", str(out))
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    assert sorted(p.suffix for p in out.iterdir()) == [".jpg", ".xml"]
