"""Matching one person of a registration against the extract index.

Outcomes: MATCH (one citizen agrees on every compared field), DIFFERENT (the person is there but
a name, date, sex or parent differs: tracking list), AMBIGUOUS (several citizens fit equally),
NOT_FOUND. Names compare accent-, case- and spacing-blind; partial dates match any date they
contain. "Found but different" needs corroboration beyond the name (a full birth date or a
parent's name), or a single citizen of that name and birth year, so namesakes are not reported
as the same person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz.fuzz import ratio

from models import CrosscheckStatus
from ocr.fields.catalogs import canonical_sex
from workbench.crosscheck.index import CitizenIndex
from workbench.crosscheck.normalize import NO_DATE, book_dates, dates_compatible, name_key, packed_year

NAME_SIMILARITY = 85.0  # rapidfuzz ratio of name keys for "same person, name keyed differently"
PARENT_AGE_RANGE = (13, 60)  # a parent's age at the child's birth, for matching parents by name


@dataclass(frozen=True)
class PersonRole:
    """Which fields of a book type describe one person."""

    role: str
    name: str
    birth_date: str | None = None
    sex: str | None = None
    fixed_sex: str | None = None
    father: str | None = None
    mother: str | None = None
    parent_of_birth_date: str | None = None  # a parent: age bounded by this child's birth date


ROLES: dict[str, tuple[PersonRole, ...]] = {
    "khai_sinh": (
        PersonRole("child", "full_name", "birth_date", "sex", father="father_name", mother="mother_name"),
        PersonRole("father", "father_name", fixed_sex="Nam", parent_of_birth_date="birth_date"),
        PersonRole("mother", "mother_name", fixed_sex="Nữ", parent_of_birth_date="birth_date"),
    ),
    "khai_tu": (PersonRole("deceased", "full_name", "birth_date", "sex"),),
    "ket_hon": (
        PersonRole("husband", "husband_name", "husband_birth_date", fixed_sex="Nam"),
        PersonRole("wife", "wife_name", "wife_birth_date", fixed_sex="Nữ"),
    ),
    "nuoi_con_nuoi": (
        PersonRole("child", "child_name", "child_birth_date", "child_sex",
                   father="birth_father_name", mother="birth_mother_name"),
    ),
}


@dataclass(frozen=True)
class PersonQuery:
    role: str
    values: dict[str, str]  # as the book says: full_name, birth_date, sex, father_name, mother_name
    name_key: str
    dates: tuple[int, ...]  # packed candidates (two-digit years give two)
    sex: str  # "Nam" / "Nữ" / ""
    father_key: str
    mother_key: str
    year_range: tuple[int, int] | None  # parents: plausible birth years


@dataclass
class MatchOutcome:
    status: CrosscheckStatus
    row: int | None = None
    differing: list[str] = field(default_factory=list)
    candidates: int = 0


def person_queries(book_type: str, values: dict[str, str]) -> list[PersonQuery]:
    """The people of one registration worth looking up (a role with an empty name is skipped)."""
    queries = []
    for role in ROLES.get(book_type, ()):
        name = values.get(role.name, "")
        if not name_key(name):
            continue
        birth_text = values.get(role.birth_date, "") if role.birth_date else ""
        sex = canonical_sex(values.get(role.sex, "")) if role.sex else None
        father = values.get(role.father, "") if role.father else ""
        mother = values.get(role.mother, "") if role.mother else ""
        year_range = None
        if role.parent_of_birth_date:
            child_years = [packed_year(d) for d in book_dates(values.get(role.parent_of_birth_date, ""))]
            if child_years:
                year_range = (min(child_years) - PARENT_AGE_RANGE[1], max(child_years) - PARENT_AGE_RANGE[0])
        shown = {"full_name": name, "birth_date": birth_text, "sex": sex or role.fixed_sex or "",
                 "father_name": father, "mother_name": mother}
        queries.append(PersonQuery(
            role=role.role, values={k: v for k, v in shown.items() if v}, name_key=name_key(name),
            dates=tuple(book_dates(birth_text)), sex=sex or role.fixed_sex or "",
            father_key=name_key(father), mother_key=name_key(mother), year_range=year_range,
        ))
    return queries


@dataclass
class _Scored:
    row: int
    differing: list[str]
    agreements: int  # corroborating facts beyond the name


def _score(index: CitizenIndex, query: PersonQuery, row: int) -> _Scored:
    table = index.table
    differing, agreements = [], 0
    if index.name_keys[row] != query.name_key:
        differing.append("full_name")
    birth = table.birth[row]
    if query.dates and birth != NO_DATE:
        if not any(dates_compatible(d, birth) for d in query.dates):
            differing.append("birth_date")
        elif birth % 100 and any(d == birth for d in query.dates):
            agreements += 1  # the same full date
    if query.sex and table.sex[row] and query.sex != table.sex[row]:
        differing.append("sex")
    for parent, key in (("father", query.father_key), ("mother", query.mother_key)):
        theirs = index.parent_key(row, parent) if key else ""
        if key and theirs:
            if theirs == key:
                agreements += 1
            else:
                differing.append(f"{parent}_name")
    return _Scored(row, differing, agreements)


def _decide(scored: list[_Scored]) -> MatchOutcome:
    perfect = [s for s in scored if not s.differing]
    if len(perfect) == 1:
        return MatchOutcome(CrosscheckStatus.MATCH, perfect[0].row, [], len(scored))
    if perfect:
        return MatchOutcome(CrosscheckStatus.AMBIGUOUS, None, [], len(perfect))
    pool = [s for s in scored if s.agreements] or (scored if len(scored) == 1 else [])
    if not pool:
        return MatchOutcome(CrosscheckStatus.AMBIGUOUS, None, [], len(scored))
    fewest = min(len(s.differing) for s in pool)
    best = [s for s in pool if len(s.differing) == fewest]
    if len(best) > 1:
        return MatchOutcome(CrosscheckStatus.AMBIGUOUS, None, [], len(best))
    return MatchOutcome(CrosscheckStatus.DIFFERENT, best[0].row, best[0].differing, len(scored))


def match_person(index: CitizenIndex, query: PersonQuery) -> MatchOutcome:
    if query.year_range is not None or (not query.dates and not (query.father_key or query.mother_key)):
        return _match_by_name_only(index, query)
    if query.dates:
        rows = sorted({r for d in query.dates for r in index.by_name_year.get((query.name_key, packed_year(d)), ())})
        if rows:
            return _decide([_score(index, query, r) for r in rows])
    # The birth date (year) differs: the same name with a parent's name agreeing and none conflicting.
    same_name = [_score(index, query, r) for r in index.by_name.get(query.name_key, ())]
    corroborated = [s for s in same_name if s.agreements and not {"father_name", "mother_name"} & set(s.differing)]
    if corroborated:
        return _decide(corroborated)
    # The name differs: same full birth date, a similar name, and something else agreeing.
    full_dates = [d for d in query.dates if d % 100]
    similar = [
        _score(index, query, r)
        for d in full_dates for r in index.by_birth_date.get(d, ())
        if ratio(index.name_keys[r], query.name_key) >= NAME_SIMILARITY
    ]
    similar = [s for s in similar if "sex" not in s.differing and (s.agreements > 1 or not (
        query.father_key or query.mother_key))]
    if similar:
        return _decide(similar)
    return MatchOutcome(CrosscheckStatus.NOT_FOUND)


def _match_by_name_only(index: CitizenIndex, query: PersonQuery) -> MatchOutcome:
    """Parents (name + plausible age + sex) and people without any date: one candidate or none."""
    rows = index.by_name.get(query.name_key, ())
    table = index.table
    fits = [
        r for r in rows
        if (not query.sex or not table.sex[r] or table.sex[r] == query.sex)
        and (query.year_range is None or table.birth[r] == NO_DATE
             or query.year_range[0] <= packed_year(table.birth[r]) <= query.year_range[1])
    ]
    if not fits:
        return MatchOutcome(CrosscheckStatus.NOT_FOUND)
    if len(fits) == 1:
        return MatchOutcome(CrosscheckStatus.MATCH, fits[0], [], 1)
    return MatchOutcome(CrosscheckStatus.AMBIGUOUS, None, [], len(fits))
