"""Issue #15 item 1: an official's unsaved typing is kept on the server per (record, user), restored
when the record is opened again, and ended by every review action. Real migrated SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Record, RecordDraft, RecordStatus, User
from tests.conftest import record_ids
from workbench.errors import ScopeError
from workbench.review.drafts import load_draft, save_draft
from workbench.review.queue import claim_record
from workbench.review.record_view import get_record_view
from workbench.review.review import save_record


@pytest.fixture()
def held(call: Callable[..., Any], users: dict[str, User], sample_book_id: int,
         sessions: sessionmaker[Session]) -> int:
    """A record of the sample book claimed by the official."""
    record_id = record_ids(sessions, sample_book_id)[0]
    call(claim_record, users["official"], record_id)
    return record_id


def _rows(sessions: sessionmaker[Session], record_id: int) -> list[tuple[int, dict[str, str]]]:
    with sessions() as session:
        return [(d.user_id, d.values) for d in session.scalars(select(RecordDraft).where(
            RecordDraft.record_id == record_id))]


def test_only_changed_fields_are_kept_and_restored(call: Callable[..., Any], users: dict[str, User], held: int) -> None:
    official = users["official"]
    shown = call(get_record_view, official, held).values
    typed = {**shown, "full_name": "Trần Thị Mẫn", "sex": "Nữ"}  # sex unchanged: nothing to keep
    draft = call(save_draft, official, held, typed, ["registration_no", "full_name", "no_such_field"])
    assert draft.values == {"full_name": "Trần Thị Mẫn"}
    assert draft.visited == ("registration_no", "full_name")
    restored = call(load_draft, official, held)
    assert (restored.values, restored.visited) == ({"full_name": "Trần Thị Mẫn"}, ("registration_no", "full_name"))
    # The page lays it over the record: the form and its validator messages show the typing.
    view = call(get_record_view, official, held, overrides={**restored.values, "birth_date": "31/02/2001"})
    assert view.field("full_name").value_to_show == "Trần Thị Mẫn"
    assert view.field("birth_date").messages == ("Ngày 31/02/2001 không có trên lịch",)
    assert call(load_draft, users["official2"], held) is None  # drafts are per user


def test_typing_back_to_the_record_value_removes_the_draft(
    call: Callable[..., Any], users: dict[str, User], held: int, sessions: sessionmaker[Session]
) -> None:
    official = users["official"]
    shown = call(get_record_view, official, held).values
    call(save_draft, official, held, {**shown, "full_name": "Trần Thị Mẫn"})
    assert call(save_draft, official, held, shown) is None
    assert _rows(sessions, held) == []


@pytest.mark.parametrize(("action", "left"), [("save", ["official2"]), ("approve", []), ("skip", []),
                                              ("flag", [])])
def test_every_review_action_ends_the_draft(
    call: Callable[..., Any], users: dict[str, User], held: int, sessions: sessionmaker[Session],
    action: str, left: list[str],
) -> None:
    official, other = users["official"], users["official2"]
    call(save_draft, official, held, {"full_name": "Trần Thị Mẫn"})
    with sessions() as session:  # another official's old draft on the same record (their claim lapsed)
        session.add(RecordDraft(record_id=held, user_id=other.id, values={"sex": "Nam"}, visited=[]))
        session.commit()
    version = call(get_record_view, official, held).version
    call(save_record, official, held, version, {"full_name": "Trần Thị Mẫn"}, action, reason="chữ mờ")
    assert [user_id for user_id, _ in _rows(sessions, held)] == [users[name].id for name in left]
    assert call(load_draft, official, held) is None


def test_item_saved_with_the_same_text_is_not_restored(call: Callable[..., Any], users: dict[str, User],
                                                       held: int, sessions: sessionmaker[Session]) -> None:
    official = users["official"]
    call(save_draft, official, held, {"full_name": "Trần Thị Mẫn", "sex": "Nam"})
    with sessions() as session:  # e.g. a save from another tab, whose draft clean-up this draft missed
        record = session.get(Record, held)
        for field in record.fields:
            if field.key == "full_name":
                field.final_value, field.status = "Trần Thị Mẫn", "corrected"
        session.commit()
    assert call(load_draft, official, held).values == {"sex": "Nam"}


def test_no_draft_for_a_record_that_is_not_ours_to_save(
    call: Callable[..., Any], users: dict[str, User], held: int, sessions: sessionmaker[Session]
) -> None:
    # Held by the official: a colleague's typing is not kept (their save would be refused too).
    assert call(save_draft, users["official2"], held, {"full_name": "Trần Thị Mẫn"}) is None
    assert _rows(sessions, held) == []
    # Approved meanwhile: an official's late typing must not come back as a draft.
    call(save_draft, users["official"], held, {"full_name": "Trần Thị Mẫn"})
    with sessions() as session:
        session.get(Record, held).status = RecordStatus.APPROVED
        session.commit()
    assert call(load_draft, users["official"], held) is None
    assert call(save_draft, users["official"], held, {"full_name": "Khác"}) is None


def test_drafts_check_the_unit_scope(call: Callable[..., Any], users: dict[str, User], held: int) -> None:
    with pytest.raises(ScopeError):
        call(save_draft, users["outsider"], held, {"full_name": "x"})
    with pytest.raises(ScopeError):
        call(load_draft, users["outsider"], held)
