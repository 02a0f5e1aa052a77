"""once_keys: one-time keys by purpose, in a neutral table of their own

altcha_spent held two kinds of one-time key: solved proof-of-work challenges and, under a
"submit:" prefix, the intake forms' submission keys. once_keys (core/once_keys.py) holds
them by purpose ("altcha", "submit"). The live rows move over, the prefix becoming the
purpose; altcha_spent goes. The downgrade moves them back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SUBMIT_PREFIX = "submit:"
# Spent challenges were kept a minute past their expiry (portal/altcha.py CLOCK_SLACK):
# rows older than that were already as good as swept.
SLACK = timedelta(minutes=1)

old = sa.table(
    "altcha_spent",
    sa.column("challenge_key", sa.String(128)),
    sa.column("expires_at", core.tables.UTCDateTime()),
)
new = sa.table(
    "once_keys",
    sa.column("purpose", sa.String(16)),
    sa.column("key", sa.String(128)),
    sa.column("expires_at", core.tables.UTCDateTime()),
)


def _text(value: str) -> sa.ColumnElement[str]:
    """A string constant written into the SQL: PostgreSQL cannot tell a parameter's type
    in a CASE of INSERT ... SELECT."""
    return sa.literal_column(f"'{value}'", sa.String)


def _live(table: sa.TableClause) -> sa.ColumnElement[bool]:
    return table.c.expires_at > datetime.now(UTC) - SLACK


def upgrade() -> None:
    op.create_table(
        "once_keys",
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("expires_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("purpose", "key", name=op.f("pk_once_keys")),
    )
    with op.batch_alter_table("once_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_once_keys_expires_at"), ["expires_at"], unique=False)

    submit = old.c.challenge_key.startswith(SUBMIT_PREFIX, autoescape=True)
    op.execute(
        new.insert().from_select(
            ["purpose", "key", "expires_at"],
            sa.select(
                sa.case((submit, _text("submit")), else_=_text("altcha")),
                sa.case(
                    (submit, sa.func.substr(old.c.challenge_key, len(SUBMIT_PREFIX) + 1)),
                    else_=old.c.challenge_key,
                ),
                old.c.expires_at,
            ).where(_live(old)),
        )
    )

    with op.batch_alter_table("altcha_spent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_altcha_spent_expires_at"))
    op.drop_table("altcha_spent")


def downgrade() -> None:
    op.create_table(
        "altcha_spent",
        sa.Column("challenge_key", sa.String(length=128), nullable=False),
        sa.Column("expires_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("challenge_key", name=op.f("pk_altcha_spent")),
    )
    with op.batch_alter_table("altcha_spent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_altcha_spent_expires_at"), ["expires_at"], unique=False
        )

    # Only the two purposes altcha_spent knew; a later one has nowhere to go.
    op.execute(
        old.insert().from_select(
            ["challenge_key", "expires_at"],
            sa.select(
                sa.case(
                    (new.c.purpose == "submit", _text(SUBMIT_PREFIX) + new.c.key),
                    else_=new.c.key,
                ),
                new.c.expires_at,
            ).where(new.c.purpose.in_(["altcha", "submit"]), _live(new)),
        )
    )

    with op.batch_alter_table("once_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_once_keys_expires_at"))
    op.drop_table("once_keys")
