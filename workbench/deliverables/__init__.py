"""Deliverables: what leaves the workbench.

deliverables (the scoped, audited entry points the app calls), export_json (the book JSON export), exports/ (per
registration PDFs, the ZIP, the Excel import file, PAGE XML; their column mappings in import_layouts/), report and
report_xlsx (the daily progress report, Phụ lục 01, and its Excel form).
"""
