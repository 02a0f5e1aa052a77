"""API keys: pending requests, the issued keys (only their hash) and their daily usage

A request waits for its mail link (only the token's hash is kept); an issued key is kept as
the sha256 of the key, with its first characters to tell keys apart; usage is one row per
key and Beijing day.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0013"
down_revision = "0012"
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
        "api_key_requests",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("organization", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("expires_at", core.tables.UTCDateTime(), nullable=False),
        sa.Column("used_at", core.tables.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_key_requests_token_hash")),
    )
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("shown", sa.String(length=16), nullable=False),
        sa.Column("organization", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_at", core.tables.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", core.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "api_key_usage",
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "day", name=op.f("pk_api_key_usage")),
    )


def downgrade() -> None:
    op.drop_table("api_key_usage")
    op.drop_table("api_keys")
    op.drop_table("api_key_requests")
