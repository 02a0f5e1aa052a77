"""The alert round: the list's changes since the watches' own mark, matched against the
watches, one outbox row per match, written in the same transaction that advances the mark.

Like the index sync (search_index/sync.py) the round follows the list's change sequence
(``entries.seq``): every change to an entry gives it a new number, and ``watch_state``
(row ``alerts``, apart from the index's ``sync_state``) remembers how far the watches have
been matched. The round runs in one write transaction (the store's single-writer lock), so
two rounds never match the same changes, and a crash before the commit leaves neither the
alerts nor the mark: a restart neither loses nor repeats an alert.

A watch is alerted only for changes after it was added (``since_seq``). Changes are
matched by key: the entries' ``card_key`` against the watches' ``card_hash``, the entries'
``name_norm`` against the watches' — only the watches whose key occurs in the batch are
read. What an alert says:

- published / corrected: the entry as the public list shows it (name, case number, court,
  publication date), never a full ID number;
- removed (shielded, deleted, revoked), expired, or withdrawn after having been public:
  only what the watcher already knew, the entry's id and case number, and that it left
  the list. An entry that never was public is never alerted at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, RowMapping, func, select, update

from core.db import Store, in_chunks
from core.outbox import enqueue_many
from search_index.normalize import place_key
from search_index.redact import mask_entry_id, redact_text
from search_index.tables import entries
from search_index.types import PUBLIC_STATUSES, Status
from watches.digest import collect
from watches.tables import watch_state, watches

STATE = "alerts"
BATCH = 10_000
SUBJECT = "失信名单关注提醒"

_COLUMNS = (
    entries.c.id,
    entries.c.seq,
    entries.c.status,
    entries.c.ever_public,
    entries.c.party_type,
    entries.c.name,
    entries.c.name_norm,
    entries.c.case_code,
    entries.c.card_key,
    entries.c.court_name,
    entries.c.area_name,
    entries.c.publish_date,
)


@dataclass(slots=True)
class AlertResult:
    changes: int = 0  # changed entries read
    alerts: int = 0  # outbox rows written
    seq: int = 0  # the mark after the round


class AlertRound:
    def __init__(self, store: Store, batch: int = BATCH) -> None:
        self.store = store
        self.batch = batch

    def run(self, now: datetime | None = None) -> AlertResult:
        """Match every change not yet matched, a batch per transaction."""
        total = AlertResult()
        while True:
            result = self.run_once(now)
            total.changes += result.changes
            total.alerts += result.alerts
            total.seq = result.seq
            if result.changes < self.batch:
                return total

    def run_once(self, now: datetime | None = None) -> AlertResult:
        """One batch: its alerts and the advanced mark in one transaction."""
        now = now or datetime.now(UTC)
        with self.store.write() as conn:
            since = _mark(conn)
            rows = list(
                conn.execute(
                    select(*_COLUMNS)
                    .where(entries.c.seq > since)
                    .order_by(entries.c.seq)
                    .limit(self.batch)
                ).mappings()
            )
            if not rows:
                return AlertResult(seq=since)
            messages = list(_alerts(conn, rows))
            # Confirmed email addresses' alerts wait for their mail round (watches/digest.py).
            enqueue_many(conn, now, collect(conn, now, messages))
            last = rows[-1]["seq"]
            conn.execute(
                update(watch_state)
                .where(watch_state.c.name == STATE)
                .values(seq=last, updated_at=now)
            )
            return AlertResult(changes=len(rows), alerts=len(messages), seq=last)

    def mark(self) -> int:
        with self.store.read() as conn:
            row = conn.execute(select(watch_state.c.seq).where(watch_state.c.name == STATE))
            return row.scalar() or 0


def _mark(conn: Connection) -> int:
    """The round's mark; the first round starts at the oldest watch (or the list's head
    when there is none), not at the list's beginning."""
    seq = conn.execute(select(watch_state.c.seq).where(watch_state.c.name == STATE)).scalar()
    if seq is not None:
        return int(seq)
    oldest = conn.execute(select(func.min(watches.c.since_seq))).scalar()
    start = oldest if oldest is not None else conn.execute(select(func.max(entries.c.seq))).scalar()
    start = int(start or 0)
    conn.execute(watch_state.insert().values(name=STATE, seq=start))
    return start


def _change(row: RowMapping) -> str | None:
    """What happened to the entry, as far as a watcher may learn: None for an entry never
    public (or not yet published), which is never alerted."""
    status = Status(row["status"])
    if not row["ever_public"]:
        return None
    if status in PUBLIC_STATUSES:
        return "published" if status is Status.PUBLISHED else "corrected"
    if status is Status.EXPIRED:
        return "expired"
    if status in (Status.SHIELDED, Status.DELETED, Status.REVOKED):
        return "removed"
    if status is Status.NEVER_PUBLIC:
        return "withdrawn"  # public once, now 依法不宜公开: only its id
    return None


def _alerts(
    conn: Connection, rows: Sequence[RowMapping]
) -> Iterable[tuple[str, str, str, str, None]]:
    changes = [(row, change) for row in rows if (change := _change(row)) is not None]
    if not changes:
        return
    cards = sorted({r["card_key"] for r, _ in changes if r["card_key"]})
    names = sorted({r["name_norm"] for r, _ in changes if r["name_norm"]})
    by_card: dict[str, list[RowMapping]] = defaultdict(list)
    by_name: dict[str, list[RowMapping]] = defaultdict(list)
    for watch in _candidates(conn, cards, names):
        if watch["card_hash"]:  # code and person watches
            by_card[watch["card_hash"]].append(watch)
        elif watch["name_norm"]:  # saved searches
            by_name[watch["name_norm"]].append(watch)
    for row, change in changes:
        matched = [w for w in by_card.get(row["card_key"] or "", ()) if _card_match(w, row)]
        matched += [w for w in by_name.get(row["name_norm"] or "", ()) if _search_match(w, row)]
        for watch in matched:
            if watch["since_seq"] < row["seq"]:
                yield watch["channel"], watch["recipient"], SUBJECT, _text(watch, row, change), None


def _candidates(conn: Connection, cards: list[str], names: list[str]) -> Iterable[RowMapping]:
    """The watches whose key occurs among the changes: by card hash, then by name."""
    seen: set[int] = set()
    for column, values in ((watches.c.card_hash, cards), (watches.c.name_norm, names)):
        for chunk in in_chunks(values):
            for watch in conn.execute(select(watches).where(column.in_(chunk))).mappings():
                if watch["id"] not in seen:
                    seen.add(watch["id"])
                    yield watch


def _card_match(watch: RowMapping, row: RowMapping) -> bool:
    if watch["kind"] == "person":
        return watch["name_norm"] == row["name_norm"]
    return watch["kind"] == "code"


def _search_match(watch: RowMapping, row: RowMapping) -> bool:
    if watch["kind"] != "search":
        return False
    if watch["party_type"] and watch["party_type"] != row["party_type"]:
        return False
    if watch["region"] and watch["region"] not in place_key(row["area_name"] or ""):
        return False
    return not (watch["court"] and watch["court"] not in place_key(row["court_name"] or ""))


_HEADINGS = {
    "published": "新发布",
    "corrected": "已更正",
    "removed": "已移出名单",
    "expired": "公布期满，已移出名单",
    "withdrawn": "已不再公开",
}


def _text(watch: RowMapping, row: RowMapping, change: str) -> str:
    lines = [f"【失信名单关注提醒】您关注的「{watch['label']}」：记录{_HEADINGS[change]}。"]
    if change in ("published", "corrected"):
        lines.append(f"被执行人：{row['name'] or ''}")
        if row["case_code"]:
            lines.append(f"案号：{row['case_code']}")
        if row["court_name"]:
            lines.append(f"执行法院：{row['court_name']}")
        if row["publish_date"]:
            lines.append(f"发布日期：{row['publish_date'].isoformat()}")
    elif change in ("removed", "expired") and row["case_code"]:
        lines.append(f"案号：{row['case_code']}")
    lines.append(f"记录编号：{mask_entry_id(row['id'])}")
    return redact_text("\n".join(lines))
