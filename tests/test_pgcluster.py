"""Both stores are really exercised: a table round-trips CJK text on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

NAME = "张伟（北京）"


def test_cjk_round_trip(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        meta = sa.MetaData()
        people = sa.Table(
            "people",
            meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(100), nullable=False),
        )
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(people.insert(), [{"name": NAME}])
        with engine.connect() as conn:
            rows = conn.execute(sa.select(people.c.name).where(people.c.name == NAME)).all()
            dialect = conn.dialect.name
        assert rows == [(NAME,)]
        assert dialect == database_url.split(":")[0].split("+")[0]
        if dialect == "postgresql":
            with engine.connect() as conn:
                encoding = conn.execute(sa.text("SHOW server_encoding")).scalar_one()
                length = conn.execute(sa.select(sa.func.length(people.c.name))).scalar_one()
            assert encoding == "UTF8"
            assert length == len(NAME)  # characters, not bytes
    finally:
        engine.dispose()
