"""Alembic environment: runs against the connection handed over by ``shixin.db.migrate``
or, from the ``alembic`` command line, against ``SHIXIN_DATABASE_URL``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from shixin.tables import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from shixin.settings import load_settings

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
