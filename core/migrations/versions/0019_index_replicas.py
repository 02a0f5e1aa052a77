"""Index replicas: each host's embedded index reports a heartbeat, and confirms removals

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_replicas",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("seen_at", core.tables.UTCDateTime(), nullable=False),
        sa.Column("live_since", core.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_index_replicas")),
    )
    op.create_table(
        "removal_confirmations",
        sa.Column("removal_id", sa.BigInteger(), nullable=False),
        sa.Column("replica", sa.String(length=32), nullable=False),
        sa.Column("confirmed_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("removal_id", "replica", name=op.f("pk_removal_confirmations")),
    )


def downgrade() -> None:
    op.drop_table("removal_confirmations")
    op.drop_table("index_replicas")
