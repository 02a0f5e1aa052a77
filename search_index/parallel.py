"""Parsing large JSON Lines batches on a second core.

Validation and normalization are pure Python and cost about as much as writing the store,
so a big import parses in a worker process while the main process writes. Results come
back as orjson bytes (lists of plain values), which decode several times faster than
pickled objects; the worker computes each event's key, so the main process only rebuilds
the small Event objects.

The worker ends with its parent, however the parent ends (``die_with_parent``): killed
outright, the importer cannot shut the pool down, and a worker waiting for its next chunk
would wait forever, and with it multiprocessing's resource tracker (which ends when the last
process holding its pipe does). Nothing is lost by it: the store holds only what was
journaled, and a rerun of the import finishes the job.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from functools import lru_cache
from itertools import islice

import orjson

from search_index import firstpub
from search_index.dates import today_cst
from search_index.events import Event, EventParser, Rejection
from search_index.firstpub import FirstPublication
from search_index.ingest import (
    CHUNK,
    LineRejection,
    LineWarning,
    ParsedChunk,
    ParsedStream,
    _rejection,
    decode_jsonl,
)
from search_index.journal import JournalLine

IN_FLIGHT = 3  # chunks queued ahead of the writer: enough to keep the worker busy
PARENT_POLL = 0.5  # seconds between the worker's checks that its parent is alive
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """In a child process: end it when ``parent_pid`` dies. On Linux the kernel kills it
    (``PR_SET_PDEATHSIG``) the moment the parent ends; everywhere a daemon thread also
    checks the parent every ``PARENT_POLL`` seconds (an orphan is adopted by another
    process, so ``os.getppid()`` changes). A parent already gone ends the child at once."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl (another libc): the thread suffices
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="shixin-parent-watch", daemon=True).start()


@lru_cache(maxsize=4)
def _parser(key: str) -> EventParser:
    return EventParser(key)


def parse_in_worker(key: str, received_iso: str, lines: list[tuple[int, bytes]]) -> bytes:
    """Runs in the worker: returns ``[read, events, first publications, rejections,
    warnings]`` as orjson bytes."""
    parser = _parser(key)
    received_at = datetime.fromisoformat(received_iso)
    today = today_cst()
    events: list[list[object]] = []
    first: list[list[object]] = []
    rejected: list[list[object]] = []
    warnings: list[list[object]] = []
    read = 0
    for line_no, line in lines:
        record = decode_jsonl(line_no, line)
        if record is None:
            continue
        read += 1
        raw = record[1]
        try:
            if isinstance(raw, Rejection):
                raise raw
            ev, warned = parser.parse_line(raw, received_at)
            prepared = firstpub.prepare(ev, line_no, received_at, today)
            warnings.extend([line_no, w.field, w.code, w.message, w.value] for w in warned)
            if prepared is not None:
                first.append(prepared.to_wire())
                continue
            events.append(
                [line_no, ev.op, ev.entry_id, ev.effective_at.isoformat(), ev.payload, ev.key]
            )
        except Rejection as exc:
            r = _rejection(line_no, exc, raw)
            rejected.append([r.line, r.code, r.field, r.message, r.raw])
    return orjson.dumps([read, events, first, rejected, warnings])


def decode_chunk(blob: bytes) -> ParsedChunk:
    """A chunk from its wire form ``[read, events, first, rejected, warnings]``, the form a
    parsing process sends (above) and a kept background batch is stored in
    (``ingest_jobs.chunks``)."""
    read, events, first, rejected, warnings = orjson.loads(blob)
    return ParsedChunk(
        lines_read=read,
        events=[
            JournalLine(Event(op, entry_id, datetime.fromisoformat(eff), payload, key), line_no)
            for line_no, op, entry_id, eff, payload, key in events
        ],
        rejected=[LineRejection(*item) for item in rejected],
        first=[FirstPublication.from_wire(item) for item in first],
        warnings=[LineWarning(*item) for item in warnings],
    )


class ParallelJsonl(ParsedStream):
    """A JSON Lines stream parsed by one worker process, in order, a few chunks ahead.
    Blank lines are skipped and not counted, as in ``jsonl_records``."""

    def __init__(self, lines: Iterable[bytes], id_hash_key: str) -> None:
        self._lines = lines
        self._key = id_hash_key

    def chunks(self, received_at: datetime) -> Iterator[ParsedChunk]:
        numbered = enumerate(self._lines, start=1)
        # spawn: the parent holds database connections and threads that must not be forked
        context = multiprocessing.get_context("spawn")
        # The worker starts at the first submit, from this thread: PR_SET_PDEATHSIG
        # watches the thread that started a process, and this one iterates to the end.
        with ProcessPoolExecutor(
            max_workers=1,
            mp_context=context,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            pending: deque[Future[bytes]] = deque()
            while True:
                while len(pending) < IN_FLIGHT:
                    batch = list(islice(numbered, CHUNK))
                    if not batch:
                        break
                    pending.append(
                        pool.submit(parse_in_worker, self._key, received_at.isoformat(), batch)
                    )
                if not pending:
                    return
                yield decode_chunk(pending.popleft().result())
