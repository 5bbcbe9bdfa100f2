"""Security: password hashes, lock-out, scope of the cross-check resolution, the append-only audit
trail on both back-ends, uploaded names inside ZIPs, secrets in the repository, personal data in logs.

Already covered elsewhere (not repeated here): lock-out and idle-session expiry through the UI
(tests/test_app_pages.py), unit scope and roles of every review/supervision/contractor/admin
service (tests/test_scope.py), UPDATE/DELETE on audit_events on both back-ends (tests/test_models.py),
hostile upload names given directly to ingest (tests/test_bad_inputs.py).
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, CrosscheckResult, PopulationExtract, User
from ocr.image.loading import InputFile, zip_members
from tests.backends import BACKENDS, fresh_engine
from tests.conftest import PASSWORD, record_ids
from tests.test_bad_inputs import BOOK, Store, assert_only_content_addressed, page_image
from workbench.accounts.auth import AuthError, authenticate, create_user
from workbench.audit import record_event
from workbench.crosscheck.tracking import resolve_tracking_item
from workbench.db import session_factory, transaction
from workbench.errors import ScopeError
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.policy import LoginPolicy
from workbench.review.queue import next_record
from workbench.review.review import save_record

ROOT = Path(__file__).resolve().parent.parent


# --- passwords and lock-out ---------------------------------------------------------------------


def test_passwords_are_stored_as_salted_argon2id_hashes(
    sessions: sessionmaker[Session], units: dict[str, int],
) -> None:
    secret = "mat-khau-rat-bi-mat"
    with transaction(sessions) as session:
        first = create_user(session, "can_bo_x", secret, "official", ["Xã Tân Lập"])
        second = create_user(session, "can_bo_y", secret, "official", ["Xã Tân Lập"])
    for user in (first, second):
        assert user.password_hash.startswith("$argon2id$") and secret not in user.password_hash
        parameters = extract_parameters(user.password_hash)
        # At least OWASP's argon2id minimum (19 MiB, 2 passes).
        assert parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2
        assert PasswordHasher().verify(user.password_hash, secret)
    assert first.password_hash != second.password_hash  # salted: equal passwords, different hashes
    with transaction(sessions) as session:
        assert authenticate(session, "can_bo_x", secret).id == first.id


def test_lockout_after_repeated_failures_then_expiry_restores_login(
    sessions: sessionmaker[Session], users: dict[str, User],
) -> None:
    policy = LoginPolicy(max_failed_logins=3, lockout_minutes=15)

    def attempt(username: str, password: str) -> str:
        # As the login page does: the failed-attempt counter is committed even when login fails.
        with transaction(sessions) as session:
            try:
                authenticate(session, username, password, policy)
                return "ok"
            except AuthError as exc:
                return exc.message_vi

    generic = attempt("official", "sai-mat-khau")
    assert generic == attempt("khong-co-ai", "sai-mat-khau")  # no hint whether the account exists
    assert [attempt("official", "sai-mat-khau") for _ in range(2)] == [generic, generic]
    locked = attempt("official", PASSWORD)  # the right password, but locked now
    assert "tạm khoá" in locked
    with sessions() as session:
        user = session.scalar(select(User).where(User.username == "official"))
        assert user.locked_until is not None
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.entity_type == "user",
                                                              AuditEvent.entity_id == user.id,
                                                              AuditEvent.action == "locked_out")) == "locked_out"
    with transaction(sessions) as session:  # the lock-out period passes
        session.execute(update(User).where(User.username == "official")
                        .values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert attempt("official", PASSWORD) == "ok"
    with sessions() as session:
        assert session.scalar(select(User.failed_logins).where(User.username == "official")) == 0


# --- scope of the cross-check resolution ----------------------------------------------------------


def test_resolving_a_crosscheck_item_is_scoped_to_the_supervisors_units(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        extract = PopulationExtract(original_name="dan_cu.csv", sha256="0" * 64, stored_path="originals/x.csv",
                                    row_count=1)
        session.add(extract)
        session.flush()
        result = CrosscheckResult(record_id=record_ids(sessions, sample_book_id)[0], role="child",
                                  extract_id=extract.id, status="different", differing_fields=["birth_date"])
        session.add(result)
        session.flush()
        result_id = result.id
    for who in ("other_supervisor", "official", "contractor", "outsider"):
        with pytest.raises(ScopeError):
            call(resolve_tracking_item, result_id, users[who], "Sổ ghi đúng")
    with sessions() as session:
        assert session.get(CrosscheckResult, result_id).resolved_at is None
    resolved = call(resolve_tracking_item, result_id, users["supervisor"], "Sổ ghi đúng")
    assert resolved.resolved_by_id == users["supervisor"].id


# --- the audit trail is append-only -----------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_audit_events_cannot_be_changed_through_the_orm_or_truncated(backend: str, tmp_path: Path) -> None:
    engine = fresh_engine(backend, tmp_path)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        event = record_event(session, actor=None, entity_type="record", entity_id=7, action="approve",
                             new={"status": "approved"})
        session.flush()
        event_id = event.id
    with pytest.raises(Exception, match="append-only"), transaction(sessions) as session:
        session.get(AuditEvent, event_id).action = "reject"  # an ORM UPDATE
    with pytest.raises(Exception, match="append-only"), transaction(sessions) as session:
        session.delete(session.get(AuditEvent, event_id))
    if backend == "postgresql":  # TRUNCATE skips row triggers; a statement trigger refuses it
        with pytest.raises(Exception, match="append-only"), transaction(sessions) as session:
            session.execute(text("TRUNCATE audit_events"))
    with sessions() as session:
        assert session.get(AuditEvent, event_id).action == "approve"
    engine.dispose()


AUDIT_WRITE = re.compile(r"(update|delete)\(\s*AuditEvent|(UPDATE|DELETE\s+FROM|TRUNCATE)\s+audit_events", re.I)


def test_no_code_path_updates_or_deletes_audit_events() -> None:
    offenders = []
    for folder in ("workbench", "app_pages", "models", "ocr"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # the migration creates the triggers that refuse exactly this
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in AUDIT_WRITE.finditer(path.read_text())]
    assert offenders == []


# --- uploaded names inside ZIPs --------------------------------------------------------------------


def _zip_with_raw_names(members: dict[str, bytes]) -> bytes:
    """A ZIP whose member names may hold bytes Python's zipfile would not write (NUL): written with a
    placeholder, then patched in the raw archive (local header and central directory alike)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name.replace("\x00", "#"), data)
    raw = buffer.getvalue()
    for name in members:
        if "\x00" in name:
            raw = raw.replace(name.replace("\x00", "#").encode(), name.encode())
    return raw


def test_names_inside_a_zip_never_reach_a_filesystem_path(tmp_path: Path) -> None:
    members = {"quyen 1/trang\x00.jpg.jpg": page_image(seed=31), "quyen 1/con/trang:2?.jpg": page_image(seed=32),
               "trang 3 \u202e.gpj.jpg": page_image(seed=33)}
    files = zip_members(_zip_with_raw_names(members), "so.zip")
    assert all("\x00" not in f.name for f in files)
    store = Store(session_factory(fresh_engine("sqlite", tmp_path)), tmp_path / "data")
    report = store.ingest(files)
    assert report.pages_failed == 0 and report.pages_added == len(files) == len(members)  # none dropped
    assert_only_content_addressed(store)
    for name, _, _ in store.pages():
        assert "/" not in name and all(ch.isprintable() for ch in name), ascii(name)
    assert {p.name for p in tmp_path.iterdir()} <= {"data", "wb.db", "wb.db-wal", "wb.db-shm"}


# --- no secrets in the repository -----------------------------------------------------------------

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "password hash": re.compile(r"\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{16,}"),
    "password in a URL": re.compile(r"://[^/\s:@'\"]+:([^/\s@'\"{]+)@"),
}
# A literal assigned to a name ending in password/secret/token/api key. Test fixtures' passwords are
# synthetic by design, so tests/ is exempt from this one.
CODE_SECRET = re.compile(r"""(?i)\b\w*(password|passwd|secret|api_?key|token)\s*[:=]\s*["']([^"'\s{]{6,})["']""")
# Documented, deliberately public: the demo users' password (README) and CI's throw-away local
# PostgreSQL role (.ci/postgres.sh). Placeholders in docs ("…", "***", "PW", "<password>") are fine.
ALLOWED_VALUES = {"demo12345", "workbench"}
PLACEHOLDER = re.compile(r"…|\*+|[A-Z_]+|<[^>]*>|\$\{?\w+\}?")


def test_no_secrets_in_tracked_files() -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    findings = []
    for relative in filter(None, tracked.decode().split("\0")):
        path = ROOT / relative
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (images, fonts, model weights)
        content = data.decode("utf-8", errors="replace")
        patterns = dict(SECRET_PATTERNS) if relative.startswith("tests/") else {**SECRET_PATTERNS, "code": CODE_SECRET}
        for kind, pattern in patterns.items():
            for match in pattern.finditer(content):
                value = match.groups()[-1] if match.groups() else match.group(0)
                if value not in ALLOWED_VALUES and not PLACEHOLDER.fullmatch(value):
                    findings.append(f"{relative}: {kind}: {match.group(0)[:60]}")
    assert findings == []


# --- personal data never reaches the logs --------------------------------------------------------

SAMPLE_BOOK = ROOT / "samples" / "books" / "khai_sinh"
PERSON_FIELDS = ("full_name", "father_name", "mother_name", "declarant")


def test_personal_data_never_logged_during_ingest_review_and_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    truth = json.loads((SAMPLE_BOOK / "truth.json").read_text(encoding="utf-8"))
    page = truth["pages"][0]
    names = {r["fields"][k]["value"] for r in page["records"] for k in PERSON_FIELDS if r["fields"][k]["value"]}
    caplog.set_level(logging.DEBUG)  # everything, SQL echo included (the engine is created after this)
    engine = fresh_engine("sqlite", tmp_path)
    sessions = session_factory(engine)
    # A real page read by the real OCR: the names pass through recognition, validation and storage.
    report = ingest_files(sessions, tmp_path / "data", [InputFile(page["file"], path=SAMPLE_BOOK / page["file"])],
                          identity=BOOK, options=IngestOptions(run_ocr=True))
    assert report.pages_done == 1 and report.records_created == len(page["records"])
    with transaction(sessions) as session:
        official = create_user(session, "can_bo_log", "mat-khau-rat-bi-mat", "official", [BOOK.unit_name])
    typed = sorted(names)
    for name in typed[:3]:  # an official corrects names and flags one with a reason naming a person
        with transaction(sessions) as session:
            claim = next_record(session, official)
            save_record(session, official, claim.record_id, claim.version, {"full_name": name, "mother_name": name},
                        "flag", reason=f"Không rõ tên mẹ: {name}")
    # A database error while writing a name: the error text (which UIs and job runners log) hides it.
    with pytest.raises(Exception) as raised, transaction(sessions) as session:
        session.execute(text("INSERT INTO units (id, name, level) VALUES (1, :n, 'xa'), (1, :n, 'xa')"),
                        {"n": typed[0]})
    logging.getLogger("workbench.test").exception("Background job failed: %s", raised.value)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert caplog.records and "SQL parameters hidden" in logged  # the log really was on
    leaked = sorted(name for name in names if name in logged)
    assert leaked == [], leaked
    engine.dispose()


def test_failed_logins_lock_the_account_even_when_the_callers_transaction_rolls_back(tmp_path: Path) -> None:
    from workbench.accounts.auth import AuthError, authenticate, create_user
    from workbench.db import make_engine, migrate, session_factory, transaction
    from workbench.policy import LoginPolicy

    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        create_user(session, "khoa", "mat-khau-dung", "official")
    policy = LoginPolicy(max_failed_logins=3, lockout_minutes=10)
    for _ in range(3):
        with pytest.raises(AuthError), transaction(sessions) as session:  # AuthError rolls this back
            authenticate(session, "khoa", "sai-mat-khau", policy)
    with pytest.raises(AuthError, match="locked"), transaction(sessions) as session:
        authenticate(session, "khoa", "mat-khau-dung", policy)


# --- accounts (issue #17 item 7) ----------------------------------------------------------------------


def _median_seconds(attempt: Callable[[], None], tries: int = 5) -> float:
    import statistics
    import time

    spent = []
    for _ in range(tries):
        start = time.perf_counter()
        attempt()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent)


def test_unknown_account_answers_as_slowly_as_a_wrong_password(
    sessions: sessionmaker[Session], users: dict[str, User],
) -> None:
    """Account names cannot be enumerated by timing: an unknown name costs a hash check too."""
    policy = LoginPolicy(max_failed_logins=1000)  # a lock-out would answer fast and spoil the timing

    def login(username: str) -> Callable[[], None]:
        def attempt() -> None:
            with sessions() as session, pytest.raises(AuthError, match="Invalid username or password"):
                authenticate(session, username, "sai-mat-khau", policy)
        return attempt

    login("official")()  # warm-up (imports, connection pool)
    known = _median_seconds(login("official"))
    unknown = _median_seconds(login("khong-ton-tai"))
    # Medians and a generous factor: a loaded machine moves both; before the fix the ratio was ~0.001.
    assert unknown >= 0.5 * known, (unknown, known)


def test_service_account_names_are_reserved_and_cannot_log_in(sessions: sessionmaker[Session]) -> None:
    from workbench.scope import SYSTEM_USERNAME, system_user

    with transaction(sessions) as session, pytest.raises(AuthError, match="@"):
        create_user(session, "@system2", "mat-khau-dai-du", "admin")
    with transaction(sessions) as session:
        system_user(session)
    with sessions() as session, pytest.raises(AuthError, match="Invalid username or password"):
        authenticate(session, SYSTEM_USERNAME, "!")


def test_a_busy_session_still_ends_at_its_absolute_lifetime() -> None:
    """Idle timeout 30 min, lifetime 12 h: activity every 20 min keeps it alive until 12 h, not after."""
    from workbench.ui.remember import SessionTokens
    from workbench.ui.session import SignedIn, session_expired, touch

    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    state: dict[str, Any] = {"signed_in": SignedIn(7, "canbo", "", "official", start, start)}
    tokens = SessionTokens()
    token = tokens.issue(7, now=start)
    clock = start
    while clock + timedelta(minutes=20) <= start + timedelta(hours=12):
        clock += timedelta(minutes=20)
        assert touch(state, 30, now=clock, max_hours=12) is not None, clock
        assert tokens.resolve(token, 30, now=clock, max_hours=12) == 7, clock
    clock += timedelta(minutes=20)  # 12 h 20 min after login, 20 min after the last activity
    assert touch(state, 30, now=clock, max_hours=12) is None and session_expired(state)
    assert tokens.resolve(token, 30, now=clock, max_hours=12) is None
    assert tokens.issued_at(token) is None  # dropped: a reload cannot bring it back


def test_demo_refuses_a_database_with_real_books_and_accepts_one_with_only_samples(wb: Any) -> None:
    from workbench.books import BookIdentity, get_or_create_book
    from workbench.demo import DEMO_UNIT, real_books, sample_identities, seed_demo
    from workbench.errors import InvalidActionError

    assert sample_identities()  # the bundled sample books are there to be recognised
    with transaction(wb.sessions) as session:  # what `make run` leaves: only the bundled sample books
        for unit, book_type, year, volume in sample_identities():
            get_or_create_book(session, BookIdentity(unit, book_type, year, volume))
    assert real_books(wb) == []
    with transaction(wb.sessions) as session:
        real = get_or_create_book(session, BookIdentity(DEMO_UNIT, "khai_sinh", 1987, 3)).id
    assert real_books(wb) == [real]
    with pytest.raises(InvalidActionError, match="--force"):
        seed_demo(wb, run_ocr=False)
    with wb.sessions() as session:
        assert session.scalar(select(User.id).where(User.username == "admin")) is None


def test_demo_users_must_change_the_published_password_at_first_login(app_env: Any) -> None:
    from tests.test_app_pages import log_in, new_app
    from workbench.demo import DEMO_PASSWORD, seed_demo_users

    wb = app_env
    seed_demo_users(wb)
    with wb.sessions() as session:
        assert session.scalar(select(User.must_change_password).where(User.username == "canbo")) is True
    at = log_in(new_app(), "canbo", DEMO_PASSWORD)
    assert "signed_in" not in at.session_state  # nothing else before the new password
    at.text_input(key="change_current").input(DEMO_PASSWORD)
    at.text_input(key="change_new").input("mat-khau-moi-123")
    at.text_input(key="change_again").input("mat-khau-moi-123")
    at.button[0].click()
    at.run()
    assert not at.exception and "signed_in" in at.session_state
    with wb.sessions() as session:
        assert session.scalar(select(User.must_change_password).where(User.username == "canbo")) is False
        authenticate(session, "canbo", "mat-khau-moi-123")
