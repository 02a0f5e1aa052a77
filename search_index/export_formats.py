"""Writing an export as CSV, JSON Lines or XLSX, a chunk of bytes at a time.

CSV starts with a UTF-8 byte-order mark (without it Excel reads UTF-8 as the local code
page and the Chinese turns to mojibake) and one ``#`` line with the snapshot time, the feed
cursor and the terms; JSON Lines starts with a ``{"meta": …}`` line. XLSX is written by
openpyxl's write-only workbook (rows go to a temporary file, not memory) with the terms on
a second sheet; a ZIP file can only be finished whole, so its bytes follow once it is.
Every CSV and XLSX cell passes ``core.formula_guard``: a court's text that starts like a
formula (``=``, ``+``, ``-``, ``@``, tab, CR, LF) gets a leading apostrophe and never runs in
the spreadsheet of whoever opens the file. JSON Lines is data for programs and stays as is.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from core.formula_guard import guard_row
from search_index.exports import EXPORT_KEYS, ExportSnapshot

BOM = "\ufeff"
CSV_TYPE = "text/csv; charset=utf-8"
JSONL_TYPE = "application/x-ndjson"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": CSV_TYPE, "jsonl": JSONL_TYPE, "xlsx": XLSX_TYPE}
ROWS_PER_CHUNK = 500
COPY_CHUNK = 1 << 16


def headers_for(labels: Mapping[str, str] | None) -> list[str]:
    """The column headers: ``labels`` of the keys (the site's Chinese labels), or the keys."""
    return [labels.get(k, k) if labels else k for k in EXPORT_KEYS]


def meta_line(snap: ExportSnapshot) -> str:
    meta = snap.metadata()
    parts = [f"snapshotAt={meta['snapshotAt']}", f"cursor={meta['cursor']}"]
    if snap.demo:
        parts.append(meta["note"])
    return "# " + "；".join([*parts, meta["terms"]])


def csv_chunks(
    rows: Iterable[dict[str, Any]], snap: ExportSnapshot, labels: Mapping[str, str] | None
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([meta_line(snap)])
    writer.writerow(headers_for(labels))
    for count, row in enumerate(rows, start=1):
        writer.writerow(guard_row([row.get(k) for k in EXPORT_KEYS]))
        if count % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def jsonl_chunks(rows: Iterable[dict[str, Any]], snap: ExportSnapshot) -> Iterator[bytes]:
    out = [orjson.dumps({"meta": snap.metadata()})]
    for row in rows:
        out.append(orjson.dumps({k: row.get(k) for k in EXPORT_KEYS}))
        if len(out) >= ROWS_PER_CHUNK:
            yield b"\n".join(out) + b"\n"
            out = []
    if out:
        yield b"\n".join(out) + b"\n"


def xlsx_chunks(
    rows: Iterable[dict[str, Any]], snap: ExportSnapshot, labels: Mapping[str, str] | None
) -> Iterator[bytes]:
    from openpyxl import Workbook  # a second's import: only for those who ask for XLSX

    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    sheet.append(headers_for(labels))
    for row in rows:
        sheet.append(guard_row([row.get(k) for k in EXPORT_KEYS]))
    about = book.create_sheet("说明")
    for key, value in snap.metadata().items():
        about.append([key, value if isinstance(value, str) else str(value).lower()])
    with tempfile.TemporaryFile() as file:
        book.save(file)
        file.seek(0)
        while chunk := file.read(COPY_CHUNK):
            yield chunk


def chunks(
    fmt: str,
    rows: Iterable[dict[str, Any]],
    snap: ExportSnapshot,
    labels: Mapping[str, str] | None,
) -> Iterator[bytes]:
    if fmt == "csv":
        return csv_chunks(rows, snap, labels)
    if fmt == "xlsx":
        return xlsx_chunks(rows, snap, labels)
    return jsonl_chunks(rows, snap)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data
