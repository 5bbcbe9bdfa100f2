"""Generated pages read as ingest reads them, for tests that check what the pipeline proposes."""

from __future__ import annotations

from functools import cache

from ocr.image.loading import load_images
from ocr.pipeline import PageResult, process_page
from ocr.reader import build_reader
from samples.families import family
from samples.fields import render_family_page
from workbench.book_types import get_book_type


@cache
def read_family_page(name: str, index: int, seed: int) -> tuple[PageResult, dict]:
    """Page ``index`` of family ``name`` for ``seed`` (as bench.robustness draws it), read from its JPEG
    by the shipped model as ingest reads a unit with no confirmed words yet; and its truth."""
    page = render_family_page(family(name), index, seed)
    image = load_images(page.data, "page.jpg")[0].image
    return process_page(image, get_book_type(page.book_type).layout, build_reader()), page.truth
