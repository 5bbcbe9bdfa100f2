"""Closed value lists: the 54 ethnic groups, countries, sex values, with their spelling variants.

A catalog never rewrites what the book says; it answers "which official value does this text
mean?" so the UI can show the canonical form beside the text as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from ocr.fields.assets import read_rows
from ocr.fields.text import clean_text, fold_key, fold_key_accentless

SEX_VALUES = ("Nam", "Nữ")


@dataclass(frozen=True)
class CatalogMatch:
    """The canonical value a text means, and how it was recognised."""

    canonical: str
    kind: str  # "exact" (as the catalog writes it), "variant" (alias/spelling), "accentless" (no diacritics)


@dataclass(frozen=True)
class Catalog:
    """Canonical values with aliases, matched case/space/hyphen-insensitively."""

    name: str
    values: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]]  # canonical -> aliases
    _exact: dict[str, set[str]] = field(init=False, repr=False, compare=False)
    _accentless: dict[str, set[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_exact", self._index(fold_key))
        object.__setattr__(self, "_accentless", self._index(fold_key_accentless))

    def _index(self, fold: Callable[[str], str]) -> dict[str, set[str]]:
        index: dict[str, set[str]] = {}
        for spelling, value in self.spellings():
            index.setdefault(fold(spelling), set()).add(value)
        return index

    def match(self, text: str | None) -> CatalogMatch | None:
        """Canonical value meant by text; None when unknown or ambiguous."""
        value = clean_text(text)
        if not value:
            return None
        if value in self.values:
            return CatalogMatch(value, "exact")
        hits = self._exact.get(fold_key(value), set())
        if len(hits) == 1:
            return CatalogMatch(next(iter(hits)), "variant")
        if hits:
            return None
        # OCR and hurried keying drop diacritics; accept only when that still names one value.
        hits = self._accentless.get(fold_key_accentless(value), set())
        if len(hits) == 1:
            return CatalogMatch(next(iter(hits)), "accentless")
        return None

    def canonical(self, text: str | None) -> str | None:
        found = self.match(text)
        return found.canonical if found else None

    def spellings(self) -> list[tuple[str, str]]:
        """(spelling, canonical) for every canonical value and alias (for lexicons)."""
        return [(s, v) for v in self.values for s in (v, *self.aliases.get(v, ()))]


@dataclass(frozen=True)
class Ethnicity:
    code: str  # "01".."54" in official order; "00" for foreigners
    name: str
    aliases: tuple[str, ...]


@cache
def ethnicities() -> tuple[Ethnicity, ...]:
    """The 54 official ethnic groups in official order, then "Nước ngoài" (code 00)."""
    rows = list(read_rows("ethnicities.tsv"))
    groups = [Ethnicity(r[0], clean_text(r[1]), _split_aliases(r, 2)) for r in rows]
    return tuple(sorted(groups, key=lambda g: g.code == "00"))


@cache
def ethnicity_catalog() -> Catalog:
    groups = ethnicities()
    return Catalog("ethnicity", tuple(g.name for g in groups), {g.name: g.aliases for g in groups})


@cache
def country_catalog() -> Catalog:
    rows = list(read_rows("countries.tsv"))
    values = tuple(clean_text(r[0]) for r in rows)
    return Catalog("nationality", values, {clean_text(r[0]): _split_aliases(r, 1) for r in rows})


@cache
def sex_catalog() -> Catalog:
    # "nu" with any tone mark can only mean Nữ; "trai"/"gái" are the old wording for the same values.
    nu_variants = ("Nu", "Nư", "Nũ", "Nú", "Nù", "Nủ", "Nụ", "Nứ", "Nừ", "Nử", "Nự", "Gái", "Gai")
    return Catalog("sex", SEX_VALUES, {"Nam": ("Trai", "Nam giới"), "Nữ": (*nu_variants, "Nữ giới")})


def _split_aliases(row: list[str], column: int) -> tuple[str, ...]:
    if len(row) <= column:
        return ()
    return tuple(clean_text(a) for a in row[column].split("|") if a.strip())


def canonical_ethnicity(text: str | None) -> str | None:
    """Official name of the ethnic group text means ("Mèo" -> "H'Mông"), None if unknown."""
    return ethnicity_catalog().canonical(text)


def canonical_nationality(text: str | None) -> str | None:
    """Vietnamese country name text means ("VN" -> "Việt Nam"), None if unknown."""
    return country_catalog().canonical(text)


def canonical_sex(text: str | None) -> str | None:
    """"Nam" / "Nữ" when text unambiguously means one of them, else None."""
    return sex_catalog().canonical(text)
