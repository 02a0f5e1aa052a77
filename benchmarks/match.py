"""``POST /api/v1/match`` with 100 queries, beside single searches, against one portal.

    python -m benchmarks.run match --count 100000
    python -m benchmarks.match --count 100000 --seconds 20 --concurrency 8

Starts ``shixin serve`` (one worker, rate limits and access log off) on the demo data of
``--count`` entries (imported first if ``benchmarks/work/data-N`` is missing), then, in the
same run and against the same process, drives for ``--seconds`` each:

- single searches: ``GET /api/v1/entries?q=<name>``, names sampled from the data;
- match requests: ``POST /api/v1/match`` with 100 queries each, the same sampled names,
  every second one with the entry's identifier as the list shows it (a masked ID number or a
  credit code), so a request does about 150 index searches.

``--concurrency`` requests are kept in flight by an asyncio httpx client in this process.
There is no wrk for POST bodies here, and the client shares the machine's cores with the
portal, so both rates are lower than a separate load generator would measure; they are
comparable with each other. Prints Markdown rows for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import httpx

from benchmarks.run import (
    bench_import,
    data_dir,
    env_for,
    free_port,
    percentile,
    server,
    shixin,
)

QUERIES_PER_MATCH = 100


def sample_entries(count: int, n: int, seed: int = 3) -> list[tuple[str, str | None]]:
    """(name, identifier as shown) of ``n`` public entries, in random order."""
    conn = sqlite3.connect(data_dir(count) / "shixin.sqlite3")
    rows = conn.execute(
        "SELECT name, card_display FROM entries WHERE status IN ('published','corrected') "
        "ORDER BY random() LIMIT ?",
        (n,),
    ).fetchall()
    conn.close()
    random.Random(seed).shuffle(rows)
    return [(name, card) for name, card in rows]


def match_bodies(entries: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    bodies = []
    for start in range(0, len(entries) - QUERIES_PER_MATCH + 1, QUERIES_PER_MATCH):
        queries: list[dict[str, Any]] = []
        for i, (name, card) in enumerate(entries[start : start + QUERIES_PER_MATCH]):
            query: dict[str, Any] = {"name": name, "ref": str(start + i)}
            if card and i % 2:
                query["cardNum"] = card
            queries.append(query)
        bodies.append({"queries": queries})
    return bodies


async def drive(
    send: Callable[[httpx.AsyncClient, int], Any], seconds: float, concurrency: int
) -> dict[str, float]:
    """Keep ``concurrency`` requests in flight for ``seconds``; rate and latencies."""
    times: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            response = await send(client, next(counter))
            times.append((time.perf_counter() - start) * 1000)
            failures += response.status_code != 200

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {
        "requests": len(times),
        "requests_per_second": round(len(times) / elapsed, 1),
        "p50_ms": round(percentile(times, 50), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "non_200": failures,
    }


def bench_match(count: int, seconds: float = 20, concurrency: int = 8) -> dict[str, object]:
    if not (data_dir(count) / "shixin.sqlite3").exists():
        bench_import(count)
    entries = sample_entries(count, 20 * QUERIES_PER_MATCH)
    names = [name for name, _ in entries]
    bodies = match_bodies(entries)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    quiet = {"SHIXIN_RATE_LIMIT_ENABLED": "0", "SHIXIN_ACCESS_LOG": "0"}

    async def single(client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.get(f"{base}/api/v1/entries", params={"q": names[n % len(names)]})

    async def many(client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.post(f"{base}/api/v1/match", json=bodies[n % len(bodies)])

    cmd = shixin("serve", "--port", str(port), "--no-access-log")
    with server(cmd, env_for(data_dir(count), **quiet), port, "/healthz"):
        asyncio.run(drive(single, 2, concurrency))  # warm the page cache and the workers
        asyncio.run(drive(many, 2, concurrency))
        result: dict[str, object] = {
            "entries": count,
            "concurrency": concurrency,
            "single_search": asyncio.run(drive(single, seconds, concurrency)),
            "match_100": asyncio.run(drive(many, seconds, concurrency)),
        }
    for label, key, per in (
        ("GET /api/v1/entries?q=<name> (one search)", "single_search", 1),
        (f"POST /api/v1/match ({QUERIES_PER_MATCH} queries)", "match_100", QUERIES_PER_MATCH),
    ):
        s: dict[str, float] = result[key]  # type: ignore[assignment]
        print(
            f"| {label} | {s['requests_per_second']:,.1f} req/s "
            f"({s['requests_per_second'] * per:,.0f} names/s) | p50 {s['p50_ms']} ms | "
            f"p99 {s['p99_ms']} ms | {s['requests']} requests, non-200 {s['non_200']} |"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    bench_match(args.count, args.seconds, args.concurrency)


if __name__ == "__main__":
    main()
