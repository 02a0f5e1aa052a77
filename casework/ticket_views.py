"""What a ticket looks like from outside casework: TicketView with its timeline, open
deadlines and evidence files, in two cuts.

The public view (the submitter, /track) carries only public messages and no contact details
or staff names; the internal view (the ticket's unit and its supervisor) carries everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from casework.case_context import CaseContext
from casework.tables import case_users, ticket_events, ticket_evidence
from casework.tickets import STATE_NAMES, State, open_deadlines


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    action: str
    state: str | None
    unit_code: str | None
    message: str | None  # public: the submitter and /track see it
    note: str | None = None  # internal: units only (always None in the public view)
    actor_kind: str = "system"
    actor_login: str | None = None  # the unit user who acted: internal view only
    actor_name: str | None = None


@dataclass(frozen=True, slots=True)
class EvidenceView:
    """A file sent with the ticket. filename is the submitter's, display-only (escape it)."""

    id: int
    filename: str
    media_type: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class DeadlineView:
    kind: str  # accept | reply | correct
    unit_code: str
    period: str
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class TicketView:
    id: int
    number: str
    kind: str
    category: str
    category_name: str
    measure: str | None
    state: str
    state_name: str
    unit_code: str
    unit_name: str
    entry_id: str | None
    debtor_name: str | None
    court_name: str | None
    what: str
    when: str | None
    where: str | None
    received_at: datetime
    deadlines: list[DeadlineView]
    timeline: list[TimelineItem]
    contact_email: str | None = None  # units only; None in the public view
    contact_telegram: str | None = None
    note: str = field(default="")  # the routing file's note for this category
    evidence: list[EvidenceView] = field(default_factory=list)


def ticket_view(
    ctx: CaseContext, conn: Connection, row: dict[str, Any], *, internal: bool
) -> TicketView:
    """The ticket of ``row`` (a ``tickets`` row) as its unit (``internal``) or the public
    sees it."""
    events = (
        conn.execute(
            select(
                ticket_events,
                case_users.c.login.label("actor_login"),
                case_users.c.display_name.label("actor_name"),
            )
            .select_from(
                ticket_events.outerjoin(
                    case_users, case_users.c.id == ticket_events.c.actor_user_id
                )
            )
            .where(ticket_events.c.ticket_id == row["id"])
            .order_by(ticket_events.c.at, ticket_events.c.id)
        )
        .mappings()
        .all()
    )
    # Staff names are for the audit trail: the public view never carries them.
    timeline = [
        TimelineItem(
            e["at"],
            e["action"],
            e["to_state"],
            e["unit_code"],
            e["public_message"],
            e["internal_note"] if internal else None,
            e["actor_kind"],
            e["actor_login"] if internal else None,
            e["actor_name"] if internal else None,
        )
        for e in events
        if internal or e["public_message"]
    ]
    evidence = [
        evidence_view(f)
        for f in conn.execute(
            select(ticket_evidence)
            .where(ticket_evidence.c.ticket_id == row["id"])
            .order_by(ticket_evidence.c.id)
        ).mappings()
    ]
    now = ctx.now()
    deadlines = [
        DeadlineView(d["kind"], d["unit_code"], d["period"], d["due_at"], d["due_at"] < now)
        for d in open_deadlines(conn, row["id"])
    ]
    category = ctx.routing.category(row["category"])
    return TicketView(
        id=row["id"],
        number=row["number"],
        kind=row["kind"],
        category=row["category"],
        category_name=category.name if category else row["category"],
        measure=row["measure"],
        state=row["state"],
        state_name=STATE_NAMES[State(row["state"])],
        unit_code=row["unit_code"],
        unit_name=ctx.unit_name(row["unit_code"]),
        entry_id=row["entry_id"],
        debtor_name=row["debtor_name"],
        court_name=row["court_name"],
        what=row["what"],
        when=row["when_text"],
        where=row["where_text"],
        received_at=row["received_at"],
        deadlines=deadlines,
        timeline=timeline,
        contact_email=row["contact_email"] if internal else None,
        contact_telegram=row["contact_telegram"] if internal else None,
        note=category.note if category else "",
        evidence=evidence,
    )


def evidence_view(row: Any) -> EvidenceView:
    """A ``ticket_evidence`` row as the views show it (never its hash)."""
    return EvidenceView(
        row["id"], row["filename"], row["media_type"], row["size"], row["uploaded_at"]
    )
