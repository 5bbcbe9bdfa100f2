"""Gazetteer names arranged for decoding place cells: by level, with their parents, fuzzy lookup.

``ocr.fields.gazetteer`` answers "which unit does this text name"; decoding needs the other
direction: which unit names lie *near* a misread span, at which level, and whether a commune,
a district and a province read in one cell form a path that exists (pre-2025 map, provinces
that no longer existed by 2024 such as "Sông Bé", and the 2025 communes by name only: the
gazetteer exposes no parent for them).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr.fields.assets import read_rows
from ocr.fields.gazetteer import get_gazetteer
from ocr.fields.place_text import accentless_key, place_key

LEVELS = ("ward", "district", "province")  # addresses run from the smallest unit to the largest
# The written type words of each level, longest first ("thị trấn" before "thị").
LEVEL_PREFIXES = {
    "ward": ("thị trấn", "phường", "xã", "đặc khu"),
    "district": ("thành phố", "thị xã", "huyện", "quận"),
    "province": ("thành phố", "tỉnh"),
}
_TYPE_WORDS = sorted({p for ps in LEVEL_PREFIXES.values() for p in ps}, key=len, reverse=True)
_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")  # the package's "Hát Lót (Thị trấn)" disambiguators

# Scopes (the districts of a province, the wards of a district) recur from cell to cell of a book.
SCOPE_CACHE_SIZE = 256
HOME_CACHE_SIZE = 64  # resolved home areas (one per unit path a process decodes books of)

DistrictId = tuple[str, str]  # (province, district) as the gazetteer names them


@dataclass(frozen=True)
class NameMatch:
    """A unit name near a span of text: ``distance`` counts edits ignoring diacritics and case,
    ``accent_distance`` the extra edits of diacritics and case."""

    name: str
    level: str
    distance: int
    accent_distance: int


def split_unit_name(full_name: str) -> tuple[str, str]:
    """("Thị trấn", "Vạn Giã") for "Thị trấn Vạn Giã"; ("", name) when no type word leads."""
    name = _PARENTHESIS.sub("", unicodedata.normalize("NFC", full_name)).strip()
    lowered = name.lower()
    for word in _TYPE_WORDS:
        if lowered.startswith(word + " "):
            return name[: len(word)], name[len(word) + 1 :].strip()
    return "", name


@dataclass(frozen=True)
class HomeArea:
    """Where most places written in one unit's book lie: the unit, the units above it and the other
    units of its district(s), as short gazetteer names per level (``LEVELS`` order). A unit that
    names several communes ("Xã Đại Lãnh": one in Khánh Hòa, one in Quảng Nam) and no parent that
    tells them apart has all their districts."""

    names: tuple[frozenset[str], frozenset[str], frozenset[str]]

    def at(self, level: str) -> frozenset[str]:
        return self.names[LEVELS.index(level)]

    def has(self, level: str, name: str) -> bool:
        return name in self.at(level)

    def __bool__(self) -> bool:
        return any(self.names)


def unit_levels(type_word: str, level: str = "") -> tuple[str, ...]:
    """Levels a unit may be of: those its type word names ("thành phố": a district or a
    province), narrowed to ``level`` where that fits (a unit table's default level does not
    override "Huyện"); without a type word ``level``, else any."""
    lowered = type_word.lower()
    by_word = tuple(lv for lv in LEVELS if lowered in LEVEL_PREFIXES[lv]) if lowered else ()
    if level in LEVELS and (not by_word or level in by_word):
        return (level,)
    return by_word or LEVELS


class PlaceIndex:
    """Short unit names ("Đại Lộc") by level, with the districts/provinces they lie in."""

    def __init__(self) -> None:
        gazetteer = get_gazetteer()
        ward_parents: dict[str, set[DistrictId]] = defaultdict(set)
        district_ids: dict[str, set[DistrictId]] = defaultdict(set)
        province_ids: dict[str, set[str]] = defaultdict(set)
        wards_in_district: dict[DistrictId, set[str]] = defaultdict(set)
        districts_in_province: dict[str, set[str]] = defaultdict(set)
        short_province: dict[str, str] = {}
        for unit in gazetteer.legacy_units():
            _, province = split_unit_name(unit.province)
            province_ids[province].add(unit.province)
            short_province[province] = unit.province
            if unit.district is None:
                continue
            district_id = (unit.province, unit.district)
            _, district = split_unit_name(unit.district)
            district_ids[district].add(district_id)
            districts_in_province[unit.province].add(district)
            if unit.ward is not None:
                _, ward = split_unit_name(unit.ward)
                ward_parents[ward].add(district_id)
                wards_in_district[district_id].add(ward)
        for old_name, successors in (row[:2] for row in read_rows("historical_provinces.tsv")):
            name = unicodedata.normalize("NFC", old_name)
            province_ids[name].update(short_province[s] for s in successors.split("|"))
        for full_name in gazetteer.unit_names():  # 2025 communes: names without parents
            unit_type, name = split_unit_name(full_name)
            if unit_type.lower() in LEVEL_PREFIXES["ward"] and name not in ward_parents:
                ward_parents[name] = set()
        # Plain dicts from here: a lookup of an unknown name must not insert it.
        self.ward_parents = dict(ward_parents)
        self.district_ids = dict(district_ids)
        self.province_ids = dict(province_ids)
        self.wards_in_district = dict(wards_in_district)
        self.districts_in_province = dict(districts_in_province)
        self._links: dict[tuple[str | None, str | None, str | None], int] = {}
        self._scope_cache: dict[tuple[str, frozenset[str]], NameScope] = {}
        self._home_cache: dict[tuple[tuple[str, str], ...], HomeArea] = {}
        self._scopes = {level: NameScope.of(level, self.names(level)) for level in LEVELS}
        self._exact: dict[str, dict[str, str]] = {
            level: {place_key(n): n for n in self.names(level)} for level in LEVELS
        }

    def names(self, level: str) -> Iterable[str]:
        tables: dict[str, dict] = {"ward": self.ward_parents, "district": self.district_ids,
                                   "province": self.province_ids}
        return tables[level].keys()

    def exact(self, text: str, level: str) -> str | None:
        """The unit name ``text`` spells (case, spacing and old/new tone placement ignored)."""
        return self._exact[level].get(place_key(text))

    def scope(self, level: str, names: Iterable[str] | None = None) -> NameScope:
        """All names of ``level`` (cached), or only ``names`` (the wards of some districts...)."""
        if names is None:
            return self._scopes[level]
        key = (level, frozenset(names))
        scope = self._scope_cache.get(key)
        if scope is None:
            if len(self._scope_cache) >= SCOPE_CACHE_SIZE:
                self._scope_cache.clear()
            scope = self._scope_cache[key] = NameScope.of(level, key[1])
        return scope

    # --- the book's own unit ----------------------------------------------------------------------

    def home_area(self, units: Iterable[tuple[str, str]]) -> HomeArea:
        """The home area of a book of the unit path ``units`` ((name, level) from the book's unit
        up, as the unit table names them; level "" lets the type word decide). Cached."""
        key = tuple((name, level) for name, level in units)
        home = self._home_cache.get(key)
        if home is None:
            if len(self._home_cache) >= HOME_CACHE_SIZE:
                self._home_cache.clear()
            home = self._home_cache[key] = self._resolve_home(key)
        return home

    def _resolve_home(self, units: tuple[tuple[str, str], ...]) -> HomeArea:
        """The smallest unit the gazetteer knows fixes the candidate districts (or provinces);
        each unit above narrows them where it fits (a parent the gazetteer does not know, or a
        post-2025 name, narrows nothing)."""
        own: list[tuple[str, str]] = []  # (level, short name) of the units themselves
        districts: set[DistrictId] | None = None
        provinces: set[str] | None = None
        for full_name, given_level in units:
            type_word, short = split_unit_name(full_name)
            found_districts: set[DistrictId] = set()
            found_provinces: set[str] = set()
            for level in unit_levels(type_word, given_level):
                name = self.exact(short, level)
                if name is None:
                    continue
                own.append((level, name))
                if level == "ward":
                    found_districts |= self.ward_parents[name]
                elif level == "district":
                    found_districts |= self.district_ids[name]
                else:
                    found_provinces |= self.province_ids[name]
            if districts is None and provinces is None:
                if found_districts:
                    districts = found_districts
                elif found_provinces:
                    provinces = found_provinces
            elif districts is not None:
                narrowed = {d for d in districts if d in found_districts or d[0] in found_provinces}
                districts = narrowed or districts
            elif provinces is not None:
                provinces = (provinces & found_provinces) or provinces
        # A province's book: its districts (its hundreds of communes are no "near" prior).
        home_districts = districts or set()
        home_provinces = {d[0] for d in home_districts} | (provinces or set())
        wards = self.wards_of(home_districts) if districts else set()
        district_names = {split_unit_name(d[1])[1] for d in home_districts}
        if provinces and not districts:
            district_names |= self.districts_of(provinces)
        province_names = {name for name, ids in self.province_ids.items() if ids & home_provinces}
        by_level = {"ward": wards, "district": district_names, "province": province_names}
        for level, name in own:
            by_level[level].add(name)
        return HomeArea((frozenset(by_level["ward"]), frozenset(by_level["district"]), frozenset(by_level["province"])))

    # --- hierarchy -----------------------------------------------------------------------------

    def wards_of(self, district_ids: Iterable[DistrictId]) -> set[str]:
        return set().union(*(self.wards_in_district.get(d, set()) for d in district_ids))

    def districts_of(self, provinces: Iterable[str]) -> set[str]:
        return set().union(*(self.districts_in_province.get(p, set()) for p in provinces))

    def links(self, ward: str | None, district: str | None, province: str | None) -> int:
        """How many consecutive levels of the path fit together in the gazetteer: 0 for a lone
        unit or no fitting pair, up to 2 for commune-district-province (cached: asked per
        candidate reading)."""
        key = (ward, district, province)
        links = self._links.get(key)
        if links is None:
            links = self._links[key] = self._count_links(ward, district, province)
        return links

    def _count_links(self, ward: str | None, district: str | None, province: str | None) -> int:
        provinces = self.province_ids.get(province, set()) if province else None
        districts = self.district_ids.get(district, set()) if district else None
        if ward is not None and district is not None:
            fitting = self.ward_parents.get(ward, set()) & (districts or set())
            if provinces is not None:
                if any(d[0] in provinces for d in fitting):
                    return 2
                return 1 if fitting or any(d[0] in provinces for d in districts or ()) else 0
            return int(bool(fitting))
        lower = self.ward_parents.get(ward, set()) if ward is not None else districts
        if lower is not None and provinces is not None:
            return int(any(d[0] in provinces for d in lower))
        return 0


@dataclass(frozen=True)
class NameScope:
    """Unit names of one level that a span may be matched against, by accentless key."""

    level: str
    by_key: dict[str, list[str]]
    keys: tuple[str, ...] = ()
    max_words: int = 0  # the longest name's word count: longer spans are not looked up

    @classmethod
    def of(cls, level: str, names: Iterable[str]) -> NameScope:
        # Sorted: names as near as each other are kept up to ``near``'s limit in this order, and a
        # set of names iterates in an order that depends on how it was built (the scope is cached,
        # so a page's reading would depend on the pages read before it).
        by_key = _names_by_key(sorted(names))
        longest = max((len(n.split()) for ns in by_key.values() for n in ns), default=0)
        return cls(level, by_key, tuple(sorted(by_key)), longest)

    def near(self, text: str, max_distance: int, limit: int = 4) -> list[NameMatch]:
        """Names within ``max_distance`` accentless edits of ``text``, nearest first."""
        query = accentless_key(text)
        if not query or not self.by_key or len(text.split()) > self.max_words:
            return []
        hits = process.extract(query, self.keys, scorer=Levenshtein.distance, score_cutoff=max_distance,
                               limit=limit)
        lowered = text.lower()
        matches = [
            NameMatch(name, self.level, int(distance), Levenshtein.distance(lowered, name.lower()) - int(distance))
            for key, distance, _ in hits
            for name in self.by_key[key]
        ]
        return sorted(matches, key=lambda m: (m.distance, m.accent_distance))


def _names_by_key(names: Iterable[str]) -> dict[str, list[str]]:
    by_key: dict[str, list[str]] = defaultdict(list)
    for name in names:
        if not any(ch.isdigit() for ch in name):  # "Phường 1": digits are never rewritten
            by_key[accentless_key(name)].append(name)
    return dict(by_key)


@cache
def place_index() -> PlaceIndex:
    """The shared index (built from the gazetteer on first use)."""
    return PlaceIndex()
