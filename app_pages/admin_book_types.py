"""Loại sổ: the book-type templates (data files in workbench/templates/, one per type)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Role
from workbench.accounts.admin import list_book_types
from workbench.ui.guard import require
from workbench.ui.labels import FIELD_TYPE_KINDS_VI
from workbench.ui.plain import plain

ctx = require(Role.ADMIN)
st.title("Loại sổ")
st.caption("Mỗi loại sổ là một tệp mẫu trong workbench/templates/; thêm loại sổ mới bằng cách thêm tệp, "
           "không cần sửa mã.")
with ctx.session() as (session, user):
    book_types = list_book_types(session, user)
for book_type in book_types:
    with st.expander(f"{book_type.priority:d}. {plain(book_type.label)} ({plain(book_type.key)})"):
        st.dataframe(pd.DataFrame([
            {"Mã trường": key, "Tên cột": label, "Kiểu": FIELD_TYPE_KINDS_VI.get(kind, kind)}
            for key, label, kind in book_type.columns
        ]), hide_index=True, width="stretch")
