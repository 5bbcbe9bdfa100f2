"""Files a contractor hands in at once: ZIPs opened into their page files, every file stored
(``ingest.register_file``), and what became of each, for the upload's notice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from models import User
from ocr.image.loading import ImageLoadError, InputFile, zip_members
from workbench.intake.ingest import IngestOptions, IngestReport, register_file


@dataclass
class UploadResult:
    """One upload: the ingest report, the files already in the book, and ZIPs that could not be
    opened (English, as logged; shown through ``upload_log.error_vi``)."""

    report: IngestReport
    skipped: list[str] = field(default_factory=list)
    zip_errors: list[str] = field(default_factory=list)


def expand_upload(name: str, data: bytes, errors: list[str]) -> list[InputFile]:
    """ZIPs are opened into their page files; other files are one input each. A ZIP that cannot
    be opened is named in ``errors``."""
    if not name.lower().endswith(".zip"):
        return [InputFile(name=name, data=data)]
    try:
        return zip_members(data, name)
    except ImageLoadError as exc:
        errors.append(str(exc))
        return []


def store_uploads(
    factory: sessionmaker[Session],
    data_dir: Path,
    book_id: int,
    uploads: Sequence[tuple[str, Callable[[], bytes]]],
    options: IngestOptions,
    actor: User,
    on_file: Callable[[int, str], object] | None = None,
) -> UploadResult:
    """Store every uploaded file (name, its bytes read on demand) of one book; ``on_file(number,
    name)`` is called before each (1-based), for a progress bar. Scope is checked per file by
    ``register_file``."""
    result = UploadResult(IngestReport(book_id=book_id))
    for number, (name, read) in enumerate(uploads, start=1):
        if on_file is not None:
            on_file(number, name)
        for input_file in expand_upload(name, read(), result.zip_errors):
            present = result.report.pages_already_present
            register_file(factory, data_dir, book_id, input_file, options, actor, result.report)
            if result.report.pages_already_present > present:
                result.skipped.append(input_file.name)
    return result
