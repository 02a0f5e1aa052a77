"""The unit workflow: what a unit, acting through an Actor (casework/accounts.py), sees of its
tickets and does with them (accept, transfer, decline, reply, record a correction, close,
add an internal note).

A unit sees and acts on its own tickets only; any other ticket id is NotFound, exactly like
one that does not exist. A supervising unit may read (and annotate) the tickets escalated
to it, but not act on them. Every action writes its state, its event, its deadline rows and
its notices in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, exists, select, update

from casework.accounts import Actor
from casework.case_context import CaseContext
from casework.errors import InvalidInput, InvalidTransition, NotFound
from casework.notifications import notify_submitter, notify_unit
from casework.tables import ticket_deadlines, ticket_evidence, tickets
from casework.text_limits import MAX_TEXT, check_text
from casework.ticket_views import EvidenceView, TicketView, evidence_view, ticket_view
from casework.tickets import (
    OPEN_STATES,
    add_event,
    next_state,
    open_deadline,
    set_state,
    settle_deadlines,
)

# What an action does besides its state change and event, inside the same transaction:
# called with the connection, the ticket row as it was before, and the time.
After = Callable[[Connection, dict[str, Any], datetime], None]

# --- reading --------------------------------------------------------------------------


def queue(ctx: CaseContext, actor: Actor, states: set[str] | None = None) -> list[TicketView]:
    wanted = states or set(OPEN_STATES)
    with ctx.store.read() as conn:
        rows = (
            conn.execute(
                select(tickets)
                .where(tickets.c.unit_code == actor.unit_code, tickets.c.state.in_(wanted))
                .order_by(tickets.c.received_at, tickets.c.id)
            )
            .mappings()
            .all()
        )
        return [ticket_view(ctx, conn, dict(r), internal=True) for r in rows]


def escalated(ctx: CaseContext, actor: Actor) -> list[TicketView]:
    with ctx.store.read() as conn:
        rows = (
            conn.execute(
                select(tickets)
                .where(
                    exists().where(
                        ticket_deadlines.c.ticket_id == tickets.c.id,
                        ticket_deadlines.c.escalated_to == actor.unit_code,
                    )
                )
                .order_by(tickets.c.received_at)
            )
            .mappings()
            .all()
        )
        return [ticket_view(ctx, conn, dict(r), internal=True) for r in rows]


def ticket(ctx: CaseContext, actor: Actor, ticket_id: int) -> TicketView:
    with ctx.store.read() as conn:
        row = _for_actor(conn, actor, ticket_id, acting=False)
        return ticket_view(ctx, conn, row, internal=True)


def evidence_file(
    ctx: CaseContext, actor: Actor, ticket_id: int, evidence_id: int
) -> tuple[EvidenceView, Path]:
    with ctx.store.read() as conn:
        _for_actor(conn, actor, ticket_id, acting=False)
        row = (
            conn.execute(
                select(ticket_evidence).where(
                    ticket_evidence.c.id == evidence_id,
                    ticket_evidence.c.ticket_id == ticket_id,
                )
            )
            .mappings()
            .first()
        )
    if row is None or ctx.evidence_store is None:
        raise NotFound()
    try:
        path = ctx.evidence_store.open(row["sha256"])
    except FileNotFoundError:  # lost from disk (a restore without DATA_DIR/evidence)
        raise NotFound("文件已不在服务器上") from None
    return evidence_view(row), path


# --- acting ---------------------------------------------------------------------------


def accept(ctx: CaseContext, actor: Actor, ticket_id: int, message: str | None) -> TicketView:
    def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
        settle_deadlines(conn, ticket_id, ("accept",), now, met=True)
        due = open_deadline(
            conn,
            ticket_id,
            row["unit_code"],
            "reply",
            ctx.category_of(row).deadlines.reply,
            now,
            ctx.calendar,
        )
        notify_submitter(
            ctx,
            conn,
            row,
            "已受理",
            f"{ctx.unit_name(row['unit_code'])}已受理，将于{due:%Y-%m-%d}前答复。",
            now,
        )

    return _act(ctx, actor, ticket_id, "accept", message or "已受理", None, after)


def transfer(
    ctx: CaseContext, actor: Actor, ticket_id: int, to_unit: str, reason: str, note: str | None
) -> TicketView:
    check_text(reason, "reason", MAX_TEXT, required=True)
    target = ctx.routing.unit(to_unit)
    if target is None or to_unit == actor.unit_code:
        raise InvalidInput("to_unit", "请选择路由文件中的另一个单位")
    from_name = ctx.unit_name(actor.unit_code)

    def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
        # Settled, not deleted: this unit's clocks stay on its accountability record.
        settle_deadlines(conn, ticket_id, ("accept",), now, met=True)
        settle_deadlines(conn, ticket_id, ("reply", "correct"), now, met=False)
        conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(unit_code=to_unit))
        open_deadline(
            conn,
            ticket_id,
            to_unit,
            "accept",
            ctx.category_of(row).deadlines.accept,
            now,
            ctx.calendar,
        )
        notify_unit(ctx, conn, row, to_unit, f"{from_name}转来新事项待受理", now)
        notify_submitter(ctx, conn, row, f"已转交{target.name}", reason, now)

    message = f"{from_name}转交{target.name}办理。理由：{reason}"
    return _act(ctx, actor, ticket_id, "transfer", message, note, after, {"to": to_unit})


def decline(
    ctx: CaseContext, actor: Actor, ticket_id: int, reason: str, note: str | None
) -> TicketView:
    check_text(reason, "reason", MAX_TEXT, required=True)

    def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
        settle_deadlines(conn, ticket_id, ("accept", "reply"), now, met=True)
        notify_submitter(ctx, conn, row, "不予受理", reason, now)

    return _act(ctx, actor, ticket_id, "decline", f"不予受理。理由：{reason}", note, after)


def reply(
    ctx: CaseContext,
    actor: Actor,
    ticket_id: int,
    message: str,
    *,
    upheld: bool | None,
    note: str | None,
) -> TicketView:
    check_text(message, "message", MAX_TEXT, required=True)

    def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
        settle_deadlines(conn, ticket_id, ("reply",), now, met=True)
        correct = ctx.category_of(row).deadlines.correct
        extra = ""
        if upheld and correct is not None:
            due = open_deadline(
                conn, ticket_id, row["unit_code"], "correct", correct, now, ctx.calendar
            )
            extra = f"\n\n理由成立，将于{due:%Y-%m-%d}前完成更正、屏蔽或撤销。"
        notify_submitter(ctx, conn, row, "已答复", message + extra, now)

    return _act(ctx, actor, ticket_id, "reply", message, note, after, {"upheld": upheld})


def record_correction(ctx: CaseContext, actor: Actor, ticket_id: int, message: str) -> TicketView:
    check_text(message, "message", MAX_TEXT, required=True)

    def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
        if not settle_deadlines(conn, ticket_id, ("correct",), now, met=True):
            raise InvalidTransition("没有待完成的更正")
        notify_submitter(ctx, conn, row, "已完成更正", message, now)

    return _act(ctx, actor, ticket_id, "correction", message, None, after)


def close(ctx: CaseContext, actor: Actor, ticket_id: int, message: str | None) -> TicketView:
    def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
        conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(closed_at=now))
        notify_submitter(ctx, conn, row, "已办结", message, now)

    return _act(ctx, actor, ticket_id, "close", message or "已办结", None, after)


def note(ctx: CaseContext, actor: Actor, ticket_id: int, text: str) -> TicketView:
    check_text(text, "text", MAX_TEXT, required=True)
    now = ctx.now()
    with ctx.store.write() as conn:
        row = _for_actor(conn, actor, ticket_id, acting=False)
        add_event(
            conn,
            ticket_id,
            now,
            "note",
            actor_kind="unit",
            actor_user_id=actor.user_id,
            unit_code=actor.unit_code,
            internal_note=text,
        )
        return ticket_view(ctx, conn, row, internal=True)


def _act(
    ctx: CaseContext,
    actor: Actor,
    ticket_id: int,
    action: str,
    public_message: str | None,
    note: str | None,
    after: After,
    data: dict[str, Any] | None = None,
) -> TicketView:
    """The frame of every unit action: the actor's own ticket, a state the action may start
    from, the state change and its event, then ``after``; the ticket as it is now."""
    check_text(note, "note", MAX_TEXT)
    now = ctx.now()
    with ctx.store.write() as conn:
        row = _for_actor(conn, actor, ticket_id, acting=True)
        new = next_state(action, row["state"])
        set_state(conn, ticket_id, new, now)
        add_event(
            conn,
            ticket_id,
            now,
            action,
            actor_kind="unit",
            actor_user_id=actor.user_id,
            unit_code=actor.unit_code,
            from_state=row["state"],
            to_state=new,
            public_message=public_message,
            internal_note=note,
            data=data,
        )
        after(conn, row, now)
        fresh = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().one()
        return ticket_view(ctx, conn, dict(fresh), internal=True)


def _for_actor(conn: Connection, actor: Actor, ticket_id: int, *, acting: bool) -> dict[str, Any]:
    """The ticket if it is the actor's unit's, or (``acting=False``: reading, notes) one
    escalated to it; NotFound otherwise."""
    row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
    if row is None:
        raise NotFound()
    if row["unit_code"] == actor.unit_code:
        return dict(row)
    if not acting:
        supervised = conn.execute(
            select(ticket_deadlines.c.id).where(
                ticket_deadlines.c.ticket_id == ticket_id,
                ticket_deadlines.c.escalated_to == actor.unit_code,
            )
        ).first()
        if supervised:
            return dict(row)
    raise NotFound()  # another unit's ticket looks exactly like a missing one
