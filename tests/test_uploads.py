"""workbench.intake.uploads: one contractor upload stored file by file, on a real SQLite database."""

from __future__ import annotations

import io
import zipfile

from models import User
from tests.test_contractor_upload_messages import BIRTH, MARRIAGE, ingest
from workbench.context import Workbench
from workbench.intake.ingest import IngestOptions
from workbench.intake.uploads import store_uploads


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_upload_stores_new_pages_skips_known_ones_and_names_a_broken_zip(
    wb: Workbench, users: dict[str, User]
) -> None:
    book_id = ingest(wb, "khai_sinh", [BIRTH])
    uploads = [
        (BIRTH.name, BIRTH.read_bytes),  # already in the book
        ("lo_2.zip", lambda: _zip({"trang_2.jpg": MARRIAGE.read_bytes()})),  # opened into its page
        ("hong.zip", lambda: b"not a zip at all"),
    ]
    seen: list[tuple[int, str]] = []
    result = store_uploads(wb.sessions, wb.settings.data_dir, book_id, uploads, IngestOptions(run_ocr=False),
                           users["contractor"], on_file=lambda number, name: seen.append((number, name)))
    assert seen == [(1, BIRTH.name), (2, "lo_2.zip"), (3, "hong.zip")]
    assert result.skipped == [BIRTH.name]
    assert result.report.pages_added == 1
    assert len(result.zip_errors) == 1 and "hong.zip" in result.zip_errors[0]
