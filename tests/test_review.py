"""Officials' queue, claims and saving, on a real SQLite file (including real concurrent threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldStatus, FieldValue, Record, RecordStatus, Unit, User
from tests.backends import BACKENDS, fresh_engine
from tests.conftest import SAMPLE_CONFIDENCES, insert_book, make_official, record_ids
from workbench.db import session_factory, transaction
from workbench.errors import ConflictError, InvalidActionError
from workbench.policy import ReviewPolicy
from workbench.review.queue import claim_record, next_record, now_utc, release_claim, set_queue_order
from workbench.review.record_view import get_record_view
from workbench.review.review import save_record


def _approve(call: Callable[..., Any], user: User, record_id: int, **values: str) -> None:
    view = call(get_record_view, user, record_id)
    call(save_record, user, record_id, view.version, values, "approve")


def _confidence_order(sessions: sessionmaker[Session], ids: list[int]) -> list[float]:
    with sessions() as session:
        return [session.get(Record, i).confidence for i in ids]


def test_queue_serves_book_type_priority_then_easy_first(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], build_book: Callable[..., int],
    sessions: sessionmaker[Session],
) -> None:
    # Book order is the default (issue #15 item 6, tests/test_book_order.py); easy first is an admin's choice.
    call(set_queue_order, users["admin"], "easy_first")
    death = build_book(units["xa_a"], (0.99, 0.98), book_type="khai_tu")  # lower priority, higher confidence
    birth = build_book(units["xa_a"], (0.4, 0.8, 0.6))
    marriage = build_book(units["xa_b"], (0.97,), book_type="ket_hon")  # xa_b: not in the official's units
    official = users["official"]
    served = []
    while (claim := call(next_record, official)) is not None:
        served.append(claim.record_id)
        _approve(call, official, claim.record_id)
    assert served == [*[record_ids(sessions, birth)[i] for i in (1, 2, 0)], *record_ids(sessions, death)]
    # The district supervisor covers xa_b and gets the marriage record before the (lower-priority) rest.
    assert call(next_record, users["supervisor"]).record_id == record_ids(sessions, marriage)[0]


def test_supervisor_queue_order_hard_first_applies_to_units_below(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sample_book_id: int,
    sessions: sessionmaker[Session],
) -> None:
    call(set_queue_order, users["supervisor"], "hard_first", units["huyen"])
    claim = call(next_record, users["official"])
    assert _confidence_order(sessions, [claim.record_id]) == [min(SAMPLE_CONFIDENCES)]
    with pytest.raises(InvalidActionError):  # only an admin sets the global order
        call(set_queue_order, users["supervisor"], "book_order")
    call(set_queue_order, users["supervisor"], "book_order", units["xa_a"])  # nearest unit setting wins
    claim2 = call(next_record, users["official2"])
    assert claim2.record_id == record_ids(sessions, sample_book_id)[0]


def test_claim_is_exclusive_and_held_until_expiry(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int,
) -> None:
    first = call(next_record, users["official"])
    assert call(next_record, users["official"]) == first  # asking again returns the same held record
    second = call(next_record, users["official2"])
    assert second.record_id != first.record_id
    with pytest.raises(ConflictError):
        call(claim_record, users["official2"], first.record_id)
    # After the claim expires another official may take it; the first official's save then conflicts.
    later = now_utc() + timedelta(minutes=ReviewPolicy().claim_minutes + 1)
    taken = call(claim_record, users["official2"], first.record_id, moment=later)
    assert taken.version == first.version + 1
    with pytest.raises(ConflictError):
        call(save_record, users["official"], first.record_id, first.version, {}, "approve")


def test_saving_renews_the_claim(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int,
) -> None:
    start = now_utc()
    claim = call(next_record, users["official"], moment=start)
    minutes = ReviewPolicy().claim_minutes
    saved = call(save_record, users["official"], claim.record_id, claim.version, {"sex": "Nam"}, "save",
                 moment=start + timedelta(minutes=minutes - 1))
    after_first_expiry = start + timedelta(minutes=minutes + 1)
    with pytest.raises(ConflictError):
        call(claim_record, users["official2"], claim.record_id, moment=after_first_expiry)
    assert call(next_record, users["official"], moment=after_first_expiry).record_id == claim.record_id
    assert call(save_record, users["official"], claim.record_id, saved.version, {}, "approve",
                moment=after_first_expiry).status == RecordStatus.APPROVED


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_officials_never_get_the_same_record(backend: str, tmp_path: Path) -> None:
    """8 officials in 8 threads, each claiming and approving 5 records from one queue of 40."""
    engine = fresh_engine(backend, tmp_path)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        unit = Unit(name="Xã Tân Lập", level="xa")
        session.add(unit)
        session.flush()
        unit_id = unit.id
        insert_book(session, unit_id, [0.5 + i / 100 for i in range(40)])
    officials = [make_official(sessions, f"official_{n}", unit_id) for n in range(8)]
    barrier = threading.Barrier(len(officials))
    claimed: dict[int, list[int]] = {o.id: [] for o in officials}
    errors: list[BaseException] = []

    def work(official: User) -> None:
        try:
            barrier.wait()
            for _ in range(5):  # each takes five records, approving each so the next call claims anew
                with transaction(sessions) as session:
                    claim = next_record(session, official)
                assert claim is not None
                claimed[official.id].append(claim.record_id)
                with transaction(sessions) as session:
                    save_record(session, official, claim.record_id, claim.version, {}, "approve")
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(o,)) for o in officials]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    everything = [rid for ids in claimed.values() for rid in ids]
    assert len(everything) == 40 and len(set(everything)) == 40
    with sessions() as session:
        approvers = {rid: uid for rid, uid in session.execute(select(Record.id, Record.approved_by_id))}
    assert all(approvers[rid] == uid for uid, ids in claimed.items() for rid in ids)
    engine.dispose()


def test_simultaneous_first_claims_are_all_different(
    sessions: sessionmaker[Session], units: dict[str, int], build_book: Callable[..., int],
) -> None:
    build_book(units["xa_a"], [0.9] * 12)
    officials = [make_official(sessions, f"o{n}", units["xa_a"]) for n in range(12)]
    barrier = threading.Barrier(len(officials))
    results: list[int] = []
    lock = threading.Lock()

    def grab(official: User) -> None:
        barrier.wait()
        with transaction(sessions) as session:
            claim = next_record(session, official)
        with lock:
            results.append(claim.record_id if claim else -1)

    threads = [threading.Thread(target=grab, args=(o,)) for o in officials]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 12 and -1 not in results and len(set(results)) == 12


def test_approve_without_edits_confirms_every_field_and_audits(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    official = users["official"]
    claim = call(next_record, official)
    result = call(save_record, official, claim.record_id, claim.version, {}, "approve")
    assert result.status == RecordStatus.APPROVED and result.version > claim.version
    with sessions() as session:
        record = session.get(Record, claim.record_id)
        assert record.approved_by_id == official.id and record.approved_at is not None
        assert record.assigned_to_id is None and record.claim_expires_at is None
        assert {f.status for f in record.fields} == {FieldStatus.CONFIRMED}
        assert all(f.final_value == f.proposed_value for f in record.fields)
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.user_id == official.id)))
    field_events = [e for e in events if e.entity_type == "field" and e.action == "confirm"]
    assert len(field_events) == len(record.fields) == result.fields_confirmed
    status_events = [e for e in events if e.entity_type == "record" and e.action == "approve"]
    assert [(e.old_value["status"], e.new_value["status"]) for e in status_events] == [("proposed", "approved")]


def test_correction_is_normalized_kept_as_written_and_audited(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    official = users["official"]
    claim = call(next_record, official)
    typed = "  Nguye\u0302\u0303n   Thị  Bé "  # decomposed Vietnamese + extra spaces
    saved = call(save_record, official, claim.record_id, claim.version, {"full_name": typed}, "save")
    assert (saved.fields_corrected, saved.fields_confirmed, saved.status) == (1, 0, RecordStatus.IN_REVIEW)
    view = call(get_record_view, official, claim.record_id)
    name = view.field("full_name")
    assert name.status == FieldStatus.CORRECTED and name.final_value == "Nguyễn Thị Bé" == name.value_to_show
    assert view.field("sex").status == FieldStatus.PROPOSED  # untouched fields stay proposed on "save"
    call(save_record, official, claim.record_id, view.version, {}, "approve")
    with sessions() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "correct")))
        field = session.scalar(select(FieldValue).where(FieldValue.record_id == claim.record_id,
                                                         FieldValue.key == "full_name"))
    assert len(events) == 1
    assert events[0].old_value == {"status": "proposed", "value": "Trần Thị Mẫu"}
    assert events[0].new_value["value"] == "Nguyễn Thị Bé" and events[0].actor == "official"
    assert field.status == FieldStatus.CORRECTED and field.final_value == "Nguyễn Thị Bé"


def test_concurrent_edit_conflicts_and_never_overwrites(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    record_id = record_ids(sessions, sample_book_id)[0]
    seen_by_official = call(get_record_view, users["official"], record_id)
    seen_by_supervisor = call(get_record_view, users["supervisor"], record_id)
    call(save_record, users["supervisor"], record_id, seen_by_supervisor.version, {"sex": "Nam"}, "save")
    with pytest.raises(ConflictError) as raised:
        call(save_record, users["official"], record_id, seen_by_official.version, {"sex": "Nữ"}, "approve")
    assert "người khác" in raised.value.message_vi
    view = call(get_record_view, users["official"], record_id)
    assert view.field("sex").final_value == "Nam" and view.status == RecordStatus.IN_REVIEW


def test_a_live_claim_of_another_official_is_never_overwritten(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int,
) -> None:
    claim = call(next_record, users["official"])
    view = call(get_record_view, users["official2"], claim.record_id)  # opened by id, same version
    assert view.version == claim.version and view.assigned_to_id == users["official"].id
    with pytest.raises(ConflictError) as raised:
        call(save_record, users["official2"], claim.record_id, view.version, {}, "approve")
    assert raised.value.message_vi == "Bản ghi đang được người khác xử lý."
    later = now_utc() + timedelta(minutes=ReviewPolicy().claim_minutes + 1)  # once expired, it is free again
    assert call(save_record, users["official2"], claim.record_id, view.version, {}, "approve", moment=later).status \
        == RecordStatus.APPROVED


def test_stale_version_caught_by_the_update_itself(
    users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    """Both saves pass the version pre-check; the second one's UPDATE ... WHERE version = v then
    matches no row (the first committed meanwhile), so it conflicts instead of overwriting."""
    record_id = record_ids(sessions, sample_book_id)[0]
    with sessions() as session:
        version = session.get(Record, record_id).version
    second_reached_flush = threading.Event()
    outcome: list[BaseException | None] = []

    def second_save() -> None:
        session = sessions()
        event.listen(session, "before_flush", lambda *_: second_reached_flush.set())
        try:
            with session.begin():
                save_record(session, users["official2"], record_id, version, {"sex": "Nữ"}, "approve")
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 — checked below
            outcome.append(exc)
        finally:
            session.close()

    with transaction(sessions) as first:
        save_record(first, users["official"], record_id, version, {"sex": "Nam"}, "save")
        thread = threading.Thread(target=second_save)
        thread.start()
        assert second_reached_flush.wait(10)  # the second save read version v and passed the pre-check
    thread.join(30)
    assert isinstance(outcome[0], ConflictError) and "while saving" in str(outcome[0])
    with sessions() as session:
        record = session.get(Record, record_id)
        assert record.status == RecordStatus.IN_REVIEW and record.field_map()["sex"].final_value == "Nam"


def test_skip_releases_and_moves_the_record_to_the_end_of_my_queue(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    official = users["official"]
    first = call(next_record, official)
    result = call(save_record, official, first.record_id, first.version, {"full_name": "bỏ"}, "skip")
    assert result.fields_corrected == 0  # skip discards edits
    after = call(next_record, official)
    assert after.record_id != first.record_id
    assert call(next_record, users["official2"]).record_id == first.record_id  # back in others' queues
    with sessions() as session:
        skips = session.scalars(select(AuditEvent).where(AuditEvent.action == "skip")).all()
        assert [e.entity_id for e in skips] == [first.record_id]
        assert session.get(Record, first.record_id).status == RecordStatus.PROPOSED
    # Once everything else is done, the skipped record comes back to the official.
    call(release_claim, users["official2"], first.record_id)
    call(save_record, official, after.record_id, after.version, {}, "approve")
    served = []
    while (claim := call(next_record, official)) is not None:
        served.append(claim.record_id)
        call(save_record, official, claim.record_id, claim.version, {}, "approve")
    assert served[-1] == first.record_id and len(served) == len(SAMPLE_CONFIDENCES) - 1


def test_flag_needs_a_reason_and_leaves_the_officials_queue(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    official = users["official"]
    claim = call(next_record, official)
    with pytest.raises(InvalidActionError):
        call(save_record, official, claim.record_id, claim.version, {}, "flag", reason="  ")
    result = call(save_record, official, claim.record_id, claim.version, {"sex": "Nam"}, "flag",
                  reason="Mực nhòe, không đọc được tên cha")
    assert result.status == RecordStatus.FLAGGED and result.fields_corrected == 1
    with sessions() as session:
        record = session.get(Record, claim.record_id)
        assert record.flag_reason == "Mực nhòe, không đọc được tên cha" and record.assigned_to_id is None
    served = set()
    while (next_claim := call(next_record, official)) is not None:
        served.add(next_claim.record_id)
        call(save_record, official, next_claim.record_id, next_claim.version, {}, "approve")
    assert claim.record_id not in served and len(served) == len(SAMPLE_CONFIDENCES) - 1
    with pytest.raises(InvalidActionError):  # officials cannot approve a flagged record
        call(save_record, official, claim.record_id, result.version, {}, "approve")


def test_unknown_field_or_action_is_refused(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int,
) -> None:
    claim = call(next_record, users["official"])
    with pytest.raises(InvalidActionError):
        call(save_record, users["official"], claim.record_id, claim.version, {"no_such_field": "x"}, "save")
    with pytest.raises(InvalidActionError):
        call(save_record, users["official"], claim.record_id, claim.version, {}, "publish")


def test_record_view_bands_messages_and_blind_mode(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    ids = record_ids(sessions, sample_book_id)
    high, medium, low = ids[0], ids[3], ids[2]  # 0.95, 0.7, 0.5
    official = users["official"]
    assert {f.band for f in call(get_record_view, official, high).fields} == {"high"}
    assert {f.band for f in call(get_record_view, official, medium).fields} == {"medium"}
    view = call(get_record_view, official, low)
    assert {f.band for f in view.fields} == {"low"}
    name = view.field("full_name")
    assert name.doubtful_chars == tuple(range(len(name.chars))) and name.cell_bbox is not None
    assert [f.key for f in view.fields][:3] == ["registration_no", "registration_date", "full_name"]
    assert view.image_path.startswith("derived/") and view.page_size == (2480, 1754)
    assert view.book.type_label == "Sổ đăng ký khai sinh" and view.book.unit_name == "Xã Tân Lập"
    place = view.field("birth_place")  # the gazetteer's current unit is shown beside, never replacing
    assert place.value_to_show == "Xã Tân Lập, huyện Đồng Phú" and place.current_unit
    assert place.current_unit != place.value_to_show and view.field("full_name").current_unit is None
    # A birth date after the registration date gets the validator's Vietnamese message.
    saved = call(save_record, official, low, view.version, {"birth_date": "05/06/2002"}, "save")
    view = call(get_record_view, official, low)
    assert any("sau ngày đăng ký" in m for m in view.field("birth_date").messages)
    blind = call(get_record_view, users["supervisor"], low, blind=True)
    assert blind.field("birth_date").value_to_show == "03/04/2001" and blind.field("birth_date").final_value is None
    assert saved.version == view.version
