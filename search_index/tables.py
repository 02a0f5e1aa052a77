"""The list's tables: entries, the event journal, batches, removals, the index's sync state,
its replicas and the courts' ingest tokens. Created by the migrations in ``core/migrations``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from core.tables import BigId, UTCDateTime, metadata

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
    Column("warned", Integer, nullable=False, default=0),  # lines accepted with a warning
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

# Index replicas (search_index/replicas.py): one row per index that follows the store (each
# host's embedded index, or the one shared Meilisearch index), with its last heartbeat and
# since when it has been caught up; NULL while it catches up after joining or a silence.
index_replicas = Table(
    "index_replicas",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("live_since", UTCDateTime),
)

# When each replica confirmed a removal gone from its index (only while there are several).
removal_confirmations = Table(
    "removal_confirmations",
    metadata,
    Column("removal_id", BigInteger, primary_key=True),
    Column("replica", String(32), primary_key=True),
    Column("confirmed_at", UTCDateTime, nullable=False),
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

# Quarterly reports, frozen once the quarter's removal deadlines have all passed: late data
# no longer moves a published report. ``rows`` holds the counts per court and region.
quarterly_reports = Table(
    "quarterly_reports",
    metadata,
    Column("quarter", String(8), primary_key=True),  # 2026Q3
    Column("frozen_at", UTCDateTime, nullable=False),
    Column("rows", JSON, nullable=False),
)

# --- Complaints and reports (casework/) ---------------------------------------------------
# Units and tickets are keyed by the unit codes of the routing file (casework/routing.py);
# a ticket can be routed to a unit before that unit has an account.
