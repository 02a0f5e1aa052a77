"""The watches' tables: the watches themselves and their own progress mark on the list's
change sequence (``entries.seq``). Created by the migrations in ``core/migrations``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from core.tables import BigId, UTCDateTime, metadata

# kind "code": ``card_hash`` is the keyed hash of the normalized credit code (matched against
# the entries' ``card_key``), ``credit_code`` the code itself (public, shown in listings).
# kind "person": ``name_norm`` plus ``card_hash``, the keyed hash of the full ID number; the
# ID number itself is never stored. kind "search": ``name_norm`` (required) and optionally
# ``region``, ``court`` (normalized places) and ``party_type``.
watches = Table(
    "watches",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),  # telegram | email
    Column("recipient", Text, nullable=False),  # chat id | address
    Column("kind", String(16), nullable=False),  # code | person | search
    Column("dedupe_key", String(200), nullable=False),
    Column("label", Text, nullable=False),  # what the subscriber sees: never a full ID number
    Column("credit_code", String(32)),
    Column("card_hash", String(64)),
    Column("name_norm", Text),
    Column("region", Text),
    Column("court", Text),
    Column("party_type", String(8)),
    Column("since_seq", BigInteger, nullable=False),  # changes up to here are not alerted
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "recipient", "dedupe_key"),
    Index(None, "card_hash"),
    Index(None, "name_norm"),
)

# One row, name "alerts": the last entries.seq the alert round has matched.
watch_state = Table(
    "watch_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("seq", BigInteger, nullable=False, default=0),
    Column("updated_at", UTCDateTime),
)

# Watches by email (watches/email_subscriptions.py). An address is a subscriber once it asked
# for a watch; it is confirmed (``confirmed_at``) by the link of its first confirmation mail
# and loses that by unsubscribing. ``mode`` is "immediate" or "digest" (one mail a day at
# ``digest_hour``, Beijing time).
email_subscribers = Table(
    "email_subscribers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("address", String(254), nullable=False, unique=True),  # lower-cased
    Column("mode", String(16), nullable=False, default="immediate"),
    Column("digest_hour", Integer, nullable=False, default=8),
    Column("confirmed_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

# One requested watch waiting for its confirmation link: only the token's hash is kept, and
# ``watch`` holds the prepared watch (JSON: keyed hashes and a masked label, never a full
# ID number). A used or expired request confirms nothing.
email_requests = Table(
    "email_requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subscriber_id", BigInteger, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("watch", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "subscriber_id"),
)

# Alerts of confirmed addresses, waiting for their mail: the next mail round sends them
# (immediate) or the first round after the digest hour (digest), and deletes them in the
# same transaction that writes the mail to the outbox.
email_alerts = Table(
    "email_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subscriber_id", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "subscriber_id"),
)
