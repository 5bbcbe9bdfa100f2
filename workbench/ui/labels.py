"""Vietnamese labels for the codes the services use (statuses, roles, field types, page QA warnings): the one
place the pages and UI helpers take them from. Labels that belong to an exported document (reports,
tracking lists, upload logs) stay with the service that writes it."""

from __future__ import annotations

from collections.abc import Iterable

from models import PageStatus, RecordStatus, Role, UnitLevel
from ocr.image.page_qa import WARNINGS_VI
from ocr.page_warnings import PageWarning, warning_text
from workbench.intake.book_type_hold import book_type_mismatch_vi
from workbench.intake.registration_sequence import GAP, Location, SequenceFinding, number_ranges, sequence_finding

RECORD_STATUS_VI: dict[str, str] = {
    RecordStatus.PROPOSED: "Chờ xác minh",
    RecordStatus.IN_REVIEW: "Đang xác minh",
    RecordStatus.FLAGGED: "Chuyển tổ kiểm tra",
    RecordStatus.APPROVED: "Đã duyệt",
    RecordStatus.REJECTED: "Loại",
}
PAGE_STATUS_VI: dict[str, str] = {
    PageStatus.QUEUED: "Đang chờ",
    PageStatus.PROCESSING: "Đang xử lý",
    PageStatus.DONE: "Xong",
    PageStatus.FAILED: "Lỗi",
}
ROLE_VI: dict[str, str] = {
    Role.OFFICIAL: "Cán bộ hộ tịch",
    Role.SUPERVISOR: "Tổ kiểm tra",
    Role.CONTRACTOR: "Đơn vị số hoá",
    Role.ADMIN: "Quản trị",
}
UNIT_LEVEL_VI: dict[str, str] = {
    UnitLevel.TINH: "Tỉnh / thành phố",
    UnitLevel.HUYEN: "Huyện / quận / thị xã",
    UnitLevel.XA: "Xã / phường / thị trấn",
}
# Field types (the templates' `type`) as each page words them: a column of the book-type table, a filter, a chart.
FIELD_TYPE_KINDS_VI: dict[str, str] = {
    "registration_no": "số đăng ký", "date": "ngày tháng", "person_name": "họ tên", "sex": "giới tính",
    "ethnicity": "dân tộc", "nationality": "quốc tịch", "place": "địa danh", "free_text": "văn bản tự do",
}
FIELD_TYPES_VI: dict[str, str] = {
    "registration_no": "Số đăng ký", "date": "Ngày tháng", "person_name": "Họ tên", "sex": "Giới tính",
    "ethnicity": "Dân tộc", "nationality": "Quốc tịch", "place": "Địa danh", "free_text": "Ghi chú, văn bản khác",
}
FIELD_TYPES_SHORT_VI: dict[str, str] = {**FIELD_TYPES_VI, "free_text": "Ghi chú, khác"}
FIELD_STATUS_VI: dict[str, str] = {"proposed": "máy đọc, chưa xác nhận", "confirmed": "đã xác nhận",
                                   "corrected": "đã sửa"}
# Confidence bands of a field (workbench.review), and "corrected" for a value typed by a person.
BAND_LABELS_VI: dict[str, str] = {"high": "tin cậy cao", "medium": "tin cậy trung bình", "low": "tin cậy thấp",
                                  "corrected": "đã sửa tay; máy đọc tin cậy"}
CONTRAST_LABELS: dict[int, str] = {0: "Gốc", 1: "Tăng nhẹ", 2: "Tăng vừa", 3: "Tăng mạnh"}
# Where a page's grid came from (PageGrid.source).
GRID_SOURCE_VI: dict[str, str] = {
    "rulings": "lưới do máy tìm theo các đường kẻ in trên trang",
    "partial_rulings": "lưới do máy tìm, một số đường kẻ được ước theo khoảng cách dòng",
    "text_lines": "máy không thấy đường kẻ: lưới được ước theo chữ viết",
    "manual": "lưới đã được sửa tay",
    "template": "máy không tìm thấy khung kẻ: lưới ban đầu chỉ ước theo mẫu sổ, cần chỉnh lại",
}
QUEUE_ORDERS_VI: dict[str, str] = {"easy_first": "Dễ trước (tin cậy cao trước)",
                                   "hard_first": "Khó trước (tin cậy thấp trước)",
                                   "book_order": "Theo thứ tự trong sổ"}
# Deliverable formats (workbench.deliverables.deliverables.FORMATS) and the cross-check job.
FORMAT_LABELS_VI: dict[str, str] = {
    "xlsx": "Tệp Excel nhập liệu (theo mẫu nhập của phần mềm hộ tịch)",
    "zip": "Gói ZIP của sổ: mỗi hồ sơ một tệp PDF, kèm tệp Excel nhập liệu",
    "pagexml": "PAGE XML (ảnh trang và chữ đã xác minh, cho công cụ nhận dạng chữ viết tay)",
    "crosscheck": "Đối chiếu với CSDL dân cư",
}
# Keyed by workbench.training.model_admin.HELD_OUT_VALIDATION / HELD_OUT_LATER (spelt out: importing the
# training services here would load them on every page; tests/test_model_admin.py checks the keys).
HELD_OUT_VI: dict[str, str] = {"validation_pages": "các trang được giữ lại khi huấn luyện",
                               "reviewed_after_training": "các trường được xác nhận sau khi mô hình được tạo"}
_WARNINGS_VI = {
    "blank": "trang trắng",
    "duplicate": "trùng trang khác",
    "rotated_90": "ảnh bị xoay 90°",
    "rotated_270": "ảnh bị xoay 270°",
    "upside_down": "ảnh bị lộn ngược",
    "no_grid": "không tìm thấy khung kẻ",
    "grid_rulings": "",  # the normal case: nothing to warn about
    "grid_partial_rulings": "đường kẻ không đầy đủ",
    "grid_text_lines": "không thấy đường kẻ, tách dòng theo chữ",
    "manual_grid": "khung kẻ đã sửa tay",
    **WARNINGS_VI,  # the page pipeline's own texts (writing beside the table)
}


def page_warning_vi(warning: PageWarning) -> str:
    """A page QA warning as contractors read it; unknown ones are shown as stored."""
    if warning.code == "auto_rotated" and warning.params:
        return f"đã tự xoay {warning.param}°"
    if warning.code == "duplicate_of" and warning.params:
        return f"trùng với {warning.param}"
    if warning.code == "book_type_mismatch":
        return book_type_mismatch_vi(warning.param)
    sequence = sequence_finding(warning)
    if sequence is not None:
        return sequence_finding_vi(sequence)
    return _WARNINGS_VI.get(warning_text(warning), warning_text(warning))


def sequence_finding_vi(finding: SequenceFinding) -> str:
    """E.g. "số 35 bị thiếu giữa trang 1 và trang 2", "số 12 bị trùng ở dòng 3 và dòng 4"."""
    suffix = f"/{finding.suffix}" if finding.suffix else ""
    ranges = [f"{a}{suffix}" if a == b else f"{a}{suffix}–{b}{suffix}" for a, b in number_ranges(finding.numbers)]
    numbers = ranges[0] if len(ranges) == 1 else f"{', '.join(ranges[:-1])} và {ranges[-1]}"
    what = "số" if len(finding.numbers) == 1 else "các số"
    if finding.code == GAP:
        return f"{what} {numbers} bị thiếu giữa {_between(finding.before, finding.at)}"
    return f"{what} {numbers} bị trùng ở {_between(finding.before, finding.at)}"


def _between(first: Location, second: Location) -> str:
    if first.page_index == second.page_index:
        return f"dòng {first.row_index} và dòng {second.row_index}"
    return f"trang {first.page_index} và trang {second.page_index}"


def page_warnings_vi(warnings: Iterable[PageWarning]) -> str:
    return ", ".join(text for text in (page_warning_vi(w) for w in warnings) if text)
