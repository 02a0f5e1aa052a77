"""The daily full snapshot: every public entry as JSON Lines, a ``.sha256`` beside it, and
the feed cursor it is consistent with, so a mirror can load it and follow the feed.

The file is written under a temporary name and renamed when complete (with its checksum
written first), so ``latest`` never hands out a half-written file. Names carry the
snapshot's UTC time: ``shixin-snapshot-20261202T010000Z.jsonl``; the newest wins.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from core.db import Store
from search_index.export_formats import jsonl_chunks
from search_index.exports import export_filter, public_entries, snapshot

PREFIX = "shixin-snapshot-"
KEEP = 7  # snapshots kept: a week of mornings


@dataclass(slots=True, frozen=True)
class SnapshotFile:
    path: Path
    sha256: str
    cursor: str
    entries: int

    @property
    def checksum_path(self) -> Path:
        return self.path.with_name(self.path.name + ".sha256")


def write_snapshot(
    store: Store, directory: Path, *, demo: bool, today: date, now: datetime | None = None
) -> SnapshotFile:
    directory.mkdir(parents=True, exist_ok=True)
    with snapshot(store, demo=demo, now=now) as (snap, conn):
        path = directory / f"{PREFIX}{snap.taken_at:%Y%m%dT%H%M%SZ}.jsonl"
        partial = path.with_name(path.name + ".partial")
        counter = _Counter(public_entries(conn, export_filter({}), today))
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for chunk in jsonl_chunks(counter, snap):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    result = SnapshotFile(path, digest.hexdigest(), snap.cursor, counter.count)
    result.checksum_path.write_text(f"{result.sha256}  {path.name}\n", encoding="ascii")
    partial.replace(path)
    _prune(directory)
    return result


def latest(directory: Path) -> Path | None:
    """The newest complete snapshot in ``directory`` (with its checksum), or None."""
    done = [
        p for p in directory.glob(f"{PREFIX}*.jsonl") if p.with_name(p.name + ".sha256").exists()
    ]
    return max(done, default=None, key=lambda p: p.name)


def _prune(directory: Path) -> None:
    for old in sorted(directory.glob(f"{PREFIX}*.jsonl"))[:-KEEP]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + ".sha256").unlink(missing_ok=True)


class _Counter:
    def __init__(self, rows: Iterable[dict]) -> None:  # type: ignore[type-arg]
        self.rows = rows
        self.count = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for row in self.rows:
            self.count += 1
            yield row
