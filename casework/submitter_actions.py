"""What a submitter does after filing, with the ticket number and access code: track the
ticket, add information or files, contest an answer.

A wrong code and an unknown number get the same answer (None from ``track``, NotFound from
the actions), after the same work: guessing tells nothing about which numbers exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from casework.case_context import CaseContext
from casework.errors import NotFound
from casework.evidence import CheckedFile, Upload, check
from casework.intake import attach_evidence
from casework.notifications import notify_unit
from casework.tables import tickets
from casework.text_limits import MAX_TEXT, check_text
from casework.ticket_views import TicketView, ticket_view
from casework.tickets import (
    State,
    add_event,
    code_matches,
    next_state,
    normalize_number,
    open_deadline,
    set_state,
    settle_deadlines,
)

_DUMMY_HASH = "0" * 64


def track(ctx: CaseContext, number: str, code: str) -> TicketView | None:
    with ctx.store.read() as conn:
        row = _by_code(conn, number, code)
        return None if row is None else ticket_view(ctx, conn, row, internal=False)


def add_info(
    ctx: CaseContext, number: str, code: str, text: str, evidence: tuple[Upload, ...] = ()
) -> TicketView:
    check_text(text, "text", MAX_TEXT, required=not evidence)
    files = check(evidence, ctx.evidence_policy)
    if not text.strip():
        text = f"补充了{len(files)}个文件"
    return _submitter_act(ctx, number, code, "add_info", text, tuple(files))


def contest(ctx: CaseContext, number: str, code: str, reason: str) -> TicketView:
    check_text(reason, "reason", MAX_TEXT, required=True)
    return _submitter_act(ctx, number, code, "contest", reason)


def _submitter_act(
    ctx: CaseContext,
    number: str,
    code: str,
    action: str,
    text: str,
    files: tuple[CheckedFile, ...] = (),
) -> TicketView:
    """Record the submitter's action; one that reopens an answered ticket cancels its
    correction clock and gives the unit a new reply clock."""
    now = ctx.now()
    with ctx.store.write() as conn:
        row = _by_code(conn, number, code)
        if row is None:
            raise NotFound()
        new = next_state(action, row["state"])
        reopened = new == State.REOPENED and row["state"] != State.REOPENED
        set_state(conn, row["id"], new, now)
        event_id = add_event(
            conn,
            row["id"],
            now,
            action,
            actor_kind="submitter",
            unit_code=row["unit_code"],
            from_state=row["state"],
            to_state=new,
            public_message=text,
        )
        attach_evidence(ctx, conn, row["id"], event_id, files, now)
        if reopened:
            category = ctx.category_of(row)
            settle_deadlines(conn, row["id"], ("correct",), now, met=False)
            open_deadline(
                conn,
                row["id"],
                row["unit_code"],
                "reply",
                category.deadlines.reply,
                now,
                ctx.calendar,
            )
        headline = "提交人提出异议，已重新办理" if action == "contest" else "提交人补充了材料"
        if reopened and action == "add_info":
            headline += "，已重新办理"
        notify_unit(ctx, conn, row, row["unit_code"], headline, now)
        return ticket_view(ctx, conn, {**row, "state": new}, internal=False)


def _by_code(conn: Connection, number: str, code: str) -> dict[str, Any] | None:
    """The ticket with this number, if the code is its access code."""
    row = (
        conn.execute(select(tickets).where(tickets.c.number == normalize_number(number)))
        .mappings()
        .first()
    )
    # Compare against a dummy hash for unknown numbers, so both take the same path.
    ok = code_matches(row["code_hash"] if row else _DUMMY_HASH, code or "")
    return dict(row) if row is not None and ok else None
