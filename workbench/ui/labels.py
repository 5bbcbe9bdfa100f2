"""Vietnamese labels for the codes the services use (statuses, roles, page QA warnings)."""

from __future__ import annotations

from models import PageStatus, RecordStatus, Role
from ocr.page_qa import WARNINGS_VI

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


def page_warning_vi(code: str) -> str:
    """A page QA code as contractors read it; unknown codes are shown as they are."""
    if code.startswith("auto_rotated:"):
        return f"đã tự xoay {code.split(':', 1)[1]}°"
    if code.startswith("duplicate_of:"):
        return f"trùng với {code.split(':', 1)[1]}"
    return _WARNINGS_VI.get(code, code)


def page_warnings_vi(codes: tuple[str, ...] | list[str]) -> str:
    return ", ".join(text for text in (page_warning_vi(c) for c in codes) if text)
