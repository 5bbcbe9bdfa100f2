"""Every public service function is classified, and every one that acts for a user is walked with a
user of another unit (issue #17 item 6).

The rule. A *service function* is a public (no leading underscore) top-level function of a module
under workbench/ (the interface layers excepted: the CLI, the Streamlit entry and workbench/ui
plumbing, and workbench.scope, the check itself) whose parameters include a database handle
(Session, sessionmaker, Engine, Workbench) or a `User`. Functions with neither cannot read or
change unit data and need no classification.
Each service function is exactly one of:

  WALKED    takes the acting user and checks scope: every case below calls it with a user of
            ANOTHER unit (holding the role the function needs, so the unit check is what refuses)
            and expects a ScopeError, or, for a listing, only that user's own units' data;
  INTERNAL  a building block a scoped service calls after its own check, or takes ORM objects a
            scoped service loaded; no page may import it;
  SYSTEM    runs for the whole database from the command line or a batch job (exports, the
            cross-check, training, demo seeding); no page may import it;
  GLOBAL    not unit data (login, model registry, database plumbing).

A new public service function fails `test_every_service_function_is_classified` until it is put
in one of these, and a new function taking a user fails until it has a walk case.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models import CrosscheckResult, PopulationExtract, User
from ocr.image.loading import InputFile
from tests.conftest import World, record_ids
from workbench.accounts import admin
from workbench.context import Workbench
from workbench.crosscheck import tracking
from workbench.db import transaction
from workbench.deliverables import deliverables, report, report_xlsx
from workbench.errors import ScopeError
from workbench.intake import (
    book_type_hold,
    contractor,
    ingest,
    registration_sequence,
    segmentation,
    upload_log,
    uploads,
)
from workbench.intake.ingest import IngestOptions, IngestReport
from workbench.intake.segmentation import GridLines
from workbench.review import book_order, drafts, my_progress, progress, queue, record_view, review
from workbench.supervision import qa, supervision
from workbench.ui import standins

ROOT = Path(__file__).resolve().parent.parent
# workbench.scope is the check itself (its loaders raise ScopeError by construction). The Streamlit entry,
# streamlit_app.py, sits at the repository root, outside the walk.
INTERFACE_MODULES = {"workbench.cli", "workbench.__main__", "workbench.crosscheck.cli", "workbench.scope"}
DB_TYPES = ("Session", "sessionmaker", "Engine", "Workbench")
DAY = date(2026, 11, 20)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _is_service_module(name: str) -> bool:
    if name in INTERFACE_MODULES:
        return False
    # workbench/ui is Streamlit plumbing (session state, images); its one service stand-in is walked.
    return not name.startswith("workbench.ui.") or name == "workbench.ui.standins"


@dataclass(frozen=True)
class ServiceFunction:
    name: str  # module.function
    takes_user: bool


def discover() -> dict[str, ServiceFunction]:
    """Service functions by the rule in the module docstring, read from the source (no imports)."""
    found = {}
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        module = _module_name(path)
        if not _is_service_module(module):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            params = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            annotations = [ast.unparse(p.annotation) for p in params if p.annotation is not None]
            takes_user = any(_mentions(a, ("User",)) for a in annotations)
            if takes_user or any(_mentions(a, DB_TYPES) for a in annotations):
                found[f"{module}.{node.name}"] = ServiceFunction(f"{module}.{node.name}", takes_user)
    return found


def _mentions(annotation: str, names: tuple[str, ...]) -> bool:
    words = set(annotation.replace("[", " ").replace("]", " ").replace("|", " ").replace(",", " ").split())
    return any(name in words for name in names)


INTERNAL = {
    "workbench.audit.record_event": "writes the audit row of an action its caller authorised",
    "workbench.audit.record_step": "pipeline step of a page the ingest already checked",
    "workbench.books.get_or_create_unit": "book/unit creation behind contractor.create_book and ingest_files",
    "workbench.books.get_or_create_book": "behind ingest_files, which checks the book right after",
    "workbench.books.get_book": "loader behind scoped services and system exports",
    "workbench.intake.contractor.refuse_if_worked": "takes a page its caller loaded through page_in_scope",
    "workbench.intake.book_type_hold.was_confirmed": "inside save_outcome, pipeline of a page of a checked book",
    "workbench.review.review.flush_or_conflict": "optimistic-lock flush inside save_record and supervision",
    "workbench.review.review.apply_field_value": "takes a field of a record its caller loaded through scope",
    "workbench.review.review.change_status": "takes a record its caller loaded through scope",
    "workbench.review.drafts.clear_drafts": "inside save_record, after its scope check",
    "workbench.intake.ingest.pending_page_ids": "pipeline of a book ingest_files/register_file checked",
    "workbench.intake.ingest.process_pending_pages": "pipeline of a book ingest_files/register_file checked",
    "workbench.intake.ingest.check_sequence": "pipeline of a book ingest_files/register_file checked",
    "workbench.intake.ingest.mark_failed": "pipeline of a page of a checked book",
    "workbench.intake.ingest.save_outcome": "pipeline of a page of a checked book",
    "workbench.review.queue.queue_orders": "queue settings read inside next_record (scoped)",
    "workbench.review.queue.queue_candidates": "takes a Scope built by next_record",
    "workbench.review.queue.try_claim": "claim step inside claim_record/next_record (scoped)",
    "workbench.intake.registration_sequence.apply_book_sequence": "after ingest or a scoped save",
    "workbench.training.lexicon_growth.count_unit_lexicon": "decoding aid behind ingest/re-recognition",
    "workbench.training.lexicon_growth.lexicon_units": "decoding aid behind ingest/re-recognition",
    "workbench.training.lexicon_growth.local_lexicon_for_unit": "decoding aid behind ingest/re-recognition",
    "workbench.training.lexicon_growth.update_unit_lexicon": "behind model_admin.refresh_lexicons",
    "workbench.training.lexicon_growth.update_all_lexicons": "behind model_admin.refresh_lexicons",
}
SYSTEM = {
    "workbench.accounts.auth.create_user": "`users add` and demo seeding; the app uses admin.create_user_account",
    "workbench.demo.seed_demo_users": "`workbench demo`",
    "workbench.demo.ingest_sample_book": "`workbench demo`",
    "workbench.demo.seed_demo": "`workbench demo`",
    "workbench.demo.real_books": "`workbench demo` (refuses a database with real books)",
    "workbench.deliverables.export_json.book_header": "`workbench export`",
    "workbench.deliverables.export_json.export_book_json": "`workbench export`",
    "workbench.deliverables.export_json.export_pages": "`workbench export`",
    "workbench.deliverables.exports.command.export_files": "`workbench export`",
    "workbench.deliverables.exports.package.export_book_zip": "`workbench export`",
    "workbench.deliverables.exports.package.export_book_xlsx": "`workbench export`",
    "workbench.deliverables.exports.package.export_book_pagexml": "`workbench export`",
    "workbench.deliverables.exports.records.load_export_book": "`workbench export`",
    "workbench.crosscheck.service.import_extract": "`workbench crosscheck import` (app: deliverables)",
    "workbench.crosscheck.service.load_extract_table": "`workbench crosscheck run`",
    "workbench.crosscheck.service.approved_records": "`workbench crosscheck run`",
    "workbench.crosscheck.service.run_crosscheck": "`workbench crosscheck run` (app: deliverables)",
    "workbench.crosscheck.service.matched_person_ids": "`workbench export` (import file ID numbers)",
    "workbench.crosscheck.service.book_ids_of_units": "`workbench crosscheck tracking`",
    "workbench.crosscheck.tracking.tracking_list": "`workbench crosscheck tracking`",
    "workbench.training.db_lines.reviewed_fields": "`workbench train`",
    "workbench.training.db_lines.lines_from_database": "`workbench train`",
    "workbench.training.rerecognize.pages_to_rerecognize": "re-recognition job (model_admin starts it)",
    "workbench.training.rerecognize.checked_proposals": "re-recognition job (a step of rerecognize_with_version)",
    "workbench.training.rerecognize.rerecognize_open_records": "re-recognition job (model_admin starts it)",
    "workbench.training.rerecognize.rerecognize_with_version": "re-recognition job (model_admin starts it)",
    "workbench.training.service.collect_lines": "`workbench train`",
    "workbench.training.service.build_set": "`workbench train`",
    "workbench.training.service.train_model": "`workbench train`",
    "workbench.training.service.export_checkpoint": "`workbench train --export-checkpoint`",
}
GLOBAL = {
    "workbench.accounts.auth.authenticate": "login",
    "workbench.accounts.auth.change_password": "the user's own password, at login",
    "workbench.db.migrate": "infrastructure",
    "workbench.db.refresh_statistics": "infrastructure",
    "workbench.db.session_factory": "infrastructure",
    "workbench.db.wait_for_database": "infrastructure",
    "workbench.db.transaction": "infrastructure",
    "workbench.accounts.admin.user_summary": "formats a user the caller already loaded",
    "workbench.training.model_registry.activate": "model registry (model_admin.activate_model checks the role)",
    "workbench.training.model_registry.rollback": "model registry (model_admin.rollback_model checks the role)",
    "workbench.training.model_admin.list_model_summaries": "model registry",
    "workbench.training.model_admin.rollback_target": "model registry",
    "workbench.training.model_admin.held_out_fields": "model registry (held-out fields for a comparison)",
    "workbench.training.model_admin.compare_with_active": "model registry",
    "workbench.training.model_admin.activate_model": "model registry",
    "workbench.training.model_admin.rollback_model": "model registry",
    "workbench.training.model_admin.refresh_lexicons": "every unit's decoding lexicon, rebuilt as a whole",
    "workbench.training.model_admin.rerecognition_progress": "model registry",
    "workbench.training.model_admin.start_rerecognition": "re-reads every open record with the active model",
}
# Known gaps, to move into a scoped service: read by a page without a user.
KNOWN_GAPS: dict[str, str] = {}


@dataclass
class Walk:
    world: World
    wb: Workbench
    tmp: Path
    result_id: int  # a cross-check result on the sample unit's record

    def __getattr__(self, name: str) -> Any:  # w.call, w.users, w.record_id... from the World
        return getattr(self.world, name)


@pytest.fixture()
def walk(world: World, wb: Workbench, tmp_path: Path, other_book_id: int) -> Walk:
    # other_book_id: the other unit holds data too, so a listing that returns nothing proves little.
    with transaction(wb.sessions) as session:
        extract = PopulationExtract(original_name="dan_cu.csv", sha256="0" * 64, stored_path="x.csv", row_count=1)
        session.add(extract)
        session.flush()
        result = CrosscheckResult(record_id=world.record_id, role="child", extract_id=extract.id,
                                  status="different", differing_fields=["birth_date"])
        session.add(result)
        session.flush()
        result_id = result.id
    return Walk(world, wb, tmp_path, result_id)


Action = Callable[[Walk, User], Any]
Check = Callable[[Walk, Any], bool] | None  # None: the call must raise ScopeError


@dataclass(frozen=True)
class Case:
    who: str  # a user of the OTHER unit (Xã Lộc Tấn / Huyện Lộc Ninh), or of the wrong role
    action: Action
    lists: Check = None  # a listing: what it returns must hold only the user's own units' data


def refuses(who: str, action: Action) -> Case:
    return Case(who, action)


def lists(who: str, action: Action, check: Callable[[Walk, Any], bool]) -> Case:
    return Case(who, action, check)


def _sample_records(w: Walk) -> set[int]:
    return set(record_ids(w.wb.sessions, w.book_id))


def _no_sample_unit_rows(w: Walk, rows: Any) -> bool:
    names = [row.unit_name for row in rows]
    return bool(names) and not {"Xã Tân Lập", "Huyện Đồng Phú", "Tỉnh Thử Nghiệm"} & set(names)


def _ingest_into_sample_book(w: Walk, u: User) -> Any:
    page = InputFile(name="p.png", data=b"\x89PNG\r\n\x1a\n")
    return ingest.ingest_files(w.wb.sessions, w.wb.settings.data_dir, [page], book_id=w.book_id, actor=u,
                               options=IngestOptions(run_ocr=False))


def _register_into_sample_book(w: Walk, u: User) -> Any:
    page = InputFile(name="p.png", data=b"\x89PNG\r\n\x1a\n")
    return ingest.register_file(w.wb.sessions, w.wb.settings.data_dir, w.book_id, page,
                                IngestOptions(run_ocr=False), u, IngestReport(book_id=w.book_id))


def _upload_into_sample_book(w: Walk, u: User) -> Any:
    return uploads.store_uploads(w.wb.sessions, w.wb.settings.data_dir, w.book_id,
                                 [("p.png", lambda: b"\x89PNG\r\n\x1a\n")], IngestOptions(run_ocr=False), u)


WALKED: dict[str, list[Case]] = {
    "workbench.accounts.admin.list_users": [refuses("other_supervisor", lambda w, u: w.call(admin.list_users, u))],
    "workbench.accounts.admin.create_user_account": [refuses("other_supervisor", lambda w, u: w.call(
        admin.create_user_account, u, username="x1", password="12345678", role="official",
        unit_ids=[w.units["xa_a"]]))],
    "workbench.accounts.admin.set_active": [refuses("other_supervisor", lambda w, u: w.call(
        admin.set_active, u, w.users["official"].id, False))],
    "workbench.accounts.admin.set_user_units": [refuses("other_supervisor", lambda w, u: w.call(
        admin.set_user_units, u, w.users["official"].id, [w.units["xa_a"]]))],
    "workbench.accounts.admin.user_management": [refuses("other_supervisor", lambda w, u: w.call(
        admin.user_management, u))],
    "workbench.accounts.admin.assignable_units": [refuses("other_supervisor", lambda w, u: w.call(
        admin.assignable_units, u))],
    "workbench.accounts.admin.find_user_id": [refuses("other_supervisor", lambda w, u: w.call(
        admin.find_user_id, u, "official"))],
    "workbench.accounts.admin.set_role": [refuses("other_supervisor", lambda w, u: w.call(
        admin.set_role, u, w.users["official"].id, "admin"))],
    "workbench.accounts.admin.reset_password": [refuses("other_supervisor", lambda w, u: w.call(
        admin.reset_password, u, w.users["official"].id, "mat-khau-moi-1"))],
    "workbench.accounts.admin.unlock_user": [refuses("other_supervisor", lambda w, u: w.call(
        admin.unlock_user, u, w.users["official"].id))],
    "workbench.accounts.admin.list_units": [lists("outsider", lambda w, u: w.call(admin.list_units, u),
                                         lambda w, units: [x.name for x in units] == ["Xã Lộc Tấn"])],
    "workbench.accounts.admin.create_unit": [refuses("other_supervisor", lambda w, u: w.call(
        admin.create_unit, u, name="Xã Mới", level="xa", parent_id=w.units["huyen"]))],
    "workbench.accounts.admin.list_book_types": [lists("outsider", lambda w, u: w.call(admin.list_book_types, u),
                                              lambda w, types: len(types) > 0)],  # book types are global
    "workbench.intake.contractor.create_book": [refuses("other_contractor", lambda w, u: w.call(
        contractor.create_book, u, unit_id=w.units["xa_a"], book_type="khai_sinh", year=1999))],
    "workbench.intake.contractor.list_books": [lists("other_contractor", lambda w, u: w.call(contractor.list_books, u),
                                              lambda w, books: w.book_id not in {b.id for b in books})],
    "workbench.intake.contractor.get_book_summary": [refuses("other_contractor", lambda w, u: w.call(
        contractor.get_book_summary, u, w.book_id))],
    "workbench.intake.contractor.list_pages": [refuses("other_contractor", lambda w, u: w.call(
        contractor.list_pages, u, w.book_id))],
    "workbench.intake.contractor.rerun_page": [refuses("other_contractor", lambda w, u: w.call(
        contractor.rerun_page, u, w.page_id))],
    "workbench.intake.contractor.delete_page": [refuses("other_contractor", lambda w, u: w.call(
        contractor.delete_page, u, w.page_id, "x"))],
    "workbench.intake.contractor.restore_page": [refuses("other_contractor", lambda w, u: w.call(
        contractor.restore_page, u, w.page_id))],
    "workbench.intake.book_type_hold.confirm_page_book_type": [refuses("other_contractor", lambda w, u: w.call(
        book_type_hold.confirm_page_book_type, u, w.page_id)), refuses("official", lambda w, u: w.call(
        book_type_hold.confirm_page_book_type, u, w.page_id))],
    "workbench.intake.upload_log.upload_log": [refuses("other_contractor", lambda w, u: w.call(
        upload_log.upload_log, u, w.book_id)), refuses("other_supervisor", lambda w, u: w.call(
        upload_log.upload_log, u, w.book_id))],
    "workbench.intake.ingest.ingest_files": [refuses("other_contractor", _ingest_into_sample_book),
                                      refuses("official", _ingest_into_sample_book)],
    "workbench.intake.ingest.register_file": [refuses("other_contractor", _register_into_sample_book),
                                       refuses("official", _register_into_sample_book)],
    "workbench.intake.uploads.store_uploads": [refuses("other_contractor", _upload_into_sample_book),
                                               refuses("official", _upload_into_sample_book)],
    "workbench.review.progress.my_progress": [lists("outsider", lambda w, u: w.call(progress.my_progress, u),
                                             lambda w, strip: strip.unit_total == 2)],  # the other book only
    "workbench.review.my_progress.my_day": [lists("outsider", lambda w, u: w.call(my_progress.my_day, u),
                                           lambda w, day: (day.approved, day.by_field_type) == (0, []))],
    "workbench.review.progress.progress_dashboard": [lists(
        "other_supervisor", lambda w, u: w.call(progress.progress_dashboard, u),
        lambda w, board: [g.label for g in board.by_unit] == ["Xã Lộc Tấn"])],
    "workbench.review.progress.book_sequence_counts": [refuses("outsider", lambda w, u: w.call(
        progress.book_sequence_counts, u, w.book_id))],
    "workbench.supervision.qa.draw_qa_sample": [refuses("other_supervisor", lambda w, u: w.call(
        qa.draw_qa_sample, u, w.users["official"].id, 50))],
    "workbench.supervision.qa.qa_queue": [lists("other_supervisor", lambda w, u: w.call(qa.qa_queue, u),
                                    lambda w, items: items == [])],
    "workbench.supervision.qa.submit_qa": [refuses("other_supervisor", lambda w, u: w.call(
        qa.submit_qa, u, w.qa_id, {}))],
    "workbench.supervision.qa.verifier_error_rates": [lists(
        "other_supervisor", lambda w, u: w.call(qa.verifier_error_rates, u),
        lambda w, rates: not {r.verifier_id for r in rates} & {w.users["official"].id, w.users["official2"].id})],
    "workbench.review.queue.set_queue_order": [refuses("other_supervisor", lambda w, u: w.call(
        queue.set_queue_order, u, "hard_first", w.units["xa_a"]))],
    "workbench.review.queue.get_queue_order": [refuses("other_supervisor", lambda w, u: w.call(
        queue.get_queue_order, u, w.units["xa_a"]))],
    "workbench.review.queue.current_claim": [lists("outsider", lambda w, u: w.call(queue.current_claim, u),
                                            lambda w, claim: claim is None)],
    "workbench.review.queue.next_record": [lists("outsider", lambda w, u: w.call(queue.next_record, u),
                                          lambda w, view: view.record_id not in _sample_records(w))],
    "workbench.review.queue.claim_record": [refuses("outsider", lambda w, u: w.call(
        queue.claim_record, u, w.record_id))],
    "workbench.review.queue.release_claim": [refuses("outsider", lambda w, u: w.call(
        queue.release_claim, u, w.record_id))],
    "workbench.review.record_view.get_record_view": [refuses("outsider", lambda w, u: w.call(
        record_view.get_record_view, u, w.record_id))],
    "workbench.intake.registration_sequence.recheck_book_sequence": [refuses("outsider", lambda w, u: w.call(
        registration_sequence.recheck_book_sequence, u, w.book_id))],
    "workbench.deliverables.report.resolve_unit": [refuses("other_supervisor", lambda w, u: w.call(
        report.resolve_unit, u, "Huyện Đồng Phú"))],
    "workbench.deliverables.report.progress_report": [
        refuses("other_supervisor", lambda w, u: w.call(report.progress_report, u, DAY, w.units["huyen"])),
        refuses("official", lambda w, u: w.call(report.progress_report, u, DAY)),
        lists("other_supervisor", lambda w, u: w.call(report.progress_report, u, DAY),
              lambda w, r: _no_sample_unit_rows(w, r.rows[:-1])),
    ],
    "workbench.deliverables.report.set_unit_plan": [
        refuses("other_supervisor", lambda w, u: w.call(report.set_unit_plan, u, w.units["xa_a"], 3, 250)),
        refuses("official", lambda w, u: w.call(report.set_unit_plan, u, w.units["xa_a"], 3, 250)),
    ],
    "workbench.deliverables.report.plan_view": [
        refuses("other_supervisor", lambda w, u: w.call(report.plan_view, u, DAY, w.units["huyen"])),
        lists("other_supervisor", lambda w, u: (w.call(report.set_unit_plan, w.users["admin"], w.units["xa_a"], 1, 1),
                                                w.call(report.plan_view, u, DAY))[1],
              lambda w, plans: w.units["xa_a"] not in {p.unit_id for p in plans}),
    ],
    "workbench.deliverables.report.user_productivity": [
        refuses("other_supervisor", lambda w, u: w.call(report.user_productivity, u, DAY, DAY, w.units["huyen"])),
        lists("other_supervisor",
              lambda w, u: w.call(report.user_productivity, u, date(2000, 1, 1), date(2100, 1, 1)),
              lambda w, days: w.users["official2"].id not in {d.user_id for d in days}),
    ],
    "workbench.deliverables.report_xlsx.run_report": [refuses("other_supervisor", lambda w, u: report_xlsx.run_report(
        w.wb, u, DAY.isoformat(), "Huyện Đồng Phú", w.tmp / "r.xlsx", (3, 250)))],
    "workbench.review.drafts.save_draft": [refuses("outsider", lambda w, u: w.call(
        drafts.save_draft, u, w.record_id, {"full_name": "x"}))],
    "workbench.review.drafts.load_draft": [refuses("outsider", lambda w, u: w.call(drafts.load_draft, u, w.record_id))],
    "workbench.review.review.save_record": [refuses("outsider", lambda w, u: w.call(
        review.save_record, u, w.record_id, w.version, {}, "approve"))],
    "workbench.review.book_order.book_position": [refuses("outsider", lambda w, u: w.call(
        book_order.book_position, u, w.record_id))],
    "workbench.review.book_order.neighbour_record": [refuses("outsider", lambda w, u: w.call(
        book_order.neighbour_record, u, w.record_id, 1))],
    "workbench.review.book_order.open_in_book": [refuses("outsider", lambda w, u: w.call(
        book_order.open_in_book, u, w.record_id))],
    "workbench.review.book_order.last_approval": [lists("outsider", lambda w, u: w.call(book_order.last_approval, u),
                                                 lambda w, last: last is None)],
    "workbench.review.book_order.undo_last_approval": [refuses("outsider", lambda w, u: w.call(
        book_order.undo_last_approval, u, record_ids(w.wb.sessions, w.book_id)[1]))],
    "workbench.intake.segmentation.correct_segmentation": [refuses("other_contractor", lambda w, u: (
        segmentation.correct_segmentation(w.wb.sessions, u, w.page_id, GridLines((0, 10, 20), (0, 10)),
                                          w.wb.settings.data_dir)))],
    "workbench.intake.segmentation.load_page_grid": [refuses("other_contractor", lambda w, u: w.call(
        segmentation.load_page_grid, u, w.page_id))],
    "workbench.supervision.supervision.flagged_queue": [lists("other_supervisor", lambda w, u: w.call(
        supervision.flagged_queue, u), lambda w, rows: not {r.record_id for r in rows} & _sample_records(w))],
    "workbench.supervision.supervision.low_confidence_queue": [lists("other_supervisor", lambda w, u: w.call(
        supervision.low_confidence_queue, u, 1.0), lambda w, rows: bool(rows) and not (
        {r.record_id for r in rows} & _sample_records(w)))],
    "workbench.supervision.supervision.list_reviewers": [lists(
        "other_supervisor", lambda w, u: w.call(supervision.list_reviewers, u),
        lambda w, people: {p.username for p in people} <= {"outsider", "other_supervisor"})],
    "workbench.supervision.supervision.crosscheck_mismatch_queue": [lists(
        "other_supervisor", lambda w, u: w.call(supervision.crosscheck_mismatch_queue, u),
        lambda w, rows: not {r.record_id for r in rows} & _sample_records(w))],
    "workbench.supervision.supervision.reassign": [refuses("other_supervisor", lambda w, u: w.call(
        supervision.reassign, u, w.record_id, None))],
    "workbench.supervision.supervision.unflag": [refuses("other_supervisor", lambda w, u: w.call(
        supervision.unflag, u, w.record_id, w.version))],
    "workbench.supervision.supervision.reject": [refuses("other_supervisor", lambda w, u: w.call(
        supervision.reject, u, w.record_id, w.version, "x"))],
    "workbench.supervision.supervision.count_bulk_approvable": [refuses("other_supervisor", lambda w, u: w.call(
        supervision.count_bulk_approvable, u, book_id=w.book_id))],
    "workbench.supervision.supervision.bulk_approve_high_confidence": [refuses("other_supervisor", lambda w, u: w.call(
        supervision.bulk_approve_high_confidence, u, confirm=True, book_id=w.book_id))],
    "workbench.crosscheck.tracking.resolve_tracking_item": [refuses("other_supervisor", lambda w, u: w.call(
        tracking.resolve_tracking_item, w.result_id, u, "Sổ ghi đúng"))],
    # The app's deliverables: the export and cross-check code above, behind a role and book scope check.
    "workbench.deliverables.deliverables.deliverable_books": [lists(
        "other_supervisor", lambda w, u: w.call(deliverables.deliverable_books, u),
        lambda w, books: bool(books) and w.book_id not in {b.id for b in books})],
    "workbench.deliverables.deliverables.export_deliverable": [
        refuses("other_supervisor", lambda w, u: w.call(
            deliverables.export_deliverable, u, w.wb.settings.data_dir, w.book_id, "xlsx", include_unapproved=True)),
        refuses("official", lambda w, u: w.call(
            deliverables.export_deliverable, u, w.wb.settings.data_dir, w.book_id, "xlsx", include_unapproved=True)),
    ],
    "workbench.deliverables.deliverables.open_deliverable": [refuses("other_supervisor", lambda w, u: (
        w.call(deliverables.export_deliverable, w.users["supervisor"], w.wb.settings.data_dir, w.book_id, "xlsx",
               include_unapproved=True),
        w.call(deliverables.open_deliverable, u, w.wb.settings.data_dir, w.book_id,
               next(deliverables.book_folder(w.wb.settings.data_dir, w.book_id).glob("*.xlsx")).name)))],
    "workbench.deliverables.deliverables.record_failure": [refuses("other_supervisor", lambda w, u: w.call(
        deliverables.record_failure, u, w.book_id, "zip", "ExportError"))],
    # Extracts hold people, not units: the role is the check (an official may not import or list them).
    "workbench.deliverables.deliverables.population_extracts": [refuses("official", lambda w, u: w.call(
        deliverables.population_extracts, u))],
    "workbench.deliverables.deliverables.import_population_extract": [refuses("official", lambda w, u: w.call(
        deliverables.import_population_extract, u, w.wb.settings.data_dir, "dan_cu.csv",
        "so_dinh_danh,ho_ten,ngay_sinh\n001098000001,Nguyễn Văn An,05/03/1998\n".encode()))],
    "workbench.deliverables.deliverables.run_book_crosscheck": [refuses("other_supervisor", lambda w, u: w.call(
        deliverables.run_book_crosscheck, u, w.wb.settings.data_dir, 1, w.book_id))],
    "workbench.deliverables.deliverables.book_tracking_list": [refuses("other_supervisor", lambda w, u: w.call(
        deliverables.book_tracking_list, u, w.book_id))],
    "workbench.deliverables.deliverables.export_tracking_list": [refuses("other_supervisor", lambda w, u: w.call(
        deliverables.export_tracking_list, u, w.wb.settings.data_dir, w.book_id))],
    "workbench.ui.standins.open_record_for_review": [refuses("other_supervisor", lambda w, u: w.call(
        standins.open_record_for_review, u, w.record_id, standins.ReviewPolicy()))],
}
CLASSIFIED = {"internal": INTERNAL, "system": SYSTEM, "global": GLOBAL, "known gap": KNOWN_GAPS}


def test_every_service_function_is_classified() -> None:
    found = discover()
    listed = [name for group in (WALKED, *CLASSIFIED.values()) for name in group]
    assert len(listed) == len(set(listed)), "a function is in two classes"
    unclassified = sorted(set(found) - set(listed))
    assert not unclassified, f"classify these public service functions (see the module docstring): {unclassified}"
    stale = sorted(set(listed) - set(found))
    assert not stale, f"classified but no longer a public service function: {stale}"
    unwalked = sorted(n for n, f in found.items() if f.takes_user and n not in WALKED
                      and n not in INTERNAL and n not in SYSTEM and n not in GLOBAL)
    assert not unwalked, f"these take the acting user: add a walk case with a user of another unit: {unwalked}"


def test_pages_import_no_unscoped_service_function() -> None:
    """Pages act for a signed-in user: they may call only walked services (and known, listed gaps)."""
    unscoped = set(INTERNAL) | set(SYSTEM)
    offenders = []
    for path in sorted((ROOT / "app_pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                offenders += [f"{path.name}: {node.module}.{a.name}" for a in node.names
                              if f"{node.module}.{a.name}" in unscoped]
    assert not offenders


CASES = [(name, number, case) for name, cases in WALKED.items() for number, case in enumerate(cases)]


@pytest.mark.parametrize(("name", "case"), [(n, c) for n, _, c in CASES],
                         ids=[f"{n.removeprefix('workbench.')}-{i}" for n, i, _ in CASES])
def test_service_refuses_a_user_of_another_unit(walk: Walk, name: str, case: Case) -> None:
    user = walk.users[case.who]
    if case.lists is None:
        with pytest.raises(ScopeError) as raised:
            case.action(walk, user)
        assert raised.value.message_vi  # shown to the user as is, in Vietnamese
    else:
        assert case.lists(walk, case.action(walk, user)), f"{name} returned another unit's data"


def test_walk_fixture_sample_unit_has_data(walk: Walk, sessions: sessionmaker[Session]) -> None:
    """The refusals above mean something: the sample unit's own users do reach the same data."""
    assert walk.call(record_view.get_record_view, walk.users["official"], walk.record_id).record_id == walk.record_id
    assert _sample_records(walk) and walk.call(report.progress_report, walk.users["supervisor"], DAY).rows
