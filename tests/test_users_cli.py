"""`python -m workbench users passwd|role|unlock|deactivate|reactivate` (issue #16 item 10) on a real
migrated SQLite file: each change lands, is audited as the @system account, and bad input is one
English line with exit code 2. Most calls run in-process (typer's runner, seconds); the two the
issue names (a password change, a lock-out cleared) also run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from models import AuditEvent, Role, User
from tests.conftest import PASSWORD
from workbench.accounts.auth import AuthError, authenticate, local_time_text
from workbench.cli import app
from workbench.context import Workbench
from workbench.db import transaction

ROOT = Path(__file__).resolve().parent.parent
NEW_PASSWORD = "mat-khau-moi-9"


@pytest.fixture()
def cli(wb: Workbench, users: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI pointed at the test's database; the umask it sets (077) is put back afterwards."""
    monkeypatch.setenv("WORKBENCH_DB", wb.settings.db_url)
    monkeypatch.setenv("WORKBENCH_DATA", str(wb.settings.data_dir))
    umask = os.umask(0o022)
    os.umask(umask)
    yield CliRunner()
    os.umask(umask)


def run(cli: CliRunner, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = cli.invoke(app, ["users", *args], input=stdin)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def user_row(sessions: sessionmaker[Session], username: str) -> User:
    with sessions() as session:
        found = session.scalar(select(User).where(User.username == username))
        session.expunge(found)
        return found


def audit(sessions: sessionmaker[Session], action: str) -> list[tuple[str, int | None]]:
    with sessions() as session:
        return [(e.actor, e.entity_id) for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def lock(sessions: sessionmaker[Session], username: str, minutes: int = 10) -> datetime:
    until = datetime.now(UTC) + timedelta(minutes=minutes)
    with transaction(sessions) as session:
        session.execute(update(User).where(User.username == username).values(locked_until=until, failed_logins=2))
    return until


def test_passwd_from_the_prompt_is_never_echoed_and_must_be_changed(
    cli: CliRunner, sessions: sessionmaker[Session], users: dict[str, User],
) -> None:
    lock(sessions, "official")
    code, out = run(cli, "passwd", "official", stdin=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert code == 0, out
    assert NEW_PASSWORD not in out and "password reset: official" in out
    row = user_row(sessions, "official")
    assert PasswordHasher().verify(row.password_hash, NEW_PASSWORD)
    assert row.must_change_password and row.locked_until is None and row.failed_logins == 0
    assert audit(sessions, "password_reset") == [("@system", users["official"].id)]
    with transaction(sessions) as session:  # the new password logs in (and the page then asks to change it)
        assert authenticate(session, "official", NEW_PASSWORD).must_change_password


@pytest.mark.parametrize(("args", "stdin", "says"), [
    (("passwd", "official", "--password-stdin"), "ngan\n", "at least 8 characters"),
    (("passwd", "khong-co-ai", "--password-stdin"), f"{NEW_PASSWORD}\n", "no user named 'khong-co-ai'"),
    (("passwd", "@system", "--password-stdin"), f"{NEW_PASSWORD}\n", "service account"),
    (("role", "official", "truong-phong"), None, "unknown role 'truong-phong' (known: official, supervisor"),
    (("role", "admin", "official"), None, "no active admin"),
    (("deactivate", "admin"), None, "no active admin"),
    (("unlock", "khong-co-ai"), None, "no user named"),
])
def test_bad_input_is_one_english_line_and_exit_code_2(
    cli: CliRunner, sessions: sessionmaker[Session], args: tuple[str, ...], stdin: str | None, says: str,
) -> None:
    before = user_row(sessions, "official").password_hash, user_row(sessions, "admin").role
    code, out = run(cli, *args, stdin=stdin)
    assert code == 2, out
    assert says in out and "Traceback" not in out
    assert (user_row(sessions, "official").password_hash, user_row(sessions, "admin").role) == before
    assert audit(sessions, "password_reset") == audit(sessions, "set_role") == audit(sessions, "deactivate") == []


def test_role_deactivate_reactivate_and_unlock_are_audited(
    cli: CliRunner, sessions: sessionmaker[Session], users: dict[str, User],
) -> None:
    official_id = users["official"].id
    assert run(cli, "role", "official", "supervisor") == (0, "role of official: supervisor\n")
    assert user_row(sessions, "official").role == Role.SUPERVISOR
    assert run(cli, "deactivate", "official")[0] == 0
    assert not user_row(sessions, "official").active
    assert run(cli, "reactivate", "official")[0] == 0
    assert user_row(sessions, "official").active
    assert run(cli, "unlock", "official") == (0, "official was not locked out\n")
    until = lock(sessions, "official")
    assert run(cli, "unlock", "official") == (
        0, f"unlocked: official (was locked until {local_time_text(until)} ICT)\n")
    row = user_row(sessions, "official")
    assert row.locked_until is None and row.failed_logins == 0
    for action in ("set_role", "deactivate", "activate", "unlock"):
        assert audit(sessions, action) == [("@system", official_id)], action
    # a second admin exists now: the first may be demoted
    assert run(cli, "role", "official", "admin")[0] == 0
    assert run(cli, "role", "admin", "official")[0] == 0


def test_real_command_changes_a_password_and_clears_a_lock_out(
    wb: Workbench, users: dict[str, User], sessions: sessionmaker[Session],
) -> None:
    env = {**os.environ, "WORKBENCH_DB": wb.settings.db_url, "WORKBENCH_DATA": str(wb.settings.data_dir)}

    def command(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "workbench", "users", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, timeout=300)

    until = lock(sessions, "official")
    unlocked = command("unlock", "official")
    assert (unlocked.returncode, unlocked.stdout) == (
        0, f"unlocked: official (was locked until {local_time_text(until)} ICT)\n"), unlocked.stderr
    changed = command("passwd", "official", "--password-stdin", stdin=f"{NEW_PASSWORD}\n")
    assert changed.returncode == 0, changed.stderr
    assert NEW_PASSWORD not in changed.stdout + changed.stderr
    with transaction(sessions) as session:
        assert authenticate(session, "official", NEW_PASSWORD).id == users["official"].id
    with pytest.raises(AuthError, match="Invalid username or password"), transaction(sessions) as session:
        authenticate(session, "official", PASSWORD)
