"""Regenerate the small sample books committed under samples/books/ (one per book type).

    python -m samples.build_committed
"""

from __future__ import annotations

from pathlib import Path

from samples.book import generate_book
from samples.render import PageOptions
from workbench.book_types import all_book_types

BOOKS_DIR = Path(__file__).parent / "books"
SEED = 2003
PAGES = 3
# Realistic but moderate defects; quality chosen so a page is ~250-500 kB.
OPTIONS = PageOptions(skew_max_deg=3.0, ruling="normal", jpeg_quality=62)


def main() -> list[Path]:
    return [generate_book(BOOKS_DIR / key, key, pages=PAGES, seed=SEED, options=OPTIONS)
            for key in all_book_types()]


if __name__ == "__main__":
    for path in main():
        sizes = sorted(p.stat().st_size // 1024 for p in path.glob("page_*.jpg"))
        print(f"{path}: pages {sizes} kB")
