"""lean write path: no card_key index, a partial index for unapplied events

The store never looks entries up by card_key (the index does), and only events left
unapplied by a crash are looked up by applied_at; both indexes cost every bulk import
an index insert per row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UNAPPLIED = sa.text("applied_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_entries_card_key", table_name="entries")
    op.drop_index("ix_events_applied_at", table_name="events")
    op.create_index(
        "ix_events_unapplied",
        "events",
        ["applied_at"],
        sqlite_where=UNAPPLIED,
        postgresql_where=UNAPPLIED,
    )


def downgrade() -> None:
    op.drop_index("ix_events_unapplied", table_name="events")
    op.create_index("ix_events_applied_at", "events", ["applied_at"])
    op.create_index("ix_entries_card_key", "entries", ["card_key"])
