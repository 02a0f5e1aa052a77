"""A batch's chunks as kept between the 202 and the run: ``ParsedChunk`` as orjson bytes,
the way ``search_index.parallel`` hands chunks between processes.

Only what the run needs is kept: the events (as parsed, with their keys), the rejected
lines and the warnings (both masked already). The raw records are not: they hold full ID
numbers, so a line refused by a court token's scope is echoed without its text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

import orjson

from search_index.events import Event, EventParser
from search_index.ingest import LineRejection, LineWarning, ParsedChunk, Record, parse_chunks
from search_index.journal import JournalLine


def parsed(key: str, records: Iterable[Record], received_at: datetime) -> Iterator[ParsedChunk]:
    """The records parsed, chunk by chunk, as the synchronous ingest parses them."""
    return parse_chunks(EventParser(key), records, received_at)


def encode(chunk: ParsedChunk) -> bytes:
    events = [
        [line.line_no, e.op, e.entry_id, e.effective_at.isoformat(), e.payload, e.key]
        for line in chunk.events
        for e in (line.event,)
    ]
    rejected = [[r.line, r.code, r.field, r.message, r.raw] for r in chunk.rejected]
    warnings = [[w.line, w.field, w.code, w.message, w.value] for w in chunk.warnings]
    return orjson.dumps([chunk.lines_read, events, rejected, warnings])


def decode(blob: bytes) -> ParsedChunk:
    read, events, rejected, warnings = orjson.loads(blob)
    return ParsedChunk(
        lines_read=read,
        events=[
            JournalLine(Event(op, entry_id, datetime.fromisoformat(eff), payload, key), line_no)
            for line_no, op, entry_id, eff, payload, key in events
        ],
        rejected=[LineRejection(*item) for item in rejected],
        warnings=[LineWarning(*item) for item in warnings],
    )
