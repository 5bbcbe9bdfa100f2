"""The supervisor's pages in a real headless Chromium (issue #16 items 1, 3, 5), at the office
screen size 1366x768: the flagged queue says who flagged and when, a record is chosen by clicking
its row, approving it opens the next flagged record (not the officials' queue); the blind QA
re-check shows the page and a crop per field and reveals the official's values only after QA
keyed them; the dashboard charts. Screenshots go to /tmp/shots_D/.

The chart specs themselves are checked without a browser (pure Altair dicts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Record, RecordStatus, User
from tests.browser_harness import launch_chromium, login, new_page, open_page, sample_page_workbench
from workbench.context import Workbench
from workbench.db import transaction
from workbench.review.queue import claim_record
from workbench.review.review import ReviewAction, save_record
from workbench.ui import charts

SHOTS = Path("/tmp/shots_D")
UNIT = "Xã Đại Lãnh"
PASSWORD = "mat-khau-e2e"
OFFICIAL_NAME = "Lê Thị Cán Bộ Gõ"  # what the official approved; QA must not see it before keying
QA_NAME = "Trần Văn Kiểm Tra"
WAIT_MS = 30_000


def test_chart_specs_start_at_zero_whole_counts_green_done_vietnamese_dates() -> None:
    spec = charts.status_bars([("Xã A", {RecordStatus.APPROVED: 3, RecordStatus.PROPOSED: 150}),
                               ("Xã B", {RecordStatus.FLAGGED: 2})], "Đơn vị").to_dict()
    x = spec["encoding"]["x"]
    assert (x["scale"]["domainMin"], x["scale"]["domainMax"], x["axis"]["format"]) == (0, 153, "d")
    colours = dict(zip(spec["encoding"]["color"]["scale"]["domain"], spec["encoding"]["color"]["scale"]["range"],
                       strict=True))
    assert colours["Đã duyệt"] == charts.DONE_GREEN and colours["Chuyển tổ kiểm tra"] != charts.DONE_GREEN
    day = charts.per_day_bars([(date(2026, 11, 28), 4), (date(2026, 12, 1), 0)]).to_dict()
    assert day["encoding"]["x"]["sort"] == ["28/11/2026", "01/12/2026"]
    assert day["mark"]["color"] == charts.DONE_GREEN and day["encoding"]["y"]["scale"]["domainMin"] == 0
    users = charts.per_user_day_bars([(date(2026, 12, 1), "b", 1), (date(2026, 11, 30), "a", 2)]).to_dict()
    assert users["encoding"]["x"]["sort"] == ["30/11/2026", "01/12/2026"]


@pytest.fixture()
def e2e_workbench(tmp_path: Path) -> Workbench:
    """One sample page (segmented, no OCR), an official and a supervisor; the official has flagged two
    records and approved two (one with a typed name, for the QA sample)."""
    wb, report = sample_page_workbench(tmp_path, UNIT, [("canbo", PASSWORD, "official", "Cán bộ Một"),
                                                        ("totruong", PASSWORD, "supervisor", "Tổ trưởng")])
    assert report.records_created >= 4, report.errors
    with transaction(wb.sessions) as session:
        official = session.scalars(select(User).where(User.username == "canbo")).one()
        ids = list(session.scalars(select(Record.id).order_by(Record.id)))
        for record_id, action, values, reason in (
            (ids[0], ReviewAction.FLAG, {}, "Chữ mờ ở tên mẹ"),
            (ids[1], ReviewAction.FLAG, {}, "Thiếu ngày sinh"),
            (ids[2], ReviewAction.APPROVE, {"full_name": OFFICIAL_NAME}, ""),
        ):
            claim = claim_record(session, official, record_id)
            save_record(session, official, record_id, claim.version, values, action, reason=reason)
    return wb


@pytest.fixture()
def browser_page(app_url: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, {"width": 1366, "height": 768}, WAIT_MS)
            login(page, app_url, "totruong", PASSWORD)
            page.get_by_role("heading", name="Hàng đợi tổ kiểm tra").wait_for()
            yield page
        finally:
            browser.close()


def click_row(page, grid_index: int, row: int) -> None:  # type: ignore[no-untyped-def]
    """Click the row marker of a data row of the n-th visible st.dataframe (a canvas: by position,
    35 px rows under the header; the marker is the selection box at the row's left end)."""
    grid = page.locator("[data-testid='stDataFrame']:visible").nth(grid_index)
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 35 * row + 17)


def approve(page) -> None:  # type: ignore[no-untyped-def]
    """Approve on the verification page; these no-OCR records have unread fields, so it asks to confirm."""
    page.locator("[data-testid='stMain']").get_by_role("button", name="Duyệt (Ctrl+Enter)").click()
    page.get_by_role("button", name="Vẫn duyệt (Tab, Enter)").click()


def test_flagged_queue_click_a_row_approve_and_the_next_flagged_record_opens(
    browser_page, e2e_workbench: Workbench  # type: ignore[no-untyped-def]
) -> None:
    page = browser_page
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("Bấm vào một dòng để chọn bản ghi.").first.wait_for()
    page.wait_for_timeout(1500)  # the grid canvas paints after the element appears
    page.screenshot(path=SHOTS / "01-hang-doi-bi-chuyen.png")
    with e2e_workbench.sessions() as session:
        flagged = list(session.scalars(select(Record).where(Record.status == RecordStatus.FLAGGED)
                                       .order_by(Record.id)))
    first, second = flagged[0], flagged[1]
    # Who flagged it and when are in the table (canvas text is not in the DOM: the grid's CSV-free
    # accessible table is), so check the action bar that follows the clicked row instead.
    click_row(page, 0, 1)
    main.get_by_text(f"Bản ghi #{second.id}").wait_for()
    page.screenshot(path=SHOTS / "02-chon-dong-thu-hai.png")
    main.get_by_role("button", name="Mở để xác minh").first.click()
    page.get_by_role("heading", name="Xác minh bản ghi").wait_for()
    main.get_by_text("Thiếu ngày sinh").wait_for()  # the clicked record, not the first one
    page.screenshot(path=SHOTS / "03-xac-minh-ban-ghi-da-chon.png")
    approve(page)
    # Back through the queues: the remaining flagged record opens by itself.
    main.get_by_text("Chữ mờ ở tên mẹ").wait_for()
    page.get_by_role("heading", name="Xác minh bản ghi").wait_for()
    page.screenshot(path=SHOTS / "04-ban-ghi-bi-chuyen-tiep-theo.png")
    with e2e_workbench.sessions() as session:
        assert session.get(Record, second.id).status == RecordStatus.APPROVED
        assert session.get(Record, first.id).status == RecordStatus.FLAGGED
    approve(page)
    page.get_by_role("heading", name="Hàng đợi tổ kiểm tra").wait_for()  # none left: the queue, empty
    main.get_by_text("Không còn bản ghi nào bị chuyển kiểm tra.").wait_for()
    with e2e_workbench.sessions() as session:
        assert session.get(Record, first.id).status == RecordStatus.APPROVED


def test_blind_qa_shows_the_page_and_crops_and_reveals_the_official_value_after(
    browser_page, e2e_workbench: Workbench  # type: ignore[no-untyped-def]
) -> None:
    page = browser_page
    main = page.locator("[data-testid='stMain']")
    page.get_by_role("tab", name="Kiểm tra mẫu").click()
    main.get_by_role("button", name="Rút mẫu").click()
    page.get_by_label("Họ và tên người được khai sinh").wait_for()
    form = main.locator("[data-testid='stForm']")
    # The page with the record outlined, and one crop per field cell beside its input.
    page.wait_for_timeout(1500)
    page.screenshot(path=SHOTS / "05-kiem-tra-mau-mu.png")
    images = main.locator("img:visible")
    images.nth(10).wait_for()
    assert images.count() >= 1 + 10
    assert page.get_by_label("Họ và tên người được khai sinh").input_value() != OFFICIAL_NAME
    assert OFFICIAL_NAME not in page.content()
    page.get_by_label("Họ và tên người được khai sinh").fill(QA_NAME)
    form.get_by_role("button", name="Ghi kết quả kiểm tra").click()
    main.get_by_text("trường khác với giá trị cán bộ đã duyệt").wait_for()
    page.wait_for_timeout(1000)
    page.screenshot(path=SHOTS / "06-kiem-tra-mau-ket-qua.png")
    with e2e_workbench.sessions() as session:
        record = session.scalars(select(Record).where(Record.status == RecordStatus.APPROVED)).one()
        assert record.field_map()["full_name"].final_value == QA_NAME  # corrected by QA (the box was ticked)


def test_dashboard_and_report_charts_render(browser_page, e2e_workbench: Workbench) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    open_page(page, "Tiến độ")
    page.get_by_role("heading", name="Tiến độ số hoá").wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    page.wait_for_timeout(1500)
    page.screenshot(path=SHOTS / "07-tien-do.png", full_page=True)
    open_page(page, "Báo cáo (Phụ lục 01)")
    page.get_by_role("heading", name="Báo cáo tiến độ (Phụ lục 01)").wait_for()
    page.wait_for_timeout(1500)
    page.screenshot(path=SHOTS / "08-bao-cao.png", full_page=True)
