"""Entry rows in the records store: loading them as states and writing states back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, or_, select

from core.bulk import insert_rows, update_rows
from core.db import one_of
from search_index.lifecycle import EntryState
from search_index.tables import entries
from search_index.types import PUBLIC_STATUSES, IndexDoc, Status

# Entry columns filled from the normalized payload of the same name.
DATA_COLUMNS = (
    "party_type",
    "name",
    "name_norm",
    "case_code",
    "card_display",
    "card_key",
    "court_name",
    "area_name",
    "severity",
)
DATE_COLUMNS = ("publish_date", "reg_date", "valid_until")


def load_states(conn: Connection, ids: Sequence[str]) -> dict[str, EntryState]:
    if not ids:
        return {}
    rows = conn.execute(select(entries).where(one_of(conn, entries.c.id, ids))).mappings()
    return {row["id"]: state_from_row(row) for row in rows}


def state_from_row(row: RowMapping) -> EntryState:
    data: dict[str, Any] = {name: row[name] for name in DATA_COLUMNS if row[name] is not None}
    for name in DATE_COLUMNS:
        if row[name] is not None:
            data[name] = row[name].isoformat()
    data["disclose"] = row["disclose"]
    data["fields"] = dict(row["fields"] or {})
    return EntryState(
        id=row["id"],
        status=Status(row["status"]),
        data=data,
        last_effective_at=row["last_effective_at"],
        status_changed_at=row["status_changed_at"],
        removal_reason=row["removal_reason"],
        ever_public=row["ever_public"],
    )


def row_from_state(state: EntryState, seq: int) -> dict[str, Any]:
    data = state.data
    row: dict[str, Any] = {name: data.get(name) for name in DATA_COLUMNS}
    for name in DATE_COLUMNS:  # ISO strings: both stores take them for DATE columns
        row[name] = data.get(name) or None
    row.update(
        id=state.id,
        status=state.status.value,
        disclose=bool(data.get("disclose", True)),
        fields=data.get("fields") or {},
        removal_reason=state.removal_reason,
        ever_public=state.ever_public,
        last_effective_at=state.last_effective_at,
        status_changed_at=state.status_changed_at,
        seq=seq,
    )
    return row


def save_states(
    conn: Connection, new_rows: Iterable[dict[str, Any]], changed_rows: Iterable[dict[str, Any]]
) -> None:
    insert_rows(conn, entries, list(new_rows))
    update_rows(conn, entries, list(changed_rows))


def is_servable(row: RowMapping, today: date) -> bool:
    """Whether the public index may serve this entry today. An entry past its listing
    period is never served, even before the expiry sweep has recorded its expiry."""
    valid_until = row["valid_until"]
    return row["status"] in PUBLIC_STATUSES and (valid_until is None or valid_until >= today)


def servable_clause(today: date) -> ColumnElement[bool]:
    """``is_servable`` as SQL."""
    return and_(
        entries.c.status.in_([s.value for s in PUBLIC_STATUSES]),
        or_(entries.c.valid_until.is_(None), entries.c.valid_until >= today),
    )


def doc_from_row(row: RowMapping) -> IndexDoc:
    """The public index document of a (public) entry row."""
    return IndexDoc(
        id=row["id"],
        seq=row["seq"],
        status=row["status"],
        party_type=row["party_type"],
        name=row["name"],
        name_norm=row["name_norm"],
        case_code=row["case_code"],
        court_name=row["court_name"] or "",
        area_name=row["area_name"] or "",
        publish_date=row["publish_date"],
        reg_date=row["reg_date"],
        valid_until=row["valid_until"],
        severity=row["severity"],
        card_display=row["card_display"],
        card_key=row["card_key"],
        fields=dict(row["fields"] or {}),
    )


def ever_public_entry(conn: Connection, entry_id: str) -> RowMapping | None:
    """The id, name, court and status of an entry that was ever public, or None: how another
    domain refers to an entry (casework's tickets name one). Never-public entries answer like
    missing ones, so a ticket cannot reveal that one exists."""
    query = select(entries.c.id, entries.c.name, entries.c.court_name, entries.c.status).where(
        entries.c.id == entry_id, entries.c.ever_public.is_(True)
    )
    return conn.execute(query).mappings().first()
