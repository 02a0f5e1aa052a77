"""The public list for republishers: every entry public now, filtered like the search, read
from one point in time.

An export is read in one read transaction (on PostgreSQL at REPEATABLE READ), batch by
batch in id order, so a long download neither holds the whole list in memory nor mixes two
states of the list; the change-feed cursor read in the same transaction says which state it
is (``ExportSnapshot.cursor``), so a mirror can load an export or a snapshot and follow the
feed (``search_index.feed``) from exactly there. Only what the public pages show leaves
here: ``IndexDoc.to_api`` (the ID number masked), never the keyed hash or a never-public row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from core.db import Store
from core.progress import NO_PROGRESS, Progress
from search_index.entries import doc_from_row, servable_clause
from search_index.feed import encode_cursor
from search_index.normalize import place_key
from search_index.query import build_query
from search_index.tables import entries
from search_index.types import SearchQuery

BATCH = 1000
FILTER_PARAMS = ("region", "court", "partyType", "publishedFrom", "publishedTo")
# The columns of every export, in order: the public entry's fields (IndexDoc.to_api).
EXPORT_KEYS = (
    "id",
    "status",
    "caseCode",
    "iname",
    "cardNum",
    "partyTypeName",
    "sexy",
    "age",
    "businessEntity",
    "courtName",
    "areaName",
    "gistId",
    "gistUnit",
    "regDate",
    "duty",
    "performance",
    "performedPart",
    "unperformPart",
    "disruptTypeName",
    "publishDate",
    "validUntil",
    "severity",
)
# The rules a republisher is bound by (seed 001 四、(二)7 and the Rules).
TERMS_ZH = (
    "本名单依《最高人民法院关于公布失信被执行人名单信息的若干规定》（2017年修订）公开，免费提供；"
    "可以查询、合理利用，但不得用于营利活动。转载时应当做到全面、及时、准确，"
    "对已经屏蔽、删除、撤销的条目应当在三个工作日内予以删除（《三明市贯彻落实〈中共福建省委办公厅"
    "福建省人民政府办公厅关于加快推进失信被执行人信用监督、警示和惩戒机制建设的实施意见〉的实施细则》"
    "四、（二）7）。每项移除的删除期限见 /api/v1/changes 的 mustDeleteBy。"
)
TERMS_EN = (
    "Published under the Supreme People's Court Provisions on Publishing the List of Dishonest "
    "Judgment Debtors (2017 revision); free of charge. You may query and reasonably use it, "
    "but not for profit. A republished copy must be kept complete, timely and accurate, and "
    "entries shielded, deleted or revoked must be deleted within three working days (Sanming "
    "implementing rules, 四、(二)7). Each removal's deadline is mustDeleteBy in /api/v1/changes."
)
DEMO_NOTE = "演示数据：其中的人员和案件均为虚构 (demo data: every person and case is fictitious)"


def export_filter(params: Mapping[str, str]) -> SearchQuery:
    """The search's reading of the filters an export takes (QueryError as the search's)."""
    return build_query({k: params[k] for k in FILTER_PARAMS if k in params}, "")


@dataclass(slots=True, frozen=True)
class ExportSnapshot:
    """Which state of the list an export holds: when it was read and the feed cursor it is
    consistent with (follow /api/v1/changes?since=cursor from it)."""

    taken_at: datetime
    cursor: str
    demo: bool

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "snapshotAt": self.taken_at.isoformat(timespec="seconds"),
            "cursor": self.cursor,
            "demo": self.demo,
            "terms": TERMS_ZH,
            "termsEn": TERMS_EN,
        }
        if self.demo:
            meta["note"] = DEMO_NOTE
        return meta


@contextmanager
def snapshot(
    store: Store, *, demo: bool, now: datetime | None = None
) -> Iterator[tuple[ExportSnapshot, Connection]]:
    """One read transaction over the list and the state it shows."""
    with store.read() as conn:
        if not store.is_sqlite:  # one statement's view is not enough: the whole export's
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = conn.execute(select(func.max(entries.c.seq))).scalar() or 0
        taken = (now or datetime.now(UTC)).astimezone(UTC)
        yield ExportSnapshot(taken, encode_cursor(head), demo), conn


def public_entries(
    conn: Connection,
    query: SearchQuery,
    today: date,
    batch: int = BATCH,
    progress: Progress = NO_PROGRESS,
) -> Iterator[dict[str, Any]]:
    """The public entries matching ``query``'s filters, in id order, as the API shows them;
    ``progress`` advances by the entries handed out, a batch at a time.

    One statement, fetched ``batch`` rows at a time (a server-side cursor on PostgreSQL):
    paging by id instead made SQLite pick the status index and sort every public row again
    for each page, 40 times slower on 100,000 entries."""
    result = conn.execution_options(yield_per=batch).execute(_select(query, today))
    counted = 0
    for row in result.mappings():
        if _places_match(query, row):
            yield doc_from_row(row).to_api()
            counted += 1
            if counted == batch:
                progress.advance(counted)
                counted = 0
    progress.advance(counted)


def count_public(conn: Connection, query: SearchQuery, today: date) -> int | None:
    """How many entries ``public_entries`` hands out, for a progress total; None when a
    court or region narrows it (matched on normalized names, row by row, not in SQL)."""
    if query.court or query.region:
        return None
    counted = select(func.count()).select_from(_select(query, today).order_by(None).subquery())
    return int(conn.execute(counted).scalar() or 0)


def _select(query: SearchQuery, today: date) -> Any:
    stmt = select(entries).where(servable_clause(today))
    if query.party_type is not None:
        stmt = stmt.where(entries.c.party_type == query.party_type.value)
    if query.published_from is not None:
        stmt = stmt.where(entries.c.publish_date >= query.published_from)
    if query.published_to is not None:
        stmt = stmt.where(entries.c.publish_date <= query.published_to)
    return stmt.order_by(entries.c.id)


def _places_match(query: SearchQuery, row: Any) -> bool:
    """Court and region as the search matches them: a contiguous part of the normalized name."""
    if query.court and query.court not in place_key(row["court_name"] or ""):
        return False
    return not (query.region and query.region not in place_key(row["area_name"] or ""))
