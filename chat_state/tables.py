"""The chat state table: JSON values by namespace and key. Created by the migrations in
``core/migrations`` (0010)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from core.tables import UTCDateTime, metadata

# namespace "user" (key: the Telegram user id), "chat" (key: the chat id) or
# "conversation:<name>" (key: the conversation's key as a JSON list). ``data`` is the value
# as JSON text, written by the service itself: exactly the text it checked (never a full ID
# number), and a bare number stays JSON (a SQLite column of type JSON would turn "0" into an
# integer, which no JSON reader takes back).
chat_state = Table(
    "chat_state",
    metadata,
    Column("namespace", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("data", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
