"""Units and their accounts: "一单位、一账户" (seed 001), plus optional named staff.

A unit is known by its routing-file code (or ``court:<court name>`` for a court the file
does not list). Creating a unit creates its one account, whose login defaults to the code;
staff users are optional extra logins under the same unit. An administrator is the account
of a unit created with ``admin=True``: it manages units and accounts and is never routed
tickets. Generated passwords are returned once; only argon2 hashes are stored.

Functions that change accounts take ``by``: the administrator's login (or "cli"), written to
the audit trail (casework/admin_audit.py) in the same transaction; None writes no trail
(tests, demo data). Disabling an account or a unit ends its sessions at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update

from casework import admin_audit
from casework.accounts import check_password, end_sessions_of, generate_password, hash_password
from casework.errors import InvalidInput, NotFound
from casework.routing import Routing
from casework.tables import case_sessions, case_units, case_users, tickets
from casework.tickets import OPEN_STATES
from core.db import Store

_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_EMAIL = re.compile(r"^[^@\s<>\"'&]{1,64}@[^@\s<>\"'&]+\.[^@\s<>\"'&]+$")
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class UnitInfo:
    code: str
    name: str
    login: str | None  # the unit's own account
    role: str | None
    staff: int
    email: str | None
    disabled: bool
    accounts: int = 0  # the unit's account and its staff
    open_tickets: int = 0


@dataclass(frozen=True, slots=True)
class UserInfo:
    login: str
    unit_code: str
    role: str
    display_name: str | None
    disabled: bool
    created_at: datetime
    password_changed_at: datetime


def _check_login(login: str) -> str:
    if not _LOGIN.match(login):
        raise InvalidInput("login", "登录名只能包含字母、数字和 . _ @ -，最长100个字符")
    return login


def check_email(email: str | None) -> str | None:
    """A unit's notification address (None or empty: back office only)."""
    if email is None or not email.strip():
        return None
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("email", "电子邮箱格式不正确")
    return email


def _password(password: str | None) -> str:
    return generate_password() if not password else check_password(password)


def _audit(conn: Connection, by: str | None, now: datetime, action: str, target: str) -> None:
    if by is not None:
        admin_audit.record(conn, now, by, action, target)


def add_unit(
    store: Store,
    routing: Routing,
    code: str,
    *,
    name: str | None = None,
    login: str | None = None,
    email: str | None = None,
    admin: bool = False,
    password: str | None = None,
    by: str | None = None,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Create a unit and its one account; returns (login, password): the one given, or a
    generated one."""
    code = code.strip()
    known = routing.unit(code)
    if known is None and not admin:
        raise InvalidInput("code", f"路由文件中没有单位 {code!r}（法院可写 court:法院全称）")
    if known is None and not name:
        raise InvalidInput("name", "管理员单位需要名称")
    if len(code) > 100 or len(name or "") > MAX_NAME:
        raise InvalidInput("code", f"单位代码最长100个字符，名称最长{MAX_NAME}个字符")
    login = _check_login(login or code)
    email = check_email(email)
    password = _password(password)
    now = now or datetime.now(UTC)
    with store.write() as conn:
        if conn.execute(select(case_units.c.code).where(case_units.c.code == code)).first():
            raise InvalidInput("code", f"单位 {code} 已有账户（一单位、一账户）")
        if conn.execute(select(case_users.c.id).where(case_users.c.login == login)).first():
            raise InvalidInput("login", f"登录名 {login} 已被使用")
        conn.execute(
            case_units.insert().values(
                code=code,
                name=name or known.name,
                email=email,
                created_at=now,  # type: ignore[union-attr]
            )
        )
        conn.execute(
            case_users.insert().values(
                unit_code=code,
                login=login,
                role="admin" if admin else "unit",
                password_hash=hash_password(password),
                created_at=now,
                password_changed_at=now,
            )
        )
        _audit(conn, by, now, "unit.add", code)
    return login, password


def add_staff(
    store: Store,
    unit_code: str,
    login: str,
    display_name: str,
    now: datetime | None = None,
    *,
    password: str | None = None,
    by: str | None = None,
) -> str:
    """A named user under an existing unit; returns the password (given or generated)."""
    login = _check_login(login)
    if not display_name.strip() or len(display_name) > MAX_NAME:
        raise InvalidInput("display_name", f"请填写姓名（最长{MAX_NAME}个字符）")
    password = _password(password)
    now = now or datetime.now(UTC)
    with store.write() as conn:
        if not conn.execute(
            select(case_units.c.code).where(case_units.c.code == unit_code)
        ).first():
            raise NotFound(f"没有单位 {unit_code}")
        if conn.execute(select(case_users.c.id).where(case_users.c.login == login)).first():
            raise InvalidInput("login", f"登录名 {login} 已被使用")
        conn.execute(
            case_users.insert().values(
                unit_code=unit_code,
                login=login,
                display_name=display_name,
                role="staff",
                password_hash=hash_password(password),
                created_at=now,
                password_changed_at=now,
            )
        )
        _audit(conn, by, now, "staff.add", login)
    return password


def reset_password(
    store: Store,
    login: str,
    now: datetime | None = None,
    *,
    password: str | None = None,
    by: str | None = None,
) -> str:
    """A new password for ``login`` (given or generated); every session of that user ends."""
    password = _password(password)
    now = now or datetime.now(UTC)
    with store.write() as conn:
        user_id = conn.execute(select(case_users.c.id).where(case_users.c.login == login)).scalar()
        if user_id is None:
            raise NotFound(f"没有登录名 {login}")
        conn.execute(
            update(case_users)
            .where(case_users.c.id == user_id)
            .values(password_hash=hash_password(password), password_changed_at=now)
        )
        end_sessions_of(conn, user_id, now)
        _audit(conn, by, now, "password.reset", login)
    return password


def set_user_disabled(
    store: Store, login: str, disabled: bool, *, by: str | None = None, now: datetime | None = None
) -> None:
    """Disable (ending its sessions) or enable one login."""
    now = now or datetime.now(UTC)
    with store.write() as conn:
        user_id = conn.execute(select(case_users.c.id).where(case_users.c.login == login)).scalar()
        if user_id is None:
            raise NotFound(f"没有登录名 {login}")
        conn.execute(
            update(case_users)
            .where(case_users.c.id == user_id)
            .values(disabled_at=now if disabled else None)
        )
        if disabled:
            end_sessions_of(conn, user_id, now)
        _audit(conn, by, now, "user.disable" if disabled else "user.enable", login)


def set_unit_disabled(
    store: Store, code: str, disabled: bool, *, by: str | None = None, now: datetime | None = None
) -> None:
    """Disable (ending the sessions of all its users) or enable a unit. Tickets already
    with it stay with it; its notifications go to the back office queue meanwhile."""
    now = now or datetime.now(UTC)
    with store.write() as conn:
        _unit_exists(conn, code)
        conn.execute(
            update(case_units)
            .where(case_units.c.code == code)
            .values(disabled_at=now if disabled else None)
        )
        if disabled:
            users = select(case_users.c.id).where(case_users.c.unit_code == code)
            conn.execute(
                update(case_sessions)
                .where(case_sessions.c.user_id.in_(users), case_sessions.c.ended_at.is_(None))
                .values(ended_at=now)
            )
        _audit(conn, by, now, "unit.disable" if disabled else "unit.enable", code)


def set_email(
    store: Store,
    code: str,
    email: str | None,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> None:
    """Change where a unit's notifications go (empty: the back office queue only)."""
    email = check_email(email)
    now = now or datetime.now(UTC)
    with store.write() as conn:
        _unit_exists(conn, code)
        conn.execute(update(case_units).where(case_units.c.code == code).values(email=email))
        _audit(conn, by, now, "unit.email", code)


def _unit_exists(conn: Connection, code: str) -> None:
    if not conn.execute(select(case_units.c.code).where(case_units.c.code == code)).first():
        raise NotFound(f"没有单位 {code}")


def list_users(store: Store) -> list[UserInfo]:
    with store.read() as conn:
        rows = conn.execute(
            select(case_users).order_by(case_users.c.unit_code, case_users.c.id)
        ).mappings()
        return [
            UserInfo(
                r["login"],
                r["unit_code"],
                r["role"],
                r["display_name"],
                r["disabled_at"] is not None,
                r["created_at"],
                r["password_changed_at"],
            )
            for r in rows
        ]


def list_units(store: Store) -> list[UnitInfo]:
    staff = (
        select(case_users.c.unit_code, func.count().label("n"))
        .where(case_users.c.role == "staff")
        .group_by(case_users.c.unit_code)
        .subquery()
    )
    users = (
        select(case_users.c.unit_code, func.count().label("n"))
        .group_by(case_users.c.unit_code)
        .subquery()
    )
    open_tickets = (
        select(tickets.c.unit_code, func.count().label("n"))
        .where(tickets.c.state.in_([str(s) for s in OPEN_STATES]))
        .group_by(tickets.c.unit_code)
        .subquery()
    )
    account = select(case_users).where(case_users.c.role != "staff").subquery()
    query = (
        select(
            case_units,
            account.c.login,
            account.c.role,
            func.coalesce(staff.c.n, 0).label("staff"),
            func.coalesce(users.c.n, 0).label("accounts"),
            func.coalesce(open_tickets.c.n, 0).label("open_tickets"),
        )
        .outerjoin(account, account.c.unit_code == case_units.c.code)
        .outerjoin(staff, staff.c.unit_code == case_units.c.code)
        .outerjoin(users, users.c.unit_code == case_units.c.code)
        .outerjoin(open_tickets, open_tickets.c.unit_code == case_units.c.code)
        .order_by(case_units.c.code)
    )
    with store.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        UnitInfo(
            r["code"],
            r["name"],
            r["login"],
            r["role"],
            r["staff"],
            r["email"],
            r["disabled_at"] is not None,
            r["accounts"],
            r["open_tickets"],
        )
        for r in rows
    ]


def unit_email(conn: object, code: str) -> str | None:
    """The notification address of a unit with an account, if it has one."""
    return conn.execute(  # type: ignore[attr-defined]
        select(case_units.c.email).where(
            case_units.c.code == code, case_units.c.disabled_at.is_(None)
        )
    ).scalar()
