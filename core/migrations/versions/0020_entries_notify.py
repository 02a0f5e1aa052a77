"""Entries notify their changes: each host's sync loop wakes as soon as the store changes

On PostgreSQL a statement-level trigger on ``entries`` sends ``NOTIFY shixin_entries``
(``search_index.change_watch`` listens); notifications are sent when the transaction
commits, once per transaction whatever it changed. SQLite has no notifications: the watch
polls the store there, and nothing changes in its schema.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION shixin_entries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('shixin_entries', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER entries_notify AFTER INSERT OR UPDATE OR DELETE ON entries
        FOR EACH STATEMENT EXECUTE FUNCTION shixin_entries_notify()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER entries_notify ON entries")
    op.execute("DROP FUNCTION shixin_entries_notify()")
