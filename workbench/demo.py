"""Demo data for `make run`: demo users and the bundled sample books (idempotent)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlalchemy import select

from models import Book, Role, Unit, User
from ocr.image.loading import iter_input_files
from workbench.accounts.auth import create_user
from workbench.books import BookIdentity, get_or_create_unit
from workbench.context import Workbench
from workbench.db import transaction
from workbench.errors import InvalidActionError
from workbench.intake.ingest import IngestOptions, IngestReport, ingest_files

log = logging.getLogger(__name__)

SAMPLE_BOOKS_DIR = Path(__file__).resolve().parent.parent / "samples" / "books"
DEMO_UNIT = "Xã Đại Lãnh"
DEMO_PASSWORD = "demo12345"
DEMO_USERS = (
    ("admin", Role.ADMIN, "Quản trị hệ thống"),
    ("canbo", Role.OFFICIAL, "Cán bộ tư pháp - hộ tịch"),
    ("totruong", Role.SUPERVISOR, "Tổ trưởng tổ kiểm tra"),
    ("nhathau", Role.CONTRACTOR, "Đơn vị số hoá"),
)


def seed_demo_users(wb: Workbench) -> list[str]:
    created = []
    with transaction(wb.sessions) as session:
        get_or_create_unit(session, DEMO_UNIT)
        for username, role, full_name in DEMO_USERS:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                units = [] if role == Role.ADMIN else [DEMO_UNIT]
                # The password is published in the README: whoever logs in first must replace it.
                create_user(session, username, DEMO_PASSWORD, role, units, full_name=full_name,
                            must_change_password=True)
                created.append(username)
    return created


def sample_book_folders(root: Path = SAMPLE_BOOKS_DIR) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "truth.json").is_file()) if root.is_dir() else []


def ingest_sample_book(wb: Workbench, folder: Path, run_ocr: bool = True, unit: str = DEMO_UNIT) -> IngestReport:
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    book = truth["book"]
    identity = BookIdentity(
        unit_name=unit,
        book_type=book["book_type"],
        year=int(book["year"]),
        volume=int(book["volume"]),
        declared_count=int(book.get("declared_count") or 0) or None,
    )
    files = iter_input_files(sorted(folder.glob("page_*.jpg")))
    return ingest_files(
        wb.sessions, wb.settings.data_dir, files, identity=identity,
        # retry_failed: a demo load that failed once (e.g. interrupted) heals on the next `make run`.
        options=IngestOptions(run_ocr=run_ocr, retry_failed=True, ocr_threads=wb.settings.ocr_threads),
    )


def sample_identities(root: Path = SAMPLE_BOOKS_DIR) -> set[tuple[str, str, int, int]]:
    """(unit, book type, year, volume) of each bundled sample book, as ingest_sample_book files it."""
    found = set()
    for folder in sample_book_folders(root):
        book = json.loads((folder / "truth.json").read_text(encoding="utf-8"))["book"]
        found.add((DEMO_UNIT, book["book_type"], int(book["year"]), int(book["volume"])))
    return found


def real_books(wb: Workbench) -> list[int]:
    """Ids of books that are not bundled samples: a database holding any is not a demo database."""
    samples = sample_identities()
    with wb.sessions() as session:
        rows = session.execute(select(Book.id, Unit.name, Book.book_type, Book.year_from, Book.volume)
                               .join(Unit, Book.unit_id == Unit.id))
        return [book_id for book_id, *identity in rows if tuple(identity) not in samples]


def seed_demo(wb: Workbench, run_ocr: bool = True, force: bool = False) -> list[IngestReport]:
    """Demo users (published password) and sample books; refused on a database with real books."""
    real = real_books(wb)
    if real and not force:
        raise InvalidActionError(
            f"The database holds {len(real)} books that are not bundled samples; demo users with a published "
            "password are not created there (use --force to do it anyway)",
            "Cơ sở dữ liệu đã có sổ thật; không tạo tài khoản mẫu.",
        )
    seed_demo_users(wb)
    return [ingest_sample_book(wb, folder, run_ocr) for folder in sample_book_folders()]
