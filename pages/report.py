"""Báo cáo (Phụ lục 01): the daily progress report per unit and book type."""

from __future__ import annotations

import streamlit as st

from models import Role
from workbench.ui.guard import require

ctx = require(Role.SUPERVISOR)
st.title("Báo cáo tiến độ (Phụ lục 01)")
st.info("Báo cáo Phụ lục 01 đang được hoàn thiện.")
