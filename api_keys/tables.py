"""The API keys' tables: pending requests, the keys and their daily usage. Created by the
migrations in ``core/migrations``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Integer, String, Table, Text

from core.tables import BigId, UTCDateTime, metadata

# A request waiting for its mail link: only the token's hash is kept. A used or expired
# request issues nothing.
api_key_requests = Table(
    "api_key_requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("organization", Text, nullable=False),
    Column("email", String(254), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

# An issued key: ``key_hash`` is the sha256 of the key, which itself is never stored;
# ``shown`` is its prefix and first characters (``sx_AbCd…``), enough to tell keys apart.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("shown", String(16), nullable=False),
    Column("organization", Text, nullable=False),
    Column("email", String(254), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Requests answered per key and Beijing day, added to in batches (api_keys/usage.py).
api_key_usage = Table(
    "api_key_usage",
    metadata,
    Column("key_id", BigInteger, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("requests", Integer, nullable=False),
)
