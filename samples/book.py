"""Whole synthetic books on disk: page_001.jpg ... and truth.json."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from samples.render import PageOptions, render_page_encoded
from workbench.book_types import all_book_types


def generate_book(
    out_dir: Path,
    book_type: str,
    pages: int = 3,
    seed: int = 0,
    unit: str = "Xã Đại Lãnh",
    year: int = 2003,
    volume: int = 1,
    options: PageOptions | None = None,
) -> Path:
    """Write `pages` page images and the book's truth.json into out_dir; returns out_dir.

    Registration numbers and dates run forward through the book; the last page may end
    with unused rows.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = options or PageOptions()
    if base.jpeg_quality >= 100:
        raise ValueError("generate_book writes JPEG pages; use jpeg_quality < 100")
    rng = random.Random(f"{book_type}:{seed}")
    year_days = (date(year, 12, 31) - date(year, 1, 1)).days + 1
    next_no = 1
    truth_pages = []
    for index in range(pages):
        filled = base.filled_rows
        if filled is None and index == pages - 1 and pages > 1:
            filled = rng.randint(max(1, base.rows // 2), base.rows)
        start = date(year, 1, 1) + timedelta(days=year_days * index // pages)
        end = date(year, 1, 1) + timedelta(days=year_days * (index + 1) // pages - 1)
        page_options = replace(base, filled_rows=filled)
        _, truth, data = render_page_encoded(
            book_type, random.Random(rng.getrandbits(64)), page_options, next_no, year,
            unit=unit, volume=volume, date_range=(start, end),
        )
        name = f"page_{index + 1:03d}.jpg"
        assert data is not None  # jpeg_quality < 100 checked above
        (out_dir / name).write_bytes(data)
        truth["file"] = name
        truth_pages.append(truth)
        next_no += len(truth["records"])
    book = {"book_type": book_type, "unit": unit, "year": year, "volume": volume, "seed": seed}
    (out_dir / "truth.json").write_text(
        json.dumps({"book": book, "pages": truth_pages}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return out_dir


def generate_all_books(out_root: Path, pages: int, seed: int, options: PageOptions | None = None) -> list[Path]:
    """One book per known book type, in out_root/<book_type>/."""
    return [
        generate_book(Path(out_root) / key, key, pages=pages, seed=seed, options=options)
        for key in all_book_types()
    ]
