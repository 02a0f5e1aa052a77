"""Removal status for debtors: who knows an entry's case number, name and full identifier
learns its state and timeline, including a removal nobody else is told about.

Anyone who gets one of the three wrong gets exactly the answer given for a case that does not
exist (``None``), and in about the same time: the identifier is hashed and the name
normalized before the store is asked, every row of the case is compared without stopping
early, and only a match loads anything more. Input that is malformed (a case number that is
no case number, an ID number with a bad check digit) is reported, since that depends only on
what was typed.

Entries never fit for publication, and entries that were never public, are not acknowledged
here either: the identifiers may be known to a creditor or employer, and those entries must
reach no public channel at all.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, RowMapping, select

from search_index import compliance, journal
from search_index.events import CORRECT
from search_index.identifiers import (
    MASKED_KINDS,
    IdentifierError,
    classify_identifier,
    keyed_hash,
    masked_form,
)
from search_index.lifecycle import StoredEvent
from search_index.normalize import CaseCodeError, normalize_case_code, normalize_name
from search_index.tables import entries
from search_index.types import PUBLIC_STATUSES, REMOVED_STATUSES, Status

MAX_INPUT = 200
ACKNOWLEDGED = PUBLIC_STATUSES | REMOVED_STATUSES


class StatusInputError(ValueError):
    """What was typed cannot be a case number, name or identifier; ``field`` names the box."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(slots=True, frozen=True)
class StatusQuery:
    case_code: str  # canonical
    name_norm: str
    card_key: str
    # The identifier as the national platform masks it: all an entry the court sent masked
    # can be checked against (case number and name must match as well).
    card_masked: str | None = None


@dataclass(slots=True, frozen=True)
class Step:
    """One event of the entry: ``op`` is publish, correct, shield, delete, revoke or expire;
    ``fields`` are the public names of the fields a correction changed."""

    op: str
    effective_at: datetime
    fields: tuple[str, ...] = ()


@dataclass(slots=True)
class DebtorStatus:
    status: Status
    # Only while the entry is public: its page, and until when it is listed.
    entry_id: str | None
    valid_until: date | None
    period_over: bool  # public status, but past its listing period: expiry is being recorded
    steps: list[Step] = field(default_factory=list)
    removals: list[compliance.RemovalItem] = field(default_factory=list)

    @property
    def is_public(self) -> bool:
        return self.entry_id is not None


def parse(case_code: str, name: str, identifier: str, key: str) -> StatusQuery:
    """The query, or StatusInputError naming the first box to fix."""
    for box, value in (("caseCode", case_code), ("name", name), ("cardNum", identifier)):
        if not value.strip():
            raise StatusInputError(box, "请填写案号、姓名或名称、证件号码三项")
        if len(value) > MAX_INPUT:
            raise StatusInputError(box, f"输入过长（最多 {MAX_INPUT} 字）")
    try:
        canonical = normalize_case_code(case_code)
    except CaseCodeError as exc:
        raise StatusInputError("caseCode", exc.message) from exc
    try:
        kind, normalized = classify_identifier(identifier)
    except IdentifierError as exc:
        raise StatusInputError("cardNum", exc.message) from exc
    if kind in MASKED_KINDS:
        raise StatusInputError(
            "cardNum", "请填写完整的身份证号码：带星号的号码是公开的，不能证明您是当事人"
        )
    return StatusQuery(
        canonical,
        normalize_name(name),
        keyed_hash(key, normalized),
        masked_form(kind, normalized),
    )


def lookup(
    conn: Connection,
    query: StatusQuery,
    today: date,
    public_names: Mapping[str, str],
    now: datetime | None = None,
) -> list[DebtorStatus]:
    """The entries matching all three identifiers; an empty list for any mismatch."""
    rows = (
        conn.execute(
            select(
                entries.c.id,
                entries.c.status,
                entries.c.name_norm,
                entries.c.card_key,
                entries.c.card_display,
                entries.c.valid_until,
                entries.c.ever_public,
            ).where(entries.c.case_code == query.case_code)
        )
        .mappings()
        .all()
    )
    matched = [row for row in rows if _matches(row, query)]
    return [_status(conn, row, today, public_names, now) for row in matched]


def _matches(row: RowMapping, query: StatusQuery) -> bool:
    # Both comparisons always run: how far a comparison got must not show in the timing.
    name_ok = hmac.compare_digest((row["name_norm"] or "").encode(), query.name_norm.encode())
    status = Status(row["status"])
    if row["card_key"]:
        card_ok = hmac.compare_digest(row["card_key"].encode(), query.card_key.encode())
        acknowledged = ACKNOWLEDGED
    else:
        # Published masked: the masked form is all there is to compare, and anyone can make
        # up a full number with that mask. So such an entry answers only while it is public
        # anyway; once removed it reads like a mismatch, and its history stays private.
        masked = (query.card_masked or "").encode()
        shown = (row["card_display"] or "").encode()
        card_ok = bool(masked) and hmac.compare_digest(shown, masked)
        acknowledged = PUBLIC_STATUSES
    return name_ok and card_ok and bool(row["ever_public"]) and status in acknowledged


def _status(
    conn: Connection,
    row: RowMapping,
    today: date,
    public_names: Mapping[str, str],
    now: datetime | None,
) -> DebtorStatus:
    entry_id: str = row["id"]
    status = Status(row["status"])
    valid_until: date | None = row["valid_until"]
    public = status in PUBLIC_STATUSES
    period_over = public and valid_until is not None and valid_until < today
    events = journal.history(conn, entry_id)
    return DebtorStatus(
        status=status,
        entry_id=entry_id if public and not period_over else None,
        valid_until=valid_until if public else None,
        period_over=period_over,
        steps=[_step(event, public_names) for event in events],
        removals=compliance.entry_removals(conn, entry_id, now),
    )


def _step(event: StoredEvent, public_names: Mapping[str, str]) -> Step:
    if event.op != CORRECT:
        return Step(event.op, event.effective_at)
    changed = [public_names.get(k, k) for k in event.payload if k in public_names]
    changed += sorted(event.payload.get("fields", {}))
    return Step(event.op, event.effective_at, tuple(changed))
