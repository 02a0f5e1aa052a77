"""The administrators' audit trail: every change made in the back office or with
``shixin routing --install``, written in the same transaction as the change itself."""

from __future__ import annotations

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
}


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
