"""Real portal processes killed and restarted, and a rebuild under searches (issue 12).

``shixin serve`` runs as a subprocess on the SQLite store and index, as in production. The
background sync loop is slowed to every 30 s (``portal_env``), so what these tests see is the
round of the ingest itself: the one the issue found skipped after a crash. The measured times
are printed (``-s``) and stated in the README's reliability section.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from liveserver import portal_env, running_portal
from support import person, removal

from core.db import Store
from core.settings import load_settings
from search_index.lease import LEASE
from search_index.tables import sync_state
from search_index.tokens import create_token

pytestmark = pytest.mark.slow

NDJSON = {"Content-Type": "application/x-ndjson"}


def jsonl(lines: Any) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def setup(tmp_path: Path, **extra: str) -> tuple[dict[str, str], Store, dict[str, str]]:
    env = portal_env(tmp_path / "data", SHIXIN_RATE_LIMIT_API="100000/minute", **extra)
    store = Store(load_settings(env).database_url)
    token = create_token(store, "北京市高级人民法院信息中心", None)[0]
    return env, store, {**NDJSON, "Authorization": f"Bearer {token}"}


def names_found(base: str, name: str) -> int:
    answer = httpx.get(f"{base}/api/v1/entries", params={"q": name}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["total"]


def batch(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        person(f"{prefix}{i}", iname=f"钱{chr(0x4E00 + i % 500)}{i // 500}") for i in range(count)
    ]


def test_kill_9_while_holding_the_sync_lease_then_shield(tmp_path: Path) -> None:
    """The issue's probe: kill -9 the portal while its ingest's round holds the sync lease,
    restart it, shield an entry: gone from search when the ingest answers, without waiting
    for the dead process's claim to run out."""
    env, store, headers = setup(tmp_path)
    log = tmp_path / "serve.log"
    with running_portal(env, log=log) as first:
        answer = httpx.post(
            f"{first.base}/api/v1/ingest",
            content=jsonl([person("target", iname="孙悟空")]),
            headers=headers,
            timeout=30,
        )
        assert answer.json()["synced"] is True
        assert names_found(first.base, "孙悟空") == 1
        # A large batch; the portal is killed the moment its round holds the lease.
        body = jsonl(batch("bulk", 3000))
        sender = threading.Thread(
            target=lambda: _ignore_errors(
                httpx.post, f"{first.base}/api/v1/ingest", content=body, headers=headers, timeout=60
            )
        )
        sender.start()
        holder = _wait_for_lease(store, timeout=60)
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait()
        sender.join()
    assert holder is not None and f":{first.process.pid}:" in holder
    assert _lease(store)[0] == holder  # the dead process's claim is still there

    restarted = time.monotonic()
    with running_portal(env, log=log) as second:
        ready = time.monotonic() - restarted
        started = time.monotonic()
        answer = httpx.post(
            f"{second.base}/api/v1/ingest",
            content=jsonl([removal("shield", "target")]),
            headers=headers,
            timeout=30,
        )
        answered = time.monotonic() - started
        assert answer.status_code == 200, answer.text
        assert answer.json()["synced"] is True and answer.json()["indexLag"] == 0
        assert names_found(second.base, "孙悟空") == 0
        gone = time.monotonic() - started
        health = httpx.get(f"{second.base}/healthz", timeout=10).json()
    print(
        f"\nrestart to ready {ready:.2f} s; shield answered {answered * 1000:.0f} ms,"
        f" gone from search {gone * 1000:.0f} ms after it was sent"
    )
    # Taken over at once, not after the dead claim's 10 s ran out; how fast is the
    # removal benchmark's business (benchmarks/RESULTS.md), on a machine this test shares.
    assert gone < LEASE.total_seconds() / 2
    assert health["indexLag"] == 0
    assert "taking over the index lease" in log.read_text(errors="replace")
    store.dispose()


def test_searches_while_shixin_reindex_runs(tmp_path: Path) -> None:
    """``shixin reindex`` in its own process while the portal serves: every search counts
    every entry, before, during and after the swap."""
    count = 3000
    env, store, headers = setup(tmp_path)
    with running_portal(env, log=tmp_path / "serve.log") as portal:
        answer = httpx.post(
            f"{portal.base}/api/v1/ingest",
            content=jsonl(batch("p", count)),
            headers=headers,
            timeout=120,
        )
        assert answer.json()["accepted"] == count and answer.json()["synced"] is True
        totals: list[tuple[float, int]] = []
        stop = threading.Event()

        def search() -> None:
            with httpx.Client(base_url=portal.base, timeout=10) as client:
                while not stop.is_set():
                    page = client.get("/api/v1/entries", params={"q": "钱", "perPage": 1})
                    totals.append((time.monotonic(), page.json()["total"]))

        searcher = threading.Thread(target=search)
        searcher.start()
        try:
            started = time.monotonic()
            reindex = subprocess.run(
                [sys.executable, "-m", "shixin.cli", "reindex"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            ended = time.monotonic()
            time.sleep(0.3)
        finally:
            stop.set()
            searcher.join()
    assert reindex.returncode == 0, reindex.stderr
    assert f"{count} 条" in reindex.stdout
    during = [total for at, total in totals if started <= at <= ended]
    after = [total for at, total in totals if at > ended]
    print(f"\nreindex of {count} took {ended - started:.2f} s; {len(during)} searches during it")
    assert len(during) > 10 and after
    assert {total for _, total in totals} == {count}
    store.dispose()


def _wait_for_lease(store: Store, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder, _ = _lease(store)
        if holder is not None:
            return holder
        time.sleep(0.002)
    return None


def _lease(store: Store) -> tuple[str | None, Any]:
    with store.read() as conn:
        row = conn.execute(sync_state.select().where(sync_state.c.name == "index")).first()
    return (row.lease_holder, row.lease_until) if row else (None, None)


def _ignore_errors(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server was killed under it
        call(*args, **kwargs)
