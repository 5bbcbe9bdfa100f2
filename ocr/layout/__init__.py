"""Stage 2, the ledger's layout on a levelled page: the printed grid (``grid``: header band, template columns,
data rows), strokes cut by a ruling given back (``ruling_crossing``), each record's field cells cut into text-line
crops (``cells``); ``page`` runs the page checks, the levelling, the grid and the cells on one page image and records
each step for the audit trail; ``table_qa`` holds the page checks that need the rulings (upside down, writing beside
the table)."""
