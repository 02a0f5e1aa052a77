"""email watches: verified addresses, their pending confirmations and collected alerts

An address confirms each requested watch through a mail link (only the token's hash is
kept); alerts of confirmed addresses wait in ``email_alerts`` until their immediate mail or
their daily digest is written to the outbox.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "email_subscribers",
        _id(),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", core.tables.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_subscribers")),
        sa.UniqueConstraint("address", name=op.f("uq_email_subscribers_address")),
    )
    op.create_table(
        "email_requests",
        _id(),
        sa.Column("subscriber_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("watch", sa.Text(), nullable=False),
        sa.Column("expires_at", core.tables.UTCDateTime(), nullable=False),
        sa.Column("used_at", core.tables.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_requests_token_hash")),
    )
    with op.batch_alter_table("email_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_requests_subscriber_id"), ["subscriber_id"], unique=False
        )
    op.create_table(
        "email_alerts",
        _id(),
        sa.Column("subscriber_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_alerts")),
    )
    with op.batch_alter_table("email_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_alerts_subscriber_id"), ["subscriber_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("email_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_alerts_subscriber_id"))
    op.drop_table("email_alerts")
    with op.batch_alter_table("email_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_requests_subscriber_id"))
    op.drop_table("email_requests")
    op.drop_table("email_subscribers")
