"""Syncing the index in another process while a large import writes the store.

The index sync only follows the store's change sequence, so it can run beside the import
instead of after it: the import writes the store on one core while this process fills
the index on the other. It compacts the index only at the end (compacting a large FTS5
index takes seconds, and would be repeated for every round otherwise). The importer runs
one last sync of its own after this process is done, so a crash here loses nothing.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Event

log = logging.getLogger("shixin.follow")
IDLE_WAIT = 0.2  # seconds between rounds when the import has written nothing new


def _follow(stop: Event) -> None:
    from core.settings import load_settings
    from search_index.service import ListService

    service = ListService(load_settings())
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
def sync_alongside() -> Iterator[None]:
    """Run an index sync process for the duration of the block."""
    # spawn: the parent holds database connections and threads that must not be forked
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    process = context.Process(target=_follow, args=(stop,), name="shixin-sync", daemon=True)
    process.start()
    try:
        yield
    finally:
        stop.set()
        process.join()
        if process.exitcode:
            log.warning("the index sync beside the import failed (exit %s)", process.exitcode)
