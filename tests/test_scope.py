"""Scope is enforced in the services: every function refuses another unit's records/books/pages,
and roles that have no business with a function, whatever the UI shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.conftest import World, record_ids
from workbench.accounts import admin
from workbench.errors import ScopeError
from workbench.intake import contractor
from workbench.review import queue, record_view, review
from workbench.review.progress import my_progress, progress_dashboard
from workbench.supervision import qa, supervision

# (name, who, action): `who` must be refused for the sample unit's data.
OUT_OF_SCOPE: list[tuple[str, str, Callable[[World, User], Any]]] = [
    ("record view", "outsider", lambda w, u: w.call(record_view.get_record_view, u, w.record_id)),
    ("blind view", "other_supervisor", lambda w, u: w.call(record_view.get_record_view, u, w.record_id, blind=True)),
    *[
        (f"save {action}", "outsider",
         lambda w, u, a=action: w.call(review.save_record, u, w.record_id, w.version, {}, a, reason="x"))
        for action in ("approve", "flag", "skip", "save")
    ],
    ("claim", "outsider", lambda w, u: w.call(queue.claim_record, u, w.record_id)),
    ("release", "outsider", lambda w, u: w.call(queue.release_claim, u, w.record_id)),
    ("queue order", "other_supervisor", lambda w, u: w.call(queue.set_queue_order, u, "hard_first", w.units["xa_a"])),
    ("reassign", "other_supervisor", lambda w, u: w.call(supervision.reassign, u, w.record_id, None)),
    ("unflag", "other_supervisor", lambda w, u: w.call(supervision.unflag, u, w.record_id, w.version)),
    ("reject", "other_supervisor", lambda w, u: w.call(supervision.reject, u, w.record_id, w.version, "x")),
    ("bulk count", "other_supervisor",
     lambda w, u: w.call(supervision.count_bulk_approvable, u, book_id=w.book_id)),
    ("bulk approve", "other_supervisor",
     lambda w, u: w.call(supervision.bulk_approve_high_confidence, u, confirm=True, book_id=w.book_id)),
    ("qa sample", "other_supervisor",
     lambda w, u: w.call(qa.draw_qa_sample, u, w.users["official"].id, 50)),
    ("qa submit", "other_supervisor", lambda w, u: w.call(qa.submit_qa, u, w.qa_id, {})),
    ("create book", "other_contractor",
     lambda w, u: w.call(contractor.create_book, u, unit_id=w.units["xa_a"], book_type="khai_sinh", year=1999)),
    ("book summary", "other_contractor", lambda w, u: w.call(contractor.get_book_summary, u, w.book_id)),
    ("list pages", "other_contractor", lambda w, u: w.call(contractor.list_pages, u, w.book_id)),
    ("rerun page", "other_contractor", lambda w, u: w.call(contractor.rerun_page, u, w.page_id)),
    ("delete page", "other_contractor", lambda w, u: w.call(contractor.delete_page, u, w.page_id, "x")),
    ("restore page", "other_contractor", lambda w, u: w.call(contractor.restore_page, u, w.page_id)),
]

# (name, who, action): `who` has the wrong role, even inside their own unit.
WRONG_ROLE: list[tuple[str, str, Callable[[World, User], Any]]] = [
    ("contractor reviews", "contractor", lambda w, u: w.call(record_view.get_record_view, u, w.record_id)),
    ("contractor saves", "contractor", lambda w, u: w.call(review.save_record, u, w.record_id, w.version, {})),
    ("contractor claims", "contractor", lambda w, u: w.call(queue.next_record, u)),
    ("official flagged queue", "official", lambda w, u: w.call(supervision.flagged_queue, u)),
    ("official low queue", "official", lambda w, u: w.call(supervision.low_confidence_queue, u, 0.9)),
    ("official bulk", "official",
     lambda w, u: w.call(supervision.bulk_approve_high_confidence, u, confirm=True)),
    ("official qa", "official", lambda w, u: w.call(qa.qa_queue, u)),
    ("official error rates", "official", lambda w, u: w.call(qa.verifier_error_rates, u)),
    ("official dashboard", "official", lambda w, u: w.call(progress_dashboard, u)),
    ("official queue order", "official",
     lambda w, u: w.call(queue.set_queue_order, u, "hard_first", w.units["xa_a"])),
    ("official rerun", "official", lambda w, u: w.call(contractor.rerun_page, u, w.page_id)),
    ("official list pages", "official", lambda w, u: w.call(contractor.list_pages, u, w.book_id)),
    ("supervisor creates book", "supervisor",
     lambda w, u: w.call(contractor.create_book, u, unit_id=w.units["xa_a"], book_type="khai_sinh", year=1999)),
    ("supervisor lists users", "supervisor", lambda w, u: w.call(admin.list_users, u)),
    ("supervisor creates user", "supervisor",
     lambda w, u: w.call(admin.create_user_account, u, username="x", password="12345678", role="official",
                         unit_ids=[])),
    ("official deactivates", "official", lambda w, u: w.call(admin.set_active, u, w.users["official2"].id, False)),
    ("official sets units", "official",
     lambda w, u: w.call(admin.set_user_units, u, w.users["official"].id, [w.units["tinh"]])),
    ("contractor creates unit", "contractor", lambda w, u: w.call(admin.create_unit, u, name="Xã Mới", level="xa")),
]


@pytest.mark.parametrize(("who", "action"), [(w, a) for _, w, a in OUT_OF_SCOPE],
                         ids=[name for name, _, _ in OUT_OF_SCOPE])
def test_other_units_data_is_refused(world: World, who: str, action: Callable[[World, User], Any]) -> None:
    with pytest.raises(ScopeError) as raised:
        action(world, world.users[who])
    assert raised.value.message_vi  # the UI shows this as is


@pytest.mark.parametrize(("who", "action"), [(w, a) for _, w, a in WRONG_ROLE], ids=[name for name, _, _ in WRONG_ROLE])
def test_wrong_role_is_refused(world: World, who: str, action: Callable[[World, User], Any]) -> None:
    with pytest.raises(ScopeError, match="Role"):
        action(world, world.users[who])


def test_lists_only_show_the_users_units(world: World, other_book_id: int, sessions: sessionmaker[Session]) -> None:
    call, users = world.call, world.users
    assert call(queue.next_record, users["outsider"]).record_id in record_ids(sessions, other_book_id)
    assert {b.id for b in call(contractor.list_books, users["official"])} == {world.book_id}
    assert {b.id for b in call(contractor.list_books, users["outsider"])} == {other_book_id}
    assert {b.id for b in call(contractor.list_books, users["admin"])} == {world.book_id, other_book_id}
    assert call(supervision.low_confidence_queue, users["other_supervisor"], 1.0)[0].book_id == other_book_id
    assert call(qa.qa_queue, users["other_supervisor"]) == []
    assert call(my_progress, users["outsider"]).unit_total == 2
    board = call(progress_dashboard, users["other_supervisor"])
    assert [g.label for g in board.by_unit] == ["Xã Lộc Tấn"]
    assert [u.name for u in call(admin.list_units, users["official"])] == ["Xã Tân Lập"]
    assert [u.path for u in call(admin.list_units, users["supervisor"])] == [
        "Tỉnh Thử Nghiệm / Huyện Đồng Phú", "Tỉnh Thử Nghiệm / Huyện Đồng Phú / Xã Tân Hưng",
        "Tỉnh Thử Nghiệm / Huyện Đồng Phú / Xã Tân Lập"]


def test_district_supervisor_covers_communes_below(world: World) -> None:
    view = world.call(record_view.get_record_view, world.users["supervisor"], world.record_id)
    assert view.book.unit_name == "Xã Tân Lập"


def test_deactivated_user_is_refused_everywhere(world: World) -> None:
    world.call(admin.set_active, world.users["admin"], world.users["official"].id, False)
    with pytest.raises(ScopeError):
        world.call(queue.next_record, world.users["official"])
    with pytest.raises(ScopeError):
        world.call(record_view.get_record_view, world.users["official"], world.record_id)
