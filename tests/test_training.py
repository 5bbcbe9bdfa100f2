"""Learning from corrections: training sets from the DB, fine-tuning, export, registry, re-recognition.

Everything runs on real images: the committed synthetic sample pages (through the real page
pipeline and cell cutter) and lines rendered with handwriting fonts. The torch tests are skipped
when PyTorch (requirements-train.txt) is not installed.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from models import AuditEvent, FieldStatus, FieldValue, Page, Record, RecordStatus, User
from ocr.image.loading import InputFile
from ocr.page_warnings import decode_warnings
from ocr.read.engines.asternet import AsterNetRecognizer, asternet_asset_dir, get_asternet
from workbench.book_types import get_book_type
from workbench.books import BookIdentity
from workbench.db import transaction
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.training.compare import compare_models
from workbench.training.dataset import LabelledLine, build_training_set
from workbench.training.db_lines import lines_from_database
from workbench.training.evaluate import evaluate_recognizer
from workbench.training.fields import fields_from_lines
from workbench.training.folder import export_folder, import_folder
from workbench.training.lexicon_growth import unit_lexicon_words, update_unit_lexicon
from workbench.training.model_registry import (
    SHIPPED_VERSION,
    activate,
    active_version,
    list_models,
    recognizer_for,
    register_model,
    rollback,
)
from workbench.training.rerecognize import rerecognize_with_version
from workbench.training.synthetic import SAMPLE_BOOKS, sample_book_lines

pytestmark = pytest.mark.train
HAS_TORCH = importlib.util.find_spec("torch") is not None
requires_torch = pytest.mark.skipif(
    not HAS_TORCH, reason="PyTorch not installed: pip install -r requirements-train.txt"
)
SAMPLE_BOOK = SAMPLE_BOOKS / "khai_sinh"
ASSETS = asternet_asset_dir()


@pytest.fixture(scope="module")
def sample_lines() -> list[LabelledLine]:
    """Lines cut from the three committed khai_sinh pages by the real cell cutter."""
    return sample_book_lines(SAMPLE_BOOK)


# --- training set: split, de-duplication, folder format -------------------------------------------

def test_sample_lines_are_aligned_with_their_text(sample_lines: list[LabelledLine]) -> None:
    assert len(sample_lines) > 300
    scores = evaluate_recognizer(get_asternet(1), sample_lines[:40])
    assert scores.cer < 0.2  # the shipped model reads them: crops and texts belong together


def test_split_by_page_never_puts_a_page_in_both(sample_lines: list[LabelledLine]) -> None:
    duplicate = sample_lines[0]
    training_set = build_training_set([*sample_lines, duplicate], validation_share=0.3)
    train_pages = {line.page_key for line in training_set.train}
    validation_pages = {line.page_key for line in training_set.validation}
    assert train_pages and validation_pages and not train_pages & validation_pages
    assert training_set.notes["duplicates_dropped"] == 1
    assert len(training_set.train) + len(training_set.validation) == len(sample_lines)
    summary = training_set.summary()
    assert summary["validation"]["pages"] == len(validation_pages)


def test_folder_round_trip(tmp_path: Path, sample_lines: list[LabelledLine]) -> None:
    lines = sample_lines[:12]
    labels = export_folder(lines, tmp_path / "set")
    assert len(labels.read_text(encoding="utf-8").splitlines()) == 12
    back = import_folder(tmp_path / "set")
    assert [b.text for b in back] == [line.text for line in lines]
    assert all(np.array_equal(b.image, line.image) for b, line in zip(back, lines, strict=True))
    assert [b.page_key for b in back] == [line.page_key for line in lines]  # the split survives


# --- the database loop: ingest, review, training set, re-recognition, lexicon ---------------------

def _truth_page() -> dict:
    return json.loads((SAMPLE_BOOK / "truth.json").read_text(encoding="utf-8"))["pages"][0]


def _review(sessions, user: User, record_ids: list[int], truth: dict, approve: bool) -> None:
    """The official types the true value into every field of the records."""
    by_row = {r["row_index"]: r["fields"] for r in truth["records"]}
    moment = datetime.now(UTC)
    with transaction(sessions) as session:
        for record_id in record_ids:
            record = session.get(Record, record_id)
            for field in record.fields:
                value = by_row[record.row_index][field.key]["value"]
                field.status = FieldStatus.CONFIRMED if value == field.proposed_value else FieldStatus.CORRECTED
                field.final_value = value
                field.edited_by_id, field.edited_at = user.id, moment
            if approve:
                record.status = RecordStatus.APPROVED


@pytest.fixture(scope="module")
def reviewed_book(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path):
    """A sample page ingested without OCR; record 1 reviewed and approved before re-recognition."""
    import shutil

    from workbench.config import Settings
    from workbench.context import open_workbench

    root = tmp_path_factory.mktemp("training_db")
    shutil.copyfile(migrated_template, root / "workbench.db")
    wb = open_workbench(Settings(db_url=f"sqlite:///{root / 'workbench.db'}", data_dir=root / "data"),
                        run_migrations=False)
    report = ingest_files(wb.sessions, wb.settings.data_dir, [InputFile("page_001.jpg", SAMPLE_BOOK / "page_001.jpg")],
                          identity=BookIdentity("Xã Đại Lãnh", "khai_sinh", 2003), options=IngestOptions(run_ocr=False))
    assert report.pages_done == 1 and report.records_created >= 8
    with transaction(wb.sessions) as session:
        user = User(username="canbo", password_hash="!", role="official")
        session.add(user)
        session.flush()
        record_ids = list(session.scalars(select(Record.id).order_by(Record.row_index)))
    _review(wb.sessions, user, record_ids[:1], _truth_page(), approve=True)
    with wb.sessions() as session:
        before = {f.id: (f.status, f.final_value, f.proposed_value)
                  for f in session.get(Record, record_ids[0]).fields}
    # An open record's registration number misread as 40: the book's sequence check flags it.
    from workbench.intake.registration_sequence import apply_book_sequence, is_sequence_warning

    with transaction(wb.sessions) as session:
        misread = next(f for f in session.get(Record, record_ids[2]).fields if f.key == "registration_no")
        misread.proposed_value = "40"
        apply_book_sequence(session, session.get(Record, record_ids[2]).page.book_id)
    with wb.sessions() as session:
        stored = session.get(Record, record_ids[2]).page.warnings
        flagged = [w for w in decode_warnings(stored) if is_sequence_warning(w)]
    assert flagged
    # The active model (none activated: the shipped one) re-proposes the open records.
    rerecognized = rerecognize_with_version(wb.sessions, wb.settings.data_dir, threads=1,
                                            progress=lambda done, total: progress.append((done, total)))
    _review(wb.sessions, user, record_ids[1:6], _truth_page(), approve=False)
    yield wb, user, record_ids, before, rerecognized
    wb.engine.dispose()


progress: list[tuple[int, int]] = []


def test_rerecognition_fills_proposals_and_never_touches_reviewed_fields(reviewed_book) -> None:
    wb, _, record_ids, before, report = reviewed_book
    assert report.pages == 1 and not report.pages_failed and progress[-1] == (1, 1)
    with wb.sessions() as session:
        approved = session.get(Record, record_ids[0])
        assert {f.id: (f.status, f.final_value, f.proposed_value) for f in approved.fields} == before
        later = session.get(Record, record_ids[6])
        read = [f.proposed_value for f in later.fields if f.proposed_value]
        assert len(read) >= 5 and all(f.engine for f in later.fields if f.proposed_value)
        page = session.get(Page, approved.page_id)
        assert page.model_version == SHIPPED_VERSION
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "rerecognize")) is not None
        # The number read again closes the gap the misread one made: the page's warning goes.
        from workbench.intake.registration_sequence import is_sequence_warning

        assert not [w for w in decode_warnings(page.warnings) if is_sequence_warning(w)]
    columns = len(get_book_type("khai_sinh").columns)
    assert report.records == len(record_ids) - 1
    assert report.fields_updated == columns * (len(record_ids) - 1)  # every open field, none of record 1


def test_training_set_from_reviewed_fields(reviewed_book) -> None:
    wb, _, record_ids, _, _ = reviewed_book
    with wb.sessions() as session:
        lines, notes = lines_from_database(session, wb.settings.data_dir)
        reviewed_ids = set(session.scalars(select(FieldValue.id).where(FieldValue.status != "proposed")))
    assert {line.field_value_id for line in lines} <= reviewed_ids
    assert {line.source for line in lines} == {"db"} and len({line.page_key for line in lines}) == 1
    assert len(lines) >= 40
    assert any(line.line_index == 1 for line in lines)  # multi-line cells were split, not dropped
    assert all(line.unit_name == "Xã Đại Lãnh" and line.year == 2003 for line in lines)
    # Crops and texts belong together: the shipped model reads them with few errors.
    assert evaluate_recognizer(get_asternet(1), lines).cer < 0.2
    assert notes["reviewed_fields"] >= 6 * 10
    with wb.sessions() as session:  # --since: fields confirmed on/after a date
        since_2000, _ = lines_from_database(session, wb.settings.data_dir, datetime(2000, 1, 1, tzinfo=UTC))
        since_2999, _ = lines_from_database(session, wb.settings.data_dir, datetime(2999, 1, 1, tzinfo=UTC))
    assert len(since_2000) == len(lines) and since_2999 == []


def test_lexicon_grows_from_confirmed_names(reviewed_book) -> None:
    wb, _, _, _, _ = reviewed_book
    truth = _truth_page()["records"]
    with transaction(wb.sessions) as session:
        unit_id = session.get(Record, 1).book.unit_id
        lexicon = update_unit_lexicon(session, wb.settings.data_dir, unit_id)
    words = unit_lexicon_words(unit_id, "person_name", wb.settings.data_dir)
    surname = truth[1]["fields"]["full_name"]["value"].split()[0].lower()
    assert words[surname] >= 1 and lexicon.fields_counted >= 6
    assert unit_lexicon_words(unit_id, "place", wb.settings.data_dir)
    assert unit_lexicon_words(unit_id + 99, "place", wb.settings.data_dir) == {}


def test_registry_activate_rollback_and_compare(reviewed_book, tmp_path: Path) -> None:
    wb, user, _, _, _ = reviewed_book
    data_dir = tmp_path / "data"
    first = register_model(data_dir, ASSETS / "asternet.onnx", ASSETS / "vocab.json", {"note": "first"})
    second = register_model(data_dir, ASSETS / "asternet.onnx", ASSETS / "vocab.json", {"note": "second"})
    assert [m.version for m in list_models(data_dir)] == [SHIPPED_VERSION, first.version, second.version]
    assert active_version(data_dir) == SHIPPED_VERSION
    with transaction(wb.sessions) as session:
        activate(session, data_dir, first.version, user)
        activate(session, data_dir, second.version, user)
        assert active_version(data_dir) == second.version
        assert rollback(session, data_dir, user) == first.version
        assert rollback(session, data_dir, user) == SHIPPED_VERSION
        with pytest.raises(ValueError):
            rollback(session, data_dir, user)
    with wb.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "model")))
    assert actions == ["model_activate", "model_activate", "model_rollback", "model_rollback"]
    assert first.meta["note"] == "first" and "created_at" in first.meta
    assert isinstance(recognizer_for(data_dir, first.version, 1), AsterNetRecognizer)
    with wb.sessions() as session:
        lines, _ = lines_from_database(session, wb.settings.data_dir)
    held_out = fields_from_lines(lines)
    comparison = compare_models(first.version, SHIPPED_VERSION, held_out[:20], data_dir=data_dir, threads=1)
    assert comparison.candidate.fields == comparison.active.fields == 20
    assert comparison.candidate.cer == comparison.active.cer  # the same network reads the same
    assert 0 <= comparison.active.field_accuracy <= 1 and not comparison.candidate_better
    assert {row["metric"] for row in comparison.rows()} >= {"cer", "high_confidence_precision"}


# --- PyTorch: equality with the ONNX, a few real training steps, export ---------------------------

@pytest.fixture(scope="module")
def torch_lines(sample_lines: list[LabelledLine]) -> list[np.ndarray]:
    from samples.lines import Degradation, handwriting_fonts, render_line

    rng = np.random.default_rng(3)
    texts = ["Nguyễn Văn An", "12/05/1987", "Xã Tân Lập, huyện Đồng Phú", "Trần Thị Bích Ngọc", "Kinh"]
    rendered = [render_line(t, font, 40, Degradation.random(rng), rng)
                for t, font in zip(texts, handwriting_fonts(), strict=False)]
    return rendered + [line.image for line in sample_lines[::37][:10]]


@requires_torch
def test_pytorch_module_reproduces_the_shipped_onnx(torch_lines: list[np.ndarray]) -> None:
    import torch

    from workbench.training.asternet_torch import build_from_onnx
    from workbench.training.preprocess import normalized_line

    torch.set_num_threads(1)
    model = build_from_onnx(ASSETS / "asternet.onnx")
    engine = get_asternet(1)
    for line in torch_lines:
        with torch.no_grad():
            ours = model(torch.from_numpy(normalized_line(line))[None])[:, 0].numpy()
        reference = engine.line_log_probs([line])[0].log_probs
        assert ours.shape == reference.shape
        assert np.abs(ours - reference).max() < 2e-3
        assert np.array_equal(ours.argmax(1), reference.argmax(1))


@requires_torch
def test_the_onnx_stem_gives_the_pytorch_stem_features(torch_lines: list[np.ndarray], tmp_path: Path) -> None:
    import onnx
    import torch

    from workbench.training.asternet_torch import build_from_onnx, stem_features
    from workbench.training.onnx_stem import onnx_stem
    from workbench.training.preprocess import normalized_line

    torch.set_num_threads(1)
    model = build_from_onnx(ASSETS / "asternet.onnx")
    stem = onnx_stem(ASSETS / "asternet.onnx", threads=1)
    assert stem is not None
    for line in torch_lines:
        batch = normalized_line(line)[None]
        with torch.no_grad():
            reference = stem_features(model, torch.from_numpy(batch))
        ours = stem(batch)
        assert ours.shape == reference.shape
        assert float((ours - reference).abs().max()) < 0.02  # the cache keeps float16 (~0.008 at 15)
    # A graph without the stem's named output: None, and the trainer keeps PyTorch.
    node = onnx.helper.make_node("Identity", ["images"], ["out"])
    graph = onnx.helper.make_graph([node], "other", [onnx.helper.make_tensor_value_info("images", 1, None)],
                                   [onnx.helper.make_tensor_value_info("out", 1, None)])
    other = tmp_path / "other.onnx"
    onnx.save(onnx.helper.make_model(graph), str(other))
    assert onnx_stem(other, threads=1) is None


@pytest.fixture(scope="module")
def fine_tuned(sample_lines: list[LabelledLine], tmp_path_factory: pytest.TempPathFactory):
    """`train --from-folder` through the service: 3 pages of labelled lines -> a registered model."""
    from workbench.config import Settings
    from workbench.context import open_workbench
    from workbench.training.asternet_torch import build_from_onnx
    from workbench.training.service import TrainRequest, train_model
    from workbench.training.trainer import ctc_loss_on, load_alphabet

    root = tmp_path_factory.mktemp("train_folder")
    by_page: dict[str, list[LabelledLine]] = {}
    for line in sample_lines:
        by_page.setdefault(line.page_key, []).append(line)
    chosen = [line for page in sorted(by_page) for line in by_page[page][:14]]  # 3 pages x 14 lines
    export_folder(chosen, root / "lines")
    wb = open_workbench(Settings(db_url=f"sqlite:///{root / 'wb.db'}", data_dir=root / "data", ocr_threads=1))
    request = TrainRequest(from_folder=root / "lines", epochs=2, batch_size=8, device="cpu", max_minutes=5,
                           validation_share=0.3, threads=1)
    outcome = train_model(wb, request, say=lambda message: None)
    train = outcome.training_set.train
    alphabet = load_alphabet(ASSETS / "vocab.json")
    loss_before = ctc_loss_on(build_from_onnx(ASSETS / "asternet.onnx"), train, alphabet)
    yield outcome, loss_before, ctc_loss_on(outcome.fine_tune.model, train, alphabet), wb
    wb.engine.dispose()


@requires_torch
def test_a_few_training_steps_reduce_the_loss_and_register_a_model(fine_tuned) -> None:
    outcome, loss_before, loss_after, wb = fine_tuned
    result = outcome.fine_tune
    assert len(result.history) >= 1 and result.device == "cpu" and result.train_lines == 28
    assert loss_after < 0.8 * loss_before
    # Registered (not activated) with what a supervisor needs to judge it.
    meta = outcome.model.meta
    assert outcome.model.version in [m.version for m in list_models(wb.settings.data_dir)]
    assert active_version(wb.settings.data_dir) == SHIPPED_VERSION
    assert meta["parent_version"] == SHIPPED_VERSION and meta["training_set"]["train"]["lines"] == 28
    assert meta["validation_cer_before"] is not None and meta["validation_cer_after"] is not None
    assert meta["export_check"]["same_argmax"] and meta["export_check"]["widest_input"] > 1024
    assert set(meta["validation_pages"]).isdisjoint({line.page_key for line in outcome.training_set.train})


@requires_torch
def test_export_is_reproduced_by_onnxruntime_and_reads_wide_lines(fine_tuned, torch_lines, tmp_path: Path) -> None:
    import torch

    from workbench.training.asternet_torch import build_from_onnx
    from workbench.training.export import export_onnx, exported_max_width, verify_export, wide_check_line
    from workbench.training.preprocess import normalized_line

    model = fine_tuned[0].fine_tune.model
    path = export_onnx(model, tmp_path / "model.onnx")
    wide = wide_check_line(torch_lines[:6], exported_max_width(path))
    check = verify_export(model, path, [*torch_lines[:6], wide])
    assert check.same_argmax and check.max_abs_diff < 1e-2  # float32 LSTM over 300+ frames
    assert check.widest_input > 1024  # the shipped graph fails beyond 1024 px
    # The engine runs the exported file; the file loads back into PyTorch unchanged.
    engine = AsterNetRecognizer(path, ASSETS / "vocab.json", threads=1)
    assert engine.read_lines([torch_lines[0]])[0].text
    reloaded = build_from_onnx(path)
    x = torch.from_numpy(normalized_line(torch_lines[1]))[None]
    with torch.no_grad():
        assert torch.allclose(reloaded(x), model(x), atol=1e-4)


def test_calibrator_refit_for_a_model_is_stored_and_used(sample_lines: list[LabelledLine], tmp_path: Path) -> None:
    from workbench.training.calibration import refit_calibrator
    from workbench.training.model_registry import calibrator_for

    fields = fields_from_lines(sample_lines[100:180])
    fit = refit_calibrator(get_asternet(1), fields, "candidate-calibration")
    assert fit.calibrator is not None, fit.reason
    assert fit.fields >= 60 and 0.3 < fit.accuracy < 1.0 and fit.ece is not None and fit.ece < 0.2
    model = register_model(tmp_path, ASSETS / "asternet.onnx", ASSETS / "vocab.json", {}, calibration=fit.calibrator)
    assert model.calibration_path is not None and model.meta["calibration"]["fields"] == fit.fields
    loaded = calibrator_for(tmp_path, model.version)
    assert loaded.weights == fit.calibrator.weights


@requires_torch
@pytest.mark.parametrize(("lines", "epochs", "views", "patience"), [
    (90, 30, 4, 3),      # an office's first pages: many passes over many augmented copies
    (270, 30, 4, 3),
    (900, 22, 2, 3),
    (1312, 15, 1, 3),
    (20000, 4, 1, 2),    # a big set: a few passes are enough
])
def test_the_automatic_recipe_gives_small_sets_more_passes_and_copies(lines: int, epochs: int, views: int,
                                                                      patience: int) -> None:
    from workbench.training.trainer import Recipe, auto_recipe

    assert auto_recipe(lines, batch_size=16) == Recipe(epochs=epochs, augment_views=views, patience=patience)


@requires_torch
@pytest.mark.parametrize(("planned", "done", "per_epoch", "left", "expected"), [
    (15, 1, 120.0, 3600.0, 15),  # everything fits
    (15, 1, 300.0, 1500.0, 6),   # the budget cuts the plan: 1 done + 5 more
    (15, 1, 300.0, 100.0, 1),    # nothing more fits: stop after the one done
    (15, 1, 0.0, 100.0, 15),     # not timed yet
])
def test_the_plan_is_cut_to_the_time_budget(planned: int, done: int, per_epoch: float, left: float,
                                            expected: int) -> None:
    from workbench.training.trainer import epochs_in_budget

    assert epochs_in_budget(planned, done, per_epoch, left) == expected
