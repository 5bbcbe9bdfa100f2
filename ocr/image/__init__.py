"""Stage 1, the page image: uploads become page images (``loading``), pages are checked (``page_qa``: blank,
turned 90/270, duplicate), found on the scanner bed and levelled (``deskew``), and stamp ink is told from writing
(``stamps``); ``imaging`` holds the small image helpers every stage shares."""
