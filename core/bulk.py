"""Bulk row writes through the DB-API, for the import path.

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert on large
batches, so hot bulk writes convert values here (once per column, per dialect) and hand
plain tuples to ``executemany``. The stored representation is exactly what SQLAlchemy
itself writes, so reads through the table definitions see no difference (a test reads
bulk-written rows back through SQLAlchemy on both dialects).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Date, Table

from core.tables import UTCDateTime

Converter = Callable[[Any], Any] | None

log = logging.getLogger(__name__)
_EARLIEST_UTC = datetime.min + timedelta(days=1)
_LATEST_UTC = datetime.max - timedelta(days=1)


@lru_cache(maxsize=65536)  # a batch shares few distinct times (received, publish dates)
def wire_time(value: datetime | None) -> str | None:
    """An aware time as SQLite stores it through SQLAlchemy (UTC, naive ISO text)."""
    if value is None:
        return None
    return _utc_naive(value).isoformat(" ", "microseconds")


def _pg_time(value: datetime | None) -> datetime | None:
    return None if value is None else _utc_naive(value)


def _utc_naive(value: datetime) -> datetime:
    """The time in UTC, naive. Within a day of the calendar's ends (0001-01-01 at UTC+8,
    9999-12-31 at UTC-12) a time has no UTC form; it is pinned near that end, so that one such
    row cannot fail a whole batch with an OverflowError. The parser refuses such dates
    (search_index.dates bounds every date it reads), so only a row built another way gets
    here, and it is logged."""
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        # A day inside the end, so that reading it back in any time zone works.
        pinned = _EARLIEST_UTC if value.year < 5000 else _LATEST_UTC
        log.warning("time %s has no UTC form; stored as %s", value.isoformat(), pinned)
        return pinned


def _iso_date(value: date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _converter(column_type: Any, dialect: str) -> Converter:
    sqlite = dialect == "sqlite"
    if isinstance(column_type, UTCDateTime):
        return wire_time if sqlite else _pg_time
    if isinstance(column_type, JSON):
        return _json  # psycopg sends str as "unknown", which PostgreSQL casts to json
    if isinstance(column_type, Date):
        return _iso_date if sqlite else None
    if isinstance(column_type, Boolean):
        return _sqlite_bool if sqlite else None
    return None


@lru_cache(maxsize=64)
def _plan(
    table: Table, columns: tuple[str, ...], dialect: str
) -> tuple[tuple[Converter, ...], str]:
    mark = "?" if dialect == "sqlite" else "%s"
    converters = tuple(_converter(table.c[name].type, dialect) for name in columns)
    return converters, mark


def _tuples(
    rows: Sequence[dict[str, Any]], columns: tuple[str, ...], converters: tuple[Converter, ...]
) -> list[tuple[Any, ...]]:
    get = itemgetter(*columns)
    convert = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
    out: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(get(row)) if len(columns) > 1 else [get(row)]
        for i, conv in convert:
            values[i] = conv(values[i])
        out.append(tuple(values))
    return out


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows that all have the same keys."""
    if not rows:
        return
    columns = tuple(rows[0])
    converters, _mark = _plan(table, columns, conn.dialect.name)
    insert_tuples(conn, table, columns, _tuples(rows, columns, converters))


def insert_tuples(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT rows already converted (by ``_tuples`` or ``wire_values``)."""
    if not rows:
        return
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    conn.exec_driver_sql(sql, rows)


@lru_cache(maxsize=64)
def _wire_plan(table: Table, columns: tuple[str, ...]) -> tuple[tuple[int, Converter], ...]:
    out = []
    for i, name in enumerate(columns):
        column_type = table.c[name].type
        # Booleans stay bool: SQLite binds them as 0/1, PostgreSQL as boolean.
        if not isinstance(column_type, Boolean):
            conv = _converter(column_type, "sqlite")
            if conv is not None:
                out.append((i, conv))
    return tuple(out)


def wire_values(table: Table, columns: tuple[str, ...], row: dict[str, Any]) -> list[Any]:
    """A row as plain values both dialects accept (times and dates as ISO text in UTC, JSON
    as text, booleans as bool), so another process can prepare rows for either store and
    send them as JSON. SQLite stores exactly what SQLAlchemy would; PostgreSQL casts the
    text (psycopg sends str with an unknown type)."""
    values = [row[name] for name in columns]
    for i, conv in _wire_plan(table, columns):
        values[i] = conv(values[i])
    return values


def update_rows(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: str = "id"
) -> None:
    """UPDATE rows (same keys in every row) matched on ``key``."""
    if not rows:
        return
    columns = (*(name for name in rows[0] if name != key), key)
    converters, mark = _plan(table, columns, conn.dialect.name)
    assignments = ", ".join(f"{name} = {mark}" for name in columns[:-1])
    sql = f"UPDATE {table.name} SET {assignments} WHERE {key} = {mark}"
    conn.exec_driver_sql(sql, _tuples(rows, columns, converters))
