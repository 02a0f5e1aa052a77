"""Alembic environment: runs against the connection handed over by ``core.db.migrate``
or, from the ``alembic`` command line, against ``SHIXIN_DATABASE_URL``."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import create_engine

from core.migrations import DOMAIN_TABLES
from core.tables import metadata

# Autogenerate compares the database with every domain's tables (see DOMAIN_TABLES).
for module in DOMAIN_TABLES:
    importlib.import_module(module)

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from core.settings import load_settings

    engine = create_engine(load_settings().database_url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things in place
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
