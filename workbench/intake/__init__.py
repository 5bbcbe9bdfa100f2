"""Intake: scans into a book, and the contractor's work on them.

contractor (create books, watch, re-run or delete pages), ingest (store uploads, run the page pipeline, persist
records), executors (where page tasks run: in-process, process pool, Dask), proposal_rows (OCR proposal -> field
row), upload_log (what happened to every file handed in), segmentation (the grid editor: re-cut and re-read a page),
book_type_hold (pages that may not belong to their book), registration_sequence (lost or repeated registration
numbers as page warnings).
"""
