"""Place cells, read with the gazetteer: the unit names arranged by level with their parents and a fuzzy lookup
(``index``), the edits a reading may take to name a place that exists (``candidates``), and which of them the
line's CTC evidence allows (``decoding``), with a second reader's evidence added (``place_check``). What a place
text says as written stays in ``ocr.fields`` (``place_text``, ``gazetteer``)."""
