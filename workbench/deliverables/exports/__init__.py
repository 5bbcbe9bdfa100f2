"""Book deliverables: per-registration PDFs, the ZIP, the Excel import file, PAGE XML.

Entry points live in workbench.deliverables.exports.package (kept out of this __init__ so that importing
one submodule never drags in the others).
"""
