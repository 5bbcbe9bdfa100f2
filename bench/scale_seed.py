"""Seed a province-sized synthetic database for bench/scale.py (all data synthetic, no real people).

Shape (at the default 1.46 M records): 1 province, 11 districts, 111 communes; ~27,548 books over
the four book types (declared counts set, some above what was found); 10 ledger rows per page;
every record with its template's 11-13 FieldValue rows (~18 M rows); records ~40 % approved
(approved_at spread over the last 60 days, one "approve" audit event each), ~5 % in review
(some with expired claims), ~2 % flagged, ~1 % rejected, the rest proposed; confidences spread
over 0..1. Two officials per commune, a supervisor per district, a province supervisor, an admin.
The first book is the export book: exactly `export_records` approved records whose pages point
at one real sample page image copied into the data directory.

The schema always comes from the Alembic migrations (workbench.db.migrate); rows go in through
the raw driver because the ORM would take hours: sqlite3 executemany in big transactions, and
PostgreSQL COPY (psycopg) with triggers off (session_replication_role=replica skips per-row
foreign-key checks; the generator keeps the references consistent), then sequences are moved
past the explicit ids. Finally ANALYZE so both planners see real statistics.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from workbench.book_types import get_book_type
from workbench.db import migrate

PROVINCE_RECORDS = 1_460_000
PROVINCE_BOOKS = 27_548
DISTRICTS = 11
COMMUNES_PER_DISTRICT = (10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 11)  # 111 communes
ROWS_PER_PAGE = 10
BOOK_TYPE_SHARES = {"khai_sinh": 0.40, "ket_hon": 0.25, "khai_tu": 0.25, "nuoi_con_nuoi": 0.10}
STATUS_SHARES = (("approved", 0.40), ("in_review", 0.05), ("flagged", 0.02), ("rejected", 0.01), ("proposed", 0.52))
APPROVED_DAYS = 60
POOL_SIZE = 1024  # distinct synthetic field sets per book type, cycled through the records
BATCH = 50_000
SAMPLE_PAGE = Path(__file__).resolve().parents[1] / "samples" / "books" / "khai_tu" / "page_001.jpg"
PAGE_IMAGE = "scale/page.jpg"  # relative to the data directory
PAGE_SIZE = (2400, 1650)  # of SAMPLE_PAGE
HEADER_BOX = (60, 90, 2280, 160)
ROW_TOP, ROW_HEIGHT = 260, 130

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ")
MIDDLES = ("Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Long", "Mai", "Nam", "Phúc", "Tâm")
PLACES = ("Xã Số 1, Huyện Số 1", "Thị trấn Số 2, Huyện Số 3", "Xã Số 5, Huyện Số 7", "Bệnh viện huyện")


@dataclass(frozen=True)
class SeedPlan:
    records: int = PROVINCE_RECORDS
    export_records: int = 500
    seed: int = 20261128
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def books(self) -> int:
        return max(len(BOOK_TYPE_SHARES) + 1, round(PROVINCE_BOOKS * self.records / PROVINCE_RECORDS))


@dataclass(frozen=True)
class SeedSummary:
    """What the benchmark needs to know about the seeded database."""

    records: int
    fields: int
    books: int
    pages: int
    units: int
    users: int
    seconds: float
    export_book_id: int
    export_records: int
    official: str  # an official of one commune (the next-in-queue user)
    district_official: str
    district_supervisor: str
    province_supervisor: str

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


# --- the dialect-specific writers --------------------------------------------------------------

class Writer:
    """Bulk row sink for one back-end; also converts Python datetimes/bools to what it stores."""

    def ts(self, moment: datetime | None) -> Any:
        return moment

    def flag(self, value: bool) -> Any:
        return value

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        raise NotImplementedError

    def drop_indexes(self, table: str) -> list[str]:
        """Drop the table's plain secondary indexes (not keys/unique constraints); return their DDL.
        Building an index once over loaded rows is far faster than updating it row by row."""
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def finish(self, tables: Sequence[str]) -> None:
        raise NotImplementedError


class SqliteWriter(Writer):
    def __init__(self, path: str) -> None:
        import sqlite3

        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("foreign_keys=OFF", "synchronous=OFF", "cache_size=-400000", "temp_store=MEMORY"):
            self.connection.execute(f"PRAGMA {pragma}")

    def ts(self, moment: datetime | None) -> Any:
        # SQLAlchemy's SQLite DateTime storage format (naive UTC text, always with microseconds).
        return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def flag(self, value: bool) -> Any:
        return int(value)

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        count = 0
        for batch in _batches(rows, BATCH * 4):
            self.connection.execute("BEGIN")
            self.connection.executemany(sql, batch)
            self.connection.execute("COMMIT")
            count += len(batch)
        return count

    def drop_indexes(self, table: str) -> list[str]:
        found = self.connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
        ).fetchall()
        for name, _sql in found:
            self.connection.execute(f'DROP INDEX "{name}"')
        return [sql for _name, sql in found]

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def finish(self, tables: Sequence[str]) -> None:
        self.connection.execute("ANALYZE")
        self.connection.close()


class PostgresWriter(Writer):
    def __init__(self, engine: Engine) -> None:
        self.raw = engine.raw_connection()
        driver = self.raw.driver_connection
        assert driver is not None, "no psycopg connection behind the pool"
        self.driver: Any = driver  # psycopg.Connection (COPY, autocommit)
        self.driver.execute("SET session_replication_role = replica")  # no per-row FK triggers while loading
        self.driver.execute("SET maintenance_work_mem = '512MB'")  # index builds after the load

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        with self.driver.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        self.driver.commit()
        return count

    def drop_indexes(self, table: str) -> list[str]:
        found = self.driver.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)", (table,)
        ).fetchall()
        for name, _ddl in found:
            self.driver.execute(f'DROP INDEX "{name}"')
        self.driver.commit()
        return [ddl for _name, ddl in found]

    def execute(self, sql: str) -> None:
        self.driver.execute(sql)
        self.driver.commit()

    def finish(self, tables: Sequence[str]) -> None:
        for table in tables:
            self.driver.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        self.driver.execute("SET session_replication_role = origin")
        self.driver.commit()
        self.driver.autocommit = True
        self.driver.execute("VACUUM ANALYZE")  # visibility map for index-only scans, planner statistics
        self.raw.close()


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


# --- the synthetic province -------------------------------------------------------------------

@dataclass(frozen=True)
class UnitRow:
    id: int
    name: str
    code: str
    level: str
    parent_id: int | None


def province_units() -> list[UnitRow]:
    units = [UnitRow(1, "Tỉnh Sông Mẫu", "T01", "tinh", None)]
    next_id = 2
    for d, communes in enumerate(COMMUNES_PER_DISTRICT, start=1):
        district_id = next_id
        units.append(UnitRow(district_id, f"Huyện Mẫu {d:02d}", f"H{d:02d}", "huyen", 1))
        next_id += 1
        for c in range(1, communes + 1):
            units.append(UnitRow(next_id, f"Xã Mẫu {d:02d}.{c:02d}", f"X{d:02d}{c:02d}", "xa", district_id))
            next_id += 1
    return units


@dataclass(frozen=True)
class BookRow:
    id: int
    unit_id: int
    book_type: str
    year_from: int
    records: int
    declared: int


def plan_books(plan: SeedPlan, communes: Sequence[int], rng: random.Random) -> list[BookRow]:
    """Books spread over the communes and types; sizes vary around the mean and sum to plan.records."""
    count = plan.books
    types = list(BOOK_TYPE_SHARES)
    weights = list(BOOK_TYPE_SHARES.values())
    rest = plan.records - plan.export_records
    raw = [rng.uniform(0.2, 1.8) for _ in range(count - 1)]
    scale = rest / sum(raw)
    sizes = [max(1, round(r * scale)) for r in raw]
    sizes[-1] += rest - sum(sizes)  # exact total
    while sizes[-1] < 1:  # rounding pushed the last book negative: borrow from the largest
        biggest = sizes.index(max(sizes[:-1]))
        sizes[biggest] -= 1
        sizes[-1] += 1
    sizes.insert(0, plan.export_records)
    books = []
    years: dict[tuple[int, str], int] = {}
    for index, size in enumerate(sizes):
        unit_id = communes[index % len(communes)]
        book_type = "khai_sinh" if index == 0 else rng.choices(types, weights)[0]
        year = years[(unit_id, book_type)] = years.get((unit_id, book_type), 1960) + 1
        declared = size + (rng.randint(1, 20) if index and rng.random() < 0.1 else 0)
        books.append(BookRow(index + 1, unit_id, book_type, year, size, declared))
    return books


def _person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}"


def _value(field_type: str, rng: random.Random) -> str:
    day = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2015)}"
    return {
        "person_name": _person(rng), "date": day, "sex": rng.choice(("Nam", "Nữ")), "ethnicity": "Kinh",
        "nationality": "Việt Nam", "place": rng.choice(PLACES), "free_text": "",
    }.get(field_type, "")


@dataclass(frozen=True)
class FieldSet:
    """One synthetic record's fields (key, position, value, confidence) and its record confidence."""

    confidence: float
    fields: tuple[tuple[str, int, str, float], ...]


def field_pool(book_type: str, rng: random.Random) -> list[FieldSet]:
    columns = get_book_type(book_type).columns
    pool = []
    for _ in range(POOL_SIZE):
        low = round(rng.random() ** 0.6, 4)  # spread over 0..1, more high than low as OCR gives
        weakest = rng.randrange(len(columns))
        confs = [low if i == weakest else round(rng.uniform(low, 1.0), 4) for i in range(len(columns))]
        fields = tuple(
            (c.key, i, "" if c.key == "registration_no" else _value(c.field_type, rng), confs[i])
            for i, c in enumerate(columns)
        )
        pool.append(FieldSet(low, fields))
    return pool


PAGE_COLUMNS = ("id", "book_id", "original_name", "sha256", "frame_index", "image_path", "deskewed_path",
                "header_bbox", "page_index", "deskew_angle", "width", "height", "status", "warnings", "timings",
                "model_version", "deleted", "created_at", "processed_at")
RECORD_COLUMNS = ("id", "book_id", "page_id", "row_index", "bbox", "status", "confidence", "flag_reason",
                  "assigned_to_id", "claim_expires_at", "approved_by_id", "approved_at", "created_at", "version")
FIELD_COLUMNS = ("id", "record_id", "key", "position", "proposed_value", "confidence", "char_confidences",
                 "alternatives", "messages", "bbox", "engine", "final_value", "status", "edited_by_id", "edited_at")
AUDIT_COLUMNS = ("id", "at", "user_id", "actor", "entity_type", "entity_id", "action")


@dataclass
class _Rows:
    """The generated page/record/field/audit rows, produced lazily in id order."""

    plan: SeedPlan
    writer: Writer
    books: list[BookRow]
    officials: dict[int, tuple[int, int]]  # commune -> (first official id, second official id)
    rng: random.Random
    pages: int = 0
    fields: int = 0
    audits: list[tuple[Any, ...]] = field(default_factory=list)
    _records: list[tuple[Any, ...]] = field(default_factory=list)

    def page_rows(self) -> Iterator[tuple[Any, ...]]:
        created = self.writer.ts(self.plan.now - timedelta(days=APPROVED_DAYS + 30))
        empty_list, empty_dict = "[]", "{}"
        header = json.dumps(list(HEADER_BOX))
        page_id = 0
        for book in self.books:
            for page_index in range(1, -(-book.records // ROWS_PER_PAGE) + 1):
                page_id += 1
                deleted = book.id != 1 and page_id % 1000 == 0  # a few soft-deleted pages
                yield (page_id, book.id, f"sach{book.id}_trang{page_index:03d}.jpg", f"{page_id:064x}", 0,
                       PAGE_IMAGE, PAGE_IMAGE, header, page_index, 0.0, PAGE_SIZE[0], PAGE_SIZE[1], "done",
                       empty_list, empty_dict, "scale-seed", self.writer.flag(deleted), created, created)
        self.pages = page_id

    def record_and_field_rows(self) -> tuple[Iterator[tuple[Any, ...]], Iterator[tuple[Any, ...]]]:
        """Records first, then fields: records go to the writer in one pass and their field rows are
        replayed from the same deterministic choices (so nothing 18 M long sits in memory)."""
        return self._record_rows(), self._field_rows()

    def _choices(self) -> Iterator[tuple[int, BookRow, int, int, str, FieldSet, Any]]:
        """(record id, book, page id, row index, status, field set, approved_at) in id order."""
        rng = random.Random(self.plan.seed + 1)
        pools = {t: field_pool(t, random.Random(self.plan.seed + i)) for i, t in enumerate(BOOK_TYPE_SHARES)}
        statuses = [s for s, _ in STATUS_SHARES]
        weights = [w for _, w in STATUS_SHARES]
        record_id = page_id = 0
        for book in self.books:
            for n in range(book.records):
                row_index = n % ROWS_PER_PAGE + 1
                if row_index == 1:
                    page_id += 1
                record_id += 1
                status = "approved" if book.id == 1 else rng.choices(statuses, weights)[0]
                approved_at = None
                if status == "approved":
                    approved_at = self.plan.now - timedelta(seconds=rng.uniform(60, APPROVED_DAYS * 86400))
                yield record_id, book, page_id, row_index, status, rng.choice(pools[book.book_type]), approved_at

    def _record_rows(self) -> Iterator[tuple[Any, ...]]:
        ts = self.writer.ts
        created = ts(self.plan.now - timedelta(days=APPROVED_DAYS + 30))
        expired = ts(self.plan.now - timedelta(hours=2))
        boxes = [json.dumps([60, ROW_TOP + i * ROW_HEIGHT, 2280, ROW_HEIGHT]) for i in range(ROWS_PER_PAGE)]
        audit_id = 0
        for record_id, book, page_id, row_index, status, fields, approved_at in self._choices():
            first, second = self.officials[book.unit_id]
            approver = assigned = claim = None
            flag_reason = None
            if status == "approved":
                approver = first if record_id % 2 else second
                audit_id += 1
                self.audits.append((audit_id, ts(approved_at), approver, "scale", "record", record_id, "approve"))
            elif status == "in_review" and record_id % 3 == 0:
                assigned, claim = second, expired  # an abandoned claim: free again
            elif status == "flagged":
                flag_reason = "Chữ khó đọc"
            yield (record_id, book.id, page_id, row_index, boxes[row_index - 1], status, fields.confidence,
                   flag_reason, assigned, claim, approver, ts(approved_at), created, 1)

    def _field_rows(self) -> Iterator[tuple[Any, ...]]:
        ts = self.writer.ts
        field_id = 0
        engine = "scale-seed"
        numbers: dict[int, int] = {}
        for record_id, book, _page, _row, status, fields, approved_at in self._choices():
            number = numbers[book.id] = numbers.get(book.id, 0) + 1
            reviewed = status == "approved"
            editor = self.officials[book.unit_id][0] if reviewed else None
            edited = ts(approved_at)
            for key, position, value, confidence in fields.fields:
                field_id += 1
                if key == "registration_no":
                    value = str(number)
                yield (field_id, record_id, key, position, value, confidence, "[]", "[]", "[]", None, engine,
                       value if reviewed else None, "confirmed" if reviewed else "proposed", editor, edited)
        self.fields = field_id


def _users(units: list[UnitRow], writer: Writer) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]],
                                                          dict[int, tuple[int, int]]]:
    created = writer.ts(datetime(2026, 1, 1, tzinfo=UTC))
    users: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    officials: dict[int, tuple[int, int]] = {}

    def add(username: str, role: str, unit_id: int | None) -> int:
        user_id = len(users) + 1
        # "!" is no valid argon2 hash: these synthetic accounts can never log in.
        users.append((user_id, username, username, "!", role, writer.flag(True), 0, created))
        if unit_id is not None:
            links.append((user_id, unit_id))
        return user_id

    add("scale_admin", "admin", None)
    add("scale_tinh", "supervisor", 1)
    for unit in units:
        if unit.level == "huyen":
            add(f"scale_gs_{unit.code.lower()}", "supervisor", unit.id)
            add(f"scale_cb_{unit.code.lower()}", "official", unit.id)
        elif unit.level == "xa":
            officials[unit.id] = (add(f"scale_cb_{unit.code.lower()}_1", "official", unit.id),
                                  add(f"scale_cb_{unit.code.lower()}_2", "official", unit.id))
    return users, links, officials


def seed(engine: Engine, plan: SeedPlan, data_dir: Path, log: Callable[[str], None] = print,
         revision: str = "head") -> SeedSummary:
    """Migrate an empty database (to `revision`: an older one measures without later indexes) and
    fill it; returns the summary the benchmark reads."""
    started = time.perf_counter()
    migrate(engine, revision)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / PAGE_IMAGE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE_PAGE, data_dir / PAGE_IMAGE)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        assert database, "seeding needs a file database"
        engine.dispose()
        writer: Writer = SqliteWriter(database)
    else:
        writer = PostgresWriter(engine)
    rng = random.Random(plan.seed)
    units = province_units()
    communes = [u.id for u in units if u.level == "xa"]
    writer.write("units", ("id", "name", "code", "level", "parent_id"),
                 [(u.id, u.name, u.code, u.level, u.parent_id) for u in units])
    users, links, officials = _users(units, writer)
    writer.write("users", ("id", "username", "full_name", "password_hash", "role", "active", "failed_logins",
                           "created_at"), users)
    writer.write("user_units", ("user_id", "unit_id"), links)
    books = plan_books(plan, communes, rng)
    created = writer.ts(plan.now - timedelta(days=APPROVED_DAYS + 30))
    writer.write("books", ("id", "unit_id", "book_type", "year_from", "year_to", "volume", "declared_count", "status",
                           "created_at"),
                 [(b.id, b.unit_id, b.book_type, b.year_from, b.year_from, 1, b.declared, "open", created)
                  for b in books])
    rows = _Rows(plan, writer, books, officials, rng)
    log(f"  units {len(units)}, users {len(users)}, books {len(books)}")
    writer.write("pages", PAGE_COLUMNS, rows.page_rows())
    log(f"  pages {rows.pages} ({time.perf_counter() - started:.0f} s)")
    record_rows, field_rows = rows.record_and_field_rows()
    dropped = [ddl for table in ("records", "field_values", "audit_events") for ddl in writer.drop_indexes(table)]
    records = writer.write("records", RECORD_COLUMNS, record_rows)
    log(f"  records {records} ({time.perf_counter() - started:.0f} s)")
    writer.write("audit_events", AUDIT_COLUMNS, rows.audits)
    fields = writer.write("field_values", FIELD_COLUMNS, field_rows)
    log(f"  field values {fields} ({time.perf_counter() - started:.0f} s); rebuilding {len(dropped)} indexes")
    for ddl in dropped:
        writer.execute(ddl)
    log(f"  indexes rebuilt ({time.perf_counter() - started:.0f} s); analyzing")
    writer.finish(("units", "users", "books", "pages", "records", "field_values", "audit_events"))
    official_commune = books[1].unit_id if len(books) > 1 else books[0].unit_id
    district = next(u for u in units if u.id == next(c.parent_id for c in units if c.id == official_commune))
    first_official = next(u[1] for u in users if u[0] == officials[official_commune][0])
    return SeedSummary(
        records=records, fields=fields, books=len(books), pages=rows.pages, units=len(units), users=len(users),
        seconds=round(time.perf_counter() - started, 1), export_book_id=1,
        export_records=plan.export_records, official=first_official,
        district_official=f"scale_cb_{district.code.lower()}", district_supervisor=f"scale_gs_{district.code.lower()}",
        province_supervisor="scale_tinh",
    )


def reset_postgres(engine: Engine) -> None:
    """Drop everything in the benchmark database's public schema (its own database, never the tests')."""
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
