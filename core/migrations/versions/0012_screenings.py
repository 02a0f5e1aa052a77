"""screenings: uploaded lists of counterparties matched in the background, and their rows

Only the job token's hash is kept, and no row holds a full ID number (its keyed hash and
masked form only); both are deleted when the job's retention ends.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0012"
down_revision = "0011"
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
        "screenings",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("created_at", core.tables.UTCDateTime(), nullable=False),
        sa.Column("finished_at", core.tables.UTCDateTime(), nullable=True),
        sa.Column("expires_at", core.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_screenings_token_hash")),
    )
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screenings_client_hash_created_at"),
            ["client_hash", "created_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_screenings_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "screening_rows",
        _id(),
        sa.Column("screening_id", sa.BigInteger(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=True),
        sa.Column("card_kind", sa.String(length=16), nullable=True),
        sa.Column("card", sa.String(length=32), nullable=True),
        sa.Column("card_key", sa.String(length=64), nullable=True),
        sa.Column("card_shown", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_rows")),
    )
    with op.batch_alter_table("screening_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_rows_screening_id_row_no"),
            ["screening_id", "row_no"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("screening_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_rows_screening_id_row_no"))
    op.drop_table("screening_rows")
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screenings_expires_at"))
        batch_op.drop_index(batch_op.f("ix_screenings_client_hash_created_at"))
    op.drop_table("screenings")
