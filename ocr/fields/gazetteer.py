"""Gazetteer of Vietnamese administrative units, pre-2025 (63 provinces) and current (34).

Built from the data files of ``vietnamadminunits`` (MIT): its SQLite tables of legacy and current
units and its 2025 conversion map (read directly: the package's own converter geocodes street
addresses over the network, which this machine must never do). Old books name pre-2025 units;
``Gazetteer.lookup_current`` recognises such a unit in a place as written and gives its current
successor, to show *beside* the text, never instead of it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from ocr.fields.assets import read_rows
from ocr.fields.place_text import PlacePiece, dash_parts, name_keys, split_place

# The package disambiguates duplicate short names as "Hát Lót (Thị trấn)"; books never write that.
_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")

@dataclass(frozen=True)
class LegacyUnit:
    """A pre-2025 unit (63-province map) as the gazetteer names it."""

    province: str  # "Tỉnh Bình Phước"
    district: str | None = None  # "Huyện Đồng Phú"
    ward: str | None = None  # "Xã Tân Lập"

    @property
    def address(self) -> str:
        return ", ".join(p for p in (self.ward, self.district, self.province) if p)


@dataclass(frozen=True)
class CurrentUnit:
    """The current (post-July-2025) unit succeeding a legacy unit named in a place text."""

    province: str  # "Tỉnh Đồng Nai"
    ward: str | None  # "Xã Tân Lợi"; None when only the province is known (district-level text)
    legacy: LegacyUnit | None  # what the text was recognised as; None when several units fit
    divided: bool = False  # the old commune was split: ``ward`` is its main successor
    ambiguous: bool = False  # several legacy units fit; only their common successor is given

    @property
    def address(self) -> str:
        return ", ".join(p for p in (self.ward, self.province) if p)

    @property
    def note(self) -> str:
        """One line for officials, shown beside the place as written."""
        if self.ward and self.divided:
            text = f"Nay phần lớn thuộc {self.address} (đơn vị cũ đã được chia)"
        elif self.ward:
            text = f"Nay là {self.address}"
        else:
            text = f"Nay thuộc {self.province}"
        return text + (" — chưa xác định chắc chắn đơn vị cũ" if self.ambiguous else "")


@dataclass(frozen=True)
class _LegacyRow:
    province: str
    province_key: str
    district: str
    district_key: str
    ward: str | None
    ward_key: str

    @property
    def old_key(self) -> str:
        return f"{self.province_key}_{self.district_key}_{self.ward_key}"


class _KeyIndex:
    """Key -> ids, with an accent-preserving and an accentless table."""

    def __init__(self) -> None:
        self.accented: dict[str, set] = {}
        self.accentless: dict[str, set] = {}

    def add(self, name: str, item: object, typed_name: str | None = None) -> None:
        for text in (name, typed_name):
            if text:
                accented, accentless = name_keys(text)
                self.accented.setdefault(accented, set()).add(item)
                self.accentless.setdefault(accentless, set()).add(item)

    def add_alias_keys(self, keys: list[str], item: object) -> None:
        for key in keys:  # the package's aliases are already accentless keys
            self.accentless.setdefault(key, set()).add(item)

    def find(self, text: str) -> tuple[set, int]:
        """(items, quality): quality 2 = matched with diacritics, 1 = accentless only, 0 = none."""
        accented, accentless = name_keys(text)
        if hits := self.accented.get(accented):
            return hits, 2
        if hits := self.accentless.get(accentless):
            return hits, 1
        return set(), 0


def _data_dir() -> Path:
    spec = find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("vietnamadminunits is not installed (see requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _json_list(text: str | None) -> list[str]:
    return json.loads(text) if text else []


@dataclass
class _Indexes:
    wards: _KeyIndex  # -> row ids
    districts: _KeyIndex  # -> (province_key, district_key)
    provinces: _KeyIndex  # -> province_key


class Gazetteer:
    """Legacy and current administrative units with name lookup and the 2025 succession map.

    Loading reads the package's tables (~0.1 s); the name indexes for ``lookup_current`` are built
    on first lookup (~0.5 s on an idle 2-core machine).
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        data_dir = data_dir or _data_dir()
        with sqlite3.connect(f"file:{data_dir / 'dataset.db'}?mode=ro", uri=True) as db:
            self._legacy_raw = db.execute(
                "SELECT province, provinceShort, provinceKey, provinceAlias, district, districtShort, districtKey,"
                " districtAlias, ward, wardShort, wardKey, wardAlias FROM admin_units_legacy"
            ).fetchall()
            current = db.execute("SELECT province, provinceKey, ward, wardKey FROM admin_units").fetchall()
        conversion = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))
        self._rows = [_LegacyRow(r[0], r[2], r[4], r[6], r[8] or None, r[10] or "") for r in self._legacy_raw]
        self._province_names = {row.province_key: row.province for row in self._rows}
        self._current_wards = {(pk, wk): ward for _prov, pk, ward, wk in current if ward}
        self._current_provinces = {pk: prov for prov, pk, _ward, _wk in current}
        self._new_province_of = {old: new for new, olds in conversion["DICT_PROVINCE"].items() for old in olds}
        self._successor: dict[str, tuple[str, str, bool]] = {}
        for new_pk, wards in conversion["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
            for new_wk, old_keys in wards.items():
                for old_key in old_keys:
                    self._successor[old_key] = (new_pk, new_wk, False)
        for new_pk, divided in conversion["DICT_PROVINCE_WARD_DIVIDED"].items():
            for old_key, options in divided.items():
                default = next((o for o in options if o["isDefaultNewWard"]), options[0])
                self._successor.setdefault(old_key, (new_pk, default["newWardKey"], True))
        self._indexes: _Indexes | None = None

    # --- names for lexicons and the UI ---------------------------------------------------------

    def legacy_units(self) -> list[LegacyUnit]:
        return [LegacyUnit(r.province, r.district, r.ward) for r in self._rows]

    def unit_names(self) -> list[str]:
        """Every unit name with its prefix, legacy and current ("Xã Tân Lập", "Huyện Đồng Phú")."""
        names: dict[str, None] = {}
        for row in self._rows:
            names.update(dict.fromkeys(n for n in (row.ward, row.district, row.province) if n))
        names.update(dict.fromkeys(self._current_wards.values()))
        names.update(dict.fromkeys(self._current_provinces.values()))
        return list(names)

    # --- lookup --------------------------------------------------------------------------------

    def _index(self) -> _Indexes:
        if self._indexes is None:
            self._indexes = self._build_indexes()
        return self._indexes

    def _build_indexes(self) -> _Indexes:
        wards, districts, provinces = _KeyIndex(), _KeyIndex(), _KeyIndex()
        seen_districts: set[tuple[str, str]] = set()
        short_province: dict[str, str] = {}
        for row_id, (_prov, prov_short, pk, prov_alias, dist, dist_short, dk, dist_alias,
                     ward, ward_short, _wk, ward_alias) in enumerate(self._legacy_raw):
            if ward:
                wards.add(_PARENTHESIS.sub("", ward_short), row_id, ward)
                wards.add_alias_keys(_json_list(ward_alias), row_id)
            if (pk, dk) not in seen_districts:
                seen_districts.add((pk, dk))
                districts.add(_PARENTHESIS.sub("", dist_short), (pk, dk), dist)
                districts.add_alias_keys(_json_list(dist_alias), (pk, dk))
            if prov_short not in short_province:
                short_province[prov_short] = pk
                provinces.add(prov_short, pk, self._province_names[pk])
                provinces.add_alias_keys(_json_list(prov_alias), pk)
        for old_name, successors in (r[:2] for r in read_rows("historical_provinces.tsv")):
            for successor in successors.split("|"):
                provinces.add(old_name, short_province[successor])
        return _Indexes(wards, districts, provinces)

    def current_of(self, unit: LegacyUnit) -> CurrentUnit | None:
        """Successor of a legacy unit given by its exact names (as ``legacy_units`` lists them)."""
        for row in self._rows:
            if (row.province, row.district, row.ward) == (unit.province, unit.district, unit.ward):
                return self._current_for_rows([row])
        return None

    def lookup_current(self, place_text: str, near: str | None = None) -> CurrentUnit | None:
        """Current unit for a legacy place as written (commune, district or province level).

        ``near`` optionally names the registering unit ("Huyện Đồng Phú, Tỉnh Bình Phước"): its
        district/province break ties when the text names only a commune ("xã Tân Lập").
        Returns None when no unit is recognised or the candidates have no common successor.
        """
        pieces = self._pieces(place_text)
        piece_units = [self._higher_units(piece) for piece in pieces]
        districts = set().union(*(d for d, _ in piece_units)) if pieces else set()
        provinces = set().union(*(p for _, p in piece_units)) if pieces else set()
        near_districts, near_provinces = self._hints(near) if near else (set(), set())
        scores = self._ward_scores(pieces, piece_units, near_districts, near_provinces)
        if scores:
            top = max(scores.values())
            return self._current_for_rows([self._rows[i] for i, sc in scores.items() if sc == top])
        found = [d for d in districts if d[0] in provinces] or sorted(districts)
        found = [d for d in found if d[0] in near_provinces] or found
        if found:
            return self._current_for_district(found)
        if provinces:
            return self._current_for_provinces(sorted(provinces))
        return None

    def _ward_scores(
        self,
        pieces: list[PlacePiece],
        piece_units: list[tuple[set, set]],
        near_districts: set[tuple[str, str]],
        near_provinces: set[str],
    ) -> dict[int, tuple[int, int, int, int]]:
        """Candidate communes (row ids) named by the pieces, with a rank (higher is better)."""
        index = self._index()
        scores: dict[int, tuple[int, int, int, int]] = {}
        for n, piece in enumerate(pieces):
            if "ward" not in piece.levels:
                continue
            # A bare name that also names a district/province ("Hà Tây") counts as a commune only
            # where another piece confirms that commune's district or province.
            needs_confirmation = len(piece.levels) > 1 and any(piece_units[n])
            for name in dict.fromkeys((piece.typed, piece.name)):
                hits, quality = index.wards.find(name)
                quality += int(name == piece.typed != piece.name)  # the written prefix matches too
                for row_id in hits:
                    row = self._rows[row_id]
                    confirmed = _confirmations(row, n, piece_units)
                    if needs_confirmation and not confirmed:
                        continue
                    near_fit = int((row.province_key, row.district_key) in near_districts) + int(
                        row.province_key in near_provinces
                    )
                    # Rank: confirmed by other pieces, then by the registering unit, then match
                    # quality, then the earlier piece (addresses run from commune to province).
                    score = (confirmed, near_fit, quality, -n)
                    scores[row_id] = max(scores.get(row_id, score), score)
        return scores

    def _pieces(self, text: str) -> list[PlacePiece]:
        """Pieces of the text; an undashed reading is kept when the whole names a unit
        ("Bà Rịa - Vũng Tàu"), else dashes are read as separators."""
        index = self._index()
        pieces: list[PlacePiece] = []
        for piece in split_place(text):
            names_a_unit = any(
                table.find(piece.name)[1] for table in (index.wards, index.districts, index.provinces)
            )
            pieces.extend([piece] if names_a_unit else dash_parts(piece))
        return pieces

    def _higher_units(self, piece: PlacePiece) -> tuple[set[tuple[str, str]], set[str]]:
        """Districts and provinces a piece may name."""
        index = self._index()
        districts: set[tuple[str, str]] = set()
        provinces: set[str] = set()
        if "district" in piece.levels:
            districts = index.districts.find(piece.typed)[0] or index.districts.find(piece.name)[0]
        if "province" in piece.levels:
            provinces = index.provinces.find(piece.typed)[0] or index.provinces.find(piece.name)[0]
        return set(districts), set(provinces)

    def _hints(self, near: str) -> tuple[set[tuple[str, str]], set[str]]:
        districts: set[tuple[str, str]] = set()
        provinces: set[str] = set()
        for piece in self._pieces(near):
            piece_districts, piece_provinces = self._higher_units(piece)
            districts |= piece_districts
            provinces |= piece_provinces
        provinces |= {pk for pk, _ in districts}
        return districts, provinces

    def _current_for_rows(self, rows: list[_LegacyRow]) -> CurrentUnit | None:
        successors = {s for r in rows if (s := self._successor.get(r.old_key))}
        if len(successors) == 1:
            new_pk, new_wk, divided = successors.pop()
            legacy = LegacyUnit(rows[0].province, rows[0].district, rows[0].ward) if len(rows) == 1 else None
            return CurrentUnit(
                self._current_provinces[new_pk], self._current_wards.get((new_pk, new_wk)), legacy,
                divided=divided, ambiguous=len(rows) > 1,
            )
        return self._current_for_provinces(sorted({r.province_key for r in rows}), rows)

    def _current_for_district(self, districts: list[tuple[str, str]]) -> CurrentUnit | None:
        rows = [r for r in self._rows if (r.province_key, r.district_key) in set(districts)]
        if len(rows) == 1 and rows[0].ward is None:  # island districts became "đặc khu" wards
            return self._current_for_rows(rows)
        if len(districts) == 1:
            legacy = LegacyUnit(rows[0].province, rows[0].district)
            return self._current_for_provinces([districts[0][0]], legacy=legacy)
        return self._current_for_provinces(sorted({pk for pk, _ in districts}))

    def _current_for_provinces(
        self, provinces: list[str], rows: list[_LegacyRow] | None = None, legacy: LegacyUnit | None = None
    ) -> CurrentUnit | None:
        """Province-level answer when all candidates fall into one current province."""
        new_provinces = {self._new_province_of.get(pk) for pk in provinces}
        if len(new_provinces) != 1 or None in new_provinces:
            return None
        if legacy is None and len(provinces) == 1 and rows is None:
            legacy = LegacyUnit(self._province_names[provinces[0]])
        return CurrentUnit(self._current_provinces[new_provinces.pop()], None, legacy, ambiguous=legacy is None)


def _confirmations(row: _LegacyRow, ward_piece: int, piece_units: list[tuple[set, set]]) -> int:
    """Support from other pieces: 2 for naming the row's district, 1 for its province (distinct pieces)."""
    by_district = {m for m, (d, _) in enumerate(piece_units) if (row.province_key, row.district_key) in d}
    by_province = {m for m, (_, p) in enumerate(piece_units) if row.province_key in p}
    by_district.discard(ward_piece)
    by_province.discard(ward_piece)
    if any(a != b for a in by_district for b in by_province):
        return 3
    return 2 if by_district else int(bool(by_province))


@cache
def get_gazetteer() -> Gazetteer:
    """The shared gazetteer (tables loaded on first use; name indexes on first lookup)."""
    return Gazetteer()
