"""Background ingest jobs: a batch kept before the 202, run later, read back by its sender.

``submit`` parses the body (in chunks, as the synchronous ingest does) and commits the job
and every chunk in one transaction before it returns: once the sender has its 202, nothing
is lost. ``run`` claims a waiting job and ingests its chunks as one batch whose id is the
job's and whose arrival time is the 202's, so a removal's deadline counts from when it
reached us, not from when a worker got to it.

A worker that stops (the portal shutting down) ends its job at the next chunk and lets the
claim go; one that dies holds it until its process is provably gone
(``core.process_identity``) or ``LEASE`` has passed. The next run ingests the whole batch
again: events are keyed by their content, so what the first run journaled counts as
duplicates, and the summary is then corrected from the journal (the events of the batch's
id), so that it says what a run without the restart would have said.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, select, update

from core.db import Store
from core.process_identity import holder_is_dead, identity
from ingest_jobs.chunks import encode, parsed
from ingest_jobs.tables import ingest_job_chunks, ingest_jobs
from search_index.ingest import IngestReport, ParsedChunk, ParsedStream, Record
from search_index.parallel import decode_chunk
from search_index.service import ListService

LEASE = timedelta(minutes=2)  # renewed at every chunk, which takes seconds
RETENTION = timedelta(days=7)  # a finished job's summary stays readable this long
# Runs a job may fail (an error, not a stop) before it is given up: a batch that breaks the
# ingest every time must not be retried for ever, nor hold back the jobs queued behind it.
MAX_RUNS = 5
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ENDED = (DONE, FAILED)
GAVE_UP = (
    "报送任务多次处理失败，已停止。已入库的行保留；请重新报送整批，"
    "已入库的行会按重复计，不会重复入库"
)

log = logging.getLogger("shixin.ingest_jobs")


class Interrupted(Exception):
    """The worker is stopping, or lost its claim: the job is left to the next run."""


@dataclass(frozen=True, slots=True)
class JobStatus:
    id: str
    status: str  # queued, running, done, failed
    total: int  # lines in the batch
    done: int  # lines in the store so far
    received_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None  # the synchronous answer's body, once done
    error: dict[str, str] | None = None  # why it failed: {code, message}

    @property
    def finished(self) -> bool:
        return self.status in ENDED


class IngestJobs:
    def __init__(self, lists: ListService, key: str) -> None:
        self.lists = lists
        self.store: Store = lists.store
        self._key = key
        self.stopping = threading.Event()  # set when the worker shuts down

    # --- submitting -----------------------------------------------------------------------

    def submit(
        self,
        records: Iterable[Record],
        *,
        token_id: int,
        source: str,
        filename: str | None,
        sha256: str,
        court_scope: str | None,
        now: datetime | None = None,
    ) -> JobStatus | None:
        """Parse and keep the batch; its status (queued). None for a batch without a line."""
        received_at = now or datetime.now(UTC)
        # Parsed before the write: the store's writer lock is held only for the inserts.
        blobs, total = [], 0
        for chunk in parsed(self._key, records, received_at):
            blobs.append(encode(chunk))
            total += chunk.lines_read
        if not total:
            return None
        job_id = uuid.uuid4().hex
        with self.store.write() as conn:
            conn.execute(
                ingest_jobs.insert().values(
                    id=job_id,
                    token_id=token_id,
                    source=source,
                    court_scope=court_scope,
                    filename=filename,
                    sha256=sha256,
                    received_at=received_at,
                    total=total,
                    chunks=len(blobs),
                    done=0,
                    status=QUEUED,
                    runs=0,
                )
            )
            conn.execute(
                ingest_job_chunks.insert(),
                [{"job_id": job_id, "seq": seq, "body": blob} for seq, blob in enumerate(blobs)],
            )
        return JobStatus(job_id, QUEUED, total, 0, received_at, None, None, None)

    # --- reading --------------------------------------------------------------------------

    def status(self, job_id: str, token_id: int) -> JobStatus | None:
        """The job, for the token that sent it; None for any other token, or no such job."""
        with self.store.read() as conn:
            row = (
                conn.execute(
                    select(ingest_jobs).where(
                        ingest_jobs.c.id == job_id, ingest_jobs.c.token_id == token_id
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        result = orjson.loads(row["result"]) if row["result"] else None
        error = result if row["status"] == FAILED else None
        if error is not None:
            result = None
        return JobStatus(
            row["id"],
            row["status"],
            row["total"],
            row["done"],
            row["received_at"],
            row["started_at"],
            row["finished_at"],
            result,
            error,
        )

    # --- working --------------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> int:
        """Run waiting jobs, oldest first, until none is left or the worker stops; how many
        were finished."""
        finished = 0
        while not self.stopping.is_set():
            job = self._claim(now or datetime.now(UTC))
            if job is None:
                return finished
            finished += self._run(job)
        return finished

    def _claim(self, now: datetime) -> Any:
        me = identity()
        with self.store.write() as conn:
            candidates = conn.execute(
                select(ingest_jobs.c.id, ingest_jobs.c.claimed_by, ingest_jobs.c.claimed_until)
                .where(ingest_jobs.c.status.not_in(ENDED))
                .order_by(ingest_jobs.c.received_at)
            ).all()
            for job_id, holder, until in candidates:
                if holder is None or until <= now or holder_is_dead(holder):
                    # Only over the holder we saw: of two workers claiming at once (on
                    # PostgreSQL), the second finds the row changed and moves on.
                    seen = (
                        ingest_jobs.c.claimed_by.is_(None)
                        if holder is None
                        else ingest_jobs.c.claimed_by == holder
                    )
                    claimed = conn.execute(
                        update(ingest_jobs)
                        .where(ingest_jobs.c.id == job_id, seen)
                        .values(
                            status=RUNNING,
                            claimed_by=me,
                            claimed_until=now + LEASE,
                            runs=ingest_jobs.c.runs + 1,
                            started_at=func.coalesce(ingest_jobs.c.started_at, now),
                        )
                    )
                    if not claimed.rowcount:
                        continue
                    return (
                        conn.execute(select(ingest_jobs).where(ingest_jobs.c.id == job_id))
                        .mappings()
                        .one()
                    )
        return None

    def _run(self, job: Any) -> int:
        progress = _JobProgress(self, job["id"], job["done"])
        try:
            report = self.lists.ingest(
                _StoredChunks(self.store, job["id"], job["chunks"]),
                source=job["source"],
                filename=job["filename"],
                sha256=job["sha256"],
                court_scope=job["court_scope"],
                progress=progress,
                batch_id=job["id"],
                received_at=job["received_at"],
            )
        except Interrupted:  # stopping, or another worker has it now: left to the next run
            self._release(job["id"])
            return 0
        except Exception:
            if job["runs"] >= MAX_RUNS:
                log.exception("ingest job %s failed %d times: given up", job["id"], job["runs"])
                self._give_up(job["id"])
                return 0
            self._release(job["id"])  # retried at the next round, by whichever worker
            raise
        except BaseException:
            self._release(job["id"])
            raise
        if job["runs"] > 1:
            self._recount(report)
        self._finish(job["id"], report)
        return 1

    def _recount(self, report: IngestReport) -> None:
        """A resumed batch: what the earlier runs journaled counts as accepted, not as
        duplicates (the journal knows them by the batch's id)."""
        journaled = self.lists.batch_event_count(report.batch_id)
        extra = max(0, min(journaled - report.accepted, report.duplicates))
        report.accepted += extra
        report.duplicates -= extra
        report.applied += extra

    def _finish(self, job_id: str, report: IngestReport) -> None:
        self._end(job_id, DONE, report.answer(), done=report.lines)

    def _give_up(self, job_id: str) -> None:
        """End a job that keeps failing: its sender reads why, and resends the batch."""
        self._end(job_id, FAILED, {"code": "ingest_failed", "message": GAVE_UP})

    def _end(self, job_id: str, status: str, result: dict[str, Any], **values: Any) -> None:
        """The job's last word (its answer, or why it failed), and its chunks gone."""
        with self.store.write() as conn:
            conn.execute(
                update(ingest_jobs)
                .where(ingest_jobs.c.id == job_id)
                .values(
                    status=status,
                    finished_at=datetime.now(UTC),
                    claimed_by=None,
                    claimed_until=None,
                    result=orjson.dumps(result).decode(),
                    **values,
                )
            )
            conn.execute(delete(ingest_job_chunks).where(ingest_job_chunks.c.job_id == job_id))

    def _release(self, job_id: str) -> None:
        with self.store.write() as conn:
            conn.execute(
                update(ingest_jobs)
                .where(ingest_jobs.c.id == job_id, ingest_jobs.c.claimed_by == identity())
                .values(status=QUEUED, claimed_by=None, claimed_until=None)
            )

    def renew(self, job_id: str, done: int) -> bool:
        """Record the lines done and extend the claim; False when the claim was lost."""
        now = datetime.now(UTC)
        with self.store.write() as conn:
            result = conn.execute(
                update(ingest_jobs)
                .where(
                    ingest_jobs.c.id == job_id,
                    ingest_jobs.c.claimed_by == identity(),
                    ingest_jobs.c.status == RUNNING,
                )
                .values(done=done, claimed_until=now + LEASE)
            )
        return bool(result.rowcount)

    def sweep(self, now: datetime | None = None) -> int:
        """Delete finished jobs past ``RETENTION``; how many."""
        now = now or datetime.now(UTC)
        with self.store.write() as conn:
            result = conn.execute(
                delete(ingest_jobs).where(
                    ingest_jobs.c.status.in_(ENDED), ingest_jobs.c.finished_at <= now - RETENTION
                )
            )
        return int(result.rowcount or 0)


class _JobProgress:
    """The ``Progress`` a job's ingest advances: each chunk's lines go to the job's row,
    which renews the claim; a stopping worker ends the run here, between two chunks."""

    total: int | None = None

    def __init__(self, jobs: IngestJobs, job_id: str, done_before: int) -> None:
        self._jobs = jobs
        self._job_id = job_id
        self._before = done_before  # a resumed run counts again from 0: never show less
        self._done = 0

    def advance(self, n: int) -> None:
        self._done += n
        if not self._jobs.renew(self._job_id, max(self._before, self._done)):
            raise Interrupted(self._job_id)
        if self._jobs.stopping.is_set():
            raise Interrupted(self._job_id)


class _StoredChunks(ParsedStream):
    """The job's chunks from the store, one read at a time."""

    def __init__(self, store: Store, job_id: str, count: int) -> None:
        self._store = store
        self._job_id = job_id
        self._count = count

    def chunks(self, received_at: datetime) -> Iterator[ParsedChunk]:
        for seq in range(self._count):
            with self._store.read() as conn:
                blob = conn.execute(
                    select(ingest_job_chunks.c.body).where(
                        ingest_job_chunks.c.job_id == self._job_id,
                        ingest_job_chunks.c.seq == seq,
                    )
                ).scalar_one()
            yield decode_chunk(blob)
