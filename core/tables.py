"""The relational schema of the records store (SQLite by default, PostgreSQL in production).

The ground's part: the one ``metadata`` every domain's tables join (a domain owns its tables
in its own ``tables`` module: ``search_index/tables.py``, ``casework/tables.py``), the column
types they share, and the tables of the ground itself: counters, the outbox of background
deliveries and the one-time keys. Tables are SQLAlchemy Core; Alembic migrations in
``core/migrations`` create them and a test keeps the two in step. Times are stored as UTC and
read back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
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


counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)


# Notifications, written in the same transaction as the change they announce; a sender
# (casework/mail.py for email) claims due rows for a lease, delivers them and marks them
# sent, or retries them with backoff until it gives up (failed_at).
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False),  # email | telegram | unit
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("ticket_id", BigInteger),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("claimed_by", String(64)),  # the sender round working on it, until claimed_until
    Column("claimed_until", UTCDateTime),  # a crashed sender's rows are free again after this
    Column("failed_at", UTCDateTime),  # retries exhausted: an operator looks at it
    Index(None, "sent_at", "next_attempt_at"),
)


# One-time keys already used, each until it expires (then swept), by purpose: "altcha" for
# proof-of-work challenges (a solved challenge buys one submission), "submit" for the intake
# forms' submission keys (a double post files once). Written through core/once_keys.py only.
once_keys = Table(
    "once_keys",
    metadata,
    Column("purpose", String(16), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)
