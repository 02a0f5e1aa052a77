"""Units and their accounts: "一单位、一账户" (seed 001), plus optional named staff.

A unit is known by its routing-file code (or ``court:<court name>`` for a court the file
does not list). Creating a unit creates its one account, whose login defaults to the code;
staff users are optional extra logins under the same unit. An administrator is the account
of a unit created with ``admin=True``: it manages units and accounts and is never routed
tickets. Generated passwords are returned once; only argon2 hashes are stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from casework.accounts import end_sessions_of, generate_password, hash_password
from casework.errors import InvalidInput, NotFound
from casework.routing import Routing
from shixin.db import Store
from shixin.tables import case_units, case_users

_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


@dataclass(frozen=True, slots=True)
class UnitInfo:
    code: str
    name: str
    login: str | None  # the unit's own account
    role: str | None
    staff: int
    email: str | None
    disabled: bool


def _check_login(login: str) -> str:
    if not _LOGIN.match(login):
        raise InvalidInput("login", "登录名只能包含字母、数字和 . _ @ -，最长100个字符")
    return login


def add_unit(
    store: Store,
    routing: Routing,
    code: str,
    *,
    name: str | None = None,
    login: str | None = None,
    email: str | None = None,
    admin: bool = False,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Create a unit and its one account; returns (login, generated password)."""
    known = routing.unit(code)
    if known is None and not admin:
        raise InvalidInput("code", f"路由文件中没有单位 {code!r}（法院可写 court:法院全称）")
    if known is None and not name:
        raise InvalidInput("name", "管理员单位需要名称")
    login = _check_login(login or code)
    password = generate_password()
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
    return login, password


def add_staff(
    store: Store, unit_code: str, login: str, display_name: str, now: datetime | None = None
) -> str:
    """A named user under an existing unit; returns the generated password."""
    login = _check_login(login)
    password = generate_password()
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
    return password


def reset_password(store: Store, login: str, now: datetime | None = None) -> str:
    """A new generated password for ``login``; every session of that user ends."""
    password = generate_password()
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
    return password


def list_units(store: Store) -> list[UnitInfo]:
    staff = (
        select(case_users.c.unit_code, func.count().label("n"))
        .where(case_users.c.role == "staff")
        .group_by(case_users.c.unit_code)
        .subquery()
    )
    account = select(case_users).where(case_users.c.role != "staff").subquery()
    query = (
        select(
            case_units,
            account.c.login,
            account.c.role,
            func.coalesce(staff.c.n, 0).label("staff"),
        )
        .outerjoin(account, account.c.unit_code == case_units.c.code)
        .outerjoin(staff, staff.c.unit_code == case_units.c.code)
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
