"""outbox claims: a lease per sender round, and a terminal failed state

Several portal workers (and ``shixin mail``) deliver from the same outbox: a round claims
its rows until ``claimed_until``, so each message is sent by one of them, and a row claimed
by a process that died is free again once the lease runs out. ``failed_at`` marks a message
whose retries are exhausted, for an operator to look at.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", core.tables.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_at", core.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
