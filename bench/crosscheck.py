"""Benchmark: cross-check 10 k birth registrations against 1.5 M synthetic citizens.

    .venv/bin/python bench/crosscheck.py [--citizens 1500000] [--records 10000] [--seed 1]

Times the extract parse + validation (CSV), the index build and the matching separately, and
checks the planted outcomes: exact matches (keyed without diacritics / with a partial date),
birth-date mismatches, name typos, and people absent from the extract. All names are synthetic.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.fields.text import strip_diacritics  # noqa: E402
from workbench.crosscheck.extract import read_extract  # noqa: E402
from workbench.crosscheck.index import CitizenIndex  # noqa: E402
from workbench.crosscheck.matching import match_person, person_queries  # noqa: E402

SURNAMES = ("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh Mai Lâm "
            "Tạ Cao Quách Lương Hà Tô Chu Thái Đoàn Kiều").split()
MIDDLES_MALE = "Văn Hữu Đức Minh Quốc Thanh Xuân Công Đình Ngọc Trọng Tuấn Gia Bảo".split()
MIDDLES_FEMALE = "Thị Ngọc Thu Thanh Kim Mỹ Bích Diệu Hồng Phương Thùy Khánh".split()
GIVEN = ("An Anh Bình Cường Dũng Duy Giang Hà Hải Hạnh Hiếu Hoa Hòa Hùng Hương Huy Khang Khánh Khoa Lan "
         "Linh Long Mai Minh Nam Nga Ngân Nhung Oanh Phong Phúc Phương Quân Quang Quỳnh Sơn Tâm Tân Thảo Thắng "
         "Thành Thủy Tiến Trang Trí Trung Tú Tuấn Tùng Uyên Vân Việt Vinh Vy Xuân Yến Lộc Nhân Đạt Hậu Hiền "
         "Kiên Luân Mạnh Nghĩa Phát Quyết Sang Thông Toàn Trọng Tường Vũ Ánh Châu Diệp Hằng Lệ Loan Ly Mơ Ngọc "
         "Nhi Như Phượng Quế Sen Thơ Trâm Tuyết Vi").split()
SURNAME_WEIGHTS = np.array([38, 11, 9.5, 7, 5.1, 5, 4.5, 3.9, 3.9, 2.1, 2, 1.4, 1.3, 1.3, 1, 0.5] + [0.4] * 14)


def generate(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Columns of synthetic citizens: id, name, birth date, sex, father, mother, residence."""
    weights = SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum()
    male = rng.random(count) < 0.5

    def names(is_male: np.ndarray, surnames: np.ndarray | None = None) -> np.ndarray:
        sur = surnames if surnames is not None else rng.choice(SURNAMES, count, p=weights)
        mid = np.where(is_male, rng.choice(MIDDLES_MALE, count), rng.choice(MIDDLES_FEMALE, count))
        return np.char.add(np.char.add(np.char.add(np.char.add(sur, " "), mid), " "), rng.choice(GIVEN, count))

    family = rng.choice(SURNAMES, count, p=weights)
    full = names(male, family)
    father = names(np.ones(count, bool), family)
    mother = names(np.zeros(count, bool))
    years = rng.integers(1930, 2024, count)
    months = rng.integers(1, 13, count)
    days = rng.integers(1, 29, count)
    birth = np.char.add(np.char.add(np.char.add(np.char.add(
        np.char.zfill(days.astype(str), 2), "/"), np.char.zfill(months.astype(str), 2)), "/"), years.astype(str))
    # Unique 12-digit numbers: multiplying by a prime coprime to 10 permutes residues mod 10**11.
    serial = (np.arange(count, dtype=np.int64) * 7919 + int(rng.integers(10**9))) % 10**11
    ids = np.char.add("0", np.char.zfill(serial.astype(str), 11))
    sex = np.where(male, "Nam", "Nữ")
    residence = np.char.add("Xã Số ", rng.integers(1, 500, count).astype(str))
    return [ids, full, birth, sex, father, mother, residence]


def write_csv(columns: list[np.ndarray], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["so_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh", "ho_ten_cha", "ho_ten_me", "noi_cu_tru"])
        writer.writerows(zip(*(c.tolist() for c in columns), strict=True))


def plant_queries(columns: list[np.ndarray], count: int, rng: np.random.Generator) -> list[tuple[str, dict]]:
    """(expected outcome, book values) for `count` registrations."""
    ids, full, birth, sex, father, mother, _ = (c.tolist() for c in columns)
    picks = rng.choice(len(ids), count, replace=False).tolist()
    queries = []
    for n, row in enumerate(picks):
        values = {"full_name": full[row], "birth_date": birth[row], "sex": sex[row],
                  "father_name": father[row], "mother_name": mother[row]}
        kind = n % 10
        if kind in (0, 1, 2):
            expected = "match"
        elif kind == 3:  # keyed without diacritics, upper case, doubled spaces
            values["full_name"] = strip_diacritics(full[row]).upper().replace(" ", "  ")
            expected = "match"
        elif kind == 4:  # the book only has the year
            values["birth_date"] = birth[row][-4:]
            expected = "match"
        elif kind == 5:  # day differs
            day = int(birth[row][:2])
            values["birth_date"] = f"{day % 28 + 1:02d}{birth[row][2:]}"
            expected = "different"
        elif kind == 6:  # mother's name differs
            values["mother_name"] = mother[row] + " Thị"
            expected = "different"
        elif kind == 7:  # a typo in the given name
            values["full_name"] = full[row] + "h"
            expected = "different"
        else:  # not in the extract: a name no citizen has
            values["full_name"] = f"Khuất Duy Zzz{n}"
            expected = "not_found"
        queries.append((expected, values))
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=1_500_000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    cpu = time.process_time
    started = time.perf_counter()
    columns = generate(args.citizens, rng)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.csv"
        write_csv(columns, path)
        generated = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        started, cpu_started = time.perf_counter(), cpu()
        table = read_extract(path.read_bytes(), path.name)
        parsed, parsed_cpu = time.perf_counter() - started, cpu() - cpu_started
    queries = plant_queries(columns, args.records, rng)
    del columns

    started, cpu_started = time.perf_counter(), cpu()
    index = CitizenIndex.build(table)
    indexed, indexed_cpu = time.perf_counter() - started, cpu() - cpu_started

    started, cpu_started = time.perf_counter(), cpu()
    outcomes: Counter[tuple[str, str]] = Counter()
    people = 0
    for expected, values in queries:
        child, *parents = person_queries("khai_sinh", values)
        outcomes[(expected, match_person(index, child).status.value)] += 1
        for parent in parents:  # parents are matched too (name + plausible age + sex)
            match_person(index, parent)
        people += 1 + len(parents)
    matched, matched_cpu = time.perf_counter() - started, cpu() - cpu_started

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    correct = sum(n for (want, got), n in outcomes.items() if want == got)
    print(f"citizens {len(table):,} (CSV {size_mb:.0f} MB, generated in {generated:.1f} s)")
    load = os.getloadavg()[0]
    print(f"(wall / CPU seconds; load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"parse + validate extract: {parsed:.1f} / {parsed_cpu:.1f} s")
    print(f"build index:              {indexed:.1f} / {indexed_cpu:.1f} s")
    print(f"match {args.records:,} registrations ({people:,} people): {matched:.1f} / {matched_cpu:.1f} s")
    total, total_cpu = parsed + indexed + matched, parsed_cpu + indexed_cpu + matched_cpu
    print(f"parse + index + match:    {total:.1f} / {total_cpu:.1f} s   (peak RSS {peak_gb:.1f} GB)")
    print(f"child outcomes as planted: {correct}/{args.records}")
    for (want, got), n in sorted(outcomes.items()):
        print(f"  planted {want:10s} -> {got:10s} {n}")


if __name__ == "__main__":
    main()
