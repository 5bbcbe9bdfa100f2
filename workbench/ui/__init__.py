"""Streamlit-only helpers: login state, cached resources, display rendering, keyboard helper.

No business logic lives here: pages and these helpers call the services in `workbench/`.
"""
