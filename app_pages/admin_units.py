"""Đơn vị: the registry offices (tỉnh / huyện / xã) that scope users and books."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Role
from workbench.accounts.admin import create_unit, list_units
from workbench.ui import notices
from workbench.ui.guard import require
from workbench.ui.labels import UNIT_LEVEL_VI

ctx = require(Role.ADMIN)
st.title("Đơn vị")
notices.show()
with ctx.session() as (session, user):
    units = list_units(session, user)
st.dataframe(pd.DataFrame([
    {"Đơn vị": u.path, "Cấp": UNIT_LEVEL_VI.get(u.level, u.level), "Mã": u.code or ""} for u in units
]), hide_index=True, width="stretch")

parents = {u.id: u.path for u in units}
with st.form("new-unit"):
    st.subheader("Thêm đơn vị")
    name = st.text_input("Tên đơn vị", key="new-unit-name", placeholder="Ví dụ: Xã Đại Lãnh")
    level = st.selectbox("Cấp", list(UNIT_LEVEL_VI), index=2, format_func=lambda level: UNIT_LEVEL_VI[level],
                         key="new-unit-level")
    parent = st.selectbox("Thuộc đơn vị", [None, *parents], key="new-unit-parent",
                          format_func=lambda pid: "— Không —" if pid is None else parents[pid])
    code = st.text_input("Mã (dùng trong tên tệp xuất)", key="new-unit-code")
    if st.form_submit_button("Thêm đơn vị", type="primary") and ctx.run(
            lambda session, user: create_unit(session, user, name=name, level=str(level), parent_id=parent,
                                              code=code or None),
            f"Đã thêm đơn vị {name}.").ok:
        st.rerun()
