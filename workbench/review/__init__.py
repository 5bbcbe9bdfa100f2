"""Review: the official's verification of records, field by field, beside the image.

queue (which record comes next, race-safe claims), record_view (what the verification page shows), review (save,
approve, flag, skip), approval_checks (when approving as typed needs an explicit confirmation), drafts (typed but
unsaved work kept on the server), book_order (the station in book order, undo of the last approval), progress (the
official's strip and the supervisors' dashboard numbers), my_progress (the official's own day in detail).
"""
