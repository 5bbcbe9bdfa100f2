"""Vietnamese labels for the codes the services use (statuses, roles, page QA warnings)."""

from __future__ import annotations

from models import PageStatus, RecordStatus, Role
from ocr.image.page_qa import WARNINGS_VI
from workbench.intake.book_type_hold import book_type_mismatch_vi
from workbench.intake.registration_sequence import GAP, Location, SequenceFinding, number_ranges, parse_sequence_warning

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
    if warning_code(code) == "book_type_mismatch":
        return book_type_mismatch_vi(code.split(":", 1)[1] if ":" in code else "")
    sequence = parse_sequence_warning(code)
    if sequence is not None:
        return sequence_finding_vi(sequence)
    return _WARNINGS_VI.get(code, code)


def warning_code(stored: str) -> str:
    """The stable code of a stored page warning, without its parameters ("auto_rotated:180" -> "auto_rotated")."""
    return stored.split(":", 1)[0]


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


def page_warnings_vi(codes: tuple[str, ...] | list[str]) -> str:
    return ", ".join(text for text in (page_warning_vi(c) for c in codes) if text)
