"""Ingest batches from the courts: JSON Lines (any op) or CSV (publish batches).

A batch is read in chunks. Each chunk's good lines are journaled and committed, then
applied; bad lines are collected with their line number and reason. Good lines apply
even when others fail. Re-running the same batch changes nothing (events are keyed by
content) and finishes whatever a crash interrupted.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import orjson
from sqlalchemy import Connection, select, update

from core.db import Store, one_of
from core.progress import NO_PROGRESS, Progress
from core.workdays import WorkCalendar
from search_index.apply import apply_pending, record_events
from search_index.downloads import relabel, table_records
from search_index.events import (
    Event,
    EventParser,
    FieldWarning,
    Rejection,
    mask_full_ids,
)
from search_index.firstpub import FirstPublication
from search_index.journal import JournalLine
from search_index.normalize import normalize_place
from search_index.spreadsheets import UnreadableFile, csv_rows, decode_text, xlsx_rows
from search_index.tables import batches, entries

CHUNK = 5000
MAX_LINE_BYTES = 1024 * 1024
RAW_ECHO_LIMIT = 2000

Record = tuple[int, Any]  # (line number, decoded object or a Rejection)


@dataclass(slots=True)
class LineRejection:
    line: int
    code: str
    field: str | None
    message: str
    raw: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "raw": self.raw,
        }


@dataclass(slots=True)
class LineWarning:
    """An accepted line with an optional field we dropped or cut (``FieldWarning``)."""

    line: int
    field: str
    code: str
    message: str
    value: str = ""  # as received, masked and cut short

    @classmethod
    def of(cls, line: int, warning: FieldWarning) -> LineWarning:
        return cls(line, warning.field, warning.code, warning.message, warning.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "value": self.value,
        }


@dataclass(slots=True)
class IngestReport:
    batch_id: str
    source: str
    filename: str | None
    lines: int = 0
    accepted: int = 0  # new events journaled
    duplicates: int = 0  # events journaled before (idempotent re-import)
    applied: int = 0
    rejected: list[LineRejection] = field(default_factory=list)
    warnings: list[LineWarning] = field(default_factory=list)  # of accepted lines only
    sha256: str = ""
    # Whether the index had applied every change of the batch when this report was made
    # (None: no sync was asked for), and how many changes it had not applied yet.
    synced: bool | None = None
    index_lag: int | None = None

    @property
    def ok(self) -> bool:
        """No line rejected (lines accepted with warnings are fine)."""
        return not self.rejected

    @property
    def warned_lines(self) -> int:
        return len({w.line for w in self.warnings})

    def summary(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "source": self.source,
            "file": self.filename,
            "sha256": self.sha256,
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "applied": self.applied,
            "rejected": len(self.rejected),
            "warnings": len(self.warnings),
            "warnedLines": self.warned_lines,
            "synced": self.synced,
            "indexLag": self.index_lag,
        }

    def answer(self) -> dict[str, Any]:
        """What ``POST /api/v1/ingest`` answers: the summary, the rejected lines and the
        warnings (also a background job's result, ``ingest_jobs``)."""
        return {
            **self.summary(),
            "rejects": [r.as_dict() for r in self.rejected],
            "warningList": [w.as_dict() for w in self.warnings],
        }


@dataclass(slots=True)
class ParsedChunk:
    """Up to CHUNK input lines, parsed: good events, rejections, warnings about the good
    ones, and the raw records (kept only where a later check may need to echo them)."""

    lines_read: int
    events: list[JournalLine]
    rejected: list[LineRejection]
    raw: dict[int, Any] = field(default_factory=dict)
    warnings: list[LineWarning] = field(default_factory=list)
    first: list[FirstPublication] = field(default_factory=list)  # see search_index.firstpub


class ParsedStream:
    """Chunks parsed by someone else (another process); ``chunks`` runs the parsing."""

    def chunks(self, received_at: datetime) -> Iterator[ParsedChunk]:
        raise NotImplementedError


def parse_chunks(
    parser: EventParser, records: Iterable[Record], received_at: datetime
) -> Iterator[ParsedChunk]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= CHUNK:
            yield parse_chunk(parser, chunk, received_at)
            chunk = []
    if chunk:
        yield parse_chunk(parser, chunk, received_at)


def parse_chunk(parser: EventParser, chunk: list[Record], received_at: datetime) -> ParsedChunk:
    events: list[JournalLine] = []
    rejected: list[LineRejection] = []
    warnings: list[LineWarning] = []
    for line_no, raw in chunk:
        try:
            if isinstance(raw, Rejection):
                raise raw
            event, warned = parser.parse_line(raw, received_at)
            events.append(JournalLine(event, line_no))
            warnings.extend(LineWarning.of(line_no, w) for w in warned)
        except Rejection as exc:
            rejected.append(_rejection(line_no, exc, raw))
    return ParsedChunk(len(chunk), events, rejected, dict(chunk), warnings)


class Ingestor:
    """Runs batches into the store. ``court_scope`` (a court name) limits what a court's
    token may touch to that court's entries."""

    # A test hook: called after each chunk is committed, with the lines read so far.
    after_chunk: Callable[[int], None] | None = None

    def __init__(
        self,
        store: Store,
        calendar: WorkCalendar,
        id_hash_key: str,
        *,
        court_scope: str | None = None,
    ) -> None:
        self.store = store
        self.calendar = calendar
        self.parser = EventParser(id_hash_key)
        self.scope = normalize_place(court_scope) if court_scope else None

    def run(
        self,
        records: Iterable[Record] | ParsedStream,
        *,
        source: str,
        filename: str | None = None,
        sha256: Callable[[], str] | str = "",
        progress: Progress = NO_PROGRESS,
        batch_id: str | None = None,
        received_at: datetime | None = None,
    ) -> IngestReport:
        """Ingest ``records`` (parsed here), or a stream already parsed elsewhere (see
        ``search_index.parallel``); ``progress`` advances by the lines of each chunk once
        the store holds them. A batch received earlier and run now (``ingest_jobs``) keeps
        its ``batch_id`` and ``received_at``: run again after a restart, it is the same
        batch, and its removals' deadlines count from when it arrived."""
        received_at = received_at or datetime.now(UTC)
        report = IngestReport(batch_id or uuid.uuid4().hex, source, filename)
        # Whatever an earlier crash journaled but did not apply goes first.
        report.applied += apply_pending(self.store, self.calendar)
        self._open_batch(report, received_at)
        if isinstance(records, ParsedStream):
            chunks = records.chunks(received_at)
        else:
            chunks = parse_chunks(self.parser, records, received_at)
        for chunk in chunks:
            report.lines += chunk.lines_read
            report.rejected.extend(chunk.rejected)
            report.warnings.extend(chunk.warnings)
            self._run_chunk(chunk, report, received_at)
            progress.advance(chunk.lines_read)
        report.sha256 = sha256() if callable(sha256) else sha256
        self._close_batch(report)
        return report

    def _run_chunk(self, chunk: ParsedChunk, report: IngestReport, received_at: datetime) -> None:
        kept: list[JournalLine] = []
        lines, first = chunk.events, chunk.first
        if self.scope is not None and first:  # the scope check sees every line
            lines = sorted([*lines, *(f.journal_line() for f in first)], key=_line_no)
            first = []

        def in_scope(conn: Connection, lines: list[JournalLine]) -> list[JournalLine]:
            kept.extend(self._in_scope(conn, lines, report, chunk.raw))
            return kept

        new = record_events(
            self.store,
            lines,
            source=report.source,
            batch_id=report.batch_id,
            calendar=self.calendar,
            received_at=received_at,
            check=in_scope,
            first=first,
        )
        report.accepted += new
        report.duplicates += len(kept) + len(first) - new
        report.applied += new
        self.store.restart_wal_if_large()
        if self.after_chunk is not None:
            self.after_chunk(report.lines)

    def _in_scope(
        self,
        conn: Connection,
        lines: list[JournalLine],
        report: IngestReport,
        raw_by_line: dict[int, Any],
    ) -> list[JournalLine]:
        if self.scope is None:
            return lines
        courts = _courts_of(conn, [line.event.entry_id for line in lines])
        kept = []
        refused: set[int] = set()
        for line in lines:
            # Both the court on file and the court the line names must be this token's:
            # otherwise a re-publication or correction could take over another court's entry.
            named = (courts.get(line.event.entry_id), _court_of(line.event))
            foreign = [c for c in named if c is not None and normalize_place(c) != self.scope]
            if foreign:
                exc = Rejection(
                    "out_of_scope",
                    f"本单位的令牌无权提交其他法院（{foreign[0]}）的条目",
                    "courtName",
                )
                report.rejected.append(
                    _rejection(line.line_no or 0, exc, raw_by_line.get(line.line_no))
                )
                refused.add(line.line_no or 0)
            else:
                kept.append(line)
        if refused:  # a rejected line has no warnings: nothing of it was accepted
            report.warnings = [w for w in report.warnings if w.line not in refused]
        return kept

    def _open_batch(self, report: IngestReport, received_at: datetime) -> None:
        with self.store.write() as conn:
            known = select(batches.c.id).where(batches.c.id == report.batch_id)
            if conn.execute(known).first() is not None:  # a batch run again: the same row
                return
            conn.execute(
                batches.insert().values(
                    id=report.batch_id,
                    source=report.source,
                    filename=report.filename,
                    sha256="",
                    received_at=received_at,
                )
            )

    def _close_batch(self, report: IngestReport) -> None:
        with self.store.write() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.id == report.batch_id)
                .values(
                    sha256=report.sha256,
                    finished_at=datetime.now(UTC),
                    lines=report.lines,
                    accepted=report.accepted,
                    duplicates=report.duplicates,
                    rejected=len(report.rejected),
                    warned=report.warned_lines,
                )
            )


def _line_no(line: JournalLine) -> int:
    return line.line_no or 0


def _court_of(event: Event) -> str | None:
    return event.payload.get("court_name")


def _courts_of(conn: Connection, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(entries.c.id, entries.c.court_name).where(one_of(conn, entries.c.id, ids))
    )
    return {row.id: row.court_name for row in rows if row.court_name}


def _rejection(line_no: int, exc: Rejection, raw: Any) -> LineRejection:
    if isinstance(raw, Rejection):
        raw = raw.line_text
    text = raw if isinstance(raw, str) else orjson.dumps(raw).decode() if raw is not None else ""
    # The echo helps the clerk find the line; it must not carry a full ID number anywhere
    # (rejects files get passed around, API responses get logged). Masked before it is cut:
    # a number cut in two would no longer look like one.
    text = mask_full_ids(text)[:RAW_ECHO_LIMIT]
    return LineRejection(line_no, exc.code, exc.field, exc.message, text)


# --- Reading input ------------------------------------------------------------------------


class HashingReader:
    """Reads lines from a binary stream while hashing everything read."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            self._hash.update(line)
            yield line

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def jsonl_records(lines: Iterable[bytes]) -> Iterator[Record]:
    for line_no, line in enumerate(lines, start=1):
        record = decode_jsonl(line_no, line)
        if record is not None:
            yield record


def decode_jsonl(line_no: int, line: bytes) -> Record | None:
    """One JSON Lines line as a record; None for a blank line. A line keyed by the national
    site's labels comes back under our keys, with ``op`` and a derived ``id`` when it has none
    (``search_index.downloads``); a line in GB 18030 is read too."""
    stripped = line.strip()
    if line_no == 1:
        stripped = stripped.removeprefix(b"\xef\xbb\xbf")  # a BOM from Windows tools
    if not stripped:
        return None
    if len(stripped) > MAX_LINE_BYTES:
        return line_no, Rejection("line_too_long", "这一行太长（超过 1 MB）")
    try:
        obj = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        obj = _json_not_utf8(stripped)
        if obj is None:
            return line_no, _bad_json(stripped, exc)
    # Our own lines always carry "op": only the others can be in the site's labels.
    if type(obj) is dict and "op" not in obj:
        obj = relabel(obj)
    return line_no, obj


def _json_not_utf8(stripped: bytes) -> Any:
    """A line that is JSON in GB 18030 (None when it is not): strict, so that bytes in
    neither encoding are rejected rather than read as mojibake."""
    try:
        stripped.decode("utf-8")
        return None  # valid UTF-8: the JSON itself is broken
    except UnicodeDecodeError:
        pass
    try:
        return orjson.loads(stripped.decode("gb18030"))
    except UnicodeDecodeError:
        return Rejection(
            "bad_encoding",
            "这一行的编码无法识别：既不是 UTF-8 也不是 GB18030。请以 UTF-8 保存后重新提交",
            line_text=stripped[:RAW_ECHO_LIMIT].decode("utf-8", errors="replace"),
        )
    except orjson.JSONDecodeError:
        return None


def _bad_json(stripped: bytes, exc: orjson.JSONDecodeError) -> Rejection:
    text = stripped[:RAW_ECHO_LIMIT].decode("utf-8", errors="replace")
    where = f"第 {exc.colno} 个字符附近" if exc.colno else "内容"
    message = f"这一行不是有效的 JSON（{where}有误；每行应为一个完整的 JSON 对象）"
    return Rejection("bad_json", message, line_text=text)


def csv_records(data: bytes) -> Iterator[Record]:
    """A CSV publish batch: a header row (our field names or the national site's labels,
    possibly under a title row), one entry a row, numbered as the spreadsheet numbers its
    rows. UTF-8 (with or without BOM) or GB 18030, detected strictly."""
    try:
        rows = csv_rows(decode_text(data))
    except UnreadableFile as exc:
        yield exc.line, exc.rejection
        return
    yield from table_records(rows, extra_cells_are_errors=True)


def xlsx_records(stream: IO[bytes]) -> Iterator[Record]:
    """An XLSX publish batch: the first worksheet, read like a CSV batch."""
    try:
        yield from table_records(xlsx_rows(stream), extra_cells_are_errors=False)
    except UnreadableFile as exc:
        yield exc.line, exc.rejection


FORMATS = ("jsonl", "csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
_TYPES = {"text/csv": "csv", XLSX_TYPE: "xlsx", "application/x-ndjson": "jsonl"}


def sniff_format(name: str | None, content_type: str | None = None, head: bytes = b"") -> str:
    """``jsonl``, ``csv`` or ``xlsx``: by content type, else by the file name's extension,
    else by the first bytes (a zip archive is XLSX, a ``{`` JSON Lines, anything else CSV)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _TYPES:
        return _TYPES[media]
    suffix = "." + (name or "").rsplit(".", 1)[-1].lower() if "." in (name or "") else ""
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    return sniff_content(head)


def sniff_content(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return "jsonl" if not text or text.startswith(b"{") else "csv"
