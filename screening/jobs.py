"""Screening jobs: an uploaded list matched row by row in the background, from the store.

``create`` keeps the rows and answers with a random token, the only way to the job (only
its hash is stored). ``run`` matches the rows of due jobs in batches, each batch written in
its own transaction: a worker that stops (a restart, a crash) loses at most the batch it was
matching, and the next round goes on from the first row without a result. Matching happens
outside the write transaction; a result is written only over no result, so two workers on
the same batch do the work twice but never disagree. ``sweep`` deletes every job whose
retention has ended, rows and all.

No row holds a full ID number: a row keeps its keyed hash (the one the search compares:
``ListService.card_key``) and its masked form, and names and references have anything shaped
like an ID number masked.

A finished job's result files are written on first download, one per format, language and
site address, into ``files_dir`` beside the store, and served from there afterwards (an
XLSX of 10,000 rows takes openpyxl seconds); ``sweep`` deletes them with the job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from core.db import Store
from core.progress import NO_PROGRESS
from core.progress import Progress as WorkProgress  # how far a run got (Progress: a job's)
from screening.matching import MatchResult, match_one
from screening.queries import MatchQuery
from screening.tables import screening_rows, screenings
from screening.upload import UploadRow
from search_index.events import mask_full_ids
from search_index.identifiers import IdentifierKind
from search_index.normalize import name_tokens
from search_index.service import ListService

BATCH = 200  # rows matched between two writes: what a restart may have to do again
MAX_FILENAME = 200


@dataclass(frozen=True, slots=True)
class Progress:
    filename: str
    total: int
    done: int
    created_at: datetime
    expires_at: datetime
    finished_at: datetime | None
    summary: dict[str, int] = field(default_factory=dict)  # best kind / "error" -> rows

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True, slots=True)
class ResultRow:
    row_no: int
    name: str
    card: str | None  # as shown: an ID number masked
    ref: str | None
    error: str | None
    best: str | None
    matches: list[dict[str, Any]]
    more: bool


class Screenings:
    def __init__(
        self,
        lists: ListService,
        key: str,
        retention: timedelta,
        files_dir: Path | None = None,
    ) -> None:
        self.lists = lists
        self.store: Store = lists.store
        self._key = key.encode()
        self.retention = retention
        self.files_dir = files_dir or lists.settings.data_dir / "screening-results"

    # --- uploading ------------------------------------------------------------------------

    def client_hash(self, client: str) -> str:
        """Who uploaded, as a keyed hash: enough to count a client's files, nothing more."""
        return hmac.new(self._key, b"screening:" + client.encode(), hashlib.sha256).hexdigest()

    def files_today(self, client: str, now: datetime | None = None) -> int:
        """The client's uploads in the last 24 hours."""
        now = now or datetime.now(UTC)
        with self.store.read() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(screenings)
                .where(
                    screenings.c.client_hash == self.client_hash(client),
                    screenings.c.created_at > now - timedelta(hours=24),
                )
            ).scalar()
        return int(count or 0)

    def create(
        self,
        rows: Sequence[UploadRow],
        filename: str,
        client: str,
        now: datetime | None = None,
    ) -> str:
        """Keep the job; its token."""
        now = now or datetime.now(UTC)
        token = secrets.token_urlsafe(24)
        with self.store.write() as conn:
            job_id = conn.execute(
                screenings.insert().values(
                    token_hash=_token_hash(token),
                    filename=mask_full_ids(filename[:MAX_FILENAME]),
                    client_hash=self.client_hash(client),
                    total=len(rows),
                    done=0,
                    created_at=now,
                    expires_at=now + self.retention,
                )
            ).inserted_primary_key[0]
            conn.execute(screening_rows.insert(), [self._stored(job_id, row) for row in rows])
        return token

    def _stored(self, job_id: int, row: UploadRow) -> dict[str, Any]:
        query = row.query
        stored: dict[str, Any] = {
            "screening_id": job_id,
            "row_no": row.row_no,
            "name": mask_full_ids(row.name),
            "ref": None if row.ref is None else mask_full_ids(row.ref),
            "card_kind": None,
            "card": None,
            "card_key": None,
            "card_shown": None,
            "error": row.error,
            "result": None,
        }
        if query is not None and query.card is not None and query.card_kind is not None:
            stored["card_kind"] = query.card_kind.value
            stored["card_shown"] = query.shown_card
            if query.card_kind is IdentifierKind.ID_NUMBER:  # kept as its hash only
                stored["card_key"] = self.lists.card_key(query.card)
            else:  # codes are public, masked numbers already masked
                stored["card"] = query.card
        return stored

    # --- reading --------------------------------------------------------------------------

    def progress(
        self,
        token: str,
        now: datetime | None = None,
        client: str | None = None,
        summary: bool = True,
    ) -> Progress | None:
        """The job's state; None for a token of no job (or of one past its retention, or,
        with ``client``, of one another client uploaded). The summary of a finished job
        reads every row: ``summary=False`` leaves it empty."""
        now = now or datetime.now(UTC)
        with self.store.read() as conn:
            job = (
                conn.execute(
                    select(screenings).where(screenings.c.token_hash == _token_hash(token))
                )
                .mappings()
                .first()
            )
            if job is None or job["expires_at"] <= now:
                return None
            if client is not None and not hmac.compare_digest(
                job["client_hash"], self.client_hash(client)
            ):
                return None
            counts: Counter[str] = Counter()
            if summary and job["finished_at"] is not None:
                for error, result in conn.execute(
                    select(screening_rows.c.error, screening_rows.c.result).where(
                        screening_rows.c.screening_id == job["id"]
                    )
                ):
                    counts["error" if error else (json.loads(result)["best"] or "none")] += 1
        return Progress(
            job["filename"],
            job["total"],
            job["done"],
            job["created_at"],
            job["expires_at"],
            job["finished_at"],
            dict(counts),
        )

    def results(
        self, token: str, now: datetime | None = None, client: str | None = None
    ) -> list[ResultRow] | None:
        """The rows with their matches, once the job is finished (else None)."""
        progress = self.progress(token, now, client, summary=False)
        if progress is None or not progress.finished:
            return None
        with self.store.read() as conn:
            job_id = conn.execute(
                select(screenings.c.id).where(screenings.c.token_hash == _token_hash(token))
            ).scalar()
            rows = conn.execute(
                select(screening_rows)
                .where(screening_rows.c.screening_id == job_id)
                .order_by(screening_rows.c.row_no)
            ).mappings()
            return [_result_row(row) for row in rows]

    # --- working --------------------------------------------------------------------------

    def rows_due(self, limit: int | None = None, now: datetime | None = None) -> int:
        """The rows ``run`` has to match (at most ``limit``): a progress total."""
        now = now or datetime.now(UTC)
        with self.store.read() as conn:
            due = conn.execute(
                select(func.coalesce(func.sum(screenings.c.total - screenings.c.done), 0)).where(
                    screenings.c.finished_at.is_(None), screenings.c.expires_at > now
                )
            ).scalar()
        return min(int(due or 0), limit) if limit is not None else int(due or 0)

    def run(
        self,
        batch: int = BATCH,
        limit: int | None = None,
        now: datetime | None = None,
        progress: WorkProgress = NO_PROGRESS,
    ) -> int:
        """Match rows of due jobs, oldest job first, ``batch`` rows a transaction, until
        none is left (or ``limit`` rows are done); the rows matched. ``progress`` advances
        by each batch once it is written."""
        matched = 0
        while limit is None or matched < limit:
            size = batch if limit is None else min(batch, limit - matched)
            work = self._next_batch(size, now or datetime.now(UTC))
            if work is None:
                return matched
            job_id, rows = work
            results = {row["id"]: _matched(self.lists, row) for row in rows}
            self._write(job_id, results, now or datetime.now(UTC))
            matched += len(rows)
            progress.advance(len(rows))
        return matched

    def _next_batch(self, size: int, now: datetime) -> tuple[int, list[Any]] | None:
        with self.store.read() as conn:
            job_id = conn.execute(
                select(screenings.c.id)
                .where(screenings.c.finished_at.is_(None), screenings.c.expires_at > now)
                .order_by(screenings.c.id)
                .limit(1)
            ).scalar()
            if job_id is None:
                return None
            rows = list(
                conn.execute(
                    select(screening_rows)
                    .where(
                        screening_rows.c.screening_id == job_id,
                        screening_rows.c.result.is_(None),
                    )
                    .order_by(screening_rows.c.row_no)
                    .limit(size)
                ).mappings()
            )
        return job_id, rows

    def _write(self, job_id: int, results: dict[int, str], now: datetime) -> None:
        with self.store.write() as conn:
            conn.execute(  # one statement for the batch (executemany)
                update(screening_rows)
                .where(
                    screening_rows.c.id == bindparam("row_id"), screening_rows.c.result.is_(None)
                )
                .values(result=bindparam("matched")),
                [{"row_id": row_id, "matched": result} for row_id, result in results.items()],
            )
            done = conn.execute(
                select(func.count())
                .select_from(screening_rows)
                .where(
                    screening_rows.c.screening_id == job_id,
                    screening_rows.c.result.is_not(None),
                )
            ).scalar()
            total = conn.execute(
                select(screenings.c.total).where(screenings.c.id == job_id)
            ).scalar()
            values: dict[str, Any] = {"done": done}
            if done is not None and total is not None and done >= total:
                values["finished_at"] = now
            conn.execute(update(screenings).where(screenings.c.id == job_id).values(**values))

    def result_path(self, token: str, name: str) -> Path:
        """Where the job's result file ``name`` is kept once written."""
        return self.files_dir / f"{_token_hash(token)}-{name}"

    def sweep(self, now: datetime | None = None) -> int:
        """Delete the jobs past their retention, with their rows and result files; how
        many."""
        now = now or datetime.now(UTC)
        with self.store.write() as conn:
            old = dict(
                conn.execute(
                    select(screenings.c.id, screenings.c.token_hash).where(
                        screenings.c.expires_at <= now
                    )
                ).all()
            )
            if old:
                ids = list(old)
                conn.execute(delete(screening_rows).where(screening_rows.c.screening_id.in_(ids)))
                conn.execute(delete(screenings).where(screenings.c.id.in_(ids)))
        for token_hash in old.values():
            for path in self.files_dir.glob(f"{token_hash}-*"):
                path.unlink(missing_ok=True)
        self._sweep_strays(now)
        return len(old)

    def _sweep_strays(self, now: datetime) -> None:
        """Files older than the retention whose job went without them (a stop between
        deleting the job and its files)."""
        if not self.files_dir.is_dir():
            return
        cutoff = (now - self.retention).timestamp()
        for path in self.files_dir.iterdir():
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _matched(lists: ListService, row: Any) -> str:
    """The row's result as stored JSON: matches reduced to what the result file shows."""
    if row["error"]:
        return json.dumps({"best": None, "matches": [], "more": False})
    result = match_one(lists, _query(row))
    return json.dumps(_summary(result), ensure_ascii=False)


def _query(row: Any) -> MatchQuery:
    kind = IdentifierKind(row["card_kind"]) if row["card_kind"] else None
    return MatchQuery(
        name=row["name"],
        name_key="".join(name_tokens(row["name"])),
        card=row["card"],
        card_kind=kind,
        ref=row["ref"],
        card_hash=row["card_key"],
        card_masked=row["card_shown"],
    )


def _summary(result: MatchResult) -> dict[str, Any]:
    return {
        "best": result.best.value if result.best else None,
        "matches": [
            {
                "kind": m.kind.value,
                "maskedIdentifier": m.masked_identifier,
                "id": m.entry.id,
                "iname": m.entry.name,
                "caseCode": m.entry.case_code,
                "courtName": m.entry.court_name,
            }
            for m in result.matches
        ],
        "more": result.more,
    }


def _result_row(row: Any) -> ResultRow:
    result = json.loads(row["result"] or '{"best": null, "matches": [], "more": false}')
    return ResultRow(
        row["row_no"],
        row["name"],
        row["card_shown"],
        row["ref"],
        row["error"],
        result["best"],
        result["matches"],
        result["more"],
    )
