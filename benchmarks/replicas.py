"""Removal latency with two index replicas: two portal hosts on one store, one index each.

    python -m benchmarks.replicas --count 10000 --removals 200

On the demo data of ``--count`` entries (imported first if ``benchmarks/work/data-N`` is
missing), two ``shixin serve`` processes share the store: ``main`` on the data directory's
index, ``web2`` on an index file of its own (filled from the store on its first start). Each
revoke goes to the first host's ingest API; the latency is until the entry is absent from
``GET /api/v1/entries`` on both hosts. ``--sync-interval`` sets SHIXIN_SYNC_INTERVAL on both
(the longest wait of each host's loop; a change in the store wakes it at once). The
``web2`` replica is forgotten afterwards, so the data directory serves the single-host
benchmarks as before.

``--postgres`` runs the same on a throwaway PostgreSQL cluster (tests/pgcluster.py), the
production store, where the other host's loop is woken by a NOTIFY: the demo file is
imported into it first (``benchmarks/work/replicas-pg-N`` holds both indexes).

Prints a Markdown row for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text

from benchmarks.run import (
    WORK,
    bench_import,
    data_dir,
    demo_file,
    env_for,
    free_port,
    machine,
    percentile,
    server,
    shixin,
)


def bench_removal_replicas(
    count: int, removals: int = 200, sync_interval: float = 1.0, postgres: bool = False
) -> dict[str, object]:
    with _store(count, postgres) as (directory, database_url):
        return _measure(directory, database_url, removals, sync_interval)


@contextmanager
def _store(count: int, postgres: bool) -> Iterator[tuple[Path, str]]:
    """The data directory and the store's URL: the SQLite one of ``data-N``, or a fresh
    PostgreSQL database on a throwaway cluster with the demo file imported into it."""
    if not postgres:
        if not (data_dir(count) / "shixin.sqlite3").exists():
            bench_import(count)
        yield data_dir(count), f"sqlite:///{data_dir(count) / 'shixin.sqlite3'}"
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pgcluster import PgServer

    cluster = PgServer.start()
    directory = WORK / f"replicas-pg-{count}"
    shutil.rmtree(directory, ignore_errors=True)
    try:
        url = cluster.create_database()
        env = env_for(directory, SHIXIN_DATABASE_URL=url)
        subprocess.run(shixin("import", "--quiet", str(demo_file(count))), env=env, check=False)
        yield directory, url
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _measure(
    directory: Path, database_url: str, removals: int, sync_interval: float
) -> dict[str, object]:
    common = {
        "SHIXIN_SYNC_INTERVAL": str(sync_interval),
        "SHIXIN_RATE_LIMIT_ENABLED": "0",
        "SHIXIN_DATABASE_URL": database_url,
    }
    env_a = env_for(directory, **common)
    env_b = env_for(
        directory,
        **common,
        SHIXIN_INDEX_REPLICA="web2",
        SHIXIN_INDEX_PATH=str(directory / "index-web2.sqlite3"),
    )
    store = create_engine(database_url)
    token = _token(env_a)
    targets = _targets(store, removals)
    port_a, port_b = free_port(), free_port()
    latencies: list[float] = []
    unsynced = 0
    serve = ("serve", "--no-access-log", "--port")
    try:
        with (
            server(shixin(*serve, str(port_a)), env_a, port_a, "/healthz"),
            server(shixin(*serve, str(port_b)), env_b, port_b, "/healthz"),
            httpx.Client(base_url=f"http://127.0.0.1:{port_a}", timeout=30) as a,
            httpx.Client(base_url=f"http://127.0.0.1:{port_b}", timeout=30) as b,
        ):
            _until_both_healthy(a, b)
            for entry_id, name in targets:
                start = time.perf_counter()
                answer = a.post(
                    "/api/v1/ingest",
                    content=_revoke(entry_id),
                    headers={
                        "authorization": f"Bearer {token}",
                        "content-type": "application/x-ndjson",
                    },
                )
                answer.raise_for_status()
                unsynced += not answer.json()["synced"]
                for client in (a, b):
                    while _served(client, entry_id, name):
                        time.sleep(0.005)
                latencies.append((time.perf_counter() - start) * 1000)
    finally:
        _forget(store, "web2")
        store.dispose()
    stats = {
        "store": store.dialect.name,
        "removals": len(latencies),
        "sync_interval_s": sync_interval,
        "answered_unsynced": unsynced,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.mean(latencies), 1),
    }
    print(
        f"| {stats['store']}: revoke accepted → absent from both replicas "
        f"({stats['removals']} removals, "
        f"sync every {sync_interval} s) | p50 {stats['p50_ms']} ms | p99 {stats['p99_ms']} ms "
        f"| max {stats['max_ms']} ms |"
    )
    return stats


def _token(env: dict[str, str]) -> str:
    out = subprocess.run(
        shixin("token", "add", "--unit", "benchmark", "--all-courts"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _targets(store: Engine, removals: int) -> list[tuple[str, str]]:
    with store.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, name FROM entries WHERE status IN ('published','corrected') "
                "ORDER BY random() LIMIT :n"
            ),
            {"n": removals},
        ).all()
    return [(row.id, row.name) for row in rows]


def _revoke(entry_id: str) -> bytes:
    line = {
        "op": "revoke",
        "id": entry_id,
        "effectiveAt": datetime.now(UTC).isoformat(),
        "reason": "基准测试：撤销",
    }
    return json.dumps(line, ensure_ascii=False).encode()


def _served(client: httpx.Client, entry_id: str, name: str) -> bool:
    page = client.get("/api/v1/entries", params={"q": name, "perPage": 100}).json()
    return any(item["id"] == entry_id for item in page["items"])


def _until_both_healthy(a: httpx.Client, b: httpx.Client, timeout: float = 600) -> None:
    """Both replicas live: the new one has filled its index from the store."""
    deadline = time.monotonic() + timeout
    while not all(client.get("/healthz").status_code == 200 for client in (a, b)):
        if time.monotonic() > deadline:
            raise RuntimeError("the two replicas did not both become live")
        time.sleep(0.2)


def _forget(store: Engine, replica: str) -> None:
    with store.begin() as conn:
        conn.execute(text("DELETE FROM index_replicas WHERE name = :r"), {"r": replica})
        conn.execute(
            text("DELETE FROM sync_state WHERE name IN (:a, :b)"),
            {"a": f"index:{replica}", "b": f"rebuild:{replica}"},
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--removals", type=int, default=200)
    parser.add_argument("--sync-interval", type=float, default=1.0)
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL")
    args = parser.parse_args()
    print(f"Machine: {machine()}; date {datetime.now(UTC):%Y-%m-%d}")
    bench_removal_replicas(args.count, args.removals, args.sync_interval, args.postgres)


if __name__ == "__main__":
    main()
