"""What happened to every file handed in to a book, in Vietnamese, kept with the book (issue #16 item 7).

Loading and storage errors are written in English for the logs (ocr.image.loading, workbench.storage);
contractors read them through `error_vi`, which recognises each known message and keeps the file
name. The book's upload log is read from its audit trail, so it survives the upload screen, a
reload and another browser: files added, skipped as already present, refused, failed to load or
to process, pages held for a doubtful book type, and the contractor's confirmations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from models import AuditEvent, Page, Role, User
from workbench.audit import PIPELINE_ACTOR
from workbench.intake.book_type_hold import CONFIRM_ACTION, book_type_label_vi
from workbench.review.progress import VIETNAM_TZ
from workbench.scope import SYSTEM_USERNAME, book_in_scope, load_scope

# (English message pattern, Vietnamese text); {0}, {1} take the pattern's groups.
_ERRORS_VI: tuple[tuple[str, str], ...] = (
    (r"not an image file", "không phải tệp ảnh (cần JPEG, PNG, TIFF hoặc PDF)"),
    (r"the file is empty", "tệp rỗng (0 byte)"),
    (r"the image has no frames", "tệp ảnh không có trang nào"),
    (r"frame (\d+) no longer exists", "trang {0} của tệp không còn nữa"),
    (r"the image is absurdly large", "ảnh quá lớn, không thể mở"),
    (r"the image file is unreadable", "không đọc được tệp ảnh"),
    (r"the image (?:file|data) is damaged", "tệp ảnh bị hỏng hoặc không đầy đủ (tải lên bị ngắt?)"),
    (r"the image has no pixels", "ảnh không có điểm ảnh nào"),
    (r"page (\d+) is \d+x\d+ = (\d+) megapixels, above the (\d+) MP limit",
     "trang {0} quá lớn ({1} triệu điểm ảnh, tối đa {2}): có thể là tệp độc hại, không mở"),
    (r"the PDF has no pages", "tệp PDF không có trang nào"),
    (r"the PDF cannot be opened", "không mở được tệp PDF: tệp hỏng, có mật khẩu hoặc không có trang"),
    (r"page (\d+) of the PDF cannot be (?:loaded|rendered)", "không đọc được trang {0} của tệp PDF"),
    (r"cannot read the file", "không đọc được tệp"),
    (r"the ZIP member cannot be read", "không đọc được tệp này trong ZIP"),
    (r"refused: unpacks to (?:more than )?\d+ MB(?:, above the (\d+) MB limit)?",
     "bị từ chối: giải nén ra quá lớn so với giới hạn một tệp trong ZIP (ZIP độc hại hoặc bản quét quá lớn)"),
    (r"refused: compressed \d+ to 1", "bị từ chối: tỉ lệ nén cao bất thường (bản quét hầu như không nén được; "
                                      "có thể là ZIP độc hại)"),
    (r"refused: the ZIP's files would unpack to more than (\d+) MB in all",
     "bị từ chối: các tệp trong ZIP giải nén ra quá {0} MB; hãy tải phần còn lại bằng một ZIP khác"),
    (r"refused: macOS archive metadata", "bỏ qua: tệp hệ thống của macOS (__MACOSX), không phải trang sổ"),
    (r"refused: hidden file or folder", "bỏ qua: tệp hoặc thư mục ẩn (tên bắt đầu bằng dấu chấm), không phải trang sổ"),
    (r"refused: system file", "bỏ qua: tệp hệ thống, không phải trang sổ"),
    (r"refused: not an image, PDF or ZIP", "bị từ chối: không phải ảnh, PDF hay ZIP"),
    (r"refused: a ZIP inside a ZIP", "bị từ chối: không mở ZIP nằm trong ZIP; hãy giải nén rồi tải các tệp bên trong"),
    (r"not a valid ZIP archive", "không phải tệp ZIP hợp lệ"),
    (r"has an absolute path; the ZIP is refused", "ZIP bị từ chối: có tệp mang đường dẫn tuyệt đối"),
    (r"points outside the archive", "ZIP bị từ chối: có tệp trỏ ra ngoài thư mục nén ('..')"),
    (r"page pipeline failed", "lỗi khi xử lý trang (đã ghi vào nhật ký kỹ thuật); hãy thử xử lý lại trang"),
    (r"Could not write .* to the data directory", "không lưu được tệp vào thư mục dữ liệu (ổ đĩa đầy?)"),
    (r"Stored image .* is missing or unreadable", "ảnh đã lưu bị mất hoặc không đọc được"),
    (r"Could not encode the", "không lưu được ảnh trang đã xử lý"),
    (r"The \w+ image of \w+ is empty", "không lưu được ảnh trang đã xử lý"),
    (r"no such file or folder", "không có tệp hoặc thư mục này"),
)
_UNKNOWN_VI = "lỗi khi đọc hoặc xử lý tệp (chi tiết trong nhật ký kỹ thuật)"


def error_vi(message: str | None) -> str:
    """A stored English load/processing error as the contractor reads it: 'tên tệp: lý do'."""
    if not message:
        return ""
    for pattern, text in _ERRORS_VI:
        found = re.search(pattern, message)
        if found is None:
            continue
        reason = text.format(*(g or "" for g in found.groups()))
        name = message[: found.start()].strip().rstrip(":").strip()
        return f"{name}: {reason}" if name else reason
    return _UNKNOWN_VI


# --- the book's upload log ------------------------------------------------------------------------

ADDED, SKIPPED, REFUSED, FAILED, HELD, CONFIRMED, DELETED, RESTORED = (
    "added", "skipped", "refused", "failed", "held", "confirmed", "deleted", "restored")
OUTCOME_VI = {
    ADDED: "Đã thêm", SKIPPED: "Đã có trong sổ, bỏ qua", REFUSED: "Bị từ chối", FAILED: "Lỗi",
    HELD: "Bị giữ lại (nghi sai loại sổ)", CONFIRMED: "Đã xác nhận thuộc sổ", DELETED: "Đã xoá trang",
    RESTORED: "Đã khôi phục trang",
}
ACTORS_VI = {PIPELINE_ACTOR: "máy xử lý trang", SYSTEM_USERNAME: "hệ thống (dòng lệnh)"}
LOG_VIEWERS = (Role.CONTRACTOR, Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True)
class UploadLogEntry:
    at: datetime
    actor: str  # account name, or "pipeline" for the machine
    outcome: str  # one of OUTCOME_VI's keys
    file: str  # the uploaded file's name as kept (user data: show literally)
    page_index: int | None
    detail_vi: str

    @property
    def outcome_vi(self) -> str:
        return OUTCOME_VI.get(self.outcome, self.outcome)

    @property
    def at_text(self) -> str:
        """dd/mm/yyyy HH:MM:SS in Vietnam's time (SQLite hands back naive UTC)."""
        moment = self.at if self.at.tzinfo is not None else self.at.replace(tzinfo=UTC)
        return moment.astimezone(VIETNAM_TZ).strftime("%d/%m/%Y %H:%M:%S")

    @property
    def actor_vi(self) -> str:
        return ACTORS_VI.get(self.actor, self.actor)


_PAGE_ACTIONS = ("upload", "upload_failed", "processing_failed", CONFIRM_ACTION, "delete", "restore")


def upload_log(session: Session, user: User, book_id: int, limit: int = 500) -> list[UploadLogEntry]:
    """The book's upload outcomes, newest first (contractors, supervisors and admins of its unit)."""
    scope = load_scope(session, user, LOG_VIEWERS)
    book_in_scope(session, scope, book_id)
    pages = {p.id: p for p in session.scalars(select(Page).where(Page.book_id == book_id))}
    events = session.scalars(
        select(AuditEvent).where(or_(
            and_(AuditEvent.entity_type == "book", AuditEvent.entity_id == book_id,
                 AuditEvent.action.in_(("upload_refused", "upload_skipped"))),
            and_(AuditEvent.entity_type == "page", AuditEvent.entity_id.in_(pages),
                 or_(AuditEvent.action.in_(_PAGE_ACTIONS),
                     and_(AuditEvent.action == "pipeline_step", AuditEvent.step_name == "book_type"))),
        )).order_by(AuditEvent.id.desc()).limit(limit)
    )
    entries = []
    for event in events:
        page = pages.get(event.entity_id or -1) if event.entity_type == "page" else None
        entry = _entry(event, page, pages)
        if entry is not None:
            entries.append(entry)
    return entries


def _entry(event: AuditEvent, page: Page | None, pages: dict[int, Page]) -> UploadLogEntry | None:
    new = event.new_value if isinstance(event.new_value, dict) else {}
    file = str(new.get("file") or (page.original_name if page else ""))
    index = page.page_index if page else None

    def entry(outcome: str, detail: str) -> UploadLogEntry:
        return UploadLogEntry(event.at, event.actor, outcome, file, index, detail)

    action = event.action
    if action == "upload_refused":
        return entry(REFUSED, error_vi(str(new.get("reason", ""))))
    if action == "upload_skipped":
        same = pages.get(int(new.get("page_id") or 0))
        where = f"trùng nội dung với trang {same.page_index:d} ({same.original_name})" if same else "trùng nội dung"
        return entry(SKIPPED, f"tệp đã có trong sổ: {where}")
    if action == "upload":
        frame = int(new.get("frame") or 0)
        return entry(ADDED, f"trang {index:d} của sổ" + (f" (trang {frame + 1:d} trong tệp)" if frame else "")
                     if index is not None else "")
    if action in ("upload_failed", "processing_failed"):
        return entry(FAILED, error_vi(str(new.get("error", ""))))
    if action == "pipeline_step":
        suspected = new.get("suspected")
        if not suspected:
            return None
        return entry(HELD, f"máy nghi trang thuộc {book_type_label_vi(str(suspected))} (theo tiêu đề in trên trang "
                           "hoặc các cột kẻ): trang bị giữ lại, chờ người tải lên xác nhận hoặc xoá")
    if action == CONFIRM_ACTION:
        return entry(CONFIRMED, "người tải lên xác nhận trang thuộc sổ này; bản ghi đã chuyển cho cán bộ")
    if action == "delete":
        return entry(DELETED, f"lý do: {new.get('reason', '')}")
    if action == "restore":
        return entry(RESTORED, "")
    return None
