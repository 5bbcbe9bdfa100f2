"""`python -m workbench crosscheck import|run|tracking`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from workbench.context import open_workbench
from workbench.crosscheck.extract import ExtractError
from workbench.crosscheck.service import import_extract, run_crosscheck
from workbench.crosscheck.tracking import tracking_list, write_tracking_xlsx
from workbench.db import transaction
from workbench.deliverables.exports.atomic import atomic_file

crosscheck_app = typer.Typer(help="Cross-check approved records against a population-database extract.",
                             no_args_is_help=True)
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@crosscheck_app.command("import")
def import_command(path: Path = typer.Argument(..., help="CSV (UTF-8) or .xlsx extract; see README.")) -> None:
    """Validate and store an extract. Last line: extract_id=<id>."""
    wb = open_workbench()
    try:
        with transaction(wb.sessions) as session:
            extract = import_extract(session, wb.settings.data_dir, path)
            extract_id, rows = extract.id, extract.row_count
    except ExtractError as exc:
        raise _fail(str(exc)) from exc
    err.print(f"imported {rows} citizens from {path.name}")
    typer.echo(f"extract_id={extract_id}")


@crosscheck_app.command("run")
def run_command(
    extract_id: int,
    book: list[int] = typer.Option([], "--book", help="Only these books (repeatable); default all approved."),
) -> None:
    """Match every approved record's people against the extract."""
    wb = open_workbench()
    try:
        with transaction(wb.sessions) as session:
            summary = run_crosscheck(session, wb.settings.data_dir, extract_id, book or None)
    except ExtractError as exc:
        raise _fail(str(exc)) from exc
    counts = ", ".join(f"{k} {v}" for k, v in summary.counts.items())
    err.print(f"index {summary.seconds_load:.1f} s, matching {summary.seconds_match:.1f} s")
    typer.echo(f"records {summary.records}, people {summary.people}: {counts}")


@crosscheck_app.command("tracking")
def tracking_command(
    out: Path = typer.Option(Path("tracking.xlsx"), "--out", help="Excel file of the tracking list."),
    book: list[int] = typer.Option([], "--book", help="Only these books (repeatable)."),
    include_resolved: bool = typer.Option(False, "--include-resolved"),
) -> None:
    """Export the tracking list (found but different / ambiguous) to Excel."""
    wb = open_workbench()
    with wb.sessions() as session:
        items = tracking_list(session, book_ids=book or None, include_resolved=include_resolved)
    with atomic_file(out) as handle:
        write_tracking_xlsx(items, handle)
    typer.echo(f"wrote {out} ({len(items)} items)")
