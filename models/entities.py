"""The workbench's tables.

Images never live in the database: `Page.image_path` points into the data directory,
where files are content-addressed by sha256.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.enums import (
    BookStatus,
    CrosscheckStatus,
    FieldStatus,
    PageStatus,
    QueueOrder,
    RecordStatus,
    Role,
    UnitLevel,
    values,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _in(column: str, enum: type) -> str:
    allowed = ", ".join(f"'{v}'" for v in values(enum))
    return f"{column} IN ({allowed})"


Timestamp = DateTime(timezone=True)

user_units = Table(
    "user_units",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Unit(Base):
    """A registry office (commune, district or province level)."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        # NULLs are distinct in the constraint above: top-level names need their own (migration 0009).
        Index("uq_units_top_level_name", "name", unique=True, sqlite_where=text("parent_id IS NULL"),
              postgresql_where=text("parent_id IS NULL")),
        CheckConstraint(_in("level", UnitLevel), name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(40))  # short code used in export file names
    level: Mapped[str] = mapped_column(String(10), default=UnitLevel.XA)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])
    books: Mapped[list[Book]] = relationship(back_populates="unit")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    # Set on accounts with a published password (the demo users): login asks for a new one first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    units: Mapped[list[Unit]] = relationship(secondary=user_units)


class Book(Base):
    """One physical registry book: identity is (unit, book type, first year, volume)."""

    __tablename__ = "books"
    __table_args__ = (
        UniqueConstraint("unit_id", "book_type", "year_from", "volume"),
        CheckConstraint(_in("status", BookStatus), name="status"),
        CheckConstraint("year_to IS NULL OR year_to >= year_from", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    book_type: Mapped[str] = mapped_column(String(40), index=True)  # template key
    year_from: Mapped[int] = mapped_column(Integer)
    year_to: Mapped[int | None] = mapped_column(Integer)
    volume: Mapped[int] = mapped_column(Integer, default=1)  # quyển số
    declared_count: Mapped[int | None] = mapped_column(Integer)  # report "Tổng số"
    status: Mapped[str] = mapped_column(String(20), default=BookStatus.OPEN)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="books")
    pages: Mapped[list[Page]] = relationship(back_populates="book", order_by="Page.page_index")
    records: Mapped[list[Record]] = relationship(back_populates="book")


class Page(Base):
    """One page image of a book (a frame of an uploaded file)."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("book_id", "sha256", "frame_index"),
        CheckConstraint(_in("status", PageStatus), name="status"),
        Index("ix_pages_book_status", "book_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    frame_index: Mapped[int] = mapped_column(Integer, default=0)  # page within a PDF/TIFF
    image_path: Mapped[str] = mapped_column(String(500))  # relative to the data directory
    deskewed_path: Mapped[str | None] = mapped_column(String(500))
    header_bbox: Mapped[list[int] | None] = mapped_column(JSON)  # printed column headers, deskewed page
    page_index: Mapped[int] = mapped_column(Integer)  # 1-based order in the book
    deskew_angle: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)  # of the deskewed image
    height: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=PageStatus.QUEUED)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    model_version: Mapped[str | None] = mapped_column(String(80))
    perceptual_hash: Mapped[str | None] = mapped_column(String(40))  # dhash+phash hex of the scanned frame
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(Timestamp)

    book: Mapped[Book] = relationship(back_populates="pages")
    records: Mapped[list[Record]] = relationship(
        back_populates="page", order_by="Record.row_index", cascade="all, delete-orphan"
    )


class Record(Base):
    """One registration = one ledger row."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("page_id", "row_index"),
        CheckConstraint(_in("status", RecordStatus), name="status"),
        CheckConstraint("row_index >= 1", name="row_index_positive"),
        Index("ix_records_queue", "status", "book_id", "confidence"),
        # migration 0004: the Phụ lục 01 count per book reads only this index; the low-confidence
        # queue walks confidence order (bench/SCALE.md)
        Index("ix_records_report", "book_id", "status", "approved_at", "page_id"),
        Index("ix_records_low_confidence", "confidence", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), index=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    row_index: Mapped[int] = mapped_column(Integer)
    bbox: Mapped[list[int]] = mapped_column(JSON)  # [x, y, w, h] on the deskewed page
    status: Mapped[str] = mapped_column(String(20), default=RecordStatus.PROPOSED)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)  # min field confidence
    flag_reason: Mapped[str | None] = mapped_column(Text)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    book: Mapped[Book] = relationship(back_populates="records")
    page: Mapped[Page] = relationship(back_populates="records")
    fields: Mapped[list[FieldValue]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="FieldValue.position"
    )

    def field_map(self) -> dict[str, FieldValue]:
        return {f.key: f for f in self.fields}


class FieldValue(Base):
    """One field of one record: the machine's proposal and the official's final value."""

    __tablename__ = "field_values"
    __table_args__ = (
        UniqueConstraint("record_id", "key"),
        CheckConstraint(_in("status", FieldStatus), name="status"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)  # template column order
    proposed_value: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    # [[char, confidence, x0, x1], ...] on the cell's first line image
    char_confidences: Mapped[list[Any]] = mapped_column(JSON, default=list)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    messages: Mapped[list[str]] = mapped_column(JSON, default=list)
    bbox: Mapped[list[int] | None] = mapped_column(JSON)  # cell box on the deskewed page
    engine: Mapped[str | None] = mapped_column(String(80))
    final_value: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=FieldStatus.PROPOSED)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    edited_at: Mapped[datetime | None] = mapped_column(Timestamp)

    record: Mapped[Record] = relationship(back_populates="fields")


class RecordDraft(Base):
    """An official's unsaved typing on one record (issue #15): survives a reload or a dropped
    connection, and is deleted when the record is saved, approved, flagged or skipped."""

    __tablename__ = "record_drafts"
    __table_args__ = (UniqueConstraint("record_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # field key -> typed text (changed ones)
    visited: Mapped[list[str]] = mapped_column(JSON, default=list)  # field keys the official has been in
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class AuditEvent(Base):
    """Append-only trail of every human and machine change (triggers forbid UPDATE/DELETE)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_entity", "entity_type", "entity_id"),
        Index("ix_audit_user_action_at", "user_id", "action", "at"),  # migration 0004: skipped records
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))  # username, or "pipeline" for machine steps
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    step_name: Mapped[str | None] = mapped_column(String(80))
    step_settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    seconds: Mapped[float | None] = mapped_column(Float)


class QueueSetting(Base):
    """A supervisor's queue order for one unit (and its descendants), or globally when unit_id is NULL."""

    __tablename__ = "queue_settings"
    __table_args__ = (
        UniqueConstraint("unit_id"),
        CheckConstraint(_in("queue_order", QueueOrder), name="queue_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    queue_order: Mapped[str] = mapped_column(String(20), default=QueueOrder.EASY_FIRST)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class QaCheck(Base):
    """One approved record drawn for blind QA, and (once checked) how many fields QA changed."""

    __tablename__ = "qa_checks"
    __table_args__ = (
        UniqueConstraint("record_id"),
        CheckConstraint("fields_changed IS NULL OR fields_changed <= fields_checked", name="changed_le_checked"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    verifier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)  # who approved it
    sampled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sampled_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)  # NULL = still pending
    fields_checked: Mapped[int | None] = mapped_column(Integer)
    fields_changed: Mapped[int | None] = mapped_column(Integer)
    changed_keys: Mapped[list[str]] = mapped_column(JSON, default=list)


class UnitPlan(Base):
    """A unit's digitisation plan (Phụ lục 01 plan view): computers assigned and daily quota."""

    __tablename__ = "unit_plans"
    __table_args__ = (
        UniqueConstraint("unit_id"),
        CheckConstraint("computers >= 0 AND quota_per_computer_per_day >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    computers: Mapped[int] = mapped_column(Integer, default=0)
    quota_per_computer_per_day: Mapped[int] = mapped_column(Integer, default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class PopulationExtract(Base):
    """An imported population-database extract; the file itself lives in the data directory."""

    __tablename__ = "population_extracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    original_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_path: Mapped[str] = mapped_column(String(500))  # relative to the data directory
    row_count: Mapped[int] = mapped_column(Integer)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class CrosscheckResult(Base):
    """One person of one approved record matched against an extract (the book's values are never changed)."""

    __tablename__ = "crosscheck_results"
    __table_args__ = (
        UniqueConstraint("record_id", "role"),
        CheckConstraint(_in("status", CrosscheckStatus), name="status"),
        Index("ix_crosscheck_queue", "status", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # child, father, mother, deceased, husband, wife
    extract_id: Mapped[int] = mapped_column(ForeignKey("population_extracts.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(20))  # the matched citizen's personal ID number
    book_values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    citizen_values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    differing_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    candidate_count: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    resolution: Mapped[str | None] = mapped_column(Text)  # supervisor's note
