"""Tiến độ của tôi in detail (issue #15 item 7): my approvals per Vietnamese hour and my field decisions
per field type, from records approved and corrected through the real review service on a real DB file.

Moments are on yesterday's Vietnamese day (real clock), so the audit trail's own timestamps (now) are
after them, as they are in real use; the page test works on the real "today".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models import User
from tests.conftest import record_ids
from tests.test_app_pages import open_page, signed_in_app
from workbench.context import Workbench
from workbench.errors import ScopeError
from workbench.review.my_progress import FieldTypeWork, MyDay, my_day
from workbench.review.progress import VIETNAM_TZ, my_progress
from workbench.review.review import ReviewAction, save_record

YESTERDAY = (datetime.now(VIETNAM_TZ) - timedelta(days=1)).date()
# khai_sinh: 12 fields; their types, template order
KHAI_SINH_TYPES = {"registration_no": 1, "date": 2, "person_name": 4, "sex": 1, "ethnicity": 1,
                   "nationality": 1, "place": 1, "free_text": 1}


def at_vn(hour: int, minute: int = 0, day_offset: int = 0) -> datetime:
    """A UTC moment at hour:minute Vietnamese time on yesterday (+ day_offset days)."""
    local = datetime.combine(YESTERDAY + timedelta(days=day_offset), time(hour, minute), VIETNAM_TZ)
    return local.astimezone(UTC)


def approve(call: Callable[..., Any], user: User, record_id: int, moment: datetime,
            values: dict[str, str] | None = None) -> None:
    version = _version(call, user, record_id)
    call(save_record, user, record_id, version, values or {}, ReviewAction.APPROVE, moment=moment)


def _version(call: Callable[..., Any], user: User, record_id: int) -> int:
    from workbench.review.record_view import get_record_view

    return int(call(get_record_view, user, record_id).version)


def by_type(day: MyDay) -> dict[str, tuple[int, int]]:
    return {w.field_type: (w.confirmed, w.corrected) for w in day.by_field_type}


def test_approvals_per_vietnamese_hour_add_up_to_my_counter(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    ids = record_ids(sessions, sample_book_id)
    official = users["official"]
    approve(call, official, ids[0], at_vn(0, 10, day_offset=-1))  # the day before: not counted
    approve(call, official, ids[1], at_vn(6, 30))  # before office hours: the span widens to 06h
    approve(call, official, ids[2], at_vn(8, 5))
    approve(call, official, ids[3], at_vn(8, 55))
    approve(call, official, ids[4], at_vn(23, 59))  # 16:59 UTC, still this Vietnamese day
    approve(call, users["official2"], ids[5], at_vn(8, 30))  # someone else's approval

    moment = at_vn(23, 59) + timedelta(seconds=30)
    day = call(my_day, official, moment)
    assert day.day == YESTERDAY
    hours = dict(day.approved_per_hour)
    assert [h for h, _ in day.approved_per_hour] == list(range(6, 24))  # 06h .. 23h, every hour shown
    assert {h: n for h, n in hours.items() if n} == {6: 1, 8: 2, 23: 1}
    assert day.approved == call(my_progress, official, moment).approved_today_by_me == 4
    assert dict(call(my_day, users["official2"], moment).approved_per_hour)[8] == 1


def test_office_hours_are_shown_on_a_quiet_day(call: Callable[..., Any], users: dict[str, User],
                                               sample_book_id: int) -> None:
    day = call(my_day, users["official"], at_vn(9))
    assert day.approved_per_hour == [(hour, 0) for hour in range(7, 18)]
    assert day.by_field_type == []


def test_fields_per_type_corrected_vs_kept(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    ids = record_ids(sessions, sample_book_id)
    official = users["official"]
    # Record 1: the name and the birth date corrected, the rest kept as read.
    approve(call, official, ids[0], at_vn(9), {"full_name": "Trần Thị Mẫu Sửa", "birth_date": "04/04/2001"})
    # Record 2: approved as read.
    approve(call, official, ids[1], at_vn(10))
    # Record 3: one correction saved (Ctrl+S), not approved yet: still my decision on that field.
    call(save_record, official, ids[2], _version(call, official, ids[2]), {"mother_name": "Lê Thị Sửa"},
         ReviewAction.SAVE, moment=at_vn(11))
    day = call(my_day, official, at_vn(12))
    expected = {kind: (2 * n, 0) for kind, n in KHAI_SINH_TYPES.items()}
    expected["person_name"] = (2 * 4 - 1, 1 + 1)  # record 1's name, record 3's mother
    expected["date"] = (2 * 2 - 1, 1)
    assert by_type(day) == expected
    assert (day.fields_confirmed, day.fields_corrected) == (22, 3)
    assert [w.field_type for w in day.by_field_type] == list(KHAI_SINH_TYPES)  # FIELD_TYPES order
    assert FieldTypeWork("date", 3, 1).corrected_percent == 25


def test_a_field_someone_else_changed_later_is_no_longer_mine(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    ids = record_ids(sessions, sample_book_id)
    official, supervisor = users["official"], users["supervisor"]
    approve(call, official, ids[0], at_vn(9), {"full_name": "Tên Cán Bộ Gõ"})
    # The supervisor fixes the same name on the approved record an hour later.
    call(save_record, supervisor, ids[0], _version(call, supervisor, ids[0]), {"full_name": "Tên Tổ Kiểm Tra"},
         ReviewAction.SAVE, moment=at_vn(10))
    mine = by_type(call(my_day, official, at_vn(12)))
    assert mine["person_name"] == (3, 0)  # the other three names; the corrected one is the supervisor's now
    assert by_type(call(my_day, supervisor, at_vn(12))) == {"person_name": (0, 1)}


def test_field_period_covers_earlier_days_only_when_asked(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    ids = record_ids(sessions, sample_book_id)
    official = users["official"]
    approve(call, official, ids[0], at_vn(15, day_offset=-3), {"sex": "Nam"})
    approve(call, official, ids[1], at_vn(9))
    today_only = call(my_day, official, at_vn(12))
    week = call(my_day, official, at_vn(12), field_days=7)
    assert (today_only.fields_confirmed, today_only.fields_corrected) == (12, 0)
    assert (week.fields_confirmed, week.fields_corrected) == (23, 1)
    assert by_type(week)["sex"] == (1, 1)
    assert week.since == YESTERDAY - timedelta(days=6) and today_only.since == YESTERDAY
    assert week.approved == 1  # the hours stay on the one day


def test_only_my_own_work_in_my_units(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, other_book_id: int,
    sessions: sessionmaker[Session],
) -> None:
    ids = record_ids(sessions, sample_book_id)
    approve(call, users["official"], ids[0], at_vn(9), {"full_name": "Ai Đó"})
    for who in ("official2", "outsider", "supervisor", "admin"):
        day = call(my_day, users[who], at_vn(12))
        assert (day.approved, day.by_field_type) == (0, []), who
    with pytest.raises(ScopeError, match="Role"):
        call(my_day, users["contractor"], at_vn(12))


def test_page_shows_hours_chart_and_field_types(
    app_env: Workbench, users: dict[str, User], sample_book_id: int,
    sessions: sessionmaker[Session], call: Callable[..., Any],
) -> None:
    ids = record_ids(sessions, sample_book_id)
    official = users["official"]
    approve(call, official, ids[0], datetime.now(UTC), {"full_name": "Trần Thị Sửa", "birth_date": "05/05/2002"})
    approve(call, official, ids[1], datetime.now(UTC))
    at = open_page(signed_in_app(official), "app_pages/my_progress.py")
    assert not at.exception and not at.error
    assert at.metric[0].value == "2"
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2  # per hour, per field type
    hours_spec = json.loads(charts[0].proto.spec)
    today = datetime.now(VIETNAM_TZ).strftime("%d/%m/%Y")
    assert hours_spec["title"] == f"Bản ghi đã duyệt theo giờ, ngày {today}"
    assert hours_spec["mark"]["color"] == "#2e7d32"  # done is green
    assert hours_spec["encoding"]["y"]["scale"]["domainMin"] == 0
    table = at.dataframe[0].value
    rows = {row["Loại trường"]: (row["Giữ nguyên"], row["Đã sửa"], row["Tỉ lệ sửa (%)"])
            for row in table.to_dict("records")}
    assert rows["Họ tên"] == (7, 1, 12) and rows["Ngày tháng"] == (3, 1, 25) and rows["Giới tính"] == (2, 0, 0)
    # Another official of the same unit sees none of it.
    other = open_page(signed_in_app(users["official2"]), "app_pages/my_progress.py")
    assert other.metric[0].value == "0"
    assert any("Chưa có trường nào" in i.value for i in other.info)
