"""Who hears of a change to a ticket: the notices queued in the outbox for the submitter's
contacts and for a unit, inside the transaction that made the change (so a rolled-back change
notifies nobody). The texts are casework/notice_texts.py's; delivery is the outbox's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from casework import notice_texts, outbox
from casework.case_context import CaseContext
from casework.units import unit_email


def notify_submitter(
    ctx: CaseContext,
    conn: Connection,
    row: dict[str, Any],
    headline: str,
    message: str | None,
    now: datetime,
) -> None:
    """To every contact the submitter left on the ticket (email, Telegram); none if none."""
    subject, body = notice_texts.to_submitter(
        row["number"], headline, message, public_url=ctx.public_url
    )
    if row.get("contact_email"):
        outbox.enqueue(conn, now, "email", row["contact_email"], subject, body, row["id"])
    if row.get("contact_telegram"):
        outbox.enqueue(conn, now, "telegram", row["contact_telegram"], subject, body, row["id"])


def notify_unit(
    ctx: CaseContext,
    conn: Connection,
    row: dict[str, Any],
    unit_code: str,
    headline: str,
    now: datetime,
) -> None:
    """To the unit's email address, or to its back office when it has none."""
    category = ctx.routing.category(row["category"])
    subject, body = notice_texts.to_unit(
        row["number"],
        row["kind"],
        category.name if category else row["category"],
        headline,
        ticket_id=row["id"],
        public_url=ctx.public_url,
    )
    email = unit_email(conn, unit_code)
    channel, recipient = ("email", email) if email else ("unit", unit_code)
    outbox.enqueue(conn, now, channel, recipient, subject, body, row["id"])
