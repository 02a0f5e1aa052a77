"""The removal compliance report: how fast removals took effect against the legal deadline.

Latency is measured from when we received the removal to when the index was confirmed not
to serve the entry (with several index replicas, every live one: ``search_index.replicas``).
A removal that reached us already past its deadline is flagged as the sender's lateness, not
ours. The report also gives each replica's lag, the slowest live one, and a warning for each
replica that is silent or catching up.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from search_index.dates import CST
from search_index.normalize import normalize_place
from search_index.replicas import TIMEOUT, ReplicaStatus, statuses
from search_index.tables import entries, removals

LIST_LIMIT = 1000


@dataclass(slots=True)
class RemovalItem:
    removal_id: int  # our own reference number, safe to publish
    entry_id: str
    kind: str
    reason: str | None
    effective_at: datetime
    received_at: datetime
    deadline: datetime
    removed_at: datetime | None
    arrived_late: bool
    state: str  # "on_time", "late", "pending", "overdue"
    court: str | None = None  # the entry's court, normalized: whose token may see the details

    def as_dict(self, *, public: bool = False) -> dict[str, Any]:
        """``public`` leaves out the entry id and the court's reason: a removed entry is
        acknowledged only to someone who already knows its identifiers."""

        def iso(dt: datetime | None) -> str | None:
            return dt.astimezone(CST).isoformat(timespec="seconds") if dt else None

        who = {} if public else {"entryId": self.entry_id, "reason": self.reason}
        return {
            "removal": self.removal_id,
            **who,
            "kind": self.kind,
            "effectiveAt": iso(self.effective_at),
            "receivedAt": iso(self.received_at),
            "deadline": iso(self.deadline),
            "removedAt": iso(self.removed_at),
            "arrivedLate": self.arrived_late,
            "state": self.state,
        }


@dataclass(slots=True)
class ComplianceReport:
    generated_at: datetime
    total: int = 0
    confirmed: int = 0
    on_time: int = 0
    late: int = 0
    pending: int = 0
    overdue: int = 0
    arrived_late: int = 0
    median_latency_seconds: float | None = None
    max_latency_seconds: float | None = None
    problems: list[RemovalItem] = field(default_factory=list)  # late, pending or arrived late
    truncated: bool = False
    replicas: list[ReplicaStatus] = field(default_factory=list)

    @property
    def slowest(self) -> ReplicaStatus | None:
        """The live replica furthest behind: removals wait for it (silent ones are warned of)."""
        live = [r for r in self.replicas if r.live]
        return max(live, key=lambda r: (r.lag, r.name)) if live else None

    @property
    def warnings(self) -> list[str]:
        if len(self.replicas) < 2:  # one index alone: its lag says it all
            return []
        return [text for r in self.replicas if (text := r.warning())]

    def as_dict(self, *, public: bool = False, court_scope: str | None = None) -> dict[str, Any]:
        """``public``: no entry ids or reasons (see ``RemovalItem.as_dict``). A unit whose
        token is limited to one court (``court_scope``, normalized) sees them only for that
        court's entries."""

        def hidden(item: RemovalItem) -> bool:
            return public or (court_scope is not None and item.court != court_scope)

        return {
            "generatedAt": self.generated_at.astimezone(CST).isoformat(timespec="seconds"),
            "removals": {
                "total": self.total,
                "confirmed": self.confirmed,
                "onTime": self.on_time,
                "late": self.late,
                "pending": self.pending,
                "overdue": self.overdue,
                "arrivedLate": self.arrived_late,
            },
            "latencySeconds": {
                "median": self.median_latency_seconds,
                "max": self.max_latency_seconds,
            },
            "problems": [item.as_dict(public=hidden(item)) for item in self.problems],
            "problemsTruncated": self.truncated,
            "replicas": [r.as_dict() for r in self.replicas],
            "slowestReplica": slowest.as_dict() if (slowest := self.slowest) else None,
            "warnings": self.warnings,
        }


def report(
    conn: Connection,
    now: datetime | None = None,
    since: datetime | None = None,
    replica_timeout: float = TIMEOUT,
) -> ComplianceReport:
    now = now or datetime.now(UTC)
    out = ComplianceReport(generated_at=now, replicas=statuses(conn, now, replica_timeout))
    latencies: list[float] = []
    query = (
        select(removals, entries.c.court_name)
        .join(entries, entries.c.id == removals.c.entry_id)
        .where(removals.c.superseded_at.is_(None))
        .order_by(removals.c.id)
    )
    if since is not None:
        query = query.where(removals.c.received_at >= since)
    for row in conn.execute(query).mappings():
        item = _item(row, now)
        out.total += 1
        out.arrived_late += item.arrived_late
        # A removal that reached us past its deadline is the sender's lateness: it is
        # counted in arrived_late, not against us in late or overdue.
        ours = not item.arrived_late
        if item.removed_at is not None:
            out.confirmed += 1
            latencies.append((item.removed_at - item.received_at).total_seconds())
            out.on_time += item.state == "on_time"
            out.late += item.state == "late" and ours
        else:
            out.pending += 1
            out.overdue += item.state == "overdue" and ours
        if item.state != "on_time" or item.arrived_late:
            if len(out.problems) < LIST_LIMIT:
                out.problems.append(item)
            else:
                out.truncated = True
    if latencies:
        out.median_latency_seconds = round(statistics.median(latencies), 3)
        out.max_latency_seconds = round(max(latencies), 3)
    return out


def _item(row: Any, now: datetime) -> RemovalItem:
    removed_at = row["removed_at"]
    deadline = row["deadline"]
    if removed_at is not None:
        state = "on_time" if removed_at <= deadline else "late"
    else:
        state = "overdue" if now > deadline else "pending"
    return RemovalItem(
        removal_id=row["id"],
        entry_id=row["entry_id"],
        kind=row["kind"],
        reason=row["reason"],
        effective_at=row["effective_at"],
        received_at=row["received_at"],
        deadline=deadline,
        removed_at=removed_at,
        arrived_late=row["received_at"] > deadline,
        state=state,
        court=normalize_place(row["court_name"]) if row.get("court_name") else None,
    )


def format_text(rep: ComplianceReport) -> str:
    """The report for a terminal, in Chinese."""
    lines = [
        f"移除合规报告（生成于 {rep.generated_at.astimezone(CST):%Y-%m-%d %H:%M:%S} 北京时间）",
        f"  移除总数 {rep.total}：已确认 {rep.confirmed}（按时 {rep.on_time}，超期 {rep.late}），"
        f"待确认 {rep.pending}（已超期 {rep.overdue}）",
        f"  到达时已超过法定期限（报送方延误）：{rep.arrived_late}",
        f"  移除耗时：中位数 {_secs(rep.median_latency_seconds)}，"
        f"最长 {_secs(rep.max_latency_seconds)}",
    ]
    for replica in rep.replicas if len(rep.replicas) > 1 else []:  # one index: as before
        lines.append(
            f"  索引副本 {replica.name}：{_STATES[replica.state]}，尚未应用 {replica.lag} 项变更"
        )
    if len(rep.replicas) > 1 and (slowest := rep.slowest) is not None:
        lines.append(f"  最慢的在线副本：{slowest.name}（尚未应用 {slowest.lag} 项变更）")
    lines += [f"  警告：{text}" for text in rep.warnings]
    if rep.problems:
        lines.append("  需要关注的移除：")
        labels = {
            "late": "超期完成",
            "pending": "待确认",
            "overdue": "已超期未完成",
            "on_time": "按时",
        }
        for item in rep.problems:
            flag = "；到达时已超期" if item.arrived_late else ""
            lines.append(
                f"    {item.entry_id}  {item.kind}  {labels[item.state]}{flag}  "
                f"期限 {item.deadline.astimezone(CST):%Y-%m-%d %H:%M}"
            )
        if rep.truncated:
            lines.append(f"    ……仅列出前 {LIST_LIMIT} 条")
    return "\n".join(lines)


_STATES = {"live": "在线", "catching_up": "追赶中", "silent": "已失联"}


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f} 秒"


def entry_removals(
    conn: Connection, entry_id: str, now: datetime | None = None
) -> list[RemovalItem]:
    """Every removal of one entry that was not superseded, oldest first (for /status)."""
    now = now or datetime.now(UTC)
    query = (
        select(removals)
        .where(removals.c.entry_id == entry_id, removals.c.superseded_at.is_(None))
        .order_by(removals.c.id)
    )
    return [_item(row, now) for row in conn.execute(query).mappings()]
