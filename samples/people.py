"""Synthetic Vietnamese registry data: names, dates, places, whole records.

Everything is invented from name parts and the public gazetteer of pre-2025
administrative units; no real person is described. Values are generated per
field *type*, with the column key only refining the role (mother vs father,
death date vs birth date), so a new book-type template needs no code change.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from ocr.types import ColumnSpec

SURNAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4),
    ("Phan", 4.5), ("Vũ", 3.9), ("Võ", 3), ("Đặng", 2.1), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5), ("Đinh", 0.6), ("Đoàn", 0.5), ("Trịnh", 0.4),
    ("Lương", 0.4), ("Mai", 0.3), ("Cao", 0.3), ("Tạ", 0.2), ("Hà", 0.3), ("Lâm", 0.3), ("Chu", 0.2),
)
MINORITY_SURNAMES = ("Lò", "Lù", "Giàng", "Sùng", "Vàng", "Thào", "Hờ", "Lường", "Quàng", "Nông", "Triệu")
MIDDLE = {
    "Nam": ("Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Quốc", "Công", "Thanh", "Xuân", "Ngọc",
            "Đình", "Quang", "Tiến", "Anh", "Trọng", "Thế", "Bá", "Gia", "Duy"),
    "Nữ": ("Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Mỹ", "Phương",
           "Hồng", "Bích", "Thùy", "Diệu", "Hoài", "Khánh", "Bảo"),
}
GIVEN = {
    "Nam": ("An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hùng", "Huy", "Khánh", "Khoa",
            "Long", "Lâm", "Mạnh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài",
            "Thắng", "Thành", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Hiếu", "Hoàng", "Kiên",
            "Lộc", "Toàn", "Thịnh", "Đông", "Giang", "Hưng", "Bảo", "Khải", "Nhân", "Tâm", "Trí"),
    "Nữ": ("Anh", "Châu", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hồng",
           "Hương", "Huyền", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngọc", "Nhung",
           "Oanh", "Phương", "Quyên", "Tâm", "Thảo", "Thơ", "Thủy", "Trang", "Trinh", "Tuyết",
           "Uyên", "Vân", "Xuân", "Yến", "Diệp", "Nhàn", "Huệ", "Lụa", "Nguyệt", "Thắm"),
}
ETHNICITIES: tuple[tuple[str, float], ...] = (
    ("Kinh", 84), ("Tày", 2.5), ("Thái", 2.3), ("Mường", 2), ("Khmer", 1.8), ("Hoa", 1.2),
    ("Nùng", 1.4), ("H'Mông", 1.4), ("Dao", 1), ("Gia Rai", 0.5), ("Ê Đê", 0.4), ("Ba Na", 0.3),
    ("Sán Dìu", 0.2), ("Chăm", 0.2), ("Cơ Ho", 0.2), ("Xơ Đăng", 0.2),
)
NATIONALITIES: tuple[tuple[str, float], ...] = (
    ("Việt Nam", 97), ("Trung Quốc", 0.8), ("Lào", 0.7), ("Campuchia", 0.6), ("Hàn Quốc", 0.5),
    ("Đài Loan", 0.4),
)
DEATH_CAUSES = (
    "Bệnh già", "Già yếu", "Ốm đau", "Bệnh tim", "Tai biến mạch máu não", "Ung thư gan",
    "Ung thư phổi", "Tai nạn giao thông", "Bệnh phổi", "Đột quỵ", "Suy tim", "Cao huyết áp",
    "Đuối nước", "Sốt rét", "Bệnh lao",
)
NOTES = (
    "Đăng ký quá hạn", "Đăng ký lại", "Đăng ký lại theo bản sao", "Đã cấp bản sao",
    "Cải chính họ tên", "Bổ sung tên cha", "Con ngoài giá thú", "Sinh đôi", "Có giấy chứng sinh",
    "Theo QĐ số {n}/QĐ-UB", "Cấp lại bản chính", "Xác định lại dân tộc", "Ghi vào sổ ngày {d}",
)
HAMLET_WORDS = ("Thôn", "Xóm", "Ấp", "Khu phố", "Tổ")
HAMLET_NAMES = ("1", "2", "3", "4", "5", "6", "7", "8", "Đông", "Tây", "Nam", "Bắc", "Trung",
                "Thượng", "Hạ", "Mới", "An Lạc", "Phú Hòa", "Tân Lập", "Hòa Bình", "Đồng Tâm")
DATE_FORMATS: tuple[tuple[str, float], ...] = (
    ("dd/mm/yyyy", 80), ("d/m/yyyy", 9), ("dd.mm.yyyy", 6), ("d-m-yyyy", 5),
)



def nfc(text: str) -> str:
    """NFC with single spaces: the form every truth value is stored in."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


@dataclass(frozen=True)
class AdminUnit:
    """One pre-2025 commune with its district and province (full names with type)."""

    ward: str
    district: str
    province: str


def _strip_type(name: str) -> str:
    return re.sub(r"^(Xã|Phường|Thị trấn|Huyện|Quận|Thị xã|Thành phố|Tỉnh)\s+", "", name)


@cache
def _units() -> tuple[AdminUnit, ...]:
    """Legacy communes from vietnamadminunits' bundled SQLite file (no network)."""
    # Locate the package's data without importing it (its import loads large JSON parsers).
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or spec.origin is None:
        raise RuntimeError("vietnamadminunits is not installed (see requirements.txt)")
    db = Path(spec.origin).parent / "data" / "dataset.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT ward, district, province FROM admin_units_legacy").fetchall()
    return tuple(AdminUnit(*(unicodedata.normalize("NFC", v).strip() for v in r)) for r in rows if all(r))


def home_area(unit: str, rng: random.Random) -> list[AdminUnit]:
    """Communes of the district the book's unit lies in (random district if unknown)."""
    units = _units()
    wanted = nfc(unit)
    matches = [u for u in units if u.ward == wanted]
    anchor = rng.choice(matches) if matches else rng.choice(units)
    return [u for u in units if u.district == anchor.district and u.province == anchor.province]


@dataclass
class PersonFactory:
    """Draws names, dates and places in the style of one commune's registry office."""

    rng: random.Random
    area: list[AdminUnit]

    def surname(self, ethnicity: str = "Kinh") -> str:
        if ethnicity not in ("Kinh", "Hoa") and self.rng.random() < 0.6:
            return self.rng.choice(MINORITY_SURNAMES)
        return pick(self.rng, SURNAMES)

    def name(self, sex: str, surname: str | None = None, ethnicity: str = "Kinh") -> str:
        r = self.rng
        parts = [surname or self.surname(ethnicity), r.choice(MIDDLE[sex])]
        if ethnicity == "H'Mông" and r.random() < 0.7:
            parts[1] = "A" if sex == "Nam" else "Thị"
        if sex == "Nữ" and parts[1] == "Thị" and r.random() < 0.25:  # "Nguyễn Thị Thu Hà"
            parts.append(r.choice(("Thu", "Ngọc", "Kim", "Thanh", "Hồng", "Minh", "Mỹ", "Bích")))
        parts.append(r.choice([g for g in GIVEN[sex] if g not in parts[1:]]))  # no "Ngọc Ngọc"
        return nfc(" ".join(parts))

    def sex(self) -> str:
        return self.rng.choice(("Nam", "Nữ"))

    def ethnicity(self) -> str:
        return pick(self.rng, ETHNICITIES)

    def nationality(self) -> str:
        return pick(self.rng, NATIONALITIES)

    def commune(self, near: bool = True) -> AdminUnit:
        return self.rng.choice(self.area if near and self.rng.random() < 0.85 else _units())

    def place(self, kind: str) -> str:
        """A place as a clerk writes it: short forms mostly, full forms sometimes."""
        r = self.rng
        u = self.commune()
        ward, district, province = _strip_type(u.ward), _strip_type(u.district), _strip_type(u.province)
        ward_full = u.ward[0].lower() + u.ward[1:]
        if kind == "birth_place":
            roll = r.random()
            if roll < 0.3:
                return nfc(f"Trạm y tế {ward_full}")
            if roll < 0.5:
                return nfc(f"Bệnh viện đa khoa {r.choice(['huyện ' + district, 'tỉnh ' + province])}")
            if roll < 0.6:
                return nfc(f"Tại nhà, {ward}")
        if kind == "death_place" and r.random() < 0.5:
            return nfc(r.choice(["Tại nhà", f"Tại nhà, {ward}", f"Bệnh viện đa khoa tỉnh {province}"]))
        roll = r.random()
        if roll < 0.35:
            hamlet = f"{r.choice(HAMLET_WORDS)} {r.choice(HAMLET_NAMES)}"
            return nfc(f"{hamlet}, {ward_full}")
        if roll < 0.8:
            return nfc(f"{ward}, {district}, {province}")
        return nfc(f"{u.ward}, {u.district[0].lower() + u.district[1:]}")

    def free_text(self, key: str, when: date) -> str:
        if "cause" in key:
            return self.rng.choice(DEATH_CAUSES)
        note = self.rng.choice(NOTES)
        later = when + timedelta(days=self.rng.randint(30, 3000))
        return nfc(note.format(n=self.rng.randint(1, 250), d=later.strftime("%d/%m/%Y")))


def format_date(d: date, style: str) -> str:
    day, month, year = d.day, d.month, d.year
    return {
        "dd/mm/yyyy": f"{day:02d}/{month:02d}/{year}",
        "d/m/yyyy": f"{day}/{month}/{year}",
        "dd.mm.yyyy": f"{day:02d}.{month:02d}.{year}",
        "d-m-yyyy": f"{day}-{month}-{year}",
        "mm/yyyy": f"{month:02d}/{year}",
        "yyyy": f"{year}",
    }[style]


def _age_days(key: str, book_type: str, rng: random.Random) -> int:
    """How long before registration a dated event lies, by the role its key names."""
    if "death" in key:
        return rng.randint(0, 20) if rng.random() < 0.9 else rng.randint(21, 400)
    if book_type == "khai_sinh" or key.startswith("child"):
        if book_type == "khai_sinh":
            return rng.randint(1, 60) if rng.random() < 0.85 else rng.randint(61, 365 * 15)
        return rng.randint(60, 365 * 12)
    if book_type == "khai_tu":
        return rng.randint(365 * 30, 365 * 95)
    return rng.randint(365 * 19, 365 * 45)


# Columns that are often empty in real books, with the chance of being empty.
OFTEN_EMPTY = {"father_name": 0.25, "declarant": 0.35, "birth_father_name": 0.45,
               "adoptive_father_name": 0.15, "death_cause": 0.15, "notes": 0.8}


def make_record(
    columns: tuple[ColumnSpec, ...],
    book_type: str,
    factory: PersonFactory,
    registration_no: int,
    registration_date: date,
    date_style: str,
) -> dict[str, str]:
    """One registration as written in the book: key -> text ("" when the cell is empty)."""
    r = factory.rng
    sexes = {c.key: factory.sex() for c in columns if c.field_type == "sex"}
    main_sex = next(iter(sexes.values()), factory.sex())
    ethnicity = factory.ethnicity()
    family_surname = factory.surname(ethnicity)
    values: dict[str, str] = {}
    for col in columns:
        key, ftype = col.key, col.field_type
        if r.random() < OFTEN_EMPTY.get(key, 0.01 if ftype not in ("registration_no", "date") else 0.0):
            values[key] = ""
            continue
        if ftype == "registration_no":
            values[key] = str(registration_no)
        elif ftype == "date":
            if "registration" in key:
                when = registration_date
                style = date_style
            else:
                when = registration_date - timedelta(days=_age_days(key, book_type, r))
                style = date_style
                old = registration_date.year - when.year > 25
                if old and r.random() < 0.12:  # elders often know only the year (partial date)
                    style = r.choice(("yyyy", "yyyy", "mm/yyyy"))
            values[key] = format_date(when, style)
        elif ftype == "sex":
            values[key] = sexes[key]
        elif ftype == "ethnicity":
            values[key] = ethnicity if r.random() < 0.9 else factory.ethnicity()
        elif ftype == "nationality":
            values[key] = factory.nationality()
        elif ftype == "place":
            values[key] = factory.place(key)
        elif ftype == "person_name":
            values[key] = _person_name(key, factory, main_sex, family_surname, ethnicity)
        else:
            values[key] = factory.free_text(key, registration_date)
    # The declarant is most often one of the parents named on the same row.
    parents = [values[k] for k in ("father_name", "mother_name") if values.get(k)]
    if values.get("declarant") and parents and r.random() < 0.6:
        values["declarant"] = r.choice(parents)
    return values


def _person_name(key: str, factory: PersonFactory, main_sex: str, family_surname: str, ethnicity: str) -> str:
    female = ("mother", "wife")
    male = ("father", "husband")
    if any(w in key for w in female):
        return factory.name("Nữ", ethnicity=ethnicity)
    if any(w in key for w in male):
        surname = family_surname if key in ("father_name", "birth_father_name") else None
        return factory.name("Nam", surname=surname, ethnicity=ethnicity)
    if key in ("full_name", "child_name"):
        return factory.name(main_sex, surname=family_surname, ethnicity=ethnicity)
    return factory.name(factory.sex(), ethnicity=ethnicity)


def registration_dates(rng: random.Random, count: int, start: date, end: date) -> list[date]:
    """`count` sorted dates in [start, end] (registrations run forward through a book)."""
    span = max((end - start).days, 0)
    return sorted(start + timedelta(days=rng.randint(0, span)) for _ in range(count))
