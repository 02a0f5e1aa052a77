"""Background ingest jobs: a batch sent with Prefer: respond-async, kept parsed until it runs

A job row per batch (its sender's token, progress, claim and final answer) and its parsed
chunks, deleted once the job is done.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-02 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("court_scope", sa.Text(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", core.tables.UTCDateTime(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", core.tables.UTCDateTime(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("started_at", core.tables.UTCDateTime(), nullable=True),
        sa.Column("finished_at", core.tables.UTCDateTime(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_jobs")),
    )
    op.create_index(op.f("ix_ingest_jobs_status"), "ingest_jobs", ["status"])
    op.create_index(op.f("ix_ingest_jobs_finished_at"), "ingest_jobs", ["finished_at"])
    op.create_table(
        "ingest_job_chunks",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_ingest_job_chunks")),
    )


def downgrade() -> None:
    op.drop_table("ingest_job_chunks")
    op.drop_index(op.f("ix_ingest_jobs_finished_at"), table_name="ingest_jobs")
    op.drop_index(op.f("ix_ingest_jobs_status"), table_name="ingest_jobs")
    op.drop_table("ingest_jobs")
