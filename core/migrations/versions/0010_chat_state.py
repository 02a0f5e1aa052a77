"""chat_state: the bot's conversation memory, kept across restarts (issue 13)

A JSON value by namespace ("user", "chat", "conversation:<name>") and key: the language a
user chose, a chat's kept searches for paging, the state of a conversation.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_state",
        sa.Column("namespace", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "key", name=op.f("pk_chat_state")),
    )


def downgrade() -> None:
    op.drop_table("chat_state")
