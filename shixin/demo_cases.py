"""Demo casework: unit accounts with one known password and tickets in every state.

It lives with the commands, not in ``casework/``, because it picks the list's demo entries and
courts to file about; ``casework`` itself reads the list only through
``search_index.entries.ever_public_entry``.

``shixin demo-cases`` (``make demo`` runs it after importing the list's demo data) gives
the back office and ``/track`` something to show on a fresh demo:

- an account for every unit of the routing file (seed 003's units), login = unit code, and
  for the executing courts with the most public entries, ``court:<name>`` units with logins
  ``court-<division code>``, all with one known demo password. Units that already have an
  account are left alone (their password is not changed).
- tickets in every state (received, accepted, transferred, declined, replied, reopened after
  a contest, closed, and one overdue and escalated to the supervising unit), some naming
  entries of the list and some naming debtors not on it. Every step goes through
  CaseService, so the audit trail, the deadlines and the outbox are the real ones. Their
  text starts with DEMO_MARK, which is also how a second run knows to add nothing.

The access codes are not stored by CaseService (only their hashes): this module writes the
demo tickets' numbers and codes to ``DATA_DIR/demo-cases.txt`` so a later ``make demo`` can
print them again. That file, and the shared password, are for demos only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

from sqlalchemy import Connection, func, select

from casework.accounts import Actor, hash_password
from casework.intake import Receipt, Submission
from casework.routing import Routing
from casework.service import CaseService
from casework.tables import case_units, case_users, tickets
from core.db import Store
from core.workdays import WorkCalendar
from search_index.tables import entries

DEMO_PASSWORD = "demo-password-2026"
ADMIN_UNIT = "platform"  # the demo administrator's unit: never routed tickets
DEMO_MARK = "【演示】"
CODES_FILE = "demo-cases.txt"
COURTS = 3  # court units made for the courts with the most public entries
_NOT_LISTED = ("王某某", "刘某", "青岛某某贸易有限公司", "陈某某")  # debtors not on the site


@dataclass
class DemoResult:
    created: list[tuple[str, str]] = field(default_factory=list)  # (login, unit name)
    existing: list[str] = field(default_factory=list)  # unit codes that had an account
    logins: dict[str, str] = field(default_factory=dict)  # unit code -> login
    tickets: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (number, access code, state, unit code), for tickets made by this run; the state of
    # an overdue ticket ends in ",overdue"
    skipped_tickets: bool = False  # demo tickets were there already


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.base = now
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def ago(self, **delta: float) -> None:
        self.now = self.base - timedelta(**delta)


def is_demo_store(data_dir: Path) -> bool:
    """The data directory is clearly a demo one: ``shixin demo-data`` wrote its file there."""
    return (data_dir / "demo.jsonl").is_file()


def public_entry_count(store: Store) -> int:
    with store.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(entries).where(entries.c.status == "published")
            ).scalar_one()
        )


def demo_ticket_count(store: Store) -> int:
    with store.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(tickets)
                .where(tickets.c.what.startswith(DEMO_MARK, autoescape=True))
            ).scalar_one()
        )


def create_demo_cases(
    store: Store,
    routing: Routing,
    calendar: WorkCalendar,
    *,
    password: str = DEMO_PASSWORD,
    seed: int = 1,
    now: datetime | None = None,
    public_url: str | None = None,
) -> DemoResult:
    """Accounts and tickets as the module doc says; safe to run again (adds nothing new)."""
    result = DemoResult()
    courts = _busiest_courts(store, routing)
    _accounts(store, routing, courts, password, now or datetime.now(UTC), result)
    if demo_ticket_count(store):
        result.skipped_tickets = True
        return result
    _tickets(store, routing, calendar, courts, seed, now or datetime.now(UTC), result, public_url)
    return result


# --- accounts -------------------------------------------------------------------------


def _busiest_courts(store: Store, routing: Routing) -> list[tuple[str, str]]:
    """(unit code, login) of the courts with the most public entries."""
    from search_index.demo import courts as demo_courts

    keys = {c.name: c.key for c in demo_courts()}
    with store.read() as conn:
        names = (
            conn.execute(
                select(entries.c.court_name)
                .where(entries.c.status == "published", entries.c.court_name.is_not(None))
                .group_by(entries.c.court_name)
                .order_by(func.count().desc(), entries.c.court_name)
                .limit(COURTS)
            )
            .scalars()
            .all()
        )
    chosen = []
    for i, name in enumerate(names, 1):
        code = routing.court_unit(name)
        login = code if code in routing.units else f"court-{keys.get(name, i)}"
        chosen.append((code, login))
    return chosen


def _accounts(
    store: Store,
    routing: Routing,
    courts: list[tuple[str, str]],
    password: str,
    now: datetime,
    result: DemoResult,
) -> None:
    """One account per unit, as ``casework.units.add_unit`` makes them, but with the demo
    password (hashed once: argon2 is slow on purpose, and these are demo accounts)."""
    wanted = [(code, code) for code in routing.units] + courts
    digest = hash_password(password)
    with store.write() as conn:
        for code, login in wanted:
            unit = routing.unit(code)
            assert unit is not None
            had = conn.execute(
                select(case_users.c.login).where(
                    case_users.c.unit_code == code, case_users.c.role != "staff"
                )
            ).scalar()
            if (
                had is not None
                or conn.execute(select(case_units.c.code).where(case_units.c.code == code)).first()
            ):
                result.existing.append(code)
                if had is not None:
                    result.logins[code] = had
                continue
            if conn.execute(select(case_users.c.id).where(case_users.c.login == login)).first():
                continue  # the login is someone else's: leave this unit without an account
            conn.execute(case_units.insert().values(code=code, name=unit.name, created_at=now))
            conn.execute(
                case_users.insert().values(
                    unit_code=code,
                    login=login,
                    role="unit",
                    password_hash=digest,
                    created_at=now,
                    password_changed_at=now,
                )
            )
            result.created.append((login, unit.name))
            result.logins[code] = login
        _admin_account(conn, digest, now, result)


def _admin_account(conn: Connection, digest: str, now: datetime, result: DemoResult) -> None:
    """The demo administrator (login ``admin``, the /unit/admin/ pages), unless a unit
    ``platform`` or a login ``admin`` exists already."""
    taken = conn.execute(select(case_units.c.code).where(case_units.c.code == ADMIN_UNIT)).first()
    if taken or conn.execute(select(case_users.c.id).where(case_users.c.login == "admin")).first():
        return
    conn.execute(case_units.insert().values(code=ADMIN_UNIT, name="平台管理员", created_at=now))
    conn.execute(
        case_users.insert().values(
            unit_code=ADMIN_UNIT,
            login="admin",
            role="admin",
            password_hash=digest,
            created_at=now,
            password_changed_at=now,
        )
    )
    result.created.append(("admin", "平台管理员"))
    result.logins[ADMIN_UNIT] = "admin"


def _actor(store: Store, unit_code: str) -> Actor:
    with store.read() as conn:
        row = (
            conn.execute(
                select(case_users.c.id, case_users.c.login, case_users.c.role).where(
                    case_users.c.unit_code == unit_code, case_users.c.role != "staff"
                )
            )
            .mappings()
            .first()
        )
    if row is None:  # a unit without its account still acts (CaseService checks the unit)
        return Actor(0, unit_code, unit_code, "unit")
    return Actor(row["id"], unit_code, row["login"], row["role"])


# --- tickets --------------------------------------------------------------------------


def _demo_entries(store: Store, courts: list[tuple[str, str]], rng: Random) -> list[dict]:
    """Public entries of the chosen courts (shuffled by the seed), and one removed entry."""
    court_names = [c.removeprefix("court:") for c, _ in courts]
    with store.read() as conn:
        rows = (
            conn.execute(
                select(entries.c.id, entries.c.name, entries.c.court_name)
                .where(entries.c.status == "published", entries.c.court_name.in_(court_names))
                .order_by(entries.c.id)
                .limit(200)
            )
            .mappings()
            .all()
        )
    picked = [dict(r) for r in rows]
    rng.shuffle(picked)
    return picked


def _removed_entry(store: Store) -> str | None:
    with store.read() as conn:
        return conn.execute(
            select(entries.c.id)
            .where(
                entries.c.ever_public.is_(True),
                entries.c.status.in_(("shielded", "deleted", "revoked", "expired")),
            )
            .order_by(entries.c.id)
            .limit(1)
        ).scalar()


def _tickets(
    store: Store,
    routing: Routing,
    calendar: WorkCalendar,
    courts: list[tuple[str, str]],
    seed: int,
    now: datetime,
    result: DemoResult,
    public_url: str | None = None,
) -> None:
    rng = Random(seed)
    clock = _Clock(now)
    # The demo's notifications link to the site like real ones (SHIXIN_PUBLIC_URL).
    cases = CaseService(store, routing, calendar, clock, public_url=public_url)
    picked = _demo_entries(store, courts, rng)
    listed = iter(picked)
    others = list(_NOT_LISTED)
    rng.shuffle(others)
    not_listed = iter(others)
    made: list[Receipt] = []

    def unit(code: str) -> Actor:
        return _actor(store, code)

    def submit(kind: str, category: str, what: str, *, entry: bool, **kw: object) -> Receipt:
        if entry and picked:
            kw["entry_id"] = next(listed, picked[0])["id"]
        else:
            kw["debtor_name"] = next(not_listed, "某某")
        receipt = cases.submit(
            Submission(kind=kind, category=category, what=DEMO_MARK + what, **kw)  # type: ignore[arg-type]
        )
        made.append(receipt)
        return receipt

    def state_of(receipt: Receipt) -> str:
        view = cases.track(receipt.number, receipt.access_code)
        assert view is not None
        overdue = any(d.overdue for d in view.deadlines)
        return view.state + (",overdue" if overdue else "")

    email = "reporter@example.com"

    # 1. Overdue and escalated: a report tourism never accepted (three weeks old).
    clock.ago(days=21)
    submit(
        "report",
        "consumption.travel",
        "被执行人于上月参加旅行社组织的出境团队游。",
        entry=True,
        email=email,
        where="青岛市市北区某旅行社",
    )

    # 2. Received: a report naming an entry, and a complaint to the executing court.
    clock.ago(hours=3)
    submit(
        "report",
        "consumption.hotel",
        "被执行人本周在五星级酒店住宿，并在高尔夫球场消费。",
        entry=True,
        email=email,
        when="本周二晚",
        where="青岛市市北区某五星级酒店",
    )
    clock.ago(hours=2)
    submit(
        "complaint",
        "inaccurate-info",
        "名单上的身份证号码有误，与本人不符。",
        entry=True,
        email="debtor@example.com",
    )

    # 3. Accepted: a report about a debtor not on the site.
    clock.ago(hours=30)
    r = submit("report", "consumption.school", "被执行人的子女就读高收费私立学校。", entry=False)
    clock.ago(hours=26)
    cases.accept(unit(r.unit_code), r.ticket_id)

    # 4. Transferred: tourism sends a nightclub report on to commerce.
    clock.ago(hours=28)
    r = submit(
        "report",
        "consumption.hotel",
        "被执行人经常在某夜总会高消费。",
        entry=True,
        email=email,
    )
    clock.ago(hours=25)
    cases.transfer(
        unit("tourism"),
        r.ticket_id,
        "commerce",
        "所涉场所为夜总会，由商务局核查更为合适。",
        note="已电话告知商务局值班人员。",
    )

    # 5. Declined: outside the unit's remit.
    clock.ago(hours=27)
    r = submit("report", "consumption.travel", "被执行人在外省度假区消费。", entry=False)
    clock.ago(hours=24)
    cases.decline(unit(r.unit_code), r.ticket_id, "所述度假区不在本区，请向当地旅游主管部门反映。")

    # 6. Replied: a complaint to the executing court, upheld (the correction clock runs).
    clock.ago(hours=29)
    r = submit(
        "complaint",
        "inaccurate-info",
        "名单上的未履行金额有误：已部分履行五万元。",
        entry=True,
        email="debtor@example.com",
    )
    clock.ago(hours=27)
    cases.accept(unit(r.unit_code), r.ticket_id)
    clock.ago(hours=6)
    cases.reply(
        unit(r.unit_code),
        r.ticket_id,
        "经核查，申请人已部分履行，理由成立，将更正未履行部分。",
        upheld=True,
        note="执行卷宗第12页有还款凭证。",
    )

    # 7. Closed: a report the organization department acted on.
    clock.ago(hours=32)
    r = submit(
        "report",
        "posts.soe-executive",
        "被执行人仍担任某区属国有企业监事。",
        entry=True,
        email=email,
    )
    clock.ago(hours=31)
    cases.accept(unit(r.unit_code), r.ticket_id)
    clock.ago(hours=20)
    cases.reply(unit(r.unit_code), r.ticket_id, "经核实情况属实，已依规定免去其监事职务。")
    clock.ago(hours=19)
    cases.close(unit(r.unit_code), r.ticket_id)

    # 8. Reopened: the reporter contests tourism's reply.
    clock.ago(hours=33)
    r = submit(
        "report",
        "consumption.hotel",
        "被执行人在星级宾馆举办婚宴。",
        entry=True,
        email=email,
    )
    clock.ago(hours=30)
    cases.accept(unit("tourism"), r.ticket_id)
    clock.ago(hours=10)
    cases.reply(unit("tourism"), r.ticket_id, "经查该宾馆未有相关入住记录。")
    clock.ago(hours=4)
    cases.contest(r.number, r.access_code, "婚宴在宾馆宴会厅举办，并非入住，请核查宴会厅记录。")

    # 9. A complaint about a measure, answered by the unit applying it, and one credit repair.
    clock.ago(hours=8)
    submit(
        "complaint",
        "measure-objection",
        "本人已履行完毕，但仍被限制子女就读私立学校。",
        entry=True,
        measure="consumption.school",
    )
    removed = _removed_entry(store)
    if removed is not None:
        clock.ago(hours=5)
        receipt = cases.submit(
            Submission(
                kind="complaint",
                category="credit-repair",
                what=DEMO_MARK + "名单已屏蔽，申请解除任职限制。",
                entry_id=removed,
                measure="posts.soe-executive",
                email="debtor@example.com",
            )
        )
        made.append(receipt)

    # Flag what is past due, as the portal's sweep would.
    clock.now = clock.base
    cases.sweep_overdue()
    for receipt in made:
        result.tickets.append(
            (receipt.number, receipt.access_code, state_of(receipt), _unit_now(cases, receipt))
        )


def _unit_now(cases: CaseService, receipt: Receipt) -> str:
    with cases.store.read() as conn:
        return str(
            conn.execute(
                select(tickets.c.unit_code).where(tickets.c.id == receipt.ticket_id)
            ).scalar_one()
        )


def write_codes(path: Path, result: DemoResult) -> None:
    """Keep the demo tickets' numbers and codes (demo only: real codes are never stored)."""
    lines = ["# 演示工单（仅用于演示）：编号\t查询码\t状态\t承办单位"]
    lines += ["\t".join(t) for t in result.tickets]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
