"""Stage 3, reading text lines: the engines turn a line crop into text or CTC frame posteriors (``engines``;
AsterNet is the default), CTC decoding finds the likeliest text, constrained or not (``decoding``; ``ctc_batch``
scores many candidate texts of one line at once), and two rescorings read a line in the light of what is known
about it: a person's surname (``name_decoding``) and the page's other records (``page_context``).
``book_type_check`` asks whether the page's columns and its title, read by the recognizer, fit its book's type."""
