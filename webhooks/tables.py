"""The webhooks' table: the endpoints API-key owners registered. Their deliveries are rows
of the ground's outbox (channel ``webhook``). Created by the migrations in ``core/migrations``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from core.tables import BigId, UTCDateTime, metadata

# An endpoint of one API key (``key_id``: api_keys.id).
# - ``secret_seed``: random; the signing secret is derived from it with the list's key
#   (webhooks/signing.py), so the table alone cannot sign. ``secret_shown`` tells secrets apart.
# - ``cursor``: the change number (entries.seq) up to which deliveries are queued. It moves in
#   the transaction that queues the delivery, so a restart neither skips nor repeats a change.
# - ``failing_since``: the first failure since the last success; a day of it disables the
#   endpoint (``disabled_by`` "failures"; "owner" when its owner switched it off).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key_id", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("secret_seed", String(64), nullable=False),
    Column("secret_shown", String(16), nullable=False),
    Column("cursor", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Column("disabled_by", String(16)),
    Column("failing_since", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Index(None, "key_id"),
)
