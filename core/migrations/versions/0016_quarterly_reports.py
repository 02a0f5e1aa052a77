"""Quarterly reports: each closed quarter's counts per court and region, frozen once

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-02 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.tables

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarterly_reports",
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("frozen_at", core.tables.UTCDateTime(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("quarter", name=op.f("pk_quarterly_reports")),
    )


def downgrade() -> None:
    op.drop_table("quarterly_reports")
