"""Which pages each role sees (the page list `st.navigation` is built from)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from models import Role

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to the repository root
    title: str  # Vietnamese, shown in the menu
    icon: str
    url_path: str


VERIFY = PageSpec("app_pages/verify.py", "Xác minh", ":material/fact_check:", "xac-minh")
MY_PROGRESS = PageSpec("app_pages/my_progress.py", "Tiến độ của tôi", ":material/person:", "tien-do-cua-toi")
QUEUES = PageSpec("app_pages/supervisor_queues.py", "Hàng đợi tổ kiểm tra", ":material/rule:", "hang-doi")
DASHBOARD = PageSpec("app_pages/dashboard.py", "Tiến độ", ":material/monitoring:", "tien-do")
REPORT = PageSpec("app_pages/report.py", "Báo cáo (Phụ lục 01)", ":material/summarize:", "bao-cao")
DELIVERABLES = PageSpec("app_pages/deliverables.py", "Sản phẩm bàn giao", ":material/inventory_2:", "san-pham-ban-giao")
BOOKS = PageSpec("app_pages/contractor_books.py", "Sổ và trang", ":material/menu_book:", "so-va-trang")
GRID = PageSpec("app_pages/contractor_grid.py", "Sửa lưới trang", ":material/grid_on:", "sua-luoi-trang")
USERS = PageSpec("app_pages/admin_users.py", "Người dùng", ":material/group:", "nguoi-dung")
UNITS = PageSpec("app_pages/admin_units.py", "Đơn vị", ":material/account_balance:", "don-vi")
BOOK_TYPES = PageSpec("app_pages/admin_book_types.py", "Loại sổ", ":material/list_alt:", "loai-so")
MODELS = PageSpec("app_pages/models_registry.py", "Mô hình nhận dạng", ":material/model_training:", "mo-hinh")
LOGIN = PageSpec("app_pages/login.py", "Đăng nhập", ":material/login:", "dang-nhap")

_SECTIONS: dict[str, dict[str, list[PageSpec]]] = {
    Role.OFFICIAL: {"Cán bộ hộ tịch": [VERIFY, MY_PROGRESS]},
    # Supervisors open flagged records in the verification page too.
    # Deliverables (export, cross-check) are the supervisors' (tổ kiểm tra) and admins'
    # (workbench.deliverables.deliverables).
    Role.SUPERVISOR: {"Tổ kiểm tra": [QUEUES, VERIFY, DASHBOARD, REPORT, DELIVERABLES, MODELS]},
    Role.CONTRACTOR: {"Đơn vị số hoá": [BOOKS, GRID]},
    Role.ADMIN: {
        "Quản trị": [USERS, UNITS, BOOK_TYPES],
        "Tổ kiểm tra": [QUEUES, DASHBOARD, REPORT, DELIVERABLES, MODELS],
        "Cán bộ hộ tịch": [VERIFY, MY_PROGRESS],
        "Đơn vị số hoá": [BOOKS, GRID],
    },
}


def pages_for_role(role: str) -> dict[str, list[PageSpec]]:
    """Menu sections for a role; an unknown role sees nothing (fail closed)."""
    return _SECTIONS.get(role, {})


def allowed_paths(role: str) -> set[str]:
    return {spec.path for specs in pages_for_role(role).values() for spec in specs}


def to_st_page(spec: PageSpec, default: bool = False) -> st.Page:
    """The `st.Page` for a spec; equal specs give equal pages, so pages can link to each other."""
    return st.Page(str(REPO_ROOT / spec.path), title=spec.title, icon=spec.icon, url_path=spec.url_path,
                   default=default)


# Streamlit serves the default page at "/" only: its own url_path ("/xac-minh") then matches no page,
# and a reload or bookmark of it showed an English "Page not found" modal that took the focus
# (issue #15). So no role page is the default: a hidden start page at "/" runs the role's first page
# script in place (a redirect would lose the login cookie written in the same run), and every role
# page keeps a URL that reloads onto itself.
START_URL_PATH = "bat-dau"


def role_navigation(role: str) -> dict[str, list[st.Page]]:
    """The `st.navigation` sections of a signed-in role (empty for a role with no pages)."""
    sections = pages_for_role(role)
    navigation = {section: [to_st_page(spec) for spec in specs] for section, specs in sections.items() if specs}
    first = next((specs[0] for specs in sections.values() if specs), None)
    if first is not None:
        start = st.Page(str(REPO_ROOT / first.path), title=first.title, icon=first.icon,
                        url_path=START_URL_PATH, default=True, visibility="hidden")
        navigation[next(iter(navigation))].insert(0, start)
    return navigation


def signed_out_navigation() -> list[st.Page]:
    """The login page at "/", and at every page URL too (hidden from the menu): a reload after the
    session ended signs in again on the page it was, instead of a "Page not found" modal."""
    login = str(REPO_ROOT / LOGIN.path)
    urls = dict.fromkeys(spec.url_path for sections in _SECTIONS.values() for specs in sections.values()
                         for spec in specs)
    return [to_st_page(LOGIN, default=True)] + [
        st.Page(login, title=LOGIN.title, icon=LOGIN.icon, url_path=url, visibility="hidden") for url in urls
    ]
