"""A batch's chunks as kept between the 202 and the run: ``ParsedChunk`` as orjson bytes,
in the wire form ``search_index.parallel`` hands chunks between processes in.

Only what the run needs is kept: the events (as parsed, with their keys), the rejected
lines and the warnings (both masked already). The raw records are not: they hold full ID
numbers, so a line refused by a court token's scope is echoed without its text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

import orjson

from search_index.events import EventParser
from search_index.ingest import ParsedChunk, Record, parse_chunks


def parsed(key: str, records: Iterable[Record], received_at: datetime) -> Iterator[ParsedChunk]:
    """The records parsed, chunk by chunk, as the synchronous ingest parses them."""
    return parse_chunks(EventParser(key), records, received_at)


def encode(chunk: ParsedChunk) -> bytes:
    """The chunk in the wire form ``search_index.parallel.decode_chunk`` reads back."""
    events = [
        [line.line_no, e.op, e.entry_id, e.effective_at.isoformat(), e.payload, e.key]
        for line in chunk.events
        for e in (line.event,)
    ]
    first = [f.to_wire() for f in chunk.first]
    rejected = [[r.line, r.code, r.field, r.message, r.raw] for r in chunk.rejected]
    warnings = [[w.line, w.field, w.code, w.message, w.value] for w in chunk.warnings]
    return orjson.dumps([chunk.lines_read, events, first, rejected, warnings])
