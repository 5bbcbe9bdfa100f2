"""Model administration: roles, listing, comparison on held-out fields, activation, re-recognition, lexicons.

Runs on a real sample page (ingested without OCR, a few records reviewed with the true values);
the "trained" model is the shipped AsterNet ONNX copied into the registry with a fake meta, so
no PyTorch is needed and the comparison must come out even.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldStatus, FieldValue, Page, Record, RecordStatus, Role, User
from ocr.image.loading import InputFile
from ocr.read.engines.asternet import asternet_asset_dir
from workbench.books import BookIdentity
from workbench.context import Workbench
from workbench.db import transaction
from workbench.errors import ConfirmationRequiredError, InvalidActionError, NotFoundError, ScopeError
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.training.lexicon_growth import lexicon_path
from workbench.training.model_admin import (
    HELD_OUT_LATER,
    HELD_OUT_NONE,
    HELD_OUT_VALIDATION,
    activate_model,
    compare_with_active,
    list_model_summaries,
    refresh_lexicons,
    rerecognition_job,
    rerecognition_progress,
    rollback_model,
    rollback_target,
    start_rerecognition,
)
from workbench.training.model_registry import SHIPPED_VERSION, ModelVersion, active_version, register_model
from workbench.ui.model_tables import comparison_table

SAMPLE_BOOK = Path(__file__).resolve().parent.parent / "samples" / "books" / "khai_sinh"
ASSETS = asternet_asset_dir()
REVIEWED_RECORDS = 2


def register_copy_of_shipped(data_dir: Path, **meta: Any) -> ModelVersion:
    """A registered "trained" version: the shipped network under a fake training meta."""
    fake = {"parent_version": SHIPPED_VERSION, "validation_cer_before": 0.12, "validation_cer_after": 0.08,
            "training_set": {"train": {"lines": 420, "pages": 9, "units": ["Xã Tân Lập"]},
                             "validation": {"lines": 60, "pages": 1}}, **meta}
    return register_model(data_dir, ASSETS / "asternet.onnx", ASSETS / "vocab.json", fake)


@dataclass(frozen=True)
class SamplePage:
    book_id: int
    page_id: int
    record_ids: list[int]


def ingest_reviewed_sample(sessions: sessionmaker[Session], data_dir: Path, reviewer: User) -> SamplePage:
    """Sample page 1 in Xã Tân Lập (the supervisor's scope), first records reviewed and approved."""
    report = ingest_files(sessions, data_dir, [InputFile("page_001.jpg", SAMPLE_BOOK / "page_001.jpg")],
                          identity=BookIdentity("Xã Tân Lập", "khai_sinh", 2003), options=IngestOptions(run_ocr=False))
    assert report.pages_done == 1
    truth = json.loads((SAMPLE_BOOK / "truth.json").read_text(encoding="utf-8"))["pages"][0]["records"]
    by_row = {r["row_index"]: r["fields"] for r in truth}
    with transaction(sessions) as session:
        page_id = session.scalar(select(Page.id).where(Page.book_id == report.book_id))
        record_ids = list(session.scalars(select(Record.id).where(Record.page_id == page_id)
                                          .order_by(Record.row_index)))
        for record_id in record_ids[:REVIEWED_RECORDS]:
            record = session.get(Record, record_id)
            for field in record.fields:
                field.final_value = by_row[record.row_index][field.key]["value"]
                field.status = FieldStatus.CORRECTED
                field.edited_by_id, field.edited_at = reviewer.id, datetime.now(UTC)
            record.status = RecordStatus.APPROVED
    return SamplePage(report.book_id, page_id, record_ids)


@pytest.fixture()
def sample_page(wb: Workbench, users: dict[str, User]) -> SamplePage:
    return ingest_reviewed_sample(wb.sessions, wb.settings.data_dir, users["official"])


@pytest.mark.parametrize("role_user", ["official", "contractor"])
def test_only_supervisors_and_admins_may_manage_models(
    wb: Workbench, users: dict[str, User], call: Callable[..., Any], role_user: str
) -> None:
    data_dir = wb.settings.data_dir
    model = register_copy_of_shipped(data_dir)
    user = users[role_user]
    for action in (
        lambda s: list_model_summaries(s, user, data_dir),
        lambda s: activate_model(s, user, data_dir, model.version, confirm=True),
        lambda s: rollback_model(s, user, data_dir, confirm=True),
        lambda s: compare_with_active(s, user, data_dir, model.version),
        lambda s: refresh_lexicons(s, user, data_dir),
        lambda s: rerecognition_progress(s, user, data_dir),
        lambda s: start_rerecognition(s, user, wb.sessions, wb.settings.db_url, data_dir),
    ):
        with pytest.raises(ScopeError) as raised:
            call(action)
        assert raised.value.message_vi
    assert active_version(data_dir) == SHIPPED_VERSION


def test_list_shows_meta_newest_first_and_the_active_flag(
    wb: Workbench, users: dict[str, User], call: Callable[..., Any]
) -> None:
    data_dir = wb.settings.data_dir
    first = register_copy_of_shipped(data_dir, created_at="2026-01-01T00:00:00+00:00")
    second = register_copy_of_shipped(data_dir, created_at="2026-02-01T00:00:00+00:00")
    models = call(list_model_summaries, users["supervisor"], data_dir)
    assert [m.version for m in models] == [second.version, first.version, SHIPPED_VERSION]
    assert [m.is_active for m in models] == [False, False, True]
    newest = models[0]
    assert (newest.train_lines, newest.train_pages, newest.validation_lines) == (420, 9, 60)
    assert (newest.validation_cer_before, newest.validation_cer_after) == (0.12, 0.08)
    assert newest.units == ("Xã Tân Lập",) and newest.created_at.startswith("2026-02-01")
    assert models[-1].is_shipped and models[-1].train_lines is None


def test_activation_needs_confirmation_and_rollback_restores_the_previous_model(
    wb: Workbench, users: dict[str, User], call: Callable[..., Any], sessions: sessionmaker[Session]
) -> None:
    data_dir = wb.settings.data_dir
    model = register_copy_of_shipped(data_dir)
    supervisor, admin = users["supervisor"], users["admin"]
    with pytest.raises(ConfirmationRequiredError):
        call(activate_model, supervisor, data_dir, model.version, confirm=False)
    with pytest.raises(NotFoundError):
        call(activate_model, supervisor, data_dir, "ft-khong-co", confirm=True)
    assert call(rollback_target, supervisor, data_dir) is None
    assert call(activate_model, supervisor, data_dir, model.version, confirm=True) == SHIPPED_VERSION
    assert active_version(data_dir) == model.version
    with pytest.raises(InvalidActionError):  # already active
        call(activate_model, admin, data_dir, model.version, confirm=True)
    assert call(rollback_target, admin, data_dir) == SHIPPED_VERSION
    with pytest.raises(ConfirmationRequiredError):
        call(rollback_model, admin, data_dir, confirm=False)
    assert call(rollback_model, admin, data_dir, confirm=True) == SHIPPED_VERSION
    assert active_version(data_dir) == SHIPPED_VERSION
    with pytest.raises(InvalidActionError):  # nothing left to undo
        call(rollback_model, admin, data_dir, confirm=True)
    with sessions() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.user_id)
                                 .where(AuditEvent.entity_type == "model").order_by(AuditEvent.id)).all()
    assert [tuple(e) for e in events] == [("model_activate", supervisor.id), ("model_rollback", admin.id)]


def test_comparison_reads_the_validation_pages_with_both_models(
    wb: Workbench, users: dict[str, User], call: Callable[..., Any], sample_page: SamplePage
) -> None:
    data_dir = wb.settings.data_dir
    model = register_copy_of_shipped(data_dir, validation_pages=[f"db:page:{sample_page.page_id}"])
    result = call(compare_with_active, users["supervisor"], data_dir, model.version, max_fields=8, threads=1)
    assert result.held_out.source == HELD_OUT_VALIDATION and result.held_out.pages == 1
    assert len(result.held_out.fields) == 8
    comparison = result.comparison
    assert comparison.candidate.fields == comparison.active.fields == 8
    assert comparison.candidate.version == model.version and comparison.active.version == SHIPPED_VERSION
    # The same network under another name reads the same: equal scores, so not "better".
    assert comparison.candidate.cer == comparison.active.cer < 0.3
    assert 0.3 < comparison.active.field_accuracy <= 1 and not comparison.candidate_better
    table = comparison_table(result)
    assert [row["Chỉ số"] for row in table][:2] == ["Số trường đem so", "Tỉ lệ lỗi ký tự (càng thấp càng tốt)"]
    assert table[0][f"Mô hình mới ({model.version})"] == table[0][f"Đang dùng ({SHIPPED_VERSION})"] == "8"
    with pytest.raises(InvalidActionError):  # the active model is not a candidate
        call(compare_with_active, users["supervisor"], data_dir, SHIPPED_VERSION)


def test_comparison_without_validation_pages_uses_fields_reviewed_after_training(
    wb: Workbench, users: dict[str, User], call: Callable[..., Any], sample_page: SamplePage
) -> None:
    data_dir = wb.settings.data_dir
    older = register_copy_of_shipped(data_dir, created_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    newer = register_copy_of_shipped(data_dir, created_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    later = call(compare_with_active, users["admin"], data_dir, older.version, max_fields=4, threads=1)
    assert later.held_out.source == HELD_OUT_LATER and later.comparison.candidate.fields == 4
    nothing = call(compare_with_active, users["admin"], data_dir, newer.version, max_fields=4, threads=1)
    assert nothing.held_out.source == HELD_OUT_NONE and nothing.comparison is None


def _wait_for(job_of: Callable[[], Any], seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while (job := job_of()) is not None and job.running and time.monotonic() < deadline:
        time.sleep(0.2)
    return job


def test_rerecognition_runs_in_the_background_within_scope_and_progress_is_in_the_db(
    wb: Workbench, users: dict[str, User], call: Callable[..., Any], sample_page: SamplePage,
    other_book_id: int, sessions: sessionmaker[Session],
) -> None:
    data_dir, db_url = wb.settings.data_dir, wb.settings.db_url
    supervisor = users["supervisor"]
    model = register_copy_of_shipped(data_dir)
    call(activate_model, supervisor, data_dir, model.version, confirm=True)
    with transaction(sessions) as session:
        unassigned = User(username="to-truong-moi", password_hash="!", role=Role.SUPERVISOR)
        session.add(unassigned)
    with pytest.raises(InvalidActionError):  # a supervisor without units has nothing to re-read
        call(start_rerecognition, unassigned, sessions, db_url, data_dir)
    before = call(rerecognition_progress, supervisor, data_dir)
    assert (before.model_version, before.pages_open, before.pages_on_model) == (model.version, 1, 0)
    with sessions() as session:
        reviewed = {f.id: (f.status, f.final_value, f.proposed_value) for f in session.scalars(
            select(FieldValue).where(FieldValue.record_id.in_(sample_page.record_ids[:REVIEWED_RECORDS])))}
    job = call(start_rerecognition, supervisor, sessions, db_url, data_dir, threads=1)
    assert job.model_version == model.version and job.book_ids == [sample_page.book_id]
    job = _wait_for(lambda: rerecognition_job(db_url))
    assert job.finished and job.error is None and job.report.pages == 1 and not job.report.pages_failed
    assert (job.pages_done, job.pages_total) == (1, 1)
    assert job.report.records == len(sample_page.record_ids) - REVIEWED_RECORDS
    after = call(rerecognition_progress, supervisor, data_dir)  # as a reload would read it
    assert (after.pages_open, after.pages_on_model) == (1, 1)
    with sessions() as session:
        assert {f.id: (f.status, f.final_value, f.proposed_value) for f in session.scalars(
            select(FieldValue).where(FieldValue.id.in_(reviewed)))} == reviewed
        open_values = session.scalars(select(FieldValue.proposed_value)
                                      .where(FieldValue.record_id == sample_page.record_ids[-1])).all()
        assert sum(bool(v) for v in open_values) >= 5  # the open record now has machine proposals
        # The other unit's book (outside the supervisor's scope) was not touched.
        assert session.scalars(select(Page.model_version).where(Page.book_id == other_book_id)).all() == [None]


def test_lexicon_refresh_covers_the_supervisor_units_only(
    wb: Workbench, users: dict[str, User], call: Callable[..., Any], units: dict[str, int],
    sample_book_id: int, other_book_id: int,
) -> None:
    data_dir = wb.settings.data_dir
    with transaction(wb.sessions) as session:  # confirm every field of both books
        for field in session.scalars(select(FieldValue)):
            field.status = FieldStatus.CONFIRMED
    refreshed = call(refresh_lexicons, users["supervisor"], data_dir)
    assert [lexicon.unit_id for lexicon in refreshed] == [units["xa_a"]]
    assert refreshed[0].fields_counted > 0 and refreshed[0].words["person_name"]["mẫu"] >= 6
    assert lexicon_path(data_dir, units["xa_a"]).is_file()
    assert not lexicon_path(data_dir, units["other_xa"]).exists()
    everything = call(refresh_lexicons, users["admin"], data_dir)
    assert sorted(lexicon.unit_id for lexicon in everything) == sorted([units["xa_a"], units["other_xa"]])


def test_held_out_labels_name_the_held_out_sources() -> None:
    # workbench/ui/labels.py spells the codes out (it must not load the training services on every page).
    from workbench.ui.labels import HELD_OUT_VI
    assert set(HELD_OUT_VI) == {HELD_OUT_VALIDATION, HELD_OUT_LATER}
