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

# --- Complaints and reports (casework/) ---------------------------------------------------
# Units and tickets are keyed by the unit codes of the routing file (casework/routing.py);
# a ticket can be routed to a unit before that unit has an account.

case_units = Table(
    "case_units",
    metadata,
    Column("code", String(100), primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text),  # where the unit's notifications go; none: back office only
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

# "一单位、一账户": role "unit" is the unit's one account; "staff" are named users under it;
# "admin" manages units and accounts.
case_users = Table(
    "case_users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("unit_code", String(100), nullable=False),
    Column("login", String(100), nullable=False, unique=True),
    Column("display_name", Text),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Index(None, "unit_code"),
)

# Failed logins per login name, known or not (keyed by a hash, so unknown names typed by
# strangers are not stored), so that lockout looks the same for both.
case_login_throttle = Table(
    "case_login_throttle",
    metadata,
    Column("login_key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
)

case_sessions = Table(
    "case_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),  # absolute limit, whatever the activity
    Column("ended_at", UTCDateTime),
    Index(None, "user_id"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(24), nullable=False, unique=True),
    Column("code_hash", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # report | complaint
    Column("category", String(64), nullable=False),
    Column("measure", String(64)),  # the punishment measure a complaint is about
    Column("unit_code", String(100), nullable=False),  # the unit it is with now
    Column("state", String(16), nullable=False),
    Column("entry_id", String(64)),
    Column("debtor_name", Text),
    Column("court_name", Text),
    Column("what", Text, nullable=False),
    Column("when_text", Text),
    Column("where_text", Text),
    Column("contact_email", Text),
    Column("contact_telegram", String(32)),
    Column("routing_version", String(32), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Index(None, "unit_code", "state"),
    Index(None, "entry_id"),
)

# The audit trail and the public timeline: public_message is for the submitter and /track,
# internal_note never leaves the units.
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_kind", String(16), nullable=False),  # submitter | unit | system
    Column("actor_user_id", BigInteger),
    Column("unit_code", String(100)),
    Column("action", String(24), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("public_message", Text),
    Column("internal_note", Text),
    Column("data", JSON, nullable=False, default=dict),
    Index(None, "ticket_id"),
)

# Each clock a unit is held to (accept, reply, correct). Rows stay with the unit they were
# set for, so a transfer never erases the transferring unit's record.
ticket_deadlines = Table(
    "ticket_deadlines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("unit_code", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("period", String(32), nullable=False),  # as in the routing file: "3 working days"
    Column("started_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("met_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("overdue_at", UTCDateTime),
    Column("escalated_to", String(100)),
    Index(None, "ticket_id"),
    Index(None, "unit_code", "kind"),
    Index(None, "due_at"),
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

# Evidence files sent with a ticket (casework/evidence.py). The bytes live under
# DATA_DIR/evidence, outside the web root, named by their SHA-256; only logged-in units
# of the ticket's unit can fetch them. filename is what the submitter's device called it,
# kept for display only; media_type is what the content was found to be.
ticket_evidence = Table(
    "ticket_evidence",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("event_id", BigInteger),  # the submission or add-info event that brought it
    Column("uploaded_at", UTCDateTime, nullable=False),
    Column("filename", Text, nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Index(None, "ticket_id"),
)

# One-time keys already used, each until it expires (then swept): proof-of-work challenges
# (portal/altcha.py; a solved challenge buys one submission) and, as "submit:<key>", the
# intake forms' submission keys (portal/casework_pages.py; a double post files once).
altcha_spent = Table(
    "altcha_spent",
    metadata,
    Column("challenge_key", String(128), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

# One-time links from a ticket to a Telegram chat (casework/telegram.py): the receipt shows
# t.me/<bot>?start=<token>; the bot's /start stores the chat id on the ticket. Only the
# token's hash is kept.
telegram_links = Table(
    "telegram_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Index(None, "ticket_id"),
)

# Routing files installed by an administrator (the back office or `shixin routing --install`):
# every version is kept; the newest row is in force, ahead of SHIXIN_ROUTING_FILE and the
# packaged file, so all workers route by the same file.
routing_files = Table(
    "routing_files",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("version", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("installed_by", Text, nullable=False),  # a login, or "cli"
    Column("installed_at", UTCDateTime, nullable=False),
)

# What administrators did in the back office (casework/admin_audit.py): accounts created,
# passwords reset, accounts or units disabled, lockouts lifted, routing files installed.
# Kept apart from ticket_events, which is the record of one ticket.
admin_audit = Table(
    "admin_audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_login", Text, nullable=False),  # the administrator's login, or "cli"
    Column("action", String(32), nullable=False),
    Column("target", Text, nullable=False),  # a unit code, a login or a routing version
    Column("data", JSON, nullable=False, default=dict),
    Index(None, "at"),
)
