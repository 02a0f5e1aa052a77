"""Webhooks: the endpoints API-key owners register for pushed change-feed events

An endpoint keeps a random seed its signing secret is derived from (never the secret), the
feed cursor its deliveries are queued up to, and its failure state; deliveries are outbox
rows of channel ``webhook``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret_seed", sa.String(length=64), nullable=False),
        sa.Column("secret_shown", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", core.tables.UTCDateTime(), nullable=False),
        sa.Column("disabled_at", core.tables.UTCDateTime(), nullable=True),
        sa.Column("disabled_by", sa.String(length=16), nullable=True),
        sa.Column("failing_since", core.tables.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", core.tables.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_key_id"), "webhook_endpoints", ["key_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_endpoints_key_id"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
