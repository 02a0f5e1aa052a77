"""The background ingest jobs' tables: a job, and its batch parsed in chunks. Created by the
migrations in ``core/migrations``.

A chunk is kept as parsed, not as sent: the parser has already replaced every full ID
number by its masked form and keyed hash, so these rows hold nothing the journal would not.
The chunks are deleted when the job is done; the job keeps its summary, for the sender to
read, until ``RETENTION`` (``ingest_jobs.service``) has passed.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table, Text

from core.tables import UTCDateTime, metadata

# status: queued (waiting for a worker), running (claimed until ``claimed_until``: a worker
# that stops without a word loses it then), done (``result`` is the batch's answer as JSON).
ingest_jobs = Table(
    "ingest_jobs",
    metadata,
    Column("id", String(32), primary_key=True),  # also the batch's id
    Column("token_id", BigInteger, nullable=False),  # the ingest token that sent it
    Column("source", Text, nullable=False),
    Column("court_scope", Text),
    Column("filename", Text),
    Column("sha256", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("total", Integer, nullable=False),  # lines read from the body
    Column("chunks", Integer, nullable=False),
    Column("done", Integer, nullable=False, default=0),  # lines in the store so far
    Column("status", String(16), nullable=False),
    Column("claimed_by", String(64)),
    Column("claimed_until", UTCDateTime),
    Column("runs", Integer, nullable=False, default=0),  # more than 1: resumed
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("result", Text),
    Index(None, "status"),
    Index(None, "finished_at"),
)

ingest_job_chunks = Table(
    "ingest_job_chunks",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("body", LargeBinary, nullable=False),  # orjson, see ingest_jobs.chunks
)
