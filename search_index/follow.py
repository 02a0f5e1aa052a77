"""Syncing the index in another process while a large import writes the store.

The index sync only follows the store's change sequence, so it can run beside the import
instead of after it: the import writes the store on one core while this process fills
the index on the other. It compacts the index only at the end (compacting a large FTS5
index takes seconds, and would be repeated for every round otherwise). The importer runs
one last sync of its own after this process is done, so a crash here loses nothing.

The import's progress is that of its slowest stage (``IndexedLines``): a line counts once
the store holds it and the index has applied what it changed, so a bar does not reach the
end while the index is still catching up or compacting.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Event

from core.progress import Progress
from search_index.sync import Syncer

log = logging.getLogger("shixin.follow")
IDLE_WAIT = 0.2  # seconds between rounds when the import has written nothing new
WAIT_POLL = 0.5  # seconds between progress checks while the index process finishes


def _follow(stop: Event) -> None:
    from core.settings import load_settings
    from search_index.index import open_index
    from search_index.service import ListService

    settings = load_settings()
    service = ListService(settings, index=open_index(settings, bulk=True))
    parent = multiprocessing.parent_process()
    try:
        # An importer killed outright cannot set ``stop``: do not outlive it. The round
        # under way ends (releasing the sync lease), but not the long compacting one: the
        # portal's sync, or the rerun of the import, catches up.
        while not stop.is_set():
            if parent is not None and not parent.is_alive():
                return
            result = service.syncer.sync(optimize=False)
            if result.skipped or result.upserted + result.deleted == 0:
                stop.wait(IDLE_WAIT)
        service.syncer.sync()  # the rest, and the compaction a big round earns
    finally:
        service.close()


@contextmanager
def sync_alongside(while_waiting: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Run an index sync process for the duration of the block; at its end, wait for the
    process to catch up, calling ``while_waiting`` every WAIT_POLL seconds meanwhile."""
    # spawn: the parent holds database connections and threads that must not be forked
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    process = context.Process(target=_follow, args=(stop,), name="shixin-sync", daemon=True)
    process.start()
    try:
        yield
    finally:
        stop.set()
        process.join(WAIT_POLL)
        while process.is_alive():
            while_waiting()
            process.join(WAIT_POLL)
        if process.exitcode:
            log.warning("the index sync beside the import failed (exit %s)", process.exitcode)


class IndexedLines:
    """The Progress an import writes to (lines the store holds) passed on to ``progress``
    only as far as the index has applied them: the slowest of the three stages (the parser
    runs at most a few chunks ahead of the store). Each chunk leaves a mark, the store's
    latest change after it; the index has caught up with a mark when its sync position
    reaches it. The last mark waits for ``finish``, after the index process has compacted."""

    def __init__(self, syncer: Syncer, progress: Progress) -> None:
        self._syncer = syncer
        self._progress = progress
        self._marks: deque[tuple[int, int]] = deque()  # (store change, lines stored by then)
        self._stored = 0
        self._passed = 0

    @property
    def total(self) -> int | None:
        return self._progress.total

    @total.setter
    def total(self, value: int | None) -> None:
        self._progress.total = value

    def advance(self, n: int) -> None:
        """``n`` more lines stored (once a chunk: two small reads of the store)."""
        self._stored += n
        self._marks.append((self._syncer.head(), self._stored))
        self.catch_up()

    def catch_up(self) -> None:
        synced = self._syncer.synced_seq()
        while len(self._marks) > 1 and self._marks[0][0] <= synced:
            self._pass(self._marks.popleft()[1])

    def finish(self) -> None:
        """The index process is done: every stored line is indexed."""
        self._marks.clear()
        self._pass(self._stored)

    def _pass(self, lines: int) -> None:
        self._progress.advance(lines - self._passed)
        self._passed = lines
