"""Intake: a submitter's report or complaint becoming a ticket.

A Submission is checked in full before anything is written (fields, category, the named
list entry, evidence files); then one transaction spends the form's one-time key, routes the
ticket to its unit, draws its number, opens the acceptance clock, stores the files and
queues the notices. The Receipt, with the access code, is shown once: only the code's hash
is kept. The one-time keys of the forms and of solved proof-of-work challenges live in
core/once_keys.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from casework import telegram_links
from casework.case_context import CaseContext
from casework.errors import CaseworkError, InvalidInput
from casework.evidence import CheckedFile, Upload, check
from casework.notifications import notify_submitter, notify_unit
from casework.routing import ENTRY_COURT, MEASURE_UNIT, Category
from casework.tables import ticket_evidence, tickets
from casework.text_limits import MAX_SHORT, MAX_TEXT, check_text
from casework.tickets import State, add_event, code_hash, new_access_code, new_number, open_deadline
from core import once_keys
from search_index.entries import ever_public_entry

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# A form's one-time submission key is remembered this long (a double click, a re-post).
ONCE_KEY_LIFETIME = timedelta(hours=1)
_ONCE_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class AlreadySubmitted(CaseworkError):
    """The form with this one-time key was already filed (a double click or a re-post)."""

    status = 409

    def __init__(self) -> None:
        super().__init__("该表单已经提交过，未重复提交")


@dataclass(frozen=True, slots=True)
class Submission:
    kind: str  # report | complaint
    category: str  # a report category or complaint type code
    what: str  # what happened
    entry_id: str | None = None  # an entry of the site, or
    debtor_name: str | None = None  # a debtor not found on the site
    when: str | None = None
    where: str | None = None
    measure: str | None = None  # complaints routed to the unit applying a measure
    unit: str | None = None  # one of the category's units (default: its first)
    email: str | None = None
    telegram: str | None = None  # chat id, for callers that know it (the bot, the API)
    telegram_link: bool = False  # the receipt gets a t.me link that ties a chat to the ticket
    evidence: tuple[Upload, ...] = ()
    # A random key the form carries: a second submission with it files nothing
    # (AlreadySubmitted) for ONCE_KEY_LIFETIME.
    once_key: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """Shown once to the submitter: the access code is not stored anywhere."""

    ticket_id: int
    number: str
    access_code: str
    unit_code: str
    unit_name: str
    accept_due: datetime
    telegram_token: str | None = None  # for casework.telegram_links.deep_link; shown once too


def validate(ctx: CaseContext, sub: Submission) -> None:
    _check(ctx, sub)
    check(sub.evidence, ctx.evidence_policy)


def submit(ctx: CaseContext, sub: Submission) -> Receipt:
    category = _check(ctx, sub)
    files = check(sub.evidence, ctx.evidence_policy)
    now = ctx.now()
    code = new_access_code()
    with ctx.store.write() as conn:
        if sub.once_key is not None:
            _spend_once_key(conn, sub.once_key, now)
        entry = _entry(conn, sub.entry_id, category)
        unit_code = _route(ctx, category, sub, entry)
        values = {
            "code_hash": code_hash(code),
            "kind": sub.kind,
            "category": category.code,
            "measure": sub.measure,
            "unit_code": unit_code,
            "state": State.RECEIVED,
            "entry_id": entry["id"] if entry else None,
            "debtor_name": sub.debtor_name or (entry["name"] if entry else None),
            "court_name": entry["court_name"] if entry else None,
            "what": sub.what,
            "when_text": sub.when,
            "where_text": sub.where,
            "contact_email": sub.email,
            "contact_telegram": sub.telegram,
            "routing_version": ctx.routing.version,
            "received_at": now,
            "updated_at": now,
        }
        ticket_id, number = _insert(conn, sub.kind, values, now)
        due = open_deadline(
            conn, ticket_id, unit_code, "accept", category.deadlines.accept, now, ctx.calendar
        )
        unit_name = ctx.unit_name(unit_code)
        event_id = add_event(
            conn,
            ticket_id,
            now,
            "submit",
            actor_kind="submitter",
            unit_code=unit_code,
            to_state=State.RECEIVED,
            public_message=f"已收到，交由{unit_name}办理，"
            f"{category.deadlines.accept.chinese()}内受理（{due:%Y-%m-%d}前）",
        )
        attach_evidence(ctx, conn, ticket_id, event_id, files, now)
        token = telegram_links.new_link(conn, ticket_id, now) if sub.telegram_link else None
        row = {**values, "id": ticket_id, "number": number}
        notify_unit(ctx, conn, row, unit_code, "新事项待受理", now)
        notify_submitter(ctx, conn, row, "已收到", f"已交由{unit_name}办理。", now)
    return Receipt(ticket_id, number, code, unit_code, unit_name, due, token)


def already_submitted(ctx: CaseContext, once_key: str) -> bool:
    return once_keys.is_spent(ctx.store, once_keys.SUBMIT, once_key, ctx.now())


def spend_proof(ctx: CaseContext, key: str, expires_at: datetime, slack: timedelta) -> bool:
    return once_keys.spend(ctx.store, once_keys.ALTCHA, key, expires_at, slack=slack)


def attach_evidence(
    ctx: CaseContext,
    conn: Connection,
    ticket_id: int,
    event_id: int,
    files: list[CheckedFile] | tuple[CheckedFile, ...],
    now: datetime,
) -> None:
    """Store the files (synced to disk before this transaction commits) and record them
    with the event that brought them (a submission, or information the submitter added)."""
    if not files:
        return
    assert ctx.evidence_store is not None  # check() refuses files without a store
    for f in files:
        ctx.evidence_store.put(f)
        conn.execute(
            ticket_evidence.insert().values(
                ticket_id=ticket_id,
                event_id=event_id,
                uploaded_at=now,
                filename=f.filename,
                media_type=f.media_type,
                size=f.size,
                sha256=f.sha256,
            )
        )


def _check(ctx: CaseContext, sub: Submission) -> Category:
    """The submission's category, once every field is valid (InvalidInput otherwise)."""
    category = ctx.routing.category(sub.category)
    if sub.kind not in ("report", "complaint") or category is None or category.kind != sub.kind:
        raise InvalidInput("category", "请选择有效的类别")
    check_text(sub.what, "what", MAX_TEXT, required=True)
    for name in ("entry_id", "debtor_name", "when", "where", "measure", "unit"):
        check_text(getattr(sub, name), name, MAX_SHORT)
    if not (sub.entry_id or (sub.debtor_name and sub.debtor_name.strip())):
        raise InvalidInput("debtor_name", "请从名单中选择条目，或填写被执行人名称")
    if sub.email is not None and not _EMAIL.match(sub.email):
        raise InvalidInput("email", "电子邮箱格式不正确")
    if sub.telegram is not None and not telegram_links.CHAT_ID.match(sub.telegram):
        raise InvalidInput("telegram", "Telegram 会话编号格式不正确")
    if category.route == MEASURE_UNIT:
        measure = ctx.routing.category(sub.measure or "")
        if measure is None or measure.kind != "report":
            raise InvalidInput("measure", "请选择所涉及的惩戒措施")
    elif sub.measure is not None:
        raise InvalidInput("measure", "此类投诉无需选择惩戒措施")
    return category


def _spend_once_key(conn: Connection, key: str, now: datetime) -> None:
    """Remember a form's one-time key (core/once_keys.py), or raise AlreadySubmitted if
    it is known. Done first in the transaction: a concurrent double click waits on the
    primary key and then fails."""
    if not _ONCE_KEY.match(key):
        raise InvalidInput("once_key", "表单已失效，请刷新页面后重新填写")
    if not once_keys.spend_in(conn, once_keys.SUBMIT, key, now + ONCE_KEY_LIFETIME, now):
        raise AlreadySubmitted()


def _entry(conn: Connection, entry_id: str | None, category: Category) -> Any:
    """The list entry the submission names (the one way casework reads the list), or None."""
    if not entry_id:
        return None
    row = ever_public_entry(conn, entry_id)
    if row is None:  # never-public entries are answered like missing ones
        raise InvalidInput("entry_id", "未找到该条目")
    if category.requires_entry_status and row["status"] not in category.requires_entry_status:
        raise InvalidInput("entry_id", "该条目尚未屏蔽、撤销或删除，暂不能提出此项申请")
    return row


def _route(ctx: CaseContext, category: Category, sub: Submission, entry: Any) -> str:
    """The unit that receives the ticket: the entry's court, the measure's unit, the unit
    the submitter chose among the category's, or the category's receiving unit."""
    target = category
    if category.route == MEASURE_UNIT:
        target = ctx.routing.category(sub.measure or "")  # type: ignore[assignment]
    if target.route == ENTRY_COURT:
        if entry is not None and entry["court_name"]:
            return ctx.routing.court_unit(entry["court_name"])
        return ctx.routing.fallback_unit
    if sub.unit is not None:
        if sub.unit not in target.units:
            raise InvalidInput("unit", "所选单位不负责此类事项")
        return sub.unit
    assert target.receiving_unit is not None
    return target.receiving_unit


def _insert(conn: Connection, kind: str, values: dict[str, Any], now: datetime) -> tuple[int, str]:
    """Insert the ticket under a fresh random number: (its id, its number)."""
    for _ in range(5):  # a number collision (1 in 10^9) draws again
        number = new_number(kind, now)
        if conn.execute(select(tickets.c.id).where(tickets.c.number == number)).first():
            continue
        try:
            with conn.begin_nested():
                result = conn.execute(tickets.insert().values(number=number, **values))
        except IntegrityError:
            continue
        return int(result.inserted_primary_key[0]), number
    raise RuntimeError("could not draw a free ticket number")
