"""Progress charts for supervisors (Altair specs, pure: the pages only pass them to st.altair_chart).

Why not st.bar_chart: its horizontal stacked bars padded the count axis to a "nice" range with
negative ticks (-30 to 160), gave each status a palette colour (approved came out red), and its
date axis shows ISO days. Here counts start at 0 with whole-number ticks, every record status has
a fixed colour (done is green), and days read dd/mm/yyyy in calendar order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import altair as alt
import pandas as pd

from models import RecordStatus
from workbench.ui.labels import RECORD_STATUS_VI

DONE_GREEN = "#2e7d32"
# One colour per record status, by meaning: green done, blue/amber in progress, orange needs a
# supervisor, grey set aside.
STATUS_COLOURS: dict[str, str] = {
    RecordStatus.APPROVED: DONE_GREEN,
    RecordStatus.IN_REVIEW: "#f9a825",
    RecordStatus.PROPOSED: "#90caf9",
    RecordStatus.FLAGGED: "#ef6c00",
    RecordStatus.REJECTED: "#9e9e9e",
}
STATUS_ORDER = (RecordStatus.APPROVED, RecordStatus.IN_REVIEW, RecordStatus.PROPOSED, RecordStatus.FLAGGED,
                RecordStatus.REJECTED)
ACTIVITY_COLOURS = {"Đã duyệt": DONE_GREEN, "Chuyển tổ kiểm tra": "#ef6c00", "Bỏ qua": "#9e9e9e"}
BAR_HEIGHT = 28  # px per group row of a horizontal chart


def vn_date(day: date) -> str:
    """dd/mm/yyyy, the way Vietnamese offices write dates."""
    return day.strftime("%d/%m/%Y")


def _count_axis(title: str, largest: int) -> alt.Axis:
    # Whole numbers only; with few records, one tick per record instead of 0.5 steps.
    return alt.Axis(title=title, format="d", tickMinStep=1, tickCount=min(max(largest, 1), 10))


def _count_scale(largest: int) -> alt.Scale:
    return alt.Scale(domainMin=0, domainMax=max(largest, 1), nice=False, zero=True)


def status_bars(rows: Sequence[tuple[str, Mapping[str, int]]], group_title: str) -> alt.Chart:
    """Horizontal stacked bars, one per group (unit, book type): records by status, done first."""
    data = pd.DataFrame(
        [{"group": label, "status": RECORD_STATUS_VI.get(status, status), "order": STATUS_ORDER.index(status)
          if status in STATUS_ORDER else len(STATUS_ORDER), "count": int(n)}
         for label, counts in rows for status, n in counts.items() if n]
        or [{"group": "", "status": "", "order": 0, "count": 0}]
    )
    largest = max((sum(counts.values()) for _, counts in rows), default=0)
    present = [s for s in STATUS_ORDER if any(counts.get(s) for _, counts in rows)]
    colour = alt.Color("status:N", title="Trạng thái",
                       scale=alt.Scale(domain=[RECORD_STATUS_VI[s] for s in present],
                                       range=[STATUS_COLOURS[s] for s in present]),
                       legend=alt.Legend(orient="bottom"))
    groups = [label for label, _ in rows]
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("count:Q", stack="zero", axis=_count_axis("Số bản ghi", largest), scale=_count_scale(largest)),
        y=alt.Y("group:N", title=group_title, sort=groups),
        color=colour,
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("group:N", title=group_title), alt.Tooltip("status:N", title="Trạng thái"),
                 alt.Tooltip("count:Q", title="Số bản ghi", format="d")],
    ).properties(height=max(len(groups), 1) * BAR_HEIGHT + 60)


def activity_bars(rows: Sequence[tuple[str, Mapping[str, int]]]) -> alt.Chart:
    """Per user: approved (green), sent to the supervisors, skipped; stacked horizontally."""
    data = pd.DataFrame(
        [{"user": user, "what": what, "order": list(ACTIVITY_COLOURS).index(what), "count": int(n)}
         for user, counts in rows for what, n in counts.items() if n]
        or [{"user": "", "what": "", "order": 0, "count": 0}]
    )
    largest = max((sum(counts.values()) for _, counts in rows), default=0)
    users = [user for user, _ in rows]
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("count:Q", stack="zero", axis=_count_axis("Số bản ghi", largest), scale=_count_scale(largest)),
        y=alt.Y("user:N", title="Người dùng", sort=users),
        color=alt.Color("what:N", title="", scale=alt.Scale(domain=list(ACTIVITY_COLOURS),
                                                            range=list(ACTIVITY_COLOURS.values())),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("user:N", title="Người dùng"), alt.Tooltip("what:N", title=""),
                 alt.Tooltip("count:Q", title="Số bản ghi", format="d")],
    ).properties(height=max(len(users), 1) * BAR_HEIGHT + 60)


def per_day_bars(per_day: Sequence[tuple[date, int]], title: str = "Đã duyệt", height: int = 240) -> alt.Chart:
    """Approvals per Vietnamese calendar day: green bars, days as dd/mm/yyyy in date order."""
    days = [vn_date(day) for day, _ in per_day]
    data = pd.DataFrame({"day": days, "count": [int(n) for _, n in per_day]})
    largest = int(data["count"].max()) if len(data) else 0
    return alt.Chart(data).mark_bar(color=DONE_GREEN).encode(
        x=alt.X("day:O", title="Ngày", sort=days, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("count:Q", title=title, axis=_count_axis(title, largest), scale=_count_scale(largest)),
        tooltip=[alt.Tooltip("day:O", title="Ngày"), alt.Tooltip("count:Q", title=title, format="d")],
    ).properties(height=height)


def per_user_day_bars(rows: Sequence[tuple[date, str, int]], height: int = 260) -> alt.Chart:
    """Approvals per day and user, stacked (the report's 7-day productivity), days dd/mm/yyyy."""
    ordered = sorted({day for day, _, _ in rows})
    days = [vn_date(day) for day in ordered]
    data = pd.DataFrame([{"day": vn_date(day), "user": user, "count": int(n)} for day, user, n in rows])
    totals = data.groupby("day")["count"].sum() if len(data) else pd.Series(dtype=int)
    largest = int(totals.max()) if len(totals) else 0
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("day:O", title="Ngày", sort=days, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title="Đã duyệt", stack="zero", axis=_count_axis("Đã duyệt", largest),
                scale=_count_scale(largest)),
        color=alt.Color("user:N", title="Người dùng", legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("day:O", title="Ngày"), alt.Tooltip("user:N", title="Người dùng"),
                 alt.Tooltip("count:Q", title="Đã duyệt", format="d")],
    ).properties(height=height)


CORRECTED_AMBER = "#f9a825"  # corrected fields: the amber of "in progress", next to the green of "kept"


def per_hour_bars(per_hour: Sequence[tuple[int, int]], day: date, height: int = 220) -> alt.Chart:
    """One official's approvals per Vietnamese hour of `day`: green bars, hours as "08h" in order."""
    hours = [f"{hour:02d}h" for hour, _ in per_hour]
    data = pd.DataFrame({"hour": hours, "count": [int(n) for _, n in per_hour]})
    largest = int(data["count"].max()) if len(data) else 0
    title = "Đã duyệt"
    return alt.Chart(data, title=f"Bản ghi đã duyệt theo giờ, ngày {vn_date(day)}").mark_bar(color=DONE_GREEN).encode(
        x=alt.X("hour:O", title="Giờ", sort=hours, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title=title, axis=_count_axis(title, largest), scale=_count_scale(largest)),
        tooltip=[alt.Tooltip("hour:O", title="Giờ"), alt.Tooltip("count:Q", title=title, format="d")],
    ).properties(height=height)


def kept_corrected_bars(rows: Sequence[tuple[str, int, int]], height_per_row: int = BAR_HEIGHT) -> alt.Chart:
    """Per field type (label, kept, corrected): horizontal stacked bars, kept green first, corrected amber."""
    kinds = {"Giữ nguyên": DONE_GREEN, "Đã sửa": CORRECTED_AMBER}
    data = pd.DataFrame(
        [{"type": label, "what": what, "order": order, "count": int(n)}
         for label, kept, corrected in rows for order, (what, n) in enumerate(zip(kinds, (kept, corrected),
                                                                                    strict=True)) if n]
        or [{"type": "", "what": "", "order": 0, "count": 0}]
    )
    largest = max((kept + corrected for _, kept, corrected in rows), default=0)
    labels = [label for label, _, _ in rows]
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("count:Q", stack="zero", axis=_count_axis("Số trường", largest), scale=_count_scale(largest)),
        y=alt.Y("type:N", title="Loại trường", sort=labels),
        color=alt.Color("what:N", title="", scale=alt.Scale(domain=list(kinds), range=list(kinds.values())),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("type:N", title="Loại trường"), alt.Tooltip("what:N", title=""),
                 alt.Tooltip("count:Q", title="Số trường", format="d")],
    ).properties(height=max(len(labels), 1) * height_per_row + 110)  # + axis title and legend below
