"""The relational schema of the records store (SQLite by default, PostgreSQL in production).

Tables are SQLAlchemy Core; Alembic migrations in ``shixin/migrations`` create them and a
test keeps the two in step. Times are stored as UTC and read back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every dialect."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL paths on SQLite
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


entries = Table(
    "entries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("party_type", String(8)),
    Column("name", Text),
    Column("name_norm", Text),
    Column("case_code", String(80)),
    Column("card_display", String(32)),
    Column("card_key", String(64)),
    Column("court_name", Text),
    Column("area_name", Text),
    Column("publish_date", Date),
    Column("reg_date", Date),
    Column("valid_until", Date),
    Column("severity", String(32)),
    Column("disclose", Boolean, nullable=False, default=True),
    Column("fields", JSON, nullable=False, default=dict),
    Column("removal_reason", Text),
    # Whether the entry was ever public: only those may answer "removed" (410) rather than
    # "not found", so a removal cannot reveal that a never-public entry exists.
    Column("ever_public", Boolean, nullable=False, default=False),
    Column("last_effective_at", UTCDateTime, nullable=False),
    Column("status_changed_at", UTCDateTime, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index(None, "seq"),
    Index(None, "case_code"),
    Index(None, "status", "valid_until"),
)

UNAPPLIED = text("applied_at IS NULL")

# The journal: every accepted event, as normalized and with full ID numbers already hashed.
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_key", String(64), nullable=False, unique=True),
    Column("entry_id", String(64), nullable=False),
    Column("op", String(16), nullable=False),
    Column("effective_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("source", Text, nullable=False),
    Column("batch_id", String(32)),
    Column("line_no", Integer),
    Column("payload", JSON, nullable=False),
    Column("applied_at", UTCDateTime),
    Index(None, "entry_id"),
    # Only the few events not applied yet (after a crash) are ever looked up by this:
    # a partial index costs the bulk import nothing.
    Index("ix_events_unapplied", "applied_at", sqlite_where=UNAPPLIED, postgresql_where=UNAPPLIED),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", Text, nullable=False),
    Column("filename", Text),
    Column("sha256", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("lines", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
)

# One row per time an entry left the public list: the deadline it was held against and
# when its absence from the index was confirmed.
removals = Table(
    "removals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("entry_id", String(64), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", Text),
    Column("effective_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),
    Column("superseded_at", UTCDateTime),
    Index(None, "entry_id"),
    Index(None, "removed_at"),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("seq", BigInteger, nullable=False, default=0),
    Column("lease_holder", String(64)),
    Column("lease_until", UTCDateTime),
    Column("updated_at", UTCDateTime),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

ingest_tokens = Table(
    "ingest_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("unit", Text, nullable=False),
    Column("court_scope", Text),  # normalized court name; NULL = every court
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)
