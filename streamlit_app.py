"""The Streamlit entry: `streamlit run streamlit_app.py` (from the repository root; `make run`).

Login first; then `st.navigation` registers only the pages of the signed-in user's role, so a
page outside the role cannot even be opened by URL. Services enforce unit scope on top.
"""

from __future__ import annotations

import streamlit as st

from workbench.scope import units_read_once
from workbench.storage import private_files
from workbench.ui import streamlit_vi
from workbench.ui.labels import ROLE_VI
from workbench.ui.navigation import role_navigation, signed_out_navigation
from workbench.ui.plain import plain
from workbench.ui.remember import forget, keep_alive, pending_cookie_script, restore
from workbench.ui.resources import get_workbench
from workbench.ui.session import touch

private_files()  # the database, page images and exports this server writes: 600 files, 700 folders


def main() -> None:
    st.set_page_config(page_title="Số hoá sổ hộ tịch", page_icon=":material/menu_book:", layout="wide")
    wb = get_workbench()
    minutes, hours = wb.settings.session_minutes, wb.settings.session_max_hours
    identity = touch(st.session_state, minutes, max_hours=hours)
    if identity is None:
        identity = restore(st.session_state, wb.sessions, minutes, hours)  # a reload keeps the login
    else:
        keep_alive(st.session_state, minutes, hours)
    cookie_js = pending_cookie_script(st.session_state)
    if cookie_js:
        # In the sidebar when signed in, so the main layout does not shift.
        (st.sidebar if identity else st.container()).html(cookie_js, unsafe_allow_javascript=True)
    with st.sidebar if identity else st.container():  # Streamlit's own strings in Vietnamese; no room taken
        streamlit_vi.install()
    if identity is None:
        st.navigation(signed_out_navigation(), position="hidden").run()
        return
    navigation = role_navigation(identity.role)  # every page reloads onto itself (issue #15)
    with st.sidebar:
        st.markdown(f"**{plain(identity.display_name)}**  \n{ROLE_VI.get(identity.role, identity.role)}")
        if st.button("Đăng xuất", key="logout", icon=":material/logout:"):
            forget(st.session_state)
            st.rerun()
    if not navigation:
        st.error("Vai trò của bạn chưa được cấp trang nào. Liên hệ quản trị viên.")
        return
    with units_read_once():  # a page run checks the user's scope many times: units read once per run
        st.navigation(navigation).run()


# Streamlit runs this file as __main__; a multiprocessing "spawn" child (Dask, process pools)
# re-imports the parent's main script as __mp_main__ and must not start the app (or migrate) there.
if __name__ == "__main__":
    main()
