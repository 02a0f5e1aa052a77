"""Tickets: numbers and access codes, the state machine, events and deadline rows.

Everything here works on a connection inside the caller's transaction; the concerns behind
CaseService (casework/intake.py, submitter_actions.py, unit_workflow.py, sweeps.py) decide
who may do what and open the transactions.

States: received → accepted | transferred | declined → replied → closed. A transferred
ticket waits for the new unit to accept it; the submitter may add information at any time
and may contest a reply, a decline or a closed ticket, which reopens it (state
``reopened``: the unit owes a new reply).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select, update

from casework.deadlines import Period, due_at
from casework.errors import InvalidTransition
from casework.tables import ticket_deadlines, ticket_events, tickets
from core.workdays import CST, WorkCalendar

# Crockford's base32: no I, L, O, U, so codes read aloud or retyped survive.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RANDOM = 6  # 32**6 ≈ 1.07e9 numbers per prefix and year: not enumerable
CODE_LENGTH = 12  # 60 bits
PREFIX = {"report": "JB", "complaint": "TS"}  # 举报, 投诉


class State(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    TRANSFERRED = "transferred"
    DECLINED = "declined"
    REPLIED = "replied"
    REOPENED = "reopened"
    CLOSED = "closed"


S = State
OPEN_STATES = frozenset({S.RECEIVED, S.TRANSFERRED, S.ACCEPTED, S.REOPENED})
# action: (states it may start from, the state it leads to; None keeps the state)
TRANSITIONS: dict[str, tuple[frozenset[State], State | None]] = {
    "accept": (frozenset({S.RECEIVED, S.TRANSFERRED}), S.ACCEPTED),
    "transfer": (OPEN_STATES, S.TRANSFERRED),
    "decline": (OPEN_STATES, S.DECLINED),
    "reply": (frozenset({S.ACCEPTED, S.REOPENED}), S.REPLIED),
    "close": (frozenset({S.REPLIED, S.DECLINED}), S.CLOSED),
    "contest": (frozenset({S.REPLIED, S.DECLINED, S.CLOSED}), S.REOPENED),
    "add_info": (frozenset(State), None),  # reopens when the ticket was answered
    "correction": (frozenset({S.REPLIED, S.CLOSED}), None),
    "note": (frozenset(State), None),
}
STATE_NAMES = {
    S.RECEIVED: "已收到",
    S.ACCEPTED: "已受理",
    S.TRANSFERRED: "已转办",
    S.DECLINED: "不予受理",
    S.REPLIED: "已答复",
    S.REOPENED: "重新办理",
    S.CLOSED: "已办结",
}
# What each kind of deadline is for, as pages and escalation notes name it (受理期限 …).
DEADLINE_NAMES = {"accept": "受理", "reply": "答复", "correct": "更正"}


def next_state(action: str, state: str) -> State:
    allowed, target = TRANSITIONS[action]
    current = State(state)
    if current not in allowed:
        raise InvalidTransition(f"当前状态（{STATE_NAMES[current]}）不能进行此操作")
    if action == "add_info" and current in (S.REPLIED, S.DECLINED, S.CLOSED):
        return S.REOPENED
    return target or current


def set_state(conn: Connection, ticket_id: int, new: str, now: datetime) -> None:
    """Move the ticket to ``new`` (a state ``next_state`` allowed); any state but closed
    clears the closing time, so a reopened ticket is open again."""
    values: dict[str, Any] = {"state": new, "updated_at": now}
    if new != State.CLOSED:
        values["closed_at"] = None
    conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(values))


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def new_number(kind: str, now: datetime) -> str:
    """``JB-2026-7QK2MX`` (report) or ``TS-2026-…`` (complaint); the year is CST's."""
    return f"{PREFIX[kind]}-{now.astimezone(CST).year}-{_random(NUMBER_RANDOM)}"


def new_access_code() -> str:
    raw = _random(CODE_LENGTH)
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(code: str) -> str:
    """What the submitter typed, as the canonical code: case, spaces, dashes and the
    letters Crockford maps (O→0, I/L→1) do not matter."""
    cleaned = "".join(code.split()).replace("-", "").upper()
    return cleaned.translate(str.maketrans("OIL", "011"))[:64]


def normalize_number(number: str) -> str:
    return "".join(number.split()).upper()[:32]


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def code_matches(stored_hash: str, code: str) -> bool:
    return hmac.compare_digest(stored_hash, code_hash(code))


def add_event(
    conn: Connection,
    ticket_id: int,
    at: datetime,
    action: str,
    *,
    actor_kind: str,
    actor_user_id: int | None = None,
    unit_code: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    public_message: str | None = None,
    internal_note: str | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    result = conn.execute(
        ticket_events.insert().values(
            ticket_id=ticket_id,
            at=at,
            actor_kind=actor_kind,
            actor_user_id=actor_user_id,
            unit_code=unit_code,
            action=action,
            from_state=from_state,
            to_state=to_state,
            public_message=public_message,
            internal_note=internal_note,
            data=data or {},
        )
    )
    return int(result.inserted_primary_key[0])


def open_deadline(
    conn: Connection,
    ticket_id: int,
    unit_code: str,
    kind: str,
    period: Period,
    start: datetime,
    calendar: WorkCalendar,
) -> datetime:
    due = due_at(start, period, calendar)
    conn.execute(
        ticket_deadlines.insert().values(
            ticket_id=ticket_id,
            unit_code=unit_code,
            kind=kind,
            period=str(period),
            started_at=start,
            due_at=due,
        )
    )
    return due


def settle_deadlines(
    conn: Connection, ticket_id: int, kinds: tuple[str, ...], at: datetime, *, met: bool
) -> int:
    """Mark the ticket's open deadlines of ``kinds`` met (the unit acted) or cancelled (the
    clock no longer applies, e.g. a reply clock after a transfer)."""
    column = "met_at" if met else "cancelled_at"
    return conn.execute(
        update(ticket_deadlines)
        .where(
            ticket_deadlines.c.ticket_id == ticket_id,
            ticket_deadlines.c.kind.in_(kinds),
            ticket_deadlines.c.met_at.is_(None),
            ticket_deadlines.c.cancelled_at.is_(None),
        )
        .values({column: at})
    ).rowcount


def open_deadlines(conn: Connection, ticket_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(ticket_deadlines)
        .where(
            ticket_deadlines.c.ticket_id == ticket_id,
            ticket_deadlines.c.met_at.is_(None),
            ticket_deadlines.c.cancelled_at.is_(None),
        )
        .order_by(ticket_deadlines.c.id)
    ).mappings()
    return [dict(r) for r in rows]
