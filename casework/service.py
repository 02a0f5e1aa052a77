"""CaseService: the one entry point for complaints and reports (views and bot call this).

- Submitters act with the ticket number and access code; a wrong code and an unknown number
  get the same answer (None, or NotFound).
- Units act through an Actor (casework.accounts). A unit sees and acts on its own tickets
  only; any other ticket id is NotFound, exactly like one that does not exist. A
  supervising unit may read (and annotate) tickets escalated to it.
- Every change writes its event, deadline rows and outbox notifications in one transaction.
- Evidence files (casework/evidence.py) are checked by content before anything is written
  and stored, by hash, inside the transaction that records them; only a unit that may see
  the ticket can fetch them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, exists, select, update
from sqlalchemy.exc import IntegrityError

from casework import notice_texts, outbox, telegram_links
from casework.accounts import Actor
from casework.errors import CaseworkError, InvalidInput, InvalidTransition, NotFound
from casework.evidence import CheckedFile, EvidencePolicy, EvidenceStore, Upload, check
from casework.routing import ENTRY_COURT, MEASURE_UNIT, Category, Routing
from casework.routing_store import in_force, newer
from casework.stats import UnitStats, accountability
from casework.tables import case_users, ticket_deadlines, ticket_events, ticket_evidence, tickets
from casework.tickets import (
    OPEN_STATES,
    STATE_NAMES,
    State,
    add_event,
    code_hash,
    code_matches,
    new_access_code,
    new_number,
    next_state,
    normalize_number,
    open_deadline,
    open_deadlines,
    settle_deadlines,
)
from casework.units import unit_email
from core import once_keys
from core.db import Store
from core.settings import Settings
from core.workdays import WorkCalendar, default_calendar
from search_index.entries import ever_public_entry

MAX_TEXT = 5000
MAX_SHORT = 500
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_CHAT_ID = re.compile(r"^-?\d{1,20}$")
_DUMMY_HASH = "0" * 64
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


class CaseService:
    def __init__(
        self,
        store: Store,
        routing: Routing,
        calendar: WorkCalendar,
        clock: Callable[[], datetime] | None = None,
        *,
        evidence_store: EvidenceStore | None = None,
        evidence_policy: EvidencePolicy | None = None,
        public_url: str | None = None,
    ) -> None:
        self.store = store
        # SHIXIN_PUBLIC_URL: notifications link to the page they talk about (notice_texts.py).
        self.public_url = public_url
        self.routing = routing
        self.calendar = calendar
        self._clock = clock or (lambda: datetime.now(UTC))
        # Without a store (some tests), files are refused like over the limit of 0.
        self.evidence_store = evidence_store
        self.evidence_policy = (
            (evidence_policy or EvidencePolicy()) if evidence_store else EvidencePolicy(0, 0)
        )

    @classmethod
    def from_settings(cls, settings: Settings, store: Store | None = None) -> CaseService:
        store = store or Store(settings.database_url)
        return cls(
            store,
            in_force(store, settings.routing_file),  # an installed file wins over the settings
            default_calendar(settings.holidays_file),
            evidence_store=EvidenceStore.from_settings(settings),
            evidence_policy=EvidencePolicy.from_settings(settings),
            public_url=settings.public_url,
        )

    def now(self) -> datetime:
        return self._clock()

    def refresh_routing(self) -> bool:
        """Switch to the routing file an administrator installed last, if it is not the one
        in use (every worker checks now and then, see portal/app.py); True if it switched.
        Tickets keep the routing version they were filed under."""
        fresh = newer(self.store, self.routing)
        if fresh is None:
            return False
        self.routing = fresh
        return True

    # --- submitters -------------------------------------------------------------------

    def validate(self, sub: Submission) -> None:
        """The checks of ``submit`` that need no database (fields, category, evidence files):
        the portal runs them before it spends the submitter's proof of work on a typo."""
        self._check(sub)
        check(sub.evidence, self.evidence_policy)

    def submit(self, sub: Submission) -> Receipt:
        """File a ticket. Raises InvalidInput (nothing filed, no file kept) or
        AlreadySubmitted when ``sub.once_key`` was used within the last hour."""
        category = self._check(sub)
        files = check(sub.evidence, self.evidence_policy)
        now = self.now()
        code = new_access_code()
        with self.store.write() as conn:
            if sub.once_key is not None:
                self._spend_once_key(conn, sub.once_key, now)
            entry = self._entry(conn, sub.entry_id, category)
            unit_code = self._route(category, sub, entry)
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
                "routing_version": self.routing.version,
                "received_at": now,
                "updated_at": now,
            }
            ticket_id, number = self._insert(conn, sub.kind, values, now)
            due = open_deadline(
                conn, ticket_id, unit_code, "accept", category.deadlines.accept, now, self.calendar
            )
            unit_name = self._unit_name(unit_code)
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
            self._attach(conn, ticket_id, event_id, files, now)
            token = telegram_links.new_link(conn, ticket_id, now) if sub.telegram_link else None
            row = {**values, "id": ticket_id, "number": number}
            self._notify_unit(conn, row, unit_code, "新事项待受理", now)
            self._notify_submitter(conn, row, "已收到", f"已交由{unit_name}办理。", now)
        return Receipt(ticket_id, number, code, unit_code, unit_name, due, token)

    def already_submitted(self, once_key: str) -> bool:
        """Whether a form with this one-time key was filed within the last hour (checked
        before costlier checks, so a double click lands on the receipt)."""
        return once_keys.is_spent(self.store, once_keys.SUBMIT, once_key, self.now())

    def spend_proof(self, key: str, expires_at: datetime, slack: timedelta) -> bool:
        """Record a solved proof-of-work challenge (portal/altcha.py) as used until
        ``expires_at`` plus ``slack``: True the first time, False if it already was."""
        return once_keys.spend(self.store, once_keys.ALTCHA, key, expires_at, slack=slack)

    def track(self, number: str, code: str) -> TicketView | None:
        """The public view of a ticket; None for an unknown number or a wrong code alike."""
        with self.store.read() as conn:
            row = self._by_code(conn, number, code)
            return None if row is None else self._view(conn, row, internal=False)

    def add_info(
        self, number: str, code: str, text: str, evidence: tuple[Upload, ...] = ()
    ) -> TicketView:
        """The submitter adds information (text, files or both); on an answered ticket this
        reopens it."""
        _text(text, "text", MAX_TEXT, required=not evidence)
        files = check(evidence, self.evidence_policy)
        if not text.strip():
            text = f"补充了{len(files)}个文件"
        return self._submitter_act(number, code, "add_info", text, tuple(files))

    def contest(self, number: str, code: str, reason: str) -> TicketView:
        """The submitter contests a reply or decline: the unit owes a new reply."""
        _text(reason, "reason", MAX_TEXT, required=True)
        return self._submitter_act(number, code, "contest", reason)

    def _submitter_act(
        self, number: str, code: str, action: str, text: str, files: tuple[CheckedFile, ...] = ()
    ) -> TicketView:
        now = self.now()
        with self.store.write() as conn:
            row = self._by_code(conn, number, code)
            if row is None:
                raise NotFound()
            new = next_state(action, row["state"])
            reopened = new == State.REOPENED and row["state"] != State.REOPENED
            self._set_state(conn, row, new, now)
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
            self._attach(conn, row["id"], event_id, files, now)
            if reopened:
                category = self._category(row)
                settle_deadlines(conn, row["id"], ("correct",), now, met=False)
                open_deadline(
                    conn,
                    row["id"],
                    row["unit_code"],
                    "reply",
                    category.deadlines.reply,
                    now,
                    self.calendar,
                )
            headline = "提交人提出异议，已重新办理" if action == "contest" else "提交人补充了材料"
            if reopened and action == "add_info":
                headline += "，已重新办理"
            self._notify_unit(conn, row, row["unit_code"], headline, now)
            return self._view(conn, {**row, "state": new}, internal=False)

    # --- units --------------------------------------------------------------------------

    def queue(self, actor: Actor, states: set[str] | None = None) -> list[TicketView]:
        """The actor's unit's tickets, oldest first (open ones by default)."""
        wanted = states or set(OPEN_STATES)
        with self.store.read() as conn:
            rows = (
                conn.execute(
                    select(tickets)
                    .where(tickets.c.unit_code == actor.unit_code, tickets.c.state.in_(wanted))
                    .order_by(tickets.c.received_at, tickets.c.id)
                )
                .mappings()
                .all()
            )
            return [self._view(conn, dict(r), internal=True) for r in rows]

    def escalated(self, actor: Actor) -> list[TicketView]:
        """Tickets of other units escalated to the actor's unit as their supervisor."""
        with self.store.read() as conn:
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
            return [self._view(conn, dict(r), internal=True) for r in rows]

    def ticket(self, actor: Actor, ticket_id: int) -> TicketView:
        with self.store.read() as conn:
            row = self._for_actor(conn, actor, ticket_id, acting=False)
            return self._view(conn, row, internal=True)

    def evidence_file(
        self, actor: Actor, ticket_id: int, evidence_id: int
    ) -> tuple[EvidenceView, Path]:
        """A file of a ticket the actor may see (as ``ticket()``). Another ticket's or
        unit's file id is NotFound, exactly like one that does not exist."""
        with self.store.read() as conn:
            self._for_actor(conn, actor, ticket_id, acting=False)
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
        if row is None or self.evidence_store is None:
            raise NotFound()
        try:
            path = self.evidence_store.open(row["sha256"])
        except FileNotFoundError:  # lost from disk (a restore without DATA_DIR/evidence)
            raise NotFound("文件已不在服务器上") from None
        return _evidence_view(row), path

    def sweep_orphan_evidence(self) -> int:
        """Delete evidence files no ticket refers to (left by submissions whose transaction
        failed after the file was written) once they are a day old; how many went."""
        if self.evidence_store is None:
            return 0
        candidates = self.evidence_store.old_files()
        if not candidates:
            return 0
        with self.store.read() as conn:
            used = set(
                conn.execute(
                    select(ticket_evidence.c.sha256).where(ticket_evidence.c.sha256.in_(candidates))
                ).scalars()
            )
        return self.evidence_store.remove_orphans(c for c in candidates if c not in used)

    def accept(self, actor: Actor, ticket_id: int, message: str | None = None) -> TicketView:
        def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
            settle_deadlines(conn, ticket_id, ("accept",), now, met=True)
            due = open_deadline(
                conn,
                ticket_id,
                row["unit_code"],
                "reply",
                self._category(row).deadlines.reply,
                now,
                self.calendar,
            )
            self._notify_submitter(
                conn,
                row,
                "已受理",
                f"{self._unit_name(row['unit_code'])}已受理，将于{due:%Y-%m-%d}前答复。",
                now,
            )

        return self._act(actor, ticket_id, "accept", message or "已受理", None, after)

    def transfer(
        self, actor: Actor, ticket_id: int, to_unit: str, reason: str, note: str | None = None
    ) -> TicketView:
        """Send the ticket to another unit, with a public reason. The new unit's acceptance
        clock starts now; this unit's deadlines stay on its record."""
        _text(reason, "reason", MAX_TEXT, required=True)
        target = self.routing.unit(to_unit)
        if target is None or to_unit == actor.unit_code:
            raise InvalidInput("to_unit", "请选择路由文件中的另一个单位")
        from_name = self._unit_name(actor.unit_code)

        def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
            settle_deadlines(conn, ticket_id, ("accept",), now, met=True)
            settle_deadlines(conn, ticket_id, ("reply", "correct"), now, met=False)
            conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(unit_code=to_unit))
            open_deadline(
                conn,
                ticket_id,
                to_unit,
                "accept",
                self._category(row).deadlines.accept,
                now,
                self.calendar,
            )
            self._notify_unit(conn, row, to_unit, f"{from_name}转来新事项待受理", now)
            self._notify_submitter(conn, row, f"已转交{target.name}", reason, now)

        message = f"{from_name}转交{target.name}办理。理由：{reason}"
        return self._act(actor, ticket_id, "transfer", message, note, after, {"to": to_unit})

    def decline(
        self, actor: Actor, ticket_id: int, reason: str, note: str | None = None
    ) -> TicketView:
        """Outside this unit's remit: a public reason is required."""
        _text(reason, "reason", MAX_TEXT, required=True)

        def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
            settle_deadlines(conn, ticket_id, ("accept", "reply"), now, met=True)
            self._notify_submitter(conn, row, "不予受理", reason, now)

        return self._act(actor, ticket_id, "decline", f"不予受理。理由：{reason}", note, after)

    def reply(
        self,
        actor: Actor,
        ticket_id: int,
        message: str,
        *,
        upheld: bool | None = None,
        note: str | None = None,
    ) -> TicketView:
        """The unit's answer. For a complaint with a correction period, ``upheld=True``
        starts the correction clock (e.g. 3 working days to correct or revoke)."""
        _text(message, "message", MAX_TEXT, required=True)

        def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
            settle_deadlines(conn, ticket_id, ("reply",), now, met=True)
            correct = self._category(row).deadlines.correct
            extra = ""
            if upheld and correct is not None:
                due = open_deadline(
                    conn, ticket_id, row["unit_code"], "correct", correct, now, self.calendar
                )
                extra = f"\n\n理由成立，将于{due:%Y-%m-%d}前完成更正、屏蔽或撤销。"
            self._notify_submitter(conn, row, "已答复", message + extra, now)

        return self._act(actor, ticket_id, "reply", message, note, after, {"upheld": upheld})

    def record_correction(self, actor: Actor, ticket_id: int, message: str) -> TicketView:
        """The correction, removal or lifting of a measure promised in an upheld reply is done."""
        _text(message, "message", MAX_TEXT, required=True)

        def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
            if not settle_deadlines(conn, ticket_id, ("correct",), now, met=True):
                raise InvalidTransition("没有待完成的更正")
            self._notify_submitter(conn, row, "已完成更正", message, now)

        return self._act(actor, ticket_id, "correction", message, None, after)

    def close(self, actor: Actor, ticket_id: int, message: str | None = None) -> TicketView:
        def after(conn: Connection, row: dict[str, Any], now: datetime) -> None:
            conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(closed_at=now))
            self._notify_submitter(conn, row, "已办结", message, now)

        return self._act(actor, ticket_id, "close", message or "已办结", None, after)

    def note(self, actor: Actor, ticket_id: int, text: str) -> TicketView:
        """An internal note (never shown to the submitter); supervisors may add one too."""
        _text(text, "text", MAX_TEXT, required=True)
        now = self.now()
        with self.store.write() as conn:
            row = self._for_actor(conn, actor, ticket_id, acting=False)
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
            return self._view(conn, row, internal=True)

    def _act(
        self,
        actor: Actor,
        ticket_id: int,
        action: str,
        public_message: str | None,
        note: str | None,
        after: Callable[[Connection, dict[str, Any], datetime], None],
        data: dict[str, Any] | None = None,
    ) -> TicketView:
        _text(note, "note", MAX_TEXT)
        now = self.now()
        with self.store.write() as conn:
            row = self._for_actor(conn, actor, ticket_id, acting=True)
            new = next_state(action, row["state"])
            self._set_state(conn, row, new, now)
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
            return self._view(conn, dict(fresh), internal=True)

    # --- deadlines and accountability ----------------------------------------------------

    def sweep_overdue(self) -> list[tuple[str, str, str | None]]:
        """Flag every deadline now past, once: an event on the ticket, escalation to the
        unit's supervisor, notifications. Returns (ticket number, unit, supervisor)."""
        now = self.now()
        done: list[tuple[str, str, str | None]] = []
        with self.store.write() as conn:
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
                unit, supervisor = d["unit_code"], self.routing.supervisor_of(d["unit_code"])
                conn.execute(
                    update(ticket_deadlines)
                    .where(ticket_deadlines.c.id == d["id"])
                    .values(overdue_at=now, escalated_to=supervisor)
                )
                what = {"accept": "受理", "reply": "答复", "correct": "更正"}[d["kind"]]
                sup_name = self._unit_name(supervisor) if supervisor else None
                text = f"{self._unit_name(unit)}超过{what}期限（{d['due_at']:%Y-%m-%d}）"
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
                row = {
                    "id": d["ticket_id"],
                    "kind": d["ticket_kind"],
                    **{
                        k: d[k] for k in ("number", "category", "contact_email", "contact_telegram")
                    },
                }
                self._notify_unit(conn, row, unit, f"已超过{what}期限", now)
                if supervisor:
                    self._notify_unit(
                        conn, row, supervisor, f"{self._unit_name(unit)}超过{what}期限，请督办", now
                    )
                self._notify_submitter(conn, row, "办理超期", text, now)
                done.append((d["number"], unit, supervisor))
        return done

    def accountability(self, since: datetime | None = None) -> list[UnitStats]:
        with self.store.read() as conn:
            return accountability(conn, self.now(), since, self._unit_name)

    # --- helpers ------------------------------------------------------------------------

    def _check(self, sub: Submission) -> Category:
        category = self.routing.category(sub.category)
        if sub.kind not in ("report", "complaint") or category is None or category.kind != sub.kind:
            raise InvalidInput("category", "请选择有效的类别")
        _text(sub.what, "what", MAX_TEXT, required=True)
        for name in ("entry_id", "debtor_name", "when", "where", "measure", "unit"):
            _text(getattr(sub, name), name, MAX_SHORT)
        if not (sub.entry_id or (sub.debtor_name and sub.debtor_name.strip())):
            raise InvalidInput("debtor_name", "请从名单中选择条目，或填写被执行人名称")
        if sub.email is not None and not _EMAIL.match(sub.email):
            raise InvalidInput("email", "电子邮箱格式不正确")
        if sub.telegram is not None and not _CHAT_ID.match(sub.telegram):
            raise InvalidInput("telegram", "Telegram 会话编号格式不正确")
        if category.route == MEASURE_UNIT:
            measure = self.routing.category(sub.measure or "")
            if measure is None or measure.kind != "report":
                raise InvalidInput("measure", "请选择所涉及的惩戒措施")
        elif sub.measure is not None:
            raise InvalidInput("measure", "此类投诉无需选择惩戒措施")
        return category

    def _spend_once_key(self, conn: Connection, key: str, now: datetime) -> None:
        """Remember a form's one-time key (core/once_keys.py), or raise AlreadySubmitted if
        it is known. Done first in the transaction: a concurrent double click waits on the
        primary key and then fails."""
        if not _ONCE_KEY.match(key):
            raise InvalidInput("once_key", "表单已失效，请刷新页面后重新填写")
        if not once_keys.spend_in(conn, once_keys.SUBMIT, key, now + ONCE_KEY_LIFETIME, now):
            raise AlreadySubmitted()

    def _attach(
        self,
        conn: Connection,
        ticket_id: int,
        event_id: int,
        files: list[CheckedFile] | tuple[CheckedFile, ...],
        now: datetime,
    ) -> None:
        """Store the files (synced to disk before this transaction commits) and record them
        with the event that brought them."""
        if not files:
            return
        assert self.evidence_store is not None  # check() refuses files without a store
        for f in files:
            self.evidence_store.put(f)
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

    def _entry(self, conn: Connection, entry_id: str | None, category: Category) -> Any:
        if not entry_id:
            return None
        row = ever_public_entry(conn, entry_id)
        if row is None:  # never-public entries are answered like missing ones
            raise InvalidInput("entry_id", "未找到该条目")
        if category.requires_entry_status and row["status"] not in category.requires_entry_status:
            raise InvalidInput("entry_id", "该条目尚未屏蔽、撤销或删除，暂不能提出此项申请")
        return row

    def _route(self, category: Category, sub: Submission, entry: Any) -> str:
        target = category
        if category.route == MEASURE_UNIT:
            target = self.routing.category(sub.measure or "")  # type: ignore[assignment]
        if target.route == ENTRY_COURT:
            if entry is not None and entry["court_name"]:
                return self.routing.court_unit(entry["court_name"])
            return self.routing.fallback_unit
        if sub.unit is not None:
            if sub.unit not in target.units:
                raise InvalidInput("unit", "所选单位不负责此类事项")
            return sub.unit
        assert target.receiving_unit is not None
        return target.receiving_unit

    def _insert(
        self, conn: Connection, kind: str, values: dict[str, Any], now: datetime
    ) -> tuple[int, str]:
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

    def _by_code(self, conn: Connection, number: str, code: str) -> dict[str, Any] | None:
        row = (
            conn.execute(select(tickets).where(tickets.c.number == normalize_number(number)))
            .mappings()
            .first()
        )
        # Compare against a dummy hash for unknown numbers, so both take the same path.
        ok = code_matches(row["code_hash"] if row else _DUMMY_HASH, code or "")
        return dict(row) if row is not None and ok else None

    def _for_actor(
        self, conn: Connection, actor: Actor, ticket_id: int, *, acting: bool
    ) -> dict[str, Any]:
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

    def _set_state(self, conn: Connection, row: dict[str, Any], new: str, now: datetime) -> None:
        values: dict[str, Any] = {"state": new, "updated_at": now}
        if new != State.CLOSED:
            values["closed_at"] = None
        conn.execute(update(tickets).where(tickets.c.id == row["id"]).values(values))

    def _category(self, row: dict[str, Any]) -> Category:
        category = self.routing.category(row["category"])
        if category is None:  # the routing file dropped it since: keep its ticket moving
            fallback = (
                self.routing.complaints() if row["kind"] == "complaint" else self.routing.reports()
            )
            return fallback[0]
        return category

    def _unit_name(self, code: str | None) -> str:
        if code is None:
            return ""
        unit = self.routing.unit(code)
        return unit.name if unit else code

    def _view(self, conn: Connection, row: dict[str, Any], *, internal: bool) -> TicketView:
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
            _evidence_view(f)
            for f in conn.execute(
                select(ticket_evidence)
                .where(ticket_evidence.c.ticket_id == row["id"])
                .order_by(ticket_evidence.c.id)
            ).mappings()
        ]
        now = self.now()
        deadlines = [
            DeadlineView(d["kind"], d["unit_code"], d["period"], d["due_at"], d["due_at"] < now)
            for d in open_deadlines(conn, row["id"])
        ]
        category = self.routing.category(row["category"])
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
            unit_name=self._unit_name(row["unit_code"]),
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

    def _notify_submitter(
        self,
        conn: Connection,
        row: dict[str, Any],
        headline: str,
        message: str | None,
        now: datetime,
    ) -> None:
        subject, body = notice_texts.to_submitter(
            row["number"], headline, message, public_url=self.public_url
        )
        if row.get("contact_email"):
            outbox.enqueue(conn, now, "email", row["contact_email"], subject, body, row["id"])
        if row.get("contact_telegram"):
            outbox.enqueue(conn, now, "telegram", row["contact_telegram"], subject, body, row["id"])

    def _notify_unit(
        self, conn: Connection, row: dict[str, Any], unit_code: str, headline: str, now: datetime
    ) -> None:
        category = self.routing.category(row["category"])
        subject, body = notice_texts.to_unit(
            row["number"],
            row["kind"],
            category.name if category else row["category"],
            headline,
            ticket_id=row["id"],
            public_url=self.public_url,
        )
        email = unit_email(conn, unit_code)
        channel, recipient = ("email", email) if email else ("unit", unit_code)
        outbox.enqueue(conn, now, channel, recipient, subject, body, row["id"])


def _evidence_view(row: Any) -> EvidenceView:
    return EvidenceView(
        row["id"], row["filename"], row["media_type"], row["size"], row["uploaded_at"]
    )


def _text(value: str | None, name: str, limit: int, *, required: bool = False) -> None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(name, "此项必填")
        return
    if len(value) > limit:
        raise InvalidInput(name, f"最多{limit}个字符")
    if "\x00" in value:
        raise InvalidInput(name, "含有无法保存的字符")
