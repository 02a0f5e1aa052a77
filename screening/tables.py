"""The screenings' tables: an uploaded list being matched, and its rows. Created by the
migrations in ``core/migrations``.

A job is reached only by its token, of which only the hash is kept. A row keeps what
matching needs and nothing more: the name and reference with anything shaped like an ID
number masked, an organization's code (public anyway), and for a full ID number its keyed
hash and masked form only, never the number. Both tables are emptied of a job when its
retention ends (``expires_at``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from core.tables import BigId, UTCDateTime, metadata

screenings = Table(
    "screenings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("filename", Text, nullable=False),  # as uploaded, cut to 200 characters
    Column("client_hash", String(64), nullable=False),  # keyed hash of the address or unit
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False, default=0),  # rows matched so far, in order
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "client_hash", "created_at"),
    Index(None, "expires_at"),
)

# kind: ID_NUMBER rows keep ``card_key`` (keyed hash) and ``card_shown`` (masked); codes
# keep ``card`` (public); ``error`` says why a row could not be matched (then no card).
# ``result`` is the row's matches as JSON once matched.
screening_rows = Table(
    "screening_rows",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("screening_id", BigInteger, nullable=False),
    Column("row_no", Integer, nullable=False),  # as the spreadsheet numbers it
    Column("name", Text, nullable=False),
    Column("ref", Text),
    Column("card_kind", String(16)),
    Column("card", String(32)),
    Column("card_key", String(64)),
    Column("card_shown", String(32)),
    Column("error", Text),
    Column("result", Text),
    Index(None, "screening_id", "row_no"),
)
