"""Hash indexes over an extract: lookups are dict hits, never a scan of the citizens."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from workbench.crosscheck.extract import CitizenTable
from workbench.crosscheck.normalize import NO_DATE, NameFolder


@dataclass
class CitizenIndex:
    table: CitizenTable
    name_keys: list[str]  # accent-blind key of each citizen's name
    by_name_year: dict[tuple[str, int], list[int]]  # (name key, birth year) -> rows
    by_name: dict[str, list[int]]  # name key -> rows (birth year typed differently)
    by_birth_date: dict[int, list[int]]  # full birth date -> rows (name typed differently)
    by_id: dict[str, int]
    fold: NameFolder

    @classmethod
    def build(cls, table: CitizenTable) -> CitizenIndex:
        fold = NameFolder()
        name_keys = [fold(n) for n in table.full_name]
        by_name_year: dict[tuple[str, int], list[int]] = defaultdict(list)
        by_name: dict[str, list[int]] = defaultdict(list)
        by_birth_date: dict[int, list[int]] = defaultdict(list)
        for row, (key, birth) in enumerate(zip(name_keys, table.birth, strict=True)):
            by_name[key].append(row)
            if birth != NO_DATE:
                by_name_year[(key, birth // 10000)].append(row)  # packed yyyymmdd -> year
                if birth % 100:  # day known: a full date
                    by_birth_date[birth].append(row)
        by_id = {id_number: row for row, id_number in enumerate(table.id_number)}
        return cls(table, name_keys, dict(by_name_year), dict(by_name), dict(by_birth_date), by_id, fold)

    def parent_key(self, row: int, parent: str) -> str:
        names = self.table.father_name if parent == "father" else self.table.mother_name
        return self.fold(names[row])
