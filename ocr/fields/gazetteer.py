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
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path

from ocr.fields.assets import read_rows
from ocr.fields.syllables import TONE_MARKS
from ocr.fields.text import clean_text, strip_diacritics

WARD_TYPES = ("Xã", "Phường", "Thị trấn")
DISTRICT_TYPES = ("Huyện", "Quận", "Thị xã", "Thành phố")
PROVINCE_TYPES = ("Tỉnh", "Thành phố")
UNIT_PREFIXES = ("Xã", "Phường", "Thị trấn", "Huyện", "Quận", "Thị xã", "Thành phố", "Tỉnh", "Đặc khu")

_LEVEL_OF_PREFIX = {
    "xã": {"ward"}, "phường": {"ward"}, "thị trấn": {"ward"}, "đặc khu": {"ward"},
    "huyện": {"district"}, "quận": {"district"}, "thị xã": {"district"},
    "thành phố": {"district", "province"}, "tỉnh": {"province"},
}
_ABBREVIATIONS = [
    (re.compile(r"(?<!\w)tp\.?\s*(?=\w)"), "thành phố "),
    (re.compile(r"(?<!\w)tx\.?\s*(?=\w)"), "thị xã "),
    (re.compile(r"(?<!\w)tt\.?\s*(?=\w)"), "thị trấn "),
    (re.compile(r"(?<!\w)x\.\s*(?=\w)"), "xã "),
    (re.compile(r"(?<!\w)p\.\s*(?=\w)"), "phường "),
    (re.compile(r"(?<!\w)h\.\s*(?=\w)"), "huyện "),
    (re.compile(r"(?<!\w)q\.\s*(?=\w)"), "quận "),
    (re.compile(r"(?<!\w)t\.\s*(?=\w)"), "tỉnh "),
]
_PREFIX_ALT = "thị trấn|thị xã|thành phố|đặc khu|phường|xã|huyện|quận|tỉnh"
_TYPED_PIECE = re.compile(
    rf"(?<!\w)(?P<type>{_PREFIX_ALT})\s+(?P<name>.+?)(?=\s*(?:[,;()]|$)|[\s-]+(?:{_PREFIX_ALT})\s)"
)
_SEPARATORS = re.compile(r"\s*[,;()]\s*")
_DASH = re.compile(r"\s+-\s+")
# The package disambiguates duplicate short names as "Hát Lót (Thị trấn)"; books never write that.
_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")


def _letter_tables() -> tuple[dict[int, str], dict[str, str], dict[int, str]]:
    """Translation tables for Latin letters with diacritics: tone removed, tone alone, ASCII."""
    no_tone: dict[int, str] = {}
    tone_of: dict[str, str] = {}
    ascii_of: dict[int, str] = {}
    for code in range(0xC0, 0x1F00):
        ch = chr(code)
        if not ch.isalpha() or ch != ch.lower():
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in decomposed if c in TONE_MARKS)
        if tone:
            no_tone[code] = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
            tone_of[ch] = tone
        bare = strip_diacritics(ch)
        if bare != ch:
            ascii_of[code] = bare
    return no_tone, tone_of, ascii_of


_NO_TONE, _TONE_OF, _ASCII_OF = _letter_tables()
_NON_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=65536)
def _name_keys(text: str) -> tuple[str, str]:
    """(place_key, accentless key) of a name, computed in one pass."""
    words = _NON_WORD.sub(" ", unicodedata.normalize("NFC", text).lower()).split()
    accented = "".join(w.translate(_NO_TONE) + "".join(filter(None, map(_TONE_OF.get, w))) for w in words)
    return accented, "".join(words).translate(_ASCII_OF)


def place_key(text: str) -> str:
    """Case/space/punctuation-insensitive key keeping diacritics, with the tone mark moved to the
    end of each syllable so "Hoà" and "Hòa" (old/new tone placement) give the same key."""
    return _name_keys(text)[0]


def accentless_key(text: str) -> str:
    """Key without any diacritics: "Xã Tân Lập" -> "xatanlap"."""
    return _name_keys(text)[1]


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
                accented, accentless = _name_keys(text)
                self.accented.setdefault(accented, set()).add(item)
                self.accentless.setdefault(accentless, set()).add(item)

    def add_alias_keys(self, keys: list[str], item: object) -> None:
        for key in keys:  # the package's aliases are already accentless keys
            self.accentless.setdefault(key, set()).add(item)

    def find(self, text: str) -> tuple[set, int]:
        """(items, quality): quality 2 = matched with diacritics, 1 = accentless only, 0 = none."""
        accented, accentless = _name_keys(text)
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


@dataclass(frozen=True)
class _Piece:
    levels: frozenset[str]
    name: str
    typed: str  # prefix + name, or name alone when no prefix was written


_ANY_LEVEL = frozenset({"ward", "district", "province"})


def split_place(text: str) -> list[_Piece]:
    """Pieces of a place text that may name units: "Trạm y tế xã Tân Lập, h. Đồng Phú" ->
    (ward) "tân lập", (district) "đồng phú". Parts without a prefix may be any level."""
    value = clean_text(text).lower()
    for pattern, replacement in _ABBREVIATIONS:
        value = pattern.sub(replacement, value)
    pieces = []
    for match in _TYPED_PIECE.finditer(value):
        name = match["name"].strip(" -")
        pieces.append(_Piece(frozenset(_LEVEL_OF_PREFIX[match["type"]]), name, f"{match['type']} {name}"))
    for part in _SEPARATORS.split(value):
        if part and not re.search(rf"(?<!\w)(?:{_PREFIX_ALT})\s", part):
            pieces.append(_Piece(_ANY_LEVEL, part, part))
    return pieces


def dash_parts(piece: _Piece) -> list[_Piece]:
    """"xã Tân Lập - Đồng Phú": dashes read as separators; the first part keeps the written prefix."""
    parts = [p for p in _DASH.split(piece.name) if p]
    if len(parts) < 2:
        return [piece]
    prefix = piece.typed[: len(piece.typed) - len(piece.name)]  # "xã " for a typed piece, else ""
    first = _Piece(piece.levels, parts[0], prefix + parts[0])
    return [first] + [_Piece(_ANY_LEVEL, p, p) for p in parts[1:]]


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
        self._row_id = {row.old_key: i for i, row in enumerate(self._rows)}
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

    def short_names(self) -> list[str]:
        """Unit names without their prefix ("Tân Lập"), legacy and current."""
        prefixes = tuple(f"{p} " for p in UNIT_PREFIXES)
        short = {}
        for name in self.unit_names():
            for prefix in prefixes:
                if name.startswith(prefix):
                    name = name[len(prefix):]
                    break
            short[name] = None
        return list(short)

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
        index = self._index()
        pieces = self._pieces(place_text)
        piece_units = [self._higher_units(piece) for piece in pieces]
        districts = set().union(*(d for d, _ in piece_units)) if pieces else set()
        provinces = set().union(*(p for _, p in piece_units)) if pieces else set()
        near_districts, near_provinces = self._hints(near) if near else (set(), set())
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

    def _pieces(self, text: str) -> list[_Piece]:
        """Pieces of the text; an undashed reading is kept when the whole names a unit
        ("Bà Rịa - Vũng Tàu"), else dashes are read as separators."""
        index = self._index()
        pieces: list[_Piece] = []
        for piece in split_place(text):
            names_a_unit = any(
                table.find(piece.name)[1] for table in (index.wards, index.districts, index.provinces)
            )
            pieces.extend([piece] if names_a_unit else dash_parts(piece))
        return pieces

    def _higher_units(self, piece: _Piece) -> tuple[set[tuple[str, str]], set[str]]:
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
