"""A 10,000-row screening end to end, beside 10,000 single searches in process and by API.

    python -m benchmarks.run screening --count 100000
    python -m benchmarks.screening --count 100000 --rows 10000

On the demo data of ``--count`` entries (imported first if ``benchmarks/work/data-N`` is
missing), through one ``ListService`` as the portal opens it (embedded SQLite FTS5 index):

1. the upload: a CSV of ``--rows`` counterparties (names of listed entries and, every second
   row, the entry's identifier as the court sent it, a full ID number or credit code; every
   tenth row a name nobody has) read by ``screening.upload.read_upload``;
2. the job kept (``Screenings.create``: identifiers hashed, rows written);
3. the background round (``Screenings.run``, batches of 200, one thread, as the portal's
   loop runs it);
4. the result file written as CSV and as XLSX (``result_file``: the first download writes
   each file, and a second download, timed apart, reads the kept copy);

then ``--rows`` single searches ``ListService.search({"q": name})`` of as many other names
drawn the same way (the same names would be served from caches the screening warmed), one
after another in the same thread; and then ``--rows`` single searches of yet other names
through the API (``GET /api/v1/entries?q=``) of one ``shixin serve`` worker, 8 in flight, as
a bank's system would send them one applicant at a time. The screening itself is timed
without HTTP: the upload request only reads the file and writes the job, steps 1 and 2.
Prints Markdown rows for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import itertools
import json
import os
import random
import time
from datetime import timedelta

import httpx

from benchmarks.run import (
    KEY,
    bench_import,
    data_dir,
    demo_file,
    env_for,
    free_port,
    percentile,
    server,
    shixin,
)


def sample_rows(count: int, rows: int, seed: int = 5, offset: int = 0) -> list[list[str]]:
    """(name, identifier, ref) rows drawn from the demo feed the list was imported from,
    every (count / rows)th published line from ``offset``."""
    step = max(1, count // rows)
    with demo_file(count).open("rb") as fh:
        published = (json.loads(line) for line in fh if b'"publish"' in line)
        lines = [line for line in itertools.islice(published, offset % step, None, step)]
        lines = [line for line in lines if line.get("op") == "publish"]
    random.Random(seed).shuffle(lines)
    out = []
    for i in range(rows):
        line = lines[i % len(lines)]
        name = line["iname"]
        card = line.get("cardNum") or ""
        if i % 10 == 9:
            name, card = f"查无此人{i}", ""
        out.append([name, card if i % 2 else "", f"ref-{i}"])
    return out


def bench_screening(count: int, rows: int = 10_000, api_searches: bool = True) -> dict[str, object]:
    if not (data_dir(count) / "shixin.sqlite3").exists():
        bench_import(count)
    os.environ.update({"SHIXIN_DATA_DIR": str(data_dir(count)), "SHIXIN_ID_HASH_KEY": KEY})
    from core.settings import load_settings
    from screening.jobs import Screenings
    from screening.results import result_file
    from screening.upload import read_upload
    from search_index.service import ListService

    sample = sample_rows(count, rows)
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([["姓名/名称", "证件号码", "备注"], *sample])
    data = buffer.getvalue().encode("utf-8")
    settings = load_settings()
    lists = ListService(settings)
    jobs = Screenings(lists, KEY, timedelta(hours=1))
    times: dict[str, float] = {}
    load_before = os.getloadavg()  # the machine is shared: say how busy it was
    try:
        began = time.perf_counter()
        parsed = read_upload("bench.csv", data, rows)
        times["read"] = time.perf_counter() - began
        began = time.perf_counter()
        token = jobs.create(parsed, "bench.csv", "bench")
        times["create"] = time.perf_counter() - began
        began = time.perf_counter()
        matched = jobs.run()
        times["match"] = time.perf_counter() - began
        began = time.perf_counter()
        for kind in ("csv", "xlsx"):
            result_file(jobs, token, kind, "zh", "https://example.org", {})
        times["files"] = time.perf_counter() - began
        began = time.perf_counter()
        for kind in ("csv", "xlsx"):
            result_file(jobs, token, kind, "zh", "https://example.org", {})
        times["files_again"] = time.perf_counter() - began
        progress = jobs.progress(token)
        began = time.perf_counter()
        # Other names than the screening's (the lines half a step further on): the same
        # names would find the index's pages and pair counts warm from the screening.
        for name, _card, _ref in sample_rows(count, rows, offset=max(1, count // rows) // 2):
            lists.search({"q": name})
        times["single"] = time.perf_counter() - began
        jobs.sweep(now=progress.expires_at if progress else None)
    finally:
        lists.close()
    # The same other names again, through the API of one `shixin serve` worker.
    others = [name for name, _c, _r in sample_rows(count, rows, offset=max(1, count // rows))]
    api = asyncio.run(_searches_through_api(count, others)) if api_searches else None
    total = times["read"] + times["create"] + times["match"] + times["files"]
    result: dict[str, object] = {
        "entries": count,
        "rows": rows,
        "matched": matched,
        "summary": progress.summary if progress else {},
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "screening_total_seconds": round(total, 2),
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }
    print(
        f"| {count:,} entries | screening of {rows:,} rows end to end | {total:.1f} s | "
        f"read {times['read']:.1f} s, kept {times['create']:.1f} s, matched "
        f"{times['match']:.1f} s ({rows / times['match']:,.0f} rows/s), files "
        f"{times['files']:.1f} s (downloaded again: {times['files_again']:.2f} s) |"
    )
    print(
        f"| {count:,} entries | {rows:,} single searches, one after another | "
        f"{times['single']:.1f} s | {rows / times['single']:,.0f} searches/s |"
    )
    if api is not None:
        result["api_searches"] = api
        print(
            f"| {count:,} entries | {rows:,} single searches through the API "
            f"(`GET /api/v1/entries?q=`, {API_CONCURRENCY} in flight) | {api['seconds']:.1f} s | "
            f"{api['requests_per_second']:,.0f} searches/s, p50 {api['p50_ms']} ms, "
            f"p99 {api['p99_ms']} ms, non-200 {api['non_200']} |"
        )
    print(f"Load average before {load_before}, after {os.getloadavg()}.")
    return result


API_CONCURRENCY = 8


async def _searches_through_api(count: int, names: list[str]) -> dict[str, float]:
    """Each name searched once through ``GET /api/v1/entries``, ``API_CONCURRENCY`` requests
    in flight; the whole time, the rate and the latencies."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    quiet = {"SHIXIN_RATE_LIMIT_ENABLED": "0", "SHIXIN_ACCESS_LOG": "0"}
    cmd = shixin("serve", "--port", str(port), "--no-access-log")
    times: list[float] = []
    failures = 0
    queue = iter(names)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        for name in queue:
            start = time.perf_counter()
            response = await client.get(f"{base}/api/v1/entries", params={"q": name})
            times.append((time.perf_counter() - start) * 1000)
            failures += response.status_code != 200

    with server(cmd, env_for(data_dir(count), **quiet), port, "/healthz"):
        limits = httpx.Limits(max_connections=API_CONCURRENCY)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            began = time.perf_counter()
            await asyncio.gather(*(worker(client) for _ in range(API_CONCURRENCY)))
            elapsed = time.perf_counter() - began
    return {
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(times) / elapsed, 1),
        "p50_ms": round(percentile(times, 50), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "non_200": failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    bench_screening(args.count, args.rows)


if __name__ == "__main__":
    main()
