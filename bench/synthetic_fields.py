"""Moved to samples/fields.py; bench/robustness.py still imports render_family_page from here."""

from samples.fields import render_family_page as render_family_page
