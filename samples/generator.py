"""Stable import path for the CLI (`python -m workbench samples`): the book generator API."""

from samples.book import generate_all_books, generate_book
from samples.render import PageOptions, render_page, render_page_encoded

__all__ = ["PageOptions", "generate_all_books", "generate_book", "render_page", "render_page_encoded"]
