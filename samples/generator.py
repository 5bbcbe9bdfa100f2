"""The sample-book generator's public entry points (the package splits them into modules)."""

from samples.book import generate_all_books, generate_book
from samples.render import PageOptions, render_page

__all__ = ["PageOptions", "generate_all_books", "generate_book", "render_page"]
