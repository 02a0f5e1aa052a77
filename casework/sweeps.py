"""The periodic sweeps: deadlines that ran out (flagged once, escalated to the unit's
supervisor, everyone notified) and evidence files no ticket refers to.

The portal's background loops run them through CaseService (portal/app.py); each is safe
to run again (a second run finds nothing new).
"""

from __future__ import annotations

from sqlalchemy import select, update

from casework.case_context import CaseContext
from casework.notifications import notify_submitter, notify_unit
from casework.tables import ticket_deadlines, ticket_evidence, tickets
from casework.tickets import DEADLINE_NAMES, add_event


def sweep_overdue(ctx: CaseContext) -> list[tuple[str, str, str | None]]:
    now = ctx.now()
    done: list[tuple[str, str, str | None]] = []
    with ctx.store.write() as conn:
        rows = (
            conn.execute(
                select(
                    ticket_deadlines,
                    tickets.c.number,
                    tickets.c.kind.label("ticket_kind"),
                    tickets.c.category,
                    tickets.c.contact_email,
                    tickets.c.contact_telegram,
                    tickets.c.state,
                )
                .join(tickets, tickets.c.id == ticket_deadlines.c.ticket_id)
                .where(
                    ticket_deadlines.c.met_at.is_(None),
                    ticket_deadlines.c.cancelled_at.is_(None),
                    ticket_deadlines.c.overdue_at.is_(None),
                    ticket_deadlines.c.due_at < now,
                )
                .order_by(ticket_deadlines.c.id)
            )
            .mappings()
            .all()
        )
        for d in rows:
            unit, supervisor = d["unit_code"], ctx.routing.supervisor_of(d["unit_code"])
            # overdue_at set once: the next sweep skips this deadline.
            conn.execute(
                update(ticket_deadlines)
                .where(ticket_deadlines.c.id == d["id"])
                .values(overdue_at=now, escalated_to=supervisor)
            )
            what = DEADLINE_NAMES[d["kind"]]
            sup_name = ctx.unit_name(supervisor) if supervisor else None
            text = f"{ctx.unit_name(unit)}超过{what}期限（{d['due_at']:%Y-%m-%d}）"
            text += f"，已报{sup_name}督办" if sup_name else ""
            add_event(
                conn,
                d["ticket_id"],
                now,
                "overdue",
                actor_kind="system",
                unit_code=unit,
                public_message=text,
                data={"deadline": d["kind"], "escalated_to": supervisor},
            )
            # What the notices read of the ticket (notifications.py).
            row = {
                "id": d["ticket_id"],
                "kind": d["ticket_kind"],
                **{k: d[k] for k in ("number", "category", "contact_email", "contact_telegram")},
            }
            notify_unit(ctx, conn, row, unit, f"已超过{what}期限", now)
            if supervisor:
                notify_unit(
                    ctx, conn, row, supervisor, f"{ctx.unit_name(unit)}超过{what}期限，请督办", now
                )
            notify_submitter(ctx, conn, row, "办理超期", text, now)
            done.append((d["number"], unit, supervisor))
    return done


def sweep_orphan_evidence(ctx: CaseContext) -> int:
    if ctx.evidence_store is None:
        return 0
    candidates = ctx.evidence_store.old_files()
    if not candidates:
        return 0
    with ctx.store.read() as conn:
        used = set(
            conn.execute(
                select(ticket_evidence.c.sha256).where(ticket_evidence.c.sha256.in_(candidates))
            ).scalars()
        )
    return ctx.evidence_store.remove_orphans(c for c in candidates if c not in used)
