"""The list as one object: what the web app, the bot and the command line call.

Views never touch SQL or an index client; they call these named methods, which return
small result objects (as in Datasette's data-access layer).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from core.db import Store
from core.progress import NO_PROGRESS, Progress
from core.settings import Settings
from core.workdays import WorkCalendar, default_calendar
from search_index import (
    compliance,
    feed,
    imports,
    journal,
    replicas,
    snapshots,
    stats,
    status,
    tables,
    tokens,
)
from search_index.change_watch import ChangeWatch, Follower
from search_index.dates import CST, today_cst
from search_index.entries import doc_from_row, is_servable
from search_index.events import CORRECT, PUBLISH
from search_index.expiry import expire_due
from search_index.export_formats import chunks
from search_index.exports import (
    ExportSnapshot,
    count_public,
    export_filter,
    public_entries,
    snapshot,
)
from search_index.identifiers import keyed_hash
from search_index.index import open_index
from search_index.ingest import Ingestor, IngestReport, ParsedStream, Record
from search_index.lifecycle import StoredEvent
from search_index.query import build_query
from search_index.reconcile import ReconcileResult, reconcile
from search_index.related import Related, related_organizations
from search_index.replicas import ReplicaStatus
from search_index.sync import Syncer, SyncResult
from search_index.tables import entries
from search_index.types import (
    PUBLIC_STATUSES,
    REMOVED_STATUSES,
    IndexBackend,
    IndexDoc,
    SearchPage,
    SearchQuery,
    Sort,
    Status,
)

# Payload keys (normalized) back to the public field names, for correction histories.
PUBLIC_NAMES = {
    "name": "iname",
    "case_code": "caseCode",
    "card_display": "cardNum",
    "court_name": "courtName",
    "area_name": "areaName",
    "party_type": "partyTypeName",
    "publish_date": "publishDate",
    "reg_date": "regDate",
    "valid_until": "validUntil",
    "severity": "severity",
}


# What the methods raise when the store fails (unreachable, timed out): a view that can do
# without the answer (portal/templating.py) catches this rather than the database's errors.
StoreError = SQLAlchemyError


class EntryNotFound(LookupError):
    """Unknown, or never fit for publication: the two must look the same from outside."""


class EntryGone(LookupError):
    """The entry was public once and has been removed: say so, show nothing of it."""


@dataclass(slots=True)
class EntryView:
    doc: IndexDoc
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {**self.doc.to_api(), "history": self.history}


class ListService:
    def __init__(
        self, settings: Settings, *, store: Store | None = None, index: IndexBackend | None = None
    ) -> None:
        self.settings = settings
        self.store = store or Store(settings.database_url)
        self.index = index or open_index(settings)
        self.calendar: WorkCalendar = default_calendar(settings.holidays_file)
        self.syncer = Syncer(
            self.store,
            self.index,
            replica=settings.index_replica,
            replica_timeout=settings.index_replica_timeout_seconds,
        )
        if self.index.fresh:  # a new, lost or outdated index file: refill it from the store
            self.syncer.start_over()
        self._key = settings.id_hash_key.reveal()
        self._watch: ChangeWatch | None = None

    # --- Writing ------------------------------------------------------------------------

    def ingest(
        self,
        records: Iterable[Record] | ParsedStream,
        *,
        source: str,
        filename: str | None = None,
        sha256: Any = "",
        court_scope: str | None = None,
        sync: bool = True,
        progress: Progress = NO_PROGRESS,
        batch_id: str | None = None,
        received_at: datetime | None = None,
    ) -> IngestReport:
        ingestor = Ingestor(self.store, self.calendar, self._key, court_scope=court_scope)
        report = ingestor.run(
            records,
            source=source,
            filename=filename,
            sha256=sha256,
            progress=progress,
            batch_id=batch_id,
            received_at=received_at,
        )
        # A court may send an entry whose listing period is already over: record its
        # expiry now rather than at the next sweep.
        expire_due(self.store, self.calendar)
        if sync:
            self.sync_report(report)
        return report

    def sync_report(self, report: IngestReport) -> None:
        """Bring the index up to every change so far (this batch's among them), waiting up
        to ``sync.SYNC_WAIT`` for a round another process is running, and record in the
        report whether that happened (``synced``) and what is left (``index_lag``)."""
        head = self.syncer.head()
        # With several replicas: until every live one has applied it too, each on its host.
        report.synced = self.syncer.sync_through(head) and self.syncer.replicas_through(head)
        report.index_lag = max([self.syncer.lag(), *self._live_lags()])

    def batch_event_count(self, batch_id: str) -> int:
        """The events journaled under ``batch_id``, over every run of the batch."""
        with self.store.read() as conn:
            return journal.batch_event_count(conn, batch_id)

    def index_lag(self) -> int:
        """Changes in the store the index has not applied yet."""
        return self.syncer.lag()

    def expire(self, today: date | None = None) -> int:
        """Expire entries listed only until before ``today`` (default: today in Beijing)."""
        count = expire_due(self.store, self.calendar, today)
        if count:
            self.syncer.sync()
        return count

    def sync(self, *, wait: bool = True) -> SyncResult:
        return self.syncer.sync(wait=wait)

    def follower(self, interval: float) -> Follower:
        """The host's sync loop: a round as soon as the store changes, one every
        ``interval`` seconds at the latest (``Follower.turn`` is one turn)."""
        if self._watch is None:
            self._watch = ChangeWatch(self.store, self.syncer.head)
        return Follower(self.syncer, self._watch, interval)

    def reconcile(self, progress: Progress = NO_PROGRESS) -> ReconcileResult:
        return reconcile(self.syncer, progress)

    def rebuild_index(self, progress: Progress = NO_PROGRESS) -> SyncResult:
        return self.syncer.rebuild(progress)

    # --- Reading ------------------------------------------------------------------------

    def search(self, params: Mapping[str, str]) -> SearchPage:
        return self.index.search(build_query(params, self._key))

    def search_card_key(self, card_key: str, card_masked: str | None, per_page: int) -> SearchPage:
        """Entries by a full identifier's keyed hash (matched as ``cardNum`` would match the
        identifier), for callers that keep only the hash: a stored screening."""
        query = SearchQuery(card_key=card_key, card_masked=card_masked, per_page=per_page)
        return self.index.search(query)

    def card_key(self, normalized: str) -> str:
        """The keyed hash the search compares a normalized full identifier by."""
        return keyed_hash(self._key, normalized)

    def entry(self, entry_id: str) -> EntryView:
        with self.store.read() as conn:
            row = conn.execute(select(entries).where(entries.c.id == entry_id)).mappings().first()
            status = Status(row["status"]) if row is not None else None
            if row is None or status not in PUBLIC_STATUSES | REMOVED_STATUSES:
                raise EntryNotFound(entry_id)
            if status in REMOVED_STATUSES or not is_servable(row, today_cst()):
                # Only an entry that was public may be acknowledged as removed.
                raise EntryGone(entry_id) if row["ever_public"] else EntryNotFound(entry_id)
            events = journal.history(conn, entry_id)
        return EntryView(doc_from_row(row), _public_history(events))

    # --- For republishers ------------------------------------------------------------------

    def export(
        self,
        params: Mapping[str, str],
        fmt: str,
        labels: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> tuple[ExportSnapshot, Iterator[bytes]]:
        """The public entries matching the filters, as ``fmt`` bytes, from one read
        transaction that stays open until the bytes are consumed or closed. QueryError for
        a bad filter, before anything is read. A ``progress`` gets the entries to come as
        its total (one count, in the same transaction) and advances as they are read."""
        query = export_filter(params)
        stream = self._export_stream(query, fmt, labels, progress)
        snap = next(stream)
        return snap, stream  # type: ignore[return-value]

    def _export_stream(
        self, query: Any, fmt: str, labels: Mapping[str, str] | None, progress: Progress | None
    ) -> Any:
        today = today_cst()
        with snapshot(self.store, demo=self.settings.demo) as (snap, conn):
            if progress is not None:
                progress.total = count_public(conn, query, today)
            yield snap
            rows = public_entries(conn, query, today, progress=progress or NO_PROGRESS)
            yield from chunks(fmt, rows, snap, labels)

    def changes(self, cursor: str, limit: int = feed.DEFAULT_LIMIT) -> feed.FeedPage:
        """The change feed after ``cursor`` (CursorError for one we never handed out)."""
        since = feed.decode_cursor(cursor)
        with self.store.read() as conn:
            return feed.changes(conn, since, limit, today_cst(), self.calendar)

    def new_listings(self, params: Mapping[str, str], limit: int) -> list[feed.Listing]:
        """The newest public entries (by publish date) matching the export's filters
        (QueryError for a bad one): the search finds them, the store says their state."""
        query = export_filter(params)
        query.sort, query.per_page = Sort.PUBLISH_DATE, limit
        ids = [doc.id for doc in self.index.search(query).items]
        with self.store.read() as conn:
            return feed.listings(conn, ids, today_cst())

    def recent_removals(self, limit: int) -> list[dict[str, Any]]:
        """The latest removals as the change feed words them (no personal data)."""
        with self.store.read() as conn:
            return feed.recent_removals(conn, limit, today_cst(), self.calendar)

    def snapshot_dir(self) -> Path:
        return self.settings.data_dir / "snapshots"

    def write_snapshot(self, directory: Path | None = None) -> snapshots.SnapshotFile:
        return snapshots.write_snapshot(
            self.store, directory or self.snapshot_dir(), demo=self.settings.demo, today=today_cst()
        )

    def latest_snapshot(self) -> Path | None:
        return snapshots.latest(self.snapshot_dir())

    def related_organizations(self, names: Iterable[str]) -> list[Related]:
        """The listed organizations whose legal representative has one of these names
        (persons' names as published): the same name only, not the same person."""
        return related_organizations(self.index, names)

    def authenticate_token(self, token: str) -> tokens.TokenInfo | None:
        """The ingest token's unit and court scope; None for an unknown or revoked token."""
        return tokens.authenticate(self.store, token)

    def compliance(self) -> compliance.ComplianceReport:
        with self.store.read() as conn:
            return compliance.report(
                conn, replica_timeout=self.settings.index_replica_timeout_seconds
            )

    def replicas(self) -> list[ReplicaStatus]:
        """Every index replica that ever reported: its state and lag."""
        return self.syncer.replicas()

    def forget_replica(self, name: str) -> int:
        """Forget a silent replica whose host is gone for good (ReplicaNotSilent for any
        other); returns how many removals that waited for it are now confirmed."""
        with self.store.write() as conn:
            return replicas.forget(
                conn, name, datetime.now(UTC), self.settings.index_replica_timeout_seconds
            )

    def _live_lags(self) -> list[int]:
        return [r.lag for r in self.syncer.replicas() if r.live]

    def health(self) -> dict[str, Any]:
        store_ok = self.store.healthy()
        index_ok = self.index.healthy()
        reps = self.syncer.replicas() if store_ok else []
        mine = next((r for r in reps if r.name == self.syncer.replica), None)
        shared = len(reps) > 1
        # Among several replicas, one that is not live may serve entries the others removed:
        # it answers 503, so the proxy sends it no searches until it has caught up.
        live = not shared or (mine is not None and mine.live)
        return {
            "store": "ok" if store_ok else "unreachable",
            "index": "ok" if index_ok else "unreachable",
            "indexBackend": self.index.name,
            "indexLag": self.syncer.lag() if store_ok else None,
            "indexReplica": self.syncer.replica,
            "replicas": [r.as_dict() for r in reps],
            "warnings": [text for r in reps if (text := r.warning())] if shared else [],
            "checkedAt": datetime.now(CST).isoformat(timespec="seconds"),  # as everywhere
            "ok": store_ok and index_ok and live,
        }

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self.index.close()
        self.store.dispose()

    # --- Pages for the public and for debtors ---------------------------------------------

    def debtor_status(
        self, case_code: str, name: str, identifier: str
    ) -> list[status.DebtorStatus]:
        """State and timeline of the entries matching all three; [] for any mismatch, the
        same whether or not the case exists. StatusInputError for malformed input."""
        query = status.parse(case_code, name, identifier, self._key)
        with self.store.read() as conn:
            return status.lookup(conn, query, today_cst(), PUBLIC_NAMES)

    def public_numbers(self) -> stats.PublicNumbers:
        with self.store.read() as conn:
            return stats.public_numbers(conn, today_cst(), datetime.now(UTC))

    def import_activity(self, now: datetime | None = None) -> imports.ImportActivity:
        """The last import, the last day's imports hour by hour and the index lag, for the
        back office."""
        now = now or datetime.now(UTC)
        with self.store.read() as conn:
            last = imports.last_import(conn)
            hours = imports.imports_by_hour(conn, now)
        return imports.ImportActivity(last, hours, self.syncer.lag(), now)

    def last_updated(self) -> datetime | None:
        """When the list last changed or was last refreshed: the later of the newest
        finished batch and the newest applied event (expiry writes events without a batch).
        None for a store that never received anything. Two small queries: the batches table
        holds one row per import, and the newest event is found through the primary key."""
        with self.store.read() as conn:
            batch = conn.execute(select(func.max(tables.batches.c.finished_at))).scalar()
            event = conn.execute(
                select(tables.events.c.applied_at)
                .where(tables.events.c.applied_at.is_not(None))
                .order_by(tables.events.c.id.desc())
                .limit(1)
            ).scalar()
        return max((t for t in (batch, event) if t is not None), default=None)


def _public_history(events: list[StoredEvent]) -> list[dict[str, Any]]:
    """Publication and corrections: when, and which fields changed (not the old values)."""
    out = []
    for event in events:
        if event.op not in (PUBLISH, CORRECT):
            continue
        changed = [PUBLIC_NAMES.get(k, k) for k in event.payload if k in PUBLIC_NAMES]
        changed += sorted(event.payload.get("fields", {}))
        out.append(
            {
                "op": event.op,
                "effectiveAt": event.effective_at.astimezone(CST).isoformat(timespec="seconds"),
                "fields": changed if event.op == CORRECT else [],
            }
        )
    return out
