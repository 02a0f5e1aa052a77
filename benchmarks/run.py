"""Benchmarks of the list, run by hand (``make bench`` or ``python -m benchmarks.run``).

    python -m benchmarks.run import --count 1000000
    python -m benchmarks.run search --count 1000000
    python -m benchmarks.run http --count 1000000
    python -m benchmarks.run html --count 1000000
    python -m benchmarks.run removal --count 1000000
    python -m benchmarks.run replicas --count 1000000   (two hosts, one index each)
    python -m benchmarks.run match --count 100000
    python -m benchmarks.run screening --count 100000
    python -m benchmarks.run exports --count 100000
    python -m benchmarks.run peers --count 1000000
    python -m benchmarks.run scale --count 10000000   (not in "all": about an hour)
    python -m benchmarks.run all --count 1000000

Each benchmark prints a Markdown fragment for ``benchmarks/RESULTS.md`` and saves raw
numbers as JSON under the work directory. Data live in ``benchmarks/work/`` (ignored by
git): one data directory per entry count, reused across benchmarks once imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
KEY = "benchmark-id-hash-key-0123456789"
last_cpu_seconds = 0.0  # of the last run_measured command and its children


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM, "
        f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}, "
        f"{platform.system()} {platform.release()}"
    )


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SHIXIN_DATA_DIR": str(data_dir),
        "SHIXIN_ID_HASH_KEY": KEY,
        **extra,
    }


def shixin(*args: str) -> list[str]:
    return [sys.executable, "-m", "shixin.cli", *args]


def run_measured(
    cmd: list[str], env: dict[str, str], *, terminal: bool = False
) -> tuple[float, float, int]:
    """Run a command; return (wall seconds, peak RSS in MiB, exit status). The peak is of
    the command and all its child processes together (an import parses in one child and
    indexes in another), sampled four times a second. The CPU seconds of that process tree
    are kept in ``last_cpu_seconds``: on a shared machine they vary less than wall time.
    ``terminal``: standard error is a pseudo-terminal (read and dropped), so the command
    draws its progress bar."""
    global last_cpu_seconds
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if terminal:
        leader, follower = os.openpty()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        threading.Thread(target=_drain, args=(leader,), daemon=True).start()
    else:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kib(proc.pid))
        time.sleep(0.25)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    last_cpu_seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr.read().decode() if proc.stderr else "")
    return wall, peak / 1024, proc.returncode


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:  # the command ended: its terminal is gone
        pass
    finally:
        os.close(fd)


def _tree_rss_kib(root: int) -> int:
    """Resident memory of ``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        parents[pid] = int(fields.get("PPid", "0"))
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total = 0
    for pid in rss:
        ancestor = pid
        while ancestor not in (0, root) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            total += rss[pid]
    return total


def data_dir(count: int) -> Path:
    return WORK / f"data-{count}"


def demo_file(count: int) -> Path:
    path = WORK / f"demo-{count}.jsonl"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        wall, rss, _ = run_measured(
            shixin("demo-data", "--count", str(count), "--seed", "7", "--out", str(path)),
            env_for(WORK / "scratch"),
        )
        print(f"generated {path.name} in {wall:.1f} s (peak {rss:.0f} MiB)")
    return path


# --- Import ---------------------------------------------------------------------------------


def bench_import(count: int) -> dict[str, object]:
    source = demo_file(count)
    # Its own directory: the search and HTTP benchmarks may be using data-N meanwhile.
    target = WORK / f"import-{count}"
    shutil.rmtree(target, ignore_errors=True)
    with source.open("rb") as fh:
        lines = sum(1 for _ in fh)
    result = {"lines": lines, **measured_import(count, source, target)}
    result["lines_per_second"] = round(lines / float(result["seconds"]))  # type: ignore[arg-type]
    print(
        f"| import {count:,} entries ({lines:,} lines, {result['file_mib']} MiB) | "
        f"{result['seconds']} s | {result['lines_per_second']:,} lines/s | "
        f"peak RSS {result['peak_rss_mib']} MiB | "
        f"store {result['store_mib']} MiB, index {result['index_mib']} MiB |"
    )
    print(
        f"CPU {result['cpu_seconds']} s (all processes). "
        f"Load average before {result['load_before']}, after {result['load_after']}."
    )
    result["progress"] = bench_progress(source, lines)
    return result


PROGRESS_PAIRS = 2


def measured_import(count: int, source: Path, target: Path) -> dict[str, object]:
    """``shixin import --quiet`` of ``source`` into the fresh data directory ``target``: wall
    and CPU seconds, peak RSS, exit status and the sizes it wrote. A good import becomes
    ``data-<count>`` when there is none yet, for the later benchmarks at that size."""
    load_before = os.getloadavg()
    # --quiet: comparable with the runs before imports showed progress
    wall, rss, status = run_measured(shixin("import", "--quiet", str(source)), env_for(target))
    load_after = os.getloadavg()
    sizes = {p.name: p.stat().st_size for p in target.iterdir() if p.is_file()}
    if status in (0, 1) and not data_dir(count).exists():
        target.rename(data_dir(count))
    return {
        "entries": count,
        "seconds": round(wall, 1),
        "cpu_seconds": round(last_cpu_seconds, 1),
        "peak_rss_mib": round(rss),
        "exit_status": status,
        "file_mib": round(source.stat().st_size / 2**20),
        "store_mib": round(sum(v for k, v in sizes.items() if k.startswith("shixin")) / 2**20),
        "index_mib": round(sum(v for k, v in sizes.items() if k.startswith("index")) / 2**20),
        # The machine is shared: a run is only comparable with one made under a like load.
        "load_before": load_before,
        "load_after": load_after,
    }


def bench_progress(source: Path, lines: int) -> dict[str, object]:
    """What showing progress costs an import: runs with the bar (standard error on a
    pseudo-terminal) and with ``--quiet`` alternate, each into a fresh data directory; and,
    apart from the machine's noise, the progress code's own work timed in this process
    (counting the file's lines for the total, drawing the bar) against the import's time."""
    runs: dict[str, list[tuple[float, float]]] = {"quiet": [], "bar": []}
    for _ in range(PROGRESS_PAIRS):
        for mode in runs:
            target = WORK / f"progress-{mode}"
            shutil.rmtree(target, ignore_errors=True)
            args = ("import", str(source)) if mode == "bar" else ("import", "-q", str(source))
            wall, _, _ = run_measured(shixin(*args), env_for(target), terminal=mode == "bar")
            runs[mode].append((wall, last_cpu_seconds))
            shutil.rmtree(target, ignore_errors=True)
    quiet_wall = statistics.median(w for w, _ in runs["quiet"])
    bar_wall = statistics.median(w for w, _ in runs["bar"])
    counting, drawing = _progress_work(source, lines, bar_wall)
    result = {
        "runs": runs,
        "wall_ratio": round(bar_wall / quiet_wall, 3),
        "count_lines_seconds": round(counting, 3),
        "drawing_seconds": round(drawing, 3),
        "own_work_share": round((counting + drawing) / quiet_wall, 4),
    }
    for mode, pairs in runs.items():
        shown = ", ".join(f"{w:.1f} s (CPU {c:.1f} s)" for w, c in pairs)
        print(f"| import {'with the bar' if mode == 'bar' else '--quiet'} | {shown} |")
    print(
        f"bar / quiet wall time (medians): {result['wall_ratio']}; the progress code's own "
        f"work: counting lines {counting:.2f} s + drawing {drawing:.2f} s = "
        f"{result['own_work_share']:.2%} of the quiet import"
    )
    return result


def _progress_work(source: Path, lines: int, seconds: float) -> tuple[float, float]:
    """CPU seconds of counting the file's lines, and of drawing the bar as often as it is
    drawn in ``seconds`` of import (BAR_REFRESH), the counter advancing each time. CPU, not
    wall time: on a shared machine that is what the import loses to them."""
    import io

    from core.progress import Tally
    from shixin.cli import _count_lines
    from shixin.progress import BAR_REFRESH, _Bar

    start = time.process_time()
    _count_lines(source)
    counting = time.process_time() - start
    tally = Tally(total=lines)
    bar = _Bar(tally, "导入", "行", io.StringIO())
    draws = 200
    start = time.process_time()
    for _ in range(draws):
        tally.advance(lines // draws)
        bar.tick()
    per_draw = (time.process_time() - start) / draws
    bar.close(finished=True)
    return counting, per_draw * seconds / BAR_REFRESH


# --- In-process search -----------------------------------------------------------------


def sample_names(count: int, n: int, seed: int = 1) -> list[str]:
    import sqlite3

    # The same names for the same data and seed, run after run: how common a name is
    # decides how much a partial-name search costs (SQLite's random() is not seeded, and
    # two samples of it differed by half in requests/s).
    conn = sqlite3.connect(data_dir(count) / "shixin.sqlite3")
    rows = conn.execute(
        "SELECT name FROM entries WHERE status IN ('published','corrected') ORDER BY id"
    ).fetchall()
    conn.close()
    return random.Random(seed).sample([r[0] for r in rows], n)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_search(count: int) -> dict[str, object]:
    os.environ.update(env_for(data_dir(count)))
    from core.settings import load_settings
    from search_index.service import ListService

    service = ListService(load_settings())
    names = sample_names(count, 1000)
    cases = {
        "full name": [{"q": n} for n in names],
        "first two characters": [{"q": n[:2]} for n in names],
        "surname only (1 char)": [{"q": n[:1]} for n in names[:200]],
        "name + region filter": [{"q": n, "region": "广东"} for n in names[:300]],
    }
    result: dict[str, object] = {"entries": count}
    for label, queries in cases.items():
        for q in queries[:20]:  # warm the page cache
            service.search(q)
        times = []
        for q in queries:
            start = time.perf_counter()
            service.search(q)
            times.append((time.perf_counter() - start) * 1000)
        stats = {
            "n": len(times),
            "p50_ms": round(percentile(times, 50), 2),
            "p95_ms": round(percentile(times, 95), 2),
            "p99_ms": round(percentile(times, 99), 2),
            "max_ms": round(max(times), 2),
        }
        result[label] = stats
        print(
            f"| search: {label} ({stats['n']} queries) | p50 {stats['p50_ms']} ms | "
            f"p95 {stats['p95_ms']} ms | p99 {stats['p99_ms']} ms | max {stats['max_ms']} ms |"
        )
    service.close()
    return result


# --- HTTP ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(cmd: list[str], env: dict[str, str], port: int, ready_path: str) -> Iterator[None]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"server did not start: {' '.join(cmd)}")
            time.sleep(0.3)
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(port: int, queries_file: Path, seconds: int = 15, threads: int = 2) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            "-c64",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "benchmarks" / "queries.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, "QUERIES_FILE": str(queries_file)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stats: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            stats["requests_per_second"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            stats[f"p{parts[0][:-1]}_ms"] = _ms(parts[1])
        elif "Non-2xx" in line:
            stats["non_2xx"] = float(parts[-1])
        elif line.strip().startswith("Socket errors"):
            stats["socket_errors"] = line.strip()  # type: ignore[assignment]
    return stats


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * factor, 2)
    return float(text)


def bench_http(count: int) -> dict[str, object]:
    names = sample_names(count, 2000, seed=2)
    queries = WORK / f"queries-{count}.txt"
    queries.write_text("\n".join("/api/v1/entries?" + urlencode({"q": n}) for n in names) + "\n")
    result: dict[str, object] = {"entries": count}
    port = free_port()
    bare = [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.bare_app:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with server(bare, env_for(WORK / "scratch"), port, "/api/v1/entries"):
        result["bare_starlette"] = wrk(port, queries)
    port = free_port()
    ours = shixin("serve", "--port", str(port), "--no-access-log")
    # One client from one address: the per-client rate limit would answer almost all with
    # 429, and the bare app logs nothing either.
    quiet = {"SHIXIN_RATE_LIMIT_ENABLED": "0", "SHIXIN_ACCESS_LOG": "0"}
    with server(ours, env_for(data_dir(count), **quiet), port, "/healthz"):
        result["shixin_api"] = wrk(port, queries)
    for label in ("bare_starlette", "shixin_api"):
        s = result[label]
        print(
            f"| GET /api/v1/entries?q=<name>: {label} | {s['requests_per_second']:,.0f} req/s | "  # type: ignore[index]
            f"p50 {s.get('p50_ms')} ms | p99 {s.get('p99_ms')} ms | non-2xx {s.get('non_2xx', 0)} |"  # type: ignore[union-attr]
        )
    return result


# --- HTML search page ------------------------------------------------------------------

# What the bare HTML endpoint answers: about the size of a results page (15 KB).
BARE_PAGE = (
    "<!doctype html><html lang=zh-CN><head><meta charset=utf-8><title>查询结果</title></head>"
    "<body><ol>" + "<li><h2><a href=/entries/x>张伟</a></h2><dl><dt>案号</dt>"
    "<dd>（2023）京0105执1234号</dd><dt>执行法院</dt><dd>北京市朝阳区人民法院</dd></dl></li>"
    * 90
    + "</ol></body></html>"
)


def bare_html_app() -> object:
    """The baseline of the HTML bench (``uvicorn --factory``): a bare Starlette page."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def page(request: object) -> HTMLResponse:
        return HTMLResponse(BARE_PAGE)

    return Starlette(routes=[Route("/", page)])


def page_scope(query_string: bytes, path: str = "/") -> dict[str, object]:
    """The ASGI scope of ``GET <path>?<query_string>`` from one client, for in-process
    timing."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query_string,
        "headers": [(b"host", b"localhost"), (b"user-agent", b"bench")],
        "client": ("203.0.113.5", 40000),
        "server": ("127.0.0.1", 8000),
    }


def html_cpu_per_request(count: int, paths: list[str], n: int = 1000, rounds: int = 5) -> float:
    """CPU milliseconds per ``GET /?q=<name>`` (or any other GET of ``paths``) through the
    whole ASGI app in this process (middleware, search thread, rendering; no sockets), best
    of ``rounds`` rounds."""
    import asyncio

    os.environ.update(
        env_for(data_dir(count), SHIXIN_RATE_LIMIT_ENABLED="0", SHIXIN_ACCESS_LOG="0")
    )
    from portal.app import create_app

    async def run() -> float:
        app = create_app(background=False)
        started: list[dict[str, object]] = []

        async def lifespan_receive() -> dict[str, object]:
            if not started:
                return {"type": "lifespan.startup"}
            await asyncio.Event().wait()  # until cancelled
            raise AssertionError

        async def lifespan_send(message: dict[str, object]) -> None:
            started.append(message)

        lifespan = asyncio.create_task(
            app({"type": "lifespan", "asgi": {"version": "3.0"}}, lifespan_receive, lifespan_send)
        )
        while not started:
            await asyncio.sleep(0.05)
        assert started[0]["type"] == "lifespan.startup.complete", started

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                assert message["status"] == 200, message

        async def get(path: str) -> None:
            route, query = path.split("?", 1)
            scope = page_scope(query.encode(), route)
            await app(scope, receive, send)

        for path in paths[:200]:  # warm up
            await get(path)
        best = float("inf")
        for _ in range(rounds):
            start = time.process_time()
            for i in range(n):
                await get(paths[i % len(paths)])
            best = min(best, (time.process_time() - start) / n * 1000)
        lifespan.cancel()
        return best

    return asyncio.run(run())


def bench_html(count: int, seconds: int = 15) -> dict[str, object]:
    """wrk on the HTML search page with the names of the ``http`` bench: a bare Starlette
    page, ours with rate limits off, and ours limited in Redis (the production setting)
    with a budget wrk never reaches, so that the Redis round trip is measured, not 429s."""
    from benchmarks.middleware import redis

    names = sample_names(count, 2000, seed=2)  # the names of bench_http
    queries = WORK / f"html-queries-{count}.txt"
    paths = ["/?" + urlencode({"q": n}) for n in names]
    queries.write_text("\n".join(paths) + "\n")
    result: dict[str, object] = {"entries": count, "load_before": os.getloadavg()}
    port = free_port()
    bare = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.run:bare_html_app"]
    bare += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    with server(bare, env_for(WORK / "scratch"), port, "/"):
        result["bare Starlette HTML page"] = wrk(port, queries, seconds)
    quiet = {"SHIXIN_ACCESS_LOG": "0"}
    with redis() as url:
        runs = {"HTML search page, rate limits off": {"SHIXIN_RATE_LIMIT_ENABLED": "0"}}
        if url:
            runs["HTML search page, rate limits in Redis"] = {
                "SHIXIN_RATE_LIMIT_ENABLED": "1",
                "SHIXIN_REDIS_URL": url,
                "SHIXIN_RATE_LIMIT_PAGES": "100000000/minute",
            }
        for label, extra in runs.items():
            port = free_port()
            cmd = shixin("serve", "--port", str(port), "--no-access-log")
            with server(cmd, env_for(data_dir(count), **quiet, **extra), port, "/healthz"):
                result[label] = wrk(port, queries, seconds)
    result["load_after"] = os.getloadavg()
    result["cpu_ms_per_request_in_process"] = round(html_cpu_per_request(count, paths), 3)
    print("| GET /?q=<name> | requests/s | p50 | p99 | non-2xx |")
    print("| --- | --- | --- | --- | --- |")
    for label, stats in result.items():
        if not isinstance(stats, dict):
            continue
        print(
            f"| {label} | {stats['requests_per_second']:,.0f} | {stats.get('p50_ms')} ms | "
            f"{stats.get('p99_ms')} ms | {stats.get('non_2xx', 0):.0f} |"
        )
    off = result.get("HTML search page, rate limits off")
    limited = result.get("HTML search page, rate limits in Redis")
    if isinstance(off, dict) and isinstance(limited, dict):
        share = limited["requests_per_second"] / off["requests_per_second"]
        print(f"Rate limiting in Redis keeps {share:.0%} of the throughput.")
    print(
        f"In process: {result['cpu_ms_per_request_in_process']} ms CPU per request. "
        f"Load average before {result['load_before']}, after {result['load_after']}."
    )
    return result


# --- Removal latency -------------------------------------------------------------------


def bench_removal(count: int, removals: int = 1000) -> dict[str, object]:
    env = env_for(data_dir(count))
    token = (
        subprocess.run(
            shixin("token", "add", "--unit", "benchmark", "--all-courts"),
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    import sqlite3

    conn = sqlite3.connect(data_dir(count) / "shixin.sqlite3")
    targets = conn.execute(
        "SELECT id, name FROM entries WHERE status IN ('published','corrected') "
        "ORDER BY random() LIMIT ?",
        (removals,),
    ).fetchall()
    conn.close()
    port = free_port()
    latencies: list[float] = []
    with server(shixin("serve", "--port", str(port), "--no-access-log"), env, port, "/healthz"):
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for entry_id, name in targets:
                line = json.dumps(
                    {
                        "op": "revoke",
                        "id": entry_id,
                        "effectiveAt": datetime.now(UTC).isoformat(),
                        "reason": "基准测试：撤销",
                    },
                    ensure_ascii=False,
                )
                start = time.perf_counter()
                answer = client.post(
                    "/api/v1/ingest",
                    content=line.encode(),
                    headers={
                        "authorization": f"Bearer {token}",
                        "content-type": "application/x-ndjson",
                    },
                )
                answer.raise_for_status()
                while True:
                    page = client.get("/api/v1/entries", params={"q": name, "perPage": 100}).json()
                    if all(item["id"] != entry_id for item in page["items"]):
                        break
                    time.sleep(0.005)
                latencies.append((time.perf_counter() - start) * 1000)
    stats = {
        "removals": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.mean(latencies), 1),
    }
    print(
        f"| revoke accepted → absent from GET /api/v1/entries ({stats['removals']} removals) | "
        f"p50 {stats['p50_ms']} ms | p99 {stats['p99_ms']} ms | max {stats['max_ms']} ms |"
    )
    return stats


def bench_match(count: int) -> dict[str, object]:
    """POST /api/v1/match with 100 queries beside single searches (benchmarks/match.py)."""
    from benchmarks import match  # it builds on this module's helpers

    return match.bench_match(count)


def bench_screening(count: int) -> dict[str, object]:
    """A 10,000-row screening end to end beside 10,000 searches (benchmarks/screening.py)."""
    from benchmarks import screening  # it builds on this module's helpers

    return screening.bench_screening(count)


def bench_replicas(count: int) -> dict[str, object]:
    """Removal latency with two index replicas, two hosts on one SQLite store
    (benchmarks/replicas.py; ``--postgres`` there for the production store)."""
    from benchmarks import replicas  # it builds on this module's helpers

    return replicas.bench_removal_replicas(count)


def bench_peers(count: int) -> dict[str, object]:
    """Import and search beside sqlite-utils, Datasette and bare Starlette, side by side in
    one run (benchmarks/peers.py)."""
    from benchmarks import peers  # it builds on this module's helpers

    return peers.bench_peers(count)


def bench_exports(count: int) -> dict[str, object]:
    """A full CSV export beside sqlite3 -csv; change-feed pages beside search pages
    (benchmarks/exports.py)."""
    from benchmarks import exports  # it builds on this module's helpers

    return exports.bench_exports(count)


def bench_scale(count: int) -> dict[str, object]:
    """The import of ``count // 10`` entries and of ``count``, time per million compared
    (benchmarks/scale.py)."""
    from benchmarks import scale  # it builds on this module's helpers

    return scale.bench_scale(count)


BENCHES = {
    "import": bench_import,
    "search": bench_search,
    "http": bench_http,
    "html": bench_html,
    "removal": bench_removal,
    "replicas": bench_replicas,
    "match": bench_match,
    "screening": bench_screening,
    "exports": bench_exports,
    "peers": bench_peers,
    "scale": bench_scale,
}
# Benchmarks that import the demo file themselves (into data-N when it is missing).
IMPORTING = {"import", "peers", "scale"}
# Not part of "all": two imports of ten million lines' worth.
NOT_IN_ALL = {"scale"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", choices=[*BENCHES, "all"])
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}; date {datetime.now(UTC):%Y-%m-%d}")
    chosen = [b for b in BENCHES if b not in NOT_IN_ALL] if args.which == "all" else [args.which]
    results = {}
    for name in chosen:
        if name not in IMPORTING and not (data_dir(args.count) / "shixin.sqlite3").exists():
            results["import"] = bench_import(args.count)
        results[name] = BENCHES[name](args.count)
    out = WORK / f"results-{args.which}-{args.count}-{int(time.time())}.json"
    out.write_text(
        json.dumps({"machine": machine(), "results": results}, ensure_ascii=False, indent=2)
    )
    print(f"raw results: {out}")


if __name__ == "__main__":
    main()
