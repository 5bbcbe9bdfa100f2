"""The command line: `python -m workbench COMMAND`."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import cv2
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from models import Role, User
from ocr.image.loading import ImageLoadError, iter_input_files
from ocr.reader import ModelFiles, Reader, build_reader
from ocr.types import FIELD_TYPES
from workbench.accounts import admin
from workbench.accounts.auth import AuthError, create_user, local_time_text
from workbench.book_types import BookTypeError, all_book_types
from workbench.books import BookError, BookIdentity
from workbench.config import load_settings
from workbench.context import Workbench, open_workbench
from workbench.crosscheck.cli import crosscheck_app
from workbench.db import transaction
from workbench.deliverables.export_json import export_book_json
from workbench.errors import NotFoundError, ServiceError
from workbench.intake.executors import ExecutorSpec
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.scope import system_user
from workbench.storage import private_files
from workbench.training.model_registry import ModelRegistryError, get_model

app = typer.Typer(help="Civil-registry digitisation workbench.", no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(crosscheck_app, name="crosscheck")

err = Console(stderr=True)
log = logging.getLogger("workbench")


@app.callback()
def _setup(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    private_files()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main() -> None:
    """`python -m workbench`: an OSError that reaches here (an --out path that cannot be written, a
    full disk, a folder that is not there) is one English line and exit code 2, not a traceback."""
    try:
        app(prog_name="python -m workbench")
    except OSError as exc:
        err.print(f"[red]error:[/red] {escape(os_error_text(exc))}")
        sys.exit(2)


def os_error_text(exc: OSError) -> str:
    """'cannot use /proc/x.xlsx: Permission denied'; the path is the one the user named."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return f"file system error: {reason}"
    return f"cannot use {exc.filename}: {reason}"


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


def _system_actor(wb: Workbench) -> User:
    """The account commands act as: the command line has no login (workbench.scope.system_user)."""
    with transaction(wb.sessions) as session:
        return system_user(session)


@app.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    wb = open_workbench()
    typer.echo(f"database ready: {wb.engine.url.render_as_string(hide_password=True)}")


@users_app.command("add")
def users_add(
    username: str,
    role: str = typer.Option(..., "--role", help="official | supervisor | contractor | admin"),
    unit: list[str] = typer.Option([], "--unit", help="Unit in the user's scope (repeatable)."),
    full_name: str = typer.Option("", "--full-name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Add a user; prompts for the password unless --password-stdin."""
    password = _read_password(password_stdin)
    wb = open_workbench()
    try:
        with transaction(wb.sessions) as session:
            user = create_user(session, username, password, role, unit, full_name, actor=system_user(session))
            user_id = user.id
    except AuthError as exc:
        raise _fail(escape(str(exc))) from exc
    typer.echo(f"user_id={user_id}")


def _read_password(from_stdin: bool) -> str:
    """One line of stdin (scripts), or a hidden prompt asked twice; never echoed."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


_T = TypeVar("_T")


def _manage_user(username: str, change: Callable[[Session, User, int], _T]) -> _T:
    """Run one admin service on the named account, as the system account (a system admin), audited
    there; a refusal is one English line and exit code 2."""
    wb = open_workbench()
    try:
        with transaction(wb.sessions) as session:
            actor = system_user(session)
            return change(session, actor, admin.find_user_id(session, actor, username))
    except NotFoundError as exc:
        raise _fail(f"no user named '{escape(username)}'") from exc
    except ServiceError as exc:
        raise _fail(escape(str(exc))) from exc


_ROLES = tuple(r.value for r in Role)
_PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the new password from stdin.")


@users_app.command("passwd")
def users_passwd(username: str, password_stdin: bool = _PASSWORD_STDIN) -> None:
    """Reset a user's password (prompted unless --password-stdin); they must change it at next login."""
    password = _read_password(password_stdin)
    _manage_user(username, lambda session, actor, user_id: admin.reset_password(session, actor, user_id, password))
    typer.echo(f"password reset: {username} (to be changed at the next login; any lock-out cleared)")


@users_app.command("role")
def users_role(username: str, role: str = typer.Argument(..., help=" | ".join(_ROLES))) -> None:
    """Change a user's role (the last active admin cannot be demoted)."""
    if role not in _ROLES:
        raise _fail(f"unknown role '{escape(role)}' (known: {', '.join(_ROLES)})")
    _manage_user(username, lambda session, actor, user_id: admin.set_role(session, actor, user_id, role))
    typer.echo(f"role of {username}: {role}")


@users_app.command("unlock")
def users_unlock(username: str) -> None:
    """Clear a lock-out after repeated failed logins (and the failed-login count)."""
    was_locked = _manage_user(username, admin.unlock_user)
    if was_locked is None:
        typer.echo(f"{username} was not locked out")
    else:
        typer.echo(f"unlocked: {username} (was locked until {local_time_text(was_locked)} ICT)")


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate a user: refused at once by every service (the last active admin cannot be)."""
    _manage_user(username, lambda session, actor, user_id: admin.set_active(session, actor, user_id, False))
    typer.echo(f"deactivated: {username}")


@users_app.command("reactivate")
def users_reactivate(username: str) -> None:
    """Reactivate a deactivated user."""
    _manage_user(username, lambda session, actor, user_id: admin.set_active(session, actor, user_id, True))
    typer.echo(f"reactivated: {username}")


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Image files, PDFs, ZIPs or folders."),
    book_type: str | None = typer.Option(None, "--book-type", help="Template key, e.g. khai_sinh."),
    unit: str | None = typer.Option(None, "--unit", help="Registry office name, e.g. 'Xã Đại Lãnh'."),
    year: int | None = typer.Option(None, "--year"),
    volume: int = typer.Option(1, "--volume", help="Quyển số."),
    declared_count: int | None = typer.Option(None, "--declared-count", help="Registrations in the book."),
    book: int | None = typer.Option(None, "--book", help="Add to an existing book by id."),
    no_ocr: bool = typer.Option(False, "--no-ocr", help="Deskew and segment only; officials key the fields."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Re-process pages that failed before."),
    pdf_dpi: int = typer.Option(200, "--pdf-dpi"),
    threads: int | None = typer.Option(None, "--threads", help="OCR threads (default WORKBENCH_OCR_THREADS)."),
    workers: int = typer.Option(1, "--workers", help="Local worker processes for the page pipeline."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler, e.g. tcp://HOST:8786."),
    model: str | None = typer.Option(None, "--model", help="Registered model version (default: the active one)."),
) -> None:
    """Store pages and run deskew -> segmentation -> recognition. Last line: book_id=<id>."""
    identity = None
    if book is None:
        missing = [n for n, v in (("--book-type", book_type), ("--unit", unit), ("--year", year)) if v is None]
        if missing:
            raise _fail(f"give --book ID, or all of --book-type, --unit and --year (missing: {', '.join(missing)})")
        assert book_type and unit and year is not None
        identity = BookIdentity(unit, book_type, year, volume, declared_count=declared_count)
    files, unusable = [], []
    for path in paths:  # one bad ZIP or missing path must not stop the rest of the batch
        try:
            files.extend(iter_input_files([path]))
        except ImageLoadError as exc:
            unusable.append(str(exc))
    for message in unusable:
        err.print(f"[yellow]skipped:[/yellow] {message}")
    if not files:
        raise _fail("no image, PDF or ZIP files found in the given paths")
    wb = open_workbench()
    ocr_threads = threads or wb.settings.ocr_threads
    executor = ExecutorSpec(workers=max(1, workers), scheduler=scheduler)
    if executor.workers > 1 and threads is None:
        ocr_threads = max(1, ocr_threads // executor.workers)  # don't oversubscribe the cores
    options = IngestOptions(
        run_ocr=not no_ocr, pdf_dpi=pdf_dpi, retry_failed=retry_failed, ocr_threads=ocr_threads, executor=executor,
        model_version=model,
    )
    if model is not None:
        try:
            get_model(wb.settings.data_dir, model)
        except ModelRegistryError as exc:
            raise _fail(str(exc)) from exc
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        task = bar.add_task("pages", total=None)

        def on_page(_page: str, finished: int, total: int) -> None:
            bar.update(task, completed=finished, total=total)

        try:
            report = ingest_files(
                wb.sessions, wb.settings.data_dir, files, identity=identity, book_id=book,
                options=options, progress=on_page,
            )
        except (BookError, BookTypeError) as exc:
            raise _fail(str(exc)) from exc
    for message in report.errors:
        err.print(f"[yellow]failed:[/yellow] {message}")
    err.print(
        f"pages added {report.pages_added}, already present {report.pages_already_present}, "
        f"processed {report.pages_done}, failed {report.pages_failed}; records {report.records_created}"
    )
    typer.echo(f"book_id={report.book_id}")


ENGINES = ("asternet", "tesseract", "rapidocr")


@app.command()
def recognize(
    images: list[Path] = typer.Argument(..., help="Text-line (or single-cell) images."),
    field_type: str = typer.Option("free_text", "--field-type", help=f"One of: {', '.join(FIELD_TYPES)}."),
    engine: str = typer.Option("asternet", "--engine", help=f"One of: {', '.join(ENGINES)}."),
    model: str | None = typer.Option(None, "--model", help="Registered AsterNet version (default: active)."),
    as_json: bool = typer.Option(True, "--json/--text", help="One JSON object per image (default) or plain text."),
) -> None:
    """Read line images: value, calibrated confidence and per-character confidences."""
    from ocr.image.loading import load_images
    from ocr.recognition import propose_field
    from ocr.types import Box, CellImage

    if field_type not in FIELD_TYPES:
        raise _fail(f"unknown field type '{field_type}' (known: {', '.join(FIELD_TYPES)})")
    settings = load_settings()
    reader = _reader_for_engine(engine, model, settings.data_dir, settings.ocr_threads)
    failed = 0
    for path in images:
        try:
            image = cv2.cvtColor(load_images(path)[0].image, cv2.COLOR_BGR2GRAY)
        except ImageLoadError as exc:
            err.print(f"[yellow]skipped:[/yellow] {exc}")
            failed += 1
            continue
        height, width = image.shape[:2]
        cell = CellImage(key="line", box=Box(0, 0, width, height), lines=[image], is_empty=False)
        proposal = propose_field(cell, field_type, reader.recognizer, reader.calibrator)
        if as_json:
            typer.echo(json.dumps({
                "file": path.name, "value": proposal.value, "confidence": round(proposal.confidence, 4),
                "chars": [{"char": c.char, "confidence": round(c.confidence, 4)} for c in proposal.chars],
                "engine": engine, "alternatives": proposal.alternatives,
            }, ensure_ascii=False))
        else:
            typer.echo(f"{path.name}\t{proposal.value}\t{proposal.confidence:.3f}")
    if failed == len(images):
        raise typer.Exit(code=2)


def _reader_for_engine(engine: str, model: str | None, data_dir: Path, threads: int) -> Reader:
    """A registered AsterNet model (default: the active one) with its calibrator, or a peer engine
    with the default calibrator."""
    if engine == "asternet":
        from workbench.training.model_registry import reader_for

        try:
            return reader_for(data_dir, model, threads)
        except ModelRegistryError as exc:
            raise _fail(str(exc)) from exc
    if model is not None:
        raise _fail("--model applies to the asternet engine only")
    if engine == "tesseract":
        from ocr.read.engines.tesseract import TesseractRecognizer, tesseract_available

        if (why := tesseract_available()) is not None:
            raise _fail(f"tesseract engine unavailable: {why}")
        return build_reader(ModelFiles(version=engine), recognizer=TesseractRecognizer())
    if engine == "rapidocr":
        from ocr.read.engines.rapidocr import RapidOCRRecognizer

        return build_reader(ModelFiles(version=engine), recognizer=RapidOCRRecognizer(threads=threads))
    raise _fail(f"unknown engine '{engine}' (known: {', '.join(ENGINES)})")


@app.command()
def export(
    book_id: int,
    fmt: str = typer.Option("json", "--format", help="json | zip | xlsx | pagexml"),
    out: Path | None = typer.Option(None, "--out", help="Output file (pagexml: folder); json default stdout."),
    include_unapproved: bool = typer.Option(
        False, "--include-unapproved", help="zip/xlsx/pagexml: also export unapproved records, marked CHUADUYET."
    ),
) -> None:
    """Export a book: JSON, the ZIP of per-registration PDFs + Excel, the Excel alone, or PAGE XML."""
    if fmt != "json":
        from workbench.deliverables.exports.command import EXPORT_ERRORS, FILE_FORMATS, export_files

        if fmt not in FILE_FORMATS:
            raise _fail(f"unknown format '{fmt}' (available: json, {', '.join(FILE_FORMATS)})")
        try:
            result = export_files(open_workbench(), book_id, fmt, out, include_unapproved)
        except EXPORT_ERRORS as exc:
            raise _fail(str(exc)) from exc
        for warning in result.warnings:
            err.print(f"[yellow]warning:[/yellow] {warning}")
        err.print(f"{result.records} records ({result.unapproved} unapproved), {len(result.files)} files")
        typer.echo(str(result.path))
        return
    wb = open_workbench()
    try:
        with wb.sessions() as session:
            payload = export_book_json(session, book_id)
    except BookError as exc:
        raise _fail(str(exc)) from exc
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        err.print(f"wrote {out} ({len(payload['records'])} records)")


@app.command()
def report(
    day: str | None = typer.Option(None, "--date", help="YYYY-MM-DD (Vietnam day); default today."),
    unit: str | None = typer.Option(None, "--unit", help="Unit id or exact name; default all units."),
    out: Path | None = typer.Option(None, "--out", help="Excel file (default report_<date>.xlsx)."),
    set_plan: tuple[int, int] | None = typer.Option(
        None, "--set-plan", help="With --unit: record COMPUTERS QUOTA_PER_COMPUTER_PER_DAY for the plan view."
    ),
) -> None:
    """Daily progress report (Phụ lục 01) with the plan view and per-user productivity, as Excel."""
    from workbench.deliverables.report_xlsx import run_report

    wb = open_workbench()
    try:
        path = run_report(wb, _system_actor(wb), day, unit, out, set_plan)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(str(path))


@app.command()
def samples(
    out: Path = typer.Option(Path("data/samples"), "--out"),
    pages: int = typer.Option(3, "--pages"),
    seed: int = typer.Option(0, "--seed"),
    book_type: str | None = typer.Option(None, "--book-type", help="One type; default all."),
) -> None:
    """Generate synthetic sample books (page images + truth.json)."""
    from samples.generator import generate_book

    types = [book_type] if book_type else list(all_book_types())
    for key in types:
        folder = generate_book(out / key, key, pages=pages, seed=seed)
        typer.echo(str(folder))


@app.command()
def demo(
    no_ocr: bool = typer.Option(False, "--no-ocr", help="Load the sample books without recognition."),
    force: bool = typer.Option(False, "--force", help="Even on a database that holds real (non-sample) books."),
) -> None:
    """Create the demo users and load the bundled sample books (safe to run again).

    Refused on a database holding books other than the bundled samples, unless --force; demo users
    must change the published password at their first login."""
    from workbench.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo

    wb = open_workbench()
    try:
        reports = seed_demo(wb, run_ocr=not no_ocr, force=force)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    for report in reports:
        err.print(f"sample book {report.book_id}: {report.pages_added} new pages, {report.records_created} records")
    names = ", ".join(name for name, _, _ in DEMO_USERS)
    err.print(f"demo users: {names} (password: {DEMO_PASSWORD}, to be changed at first login)")


@app.command()
def train(
    since: str | None = typer.Option(None, "--since", help="Only fields confirmed on/after this date (YYYY-MM-DD)."),
    from_folder: Path | None = typer.Option(None, "--from-folder", help="Line images + labels.tsv instead of the DB."),
    max_minutes: float = typer.Option(55.0, "--max-minutes", help="Wall-clock budget, caching included."),
    device: str = typer.Option("auto", "--device", help="cpu | cuda | auto (cuda when present)."),
    epochs: int | None = typer.Option(
        None, "--epochs", help="Default: picked from the number of lines and --max-minutes, with early stopping."),
    lr: float = typer.Option(3e-4, "--lr"),
    synthetic_ratio: float = typer.Option(0.0, "--synthetic-ratio", help="Synthetic sample lines per real line."),
    base: str | None = typer.Option(None, "--base", help="Model version to start from (default: the active one)."),
    export_set: Path | None = typer.Option(None, "--export-set", help="Also write the training set as PNG + TSV."),
    export_checkpoint: Path | None = typer.Option(
        None, "--export-checkpoint",
        help="Instead of training: export, check and register a failed run's checkpoint (that run's options)."),
) -> None:
    """Fine-tune AsterNet on confirmed fields and register the model. Last line: model_version=<v>."""
    from datetime import UTC, datetime

    try:
        from workbench.training.service import TrainRequest, build_set, train_model
        from workbench.training.service import export_checkpoint as finish_checkpoint
    except ImportError as exc:  # torch is optional: requirements-train.txt
        raise _fail(f"training needs PyTorch: pip install -r requirements-train.txt ({exc})") from exc
    if export_checkpoint is not None:
        try:
            outcome = finish_checkpoint(open_workbench(), export_checkpoint, say=err.print)
        except (ValueError, RuntimeError, OSError) as exc:
            raise _fail(str(exc)) from exc
        typer.echo(f"model_version={outcome.model.version}")
        return
    if device not in ("cpu", "cuda", "auto"):
        raise _fail("--device must be cpu, cuda or auto")
    try:
        since_at = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    except ValueError as exc:
        raise _fail(f"--since: not a date ({since})") from exc
    wb = open_workbench()
    request = TrainRequest(since=since_at, from_folder=from_folder, max_minutes=max_minutes, device=device,
                           epochs=epochs, lr=lr, synthetic_ratio=synthetic_ratio, base_version=base,
                           threads=wb.settings.ocr_threads)
    try:
        training_set = build_set(wb, request, err.print)
        if export_set is not None:
            from workbench.training.folder import export_folder

            export_folder(training_set.train, export_set / "train")
            export_folder(training_set.validation, export_set / "validation")
            err.print(f"training set written to {export_set}")
        outcome = train_model(wb, request, say=err.print, training_set=training_set)
    except (ValueError, RuntimeError, OSError) as exc:
        raise _fail(str(exc)) from exc
    meta = outcome.meta
    err.print(f"validation CER {meta.get('validation_cer_before')} -> {meta.get('validation_cer_after')} "
              f"in {meta['minutes']} min on {meta['device']} ({meta['stopped']}); not activated")
    typer.echo(f"model_version={outcome.model.version}")
