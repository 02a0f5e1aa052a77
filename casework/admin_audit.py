"""The administrators' audit trail: every change made in the back office or with
``shixin routing --install``, written in the same transaction as the change itself.

An API key's revocation is written here too, by the administrator or by the key's owner
(through the manage link, as ``OWNER``): api_keys may not import casework, so it calls the
``recorder`` it is handed with its own connection, inside the revoking transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from casework.tables import admin_audit
from core.db import Store

# action → how the admin page names it
ACTIONS = {
    "unit.add": "创建单位账户",
    "staff.add": "添加工作人员",
    "password.reset": "重置密码",
    "user.disable": "停用账户",
    "user.enable": "启用账户",
    "unit.disable": "停用单位",
    "unit.enable": "启用单位",
    "login.unlock": "解除登录锁定",
    "unit.email": "修改通知邮箱",
    "routing.install": "安装路由文件",
    "api_key.revoke": "吊销 API 密钥",
}
# Writes one audit record with another domain's connection, at the time it gives.
Recorder = Callable[[Connection, datetime], None]
# The actor of a change the owner of an API key made through the manage link: a space
# is in no login, so it cannot be taken for an administrator's.
OWNER = "key owner"


@dataclass(frozen=True, slots=True)
class AuditItem:
    at: datetime
    actor_login: str
    action: str
    target: str
    data: dict[str, Any]

    @property
    def action_name(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def by_owner(self) -> bool:
        return self.actor_login == OWNER


def record(
    conn: Connection, at: datetime, actor_login: str, action: str, target: str, **data: Any
) -> None:
    assert action in ACTIONS, action
    conn.execute(
        admin_audit.insert().values(
            at=at, actor_login=actor_login, action=action, target=target, data=data
        )
    )


def recent(store: Store, limit: int = 50) -> list[AuditItem]:
    with store.read() as conn:
        rows = conn.execute(
            select(admin_audit).order_by(admin_audit.c.id.desc()).limit(limit)
        ).mappings()
        return [
            AuditItem(r["at"], r["actor_login"], r["action"], r["target"], dict(r["data"] or {}))
            for r in rows
        ]


def recorder(actor_login: str, action: str, target: str, **data: Any) -> Recorder:
    """``record`` for a change another domain makes in its own transaction: it calls the
    result with its connection and the change's time."""
    assert action in ACTIONS, action

    def write(conn: Connection, at: datetime) -> None:
        record(conn, at, actor_login, action, target, **data)

    return write


def latest(store: Store, action: str, targets: Sequence[str]) -> dict[str, AuditItem]:
    """The newest record of ``action`` on each of ``targets`` that has one."""
    if not targets:
        return {}
    query = (
        select(admin_audit)
        .where(admin_audit.c.action == action, admin_audit.c.target.in_(list(targets)))
        .order_by(admin_audit.c.id)
    )
    with store.read() as conn:
        rows = conn.execute(query).mappings().all()
    return {
        r["target"]: AuditItem(
            r["at"], r["actor_login"], r["action"], r["target"], dict(r["data"] or {})
        )
        for r in rows
    }
