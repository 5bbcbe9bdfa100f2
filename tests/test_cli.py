"""The CLI end to end on a real SQLite file and real page images (subprocesses, like a user)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocr.confidence import load_calibrator
from samples.generator import generate_book
from workbench.book_types import get_book_type

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def book_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_book(tmp_path_factory.mktemp("book") / "khai_sinh", "khai_sinh", pages=3, seed=4242)


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WORKBENCH_DB": f"sqlite:///{tmp_path / 'wb.db'}",
        "WORKBENCH_DATA": str(tmp_path / "data"),
        "WORKBENCH_OCR_THREADS": "2",
    }


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "workbench", *args], cwd=ROOT, env=env, input=stdin,
        capture_output=True, text=True, timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\nstdout:{result.stdout}\nstderr:{result.stderr}")
    return result


def book_id_of(result: subprocess.CompletedProcess) -> int:
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("book_id="), last
    return int(last.split("=", 1)[1])


def db_rows(env: dict[str, str], sql: str) -> list[tuple]:
    with sqlite3.connect(env["WORKBENCH_DB"].split("///", 1)[1]) as conn:
        return conn.execute(sql).fetchall()


def ingest_args(*paths: Path, ocr: bool = False) -> list[str]:
    args = ["ingest", *map(str, paths), "--book-type", "khai_sinh", "--unit", "Xã Đại Lãnh", "--year", "2003",
            "--volume", "1"]
    return args if ocr else [*args, "--no-ocr"]


def truth_of(book_dir: Path) -> dict:
    return json.loads((book_dir / "truth.json").read_text(encoding="utf-8"))


def test_init_db_and_users(env: dict[str, str]) -> None:
    assert "database ready" in run_cli(env, "init-db").stdout
    out = run_cli(env, "users", "add", "canbo", "--role", "official", "--password-stdin", stdin="mat-khau-123\n")
    assert out.stdout.strip().startswith("user_id=")
    again = run_cli(env, "users", "add", "canbo", "--role", "official", "--password-stdin", stdin="x" * 9, check=False)
    assert again.returncode == 2 and "already exists" in again.stderr
    bad_role = run_cli(env, "users", "add", "x", "--role", "boss", "--password-stdin", stdin="y" * 9, check=False)
    assert bad_role.returncode == 2 and "Unknown role" in bad_role.stderr
    (stored_hash,) = db_rows(env, "SELECT password_hash FROM users WHERE username='canbo'")[0]
    assert stored_hash.startswith("$argon2")


def test_ingest_with_ocr_then_export_json(env: dict[str, str], book_dir: Path, tmp_path: Path) -> None:
    page = book_dir / "page_001.jpg"
    book_id = book_id_of(run_cli(env, *ingest_args(page, ocr=True)))
    out = tmp_path / "export.json"
    run_cli(env, "export", str(book_id), "--format", "json", "--out", str(out))
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["book"] == {"id": book_id, "book_type": "khai_sinh", "unit": "Xã Đại Lãnh", "year": 2003,
                               "volume": 1}
    truth_records = truth_of(book_dir)["pages"][0]["records"]
    assert len(payload["records"]) == len(truth_records)  # one record per filled ledger row
    keys = get_book_type("khai_sinh").keys
    for index, record in enumerate(payload["records"], start=1):
        assert (record["page_file"], record["page_index"], record["row_index"]) == ("page_001.jpg", 1, index)
        assert list(record["fields"]) == keys
        for field in record["fields"].values():
            assert set(field) == {"value", "confidence", "final", "status"}
            assert isinstance(field["value"], str) and 0.0 <= field["confidence"] <= 1.0
    # Recognition actually read the handwriting: most registration numbers come out right.
    read = [r["fields"]["registration_no"]["value"] for r in payload["records"]]
    expected = [r["fields"]["registration_no"]["value"] for r in truth_records]
    assert sum(a == b for a, b in zip(read, expected, strict=True)) >= len(expected) // 2
    # Proposals record which model made them (the shipped one: nothing was activated).
    assert db_rows(env, "SELECT DISTINCT model_version FROM pages") == [("shipped",)]
    # Pipeline steps with their settings are in the audit trail.
    steps = {row[0] for row in db_rows(env, "SELECT step_name FROM audit_events WHERE action='pipeline_step'")}
    assert "recognition" in steps and len(steps) >= 3
    # ... the recognition step names the calibrator its confidences come from.
    recognition = db_rows(env, "SELECT step_settings FROM audit_events WHERE step_name='recognition'")
    assert all(json.loads(row[0])["calibration"] == load_calibrator().version for row in recognition)


def test_reingest_is_idempotent(env: dict[str, str], book_dir: Path) -> None:
    pages = sorted(book_dir.glob("page_*.jpg"))
    first = book_id_of(run_cli(env, *ingest_args(*pages)))
    counts = db_rows(env, "SELECT (SELECT count(*) FROM pages), (SELECT count(*) FROM records)")[0]
    second = run_cli(env, *ingest_args(*pages))
    assert book_id_of(second) == first
    assert "already present 3" in second.stderr
    assert db_rows(env, "SELECT (SELECT count(*) FROM pages), (SELECT count(*) FROM records)")[0] == counts
    # Adding with --book ID reaches the same book.
    assert book_id_of(run_cli(env, "ingest", str(pages[0]), "--book", str(first), "--no-ocr")) == first


def test_corrupt_files_fail_alone_and_the_rest_is_processed(
    env: dict[str, str], book_dir: Path, tmp_path: Path
) -> None:
    good = book_dir / "page_002.jpg"
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[:5000])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not an image", encoding="utf-8")
    result = run_cli(env, *ingest_args(truncated, empty, not_image, good))
    book_id_of(result)
    assert "failed" in result.stderr
    pages = db_rows(env, "SELECT original_name, status, error FROM pages ORDER BY page_index")
    by_name = {name: (status, error) for name, status, error in pages}
    assert by_name["page_002.jpg"][0] == "done"
    for name in ("truncated.jpg", "notes.png"):
        status, error = by_name[name]
        assert status == "failed" and name in error
    assert db_rows(env, "SELECT count(*) FROM records")[0][0] == len(truth_of(book_dir)["pages"][1]["records"])
    assert "empty" in result.stderr  # the zero-byte file is reported


def test_ingest_survives_sigkill_and_resumes_exactly_once(env: dict[str, str], book_dir: Path) -> None:
    pages = sorted(book_dir.glob("page_*.jpg"))
    run_cli(env, "init-db")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", *ingest_args(*pages)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        done = db_rows(env, "SELECT count(*) FROM pages WHERE status='done'")[0][0]
        if done >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    book_id_of(run_cli(env, *ingest_args(*pages)))
    statuses = db_rows(env, "SELECT status, count(*) FROM pages GROUP BY status")
    assert statuses == [("done", 3)]
    expected = sum(len(p["records"]) for p in truth_of(book_dir)["pages"])
    assert db_rows(env, "SELECT count(*) FROM records")[0][0] == expected
    duplicates = db_rows(env, "SELECT page_id, row_index, count(*) FROM records GROUP BY 1, 2 HAVING count(*) > 1")
    assert duplicates == []


def test_missing_book_identity_is_a_clear_error(env: dict[str, str], book_dir: Path) -> None:
    result = run_cli(env, "ingest", str(book_dir / "page_001.jpg"), "--unit", "Xã A", check=False)
    assert result.returncode == 2 and "--book-type" in result.stderr and "--year" in result.stderr
    result = run_cli(env, "ingest", str(book_dir / "page_001.jpg"), "--book-type", "khai_sinhh", "--unit", "Xã A",
                     "--year", "2003", "--no-ocr", check=False)
    assert result.returncode == 2 and "Unknown book type" in result.stderr


def test_samples_command_writes_books(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "gen"
    run_cli(env, "samples", "--out", str(out), "--pages", "1", "--seed", "3", "--book-type", "ket_hon")
    truth = json.loads((out / "ket_hon" / "truth.json").read_text(encoding="utf-8"))
    assert truth["book"]["book_type"] == "ket_hon" and (out / "ket_hon" / "page_001.jpg").is_file()


def test_recognize_prints_one_json_object_per_line_image(env: dict[str, str], tmp_path: Path) -> None:
    import cv2

    from samples.fonts import handwriting_fonts
    from samples.lines import render_line

    line = tmp_path / "ten.png"
    cv2.imwrite(str(line), render_line("Nguyễn Thị Hồng Nhung", handwriting_fonts()[0]))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    result = run_cli(env, "recognize", str(line), str(broken), "--field-type", "person_name")
    objects = [json.loads(text) for text in result.stdout.strip().splitlines()]
    assert len(objects) == 1 and "broken.png" in result.stderr
    (reading,) = objects
    assert reading["file"] == "ten.png" and reading["value"] == "Nguyễn Thị Hồng Nhung"
    assert 0.0 <= reading["confidence"] <= 1.0
    assert "".join(c["char"] for c in reading["chars"]) == reading["value"]
    unknown = run_cli(env, "recognize", str(line), "--model", "v-khong-co", check=False)
    assert unknown.returncode == 2 and "unknown model version" in unknown.stderr
    bad_type = run_cli(env, "recognize", str(line), "--field-type", "tên", check=False)
    assert bad_type.returncode == 2


def test_ingest_with_an_unknown_model_version_is_refused(env: dict[str, str], book_dir: Path) -> None:
    result = run_cli(env, *ingest_args(book_dir / "page_001.jpg", ocr=True), "--model", "v-khong-co", check=False)
    assert result.returncode == 2 and "unknown model version" in result.stderr
