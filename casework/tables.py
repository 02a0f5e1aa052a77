"""Casework's tables: units and their staff, sessions, tickets with their events, deadlines
and evidence, Telegram links, installed routing files and the administrators' audit trail.
Created by the migrations in ``core/migrations``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from core.tables import BigId, UTCDateTime, metadata

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

# One-time links from a ticket to a Telegram chat (casework/telegram_links.py): the receipt shows
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
