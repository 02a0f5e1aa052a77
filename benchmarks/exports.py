"""A full CSV export beside ``sqlite3 -csv``, and change-feed pages beside search pages.

    python -m benchmarks.run exports --count 100000
    python -m benchmarks.exports --count 100000 --seconds 15 --concurrency 4

On the demo data of ``--count`` entries (imported first if ``benchmarks/work/data-N`` is
missing), in the same run:

- ``shixin export --format csv -o FILE`` (every public entry, the site's Chinese headers,
  masked ID numbers, one read transaction) and ``sqlite3 -csv`` dumping the same rows and
  columns from the same database file to a file: wall time and peak RSS of each process;
- one ``shixin serve`` worker (rate limits and access log off) answering
  ``GET /api/v1/changes?since=<cursor>&limit=100`` at cursors spread over the list, and
  ``GET /api/v1/entries?perPage=100&page=<n>``, ``--seconds`` each with ``--concurrency``
  requests in flight.

Prints Markdown rows for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import tempfile
from pathlib import Path

import httpx

from benchmarks.match import drive
from benchmarks.run import (
    bench_import,
    data_dir,
    env_for,
    free_port,
    run_measured,
    server,
    shixin,
)
from search_index.feed import encode_cursor

# The public rows and the columns of the export (search_index/exports.py), as plain SQL.
SQL = (
    "SELECT id, status, case_code, name, card_display, party_type, "
    "json_extract(fields, '$.sexy'), json_extract(fields, '$.age'), "
    "json_extract(fields, '$.businessEntity'), court_name, area_name, "
    "json_extract(fields, '$.gistId'), json_extract(fields, '$.gistUnit'), reg_date, "
    "json_extract(fields, '$.duty'), json_extract(fields, '$.performance'), "
    "json_extract(fields, '$.performedPart'), json_extract(fields, '$.unperformPart'), "
    "json_extract(fields, '$.disruptTypeName'), publish_date, valid_until, severity "
    "FROM entries WHERE status IN ('published', 'corrected') "
    "AND (valid_until IS NULL OR valid_until >= date('now', '+8 hours')) ORDER BY id;"
)


def bench_csv(count: int, work: Path) -> dict[str, object]:
    db = data_dir(count) / "shixin.sqlite3"
    ours = work / "export.csv"
    wall, rss, status = run_measured(
        shixin("export", "--format", "csv", "-o", str(ours)), env_for(data_dir(count))
    )
    result: dict[str, object] = {
        "export_seconds": round(wall, 1),
        "export_peak_rss_mib": round(rss),
        "export_status": status,
        "export_rows": max(0, sum(1 for _ in ours.open("rb")) - 2),
        "export_mib": round(ours.stat().st_size / 2**20, 1),
    }
    sqlite = shutil.which("sqlite3")
    if sqlite is None:
        print("sqlite3 command not found: the sqlite3 -csv row is missing")
        return result
    theirs = work / "sqlite3.csv"
    wall, rss, status = run_measured(
        [sqlite, "-csv", "-header", str(db), f".output {theirs}", SQL], env_for(data_dir(count))
    )
    result |= {
        "sqlite3_seconds": round(wall, 1),
        "sqlite3_peak_rss_mib": round(rss),
        "sqlite3_status": status,
        "sqlite3_rows": max(0, sum(1 for _ in theirs.open("rb")) - 1),
        "sqlite3_mib": round(theirs.stat().st_size / 2**20, 1),
    }
    return result


def cursors(count: int, n: int = 200, seed: int = 5) -> list[str]:
    conn = sqlite3.connect(data_dir(count) / "shixin.sqlite3")
    seqs = [s for (s,) in conn.execute("SELECT seq FROM entries ORDER BY seq")]
    conn.close()
    picked = random.Random(seed).sample(seqs[: max(1, len(seqs) - 100)], min(n, len(seqs)))
    return [encode_cursor(s) for s in picked]


def bench_pages(count: int, seconds: float, concurrency: int) -> dict[str, object]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    marks = cursors(count)
    quiet = {"SHIXIN_RATE_LIMIT_ENABLED": "0", "SHIXIN_ACCESS_LOG": "0"}

    async def feed(client: httpx.AsyncClient, n: int) -> httpx.Response:
        params = {"since": marks[n % len(marks)], "limit": "100"}
        return await client.get(f"{base}/api/v1/changes", params=params)

    async def entries(client: httpx.AsyncClient, n: int) -> httpx.Response:
        params = {"perPage": "100", "page": str(n % 200 + 1)}
        return await client.get(f"{base}/api/v1/entries", params=params)

    cmd = shixin("serve", "--port", str(port), "--no-access-log")
    with server(cmd, env_for(data_dir(count), **quiet), port, "/healthz"):
        asyncio.run(drive(feed, 2, concurrency))  # warm the page cache and the worker
        asyncio.run(drive(entries, 2, concurrency))
        return {
            "changes_100": asyncio.run(drive(feed, seconds, concurrency)),
            "entries_100": asyncio.run(drive(entries, seconds, concurrency)),
        }


def bench_exports(count: int, seconds: float = 15, concurrency: int = 4) -> dict[str, object]:
    if not (data_dir(count) / "shixin.sqlite3").exists():
        bench_import(count)
    with tempfile.TemporaryDirectory(prefix="shixin-export-") as tmp:
        result: dict[str, object] = {"entries": count, **bench_csv(count, Path(tmp))}
    result |= bench_pages(count, seconds, concurrency)
    print(
        f"| shixin export --format csv | {result['export_rows']:,} rows | "
        f"{result['export_seconds']} s | peak RSS {result['export_peak_rss_mib']} MiB | "
        f"{result['export_mib']} MiB |"
    )
    if "sqlite3_seconds" in result:
        print(
            f"| sqlite3 -csv (same rows) | {result['sqlite3_rows']:,} rows | "
            f"{result['sqlite3_seconds']} s | peak RSS {result['sqlite3_peak_rss_mib']} MiB | "
            f"{result['sqlite3_mib']} MiB |"
        )
    for label, key in (
        ("GET /api/v1/changes?limit=100", "changes_100"),
        ("GET /api/v1/entries?perPage=100", "entries_100"),
    ):
        s: dict[str, float] = result[key]  # type: ignore[assignment]
        print(
            f"| {label} | {s['requests_per_second']:,.1f} req/s | p50 {s['p50_ms']} ms | "
            f"p99 {s['p99_ms']} ms | {s['requests']} requests, non-200 {s['non_200']} |"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    bench_exports(args.count, args.seconds, args.concurrency)


if __name__ == "__main__":
    main()
