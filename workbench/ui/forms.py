"""Parsing what people type into small form fields."""

from __future__ import annotations


def parse_positions(text: str) -> list[int]:
    """'110, 200 ,380' -> [110, 200, 380]; also accepts spaces or semicolons. ValueError on anything else."""
    parts = text.replace(";", ",").replace(" ", ",").split(",")
    return [int(part) for part in parts if part.strip()]
