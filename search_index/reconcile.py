"""Reconciliation: compare the store's public set with the index and repair any drift.

Drift should not happen, but a failed Meilisearch task, a hand-edited index or a crash in
the wrong place can cause it. Both sides are walked in id order and merged, so memory
stays flat however large the list is. Runs under the sync lease, so no sync round
interleaves with a repair.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import func, select

from core.db import in_chunks
from core.progress import NO_PROGRESS, Progress
from search_index.dates import today_cst
from search_index.entries import doc_from_row, is_servable, servable_clause
from search_index.sync import SYNC_WAIT, Syncer
from search_index.tables import entries

BATCH = 2000
SAMPLE = 20


@dataclass(slots=True)
class ReconcileResult:
    checked: int = 0
    added: int = 0  # public in the store, missing from the index
    refreshed: int = 0  # in both, but the index held an older version
    removed: int = 0  # served by the index, not public in the store
    samples: dict[str, list[str]] = field(
        default_factory=lambda: {"added": [], "refreshed": [], "removed": []}
    )

    @property
    def repaired(self) -> int:
        return self.added + self.refreshed + self.removed

    def as_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "added": self.added,
            "refreshed": self.refreshed,
            "removed": self.removed,
            "samples": self.samples,
        }


def reconcile(syncer: Syncer, progress: Progress = NO_PROGRESS) -> ReconcileResult:
    """``progress`` counts the entries compared, out of the public entries in the store (an
    entry the index alone serves counts too)."""
    syncer.sync()  # first catch up, so only real drift is left to find
    with syncer.exclusive(wait=SYNC_WAIT):
        return _repair(syncer, progress)


def _repair(syncer: Syncer, progress: Progress) -> ReconcileResult:
    result = ReconcileResult()
    progress.total = _public_count(syncer)
    to_upsert: list[str] = []
    to_delete: list[str] = []
    store_side = _public_seqs(syncer)
    index_side = syncer.index.iter_seqs()
    for entry_id, store_seq, index_seq in _merge(store_side, index_side):
        result.checked += 1
        if result.checked % BATCH == 0:  # once a batch: the loop itself is the hot path
            progress.advance(BATCH)
        if store_seq is None:
            to_delete.append(entry_id)
            _note(result, "removed", entry_id)
        elif index_seq is None:
            to_upsert.append(entry_id)
            _note(result, "added", entry_id)
        elif index_seq != store_seq:
            to_upsert.append(entry_id)
            _note(result, "refreshed", entry_id)
    progress.advance(result.checked % BATCH)
    _upsert(syncer, to_upsert)
    if to_delete:
        syncer.index.delete(to_delete)
        with syncer.store.write() as conn:
            syncer.confirm(conn, to_delete)
    return result


def _note(result: ReconcileResult, kind: str, entry_id: str) -> None:
    setattr(result, kind, getattr(result, kind) + 1)
    if len(result.samples[kind]) < SAMPLE:
        result.samples[kind].append(entry_id)


def _public_count(syncer: Syncer) -> int:
    with syncer.store.read() as conn:
        query = select(func.count()).select_from(entries).where(servable_clause(today_cst()))
        return conn.execute(query).scalar() or 0


def _public_seqs(syncer: Syncer) -> Iterator[tuple[str, int]]:
    # Byte order on both dialects, matching Python's str ordering of our ASCII ids.
    order = entries.c.id if syncer.store.is_sqlite else entries.c.id.collate("C")
    with syncer.store.read() as conn:
        rows = conn.execution_options(yield_per=BATCH).execute(
            select(entries.c.id, entries.c.seq).where(servable_clause(today_cst())).order_by(order)
        )
        for row in rows:
            yield row.id, row.seq


def _merge(
    store_side: Iterator[tuple[str, int]], index_side: Iterator[tuple[str, int]]
) -> Iterator[tuple[str, int | None, int | None]]:
    """Yield (id, store seq, index seq) for every id on either side, by id order."""
    a, b = next(store_side, None), next(index_side, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield a[0], a[1], None
            a = next(store_side, None)
        elif a is None or b[0] < a[0]:
            yield b[0], None, b[1]
            b = next(index_side, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(store_side, None), next(index_side, None)


def _upsert(syncer: Syncer, ids: list[str]) -> None:
    it = iter(ids)
    while chunk := list(islice(it, BATCH)):
        with syncer.store.read() as conn:
            rows = [
                row
                for part in in_chunks(chunk)
                for row in conn.execute(select(entries).where(entries.c.id.in_(part))).mappings()
            ]
        today = today_cst()
        docs = [doc_from_row(r) for r in rows if is_servable(r, today)]
        if docs:
            syncer.index.upsert(docs)
