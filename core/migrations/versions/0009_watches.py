"""watches: subscribers' watches and the alert round's own mark (issue 13)

A watch follows a credit code, a name plus the keyed hash of an ID number, or a saved
search, for one subscriber (channel and recipient). ``watch_state`` holds how far the alert
round has matched the list's change sequence, apart from the index's ``sync_state``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:59:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("credit_code", sa.String(length=32), nullable=True),
        sa.Column("card_hash", sa.String(length=64), nullable=True),
        sa.Column("name_norm", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("court", sa.Text(), nullable=True),
        sa.Column("party_type", sa.String(length=8), nullable=True),
        sa.Column("since_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watches")),
        sa.UniqueConstraint(
            "channel",
            "recipient",
            "dedupe_key",
            name=op.f("uq_watches_channel_recipient_dedupe_key"),
        ),
    )
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watches_card_hash"), ["card_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_watches_name_norm"), ["name_norm"], unique=False)

    op.create_table(
        "watch_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", core.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_watch_state")),
    )


def downgrade() -> None:
    op.drop_table("watch_state")
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watches_name_norm"))
        batch_op.drop_index(batch_op.f("ix_watches_card_hash"))
    op.drop_table("watches")
