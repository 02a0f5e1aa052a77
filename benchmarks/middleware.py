"""What the web front costs per request: middleware, rate limits, and a Redis round trip.

    python -m benchmarks.middleware overhead        # in process, trivial endpoint
    python -m benchmarks.middleware redis           # one rate-limit hit, memory vs Redis
    python -m benchmarks.middleware http --count 1000000   # wrk on the HTML search page

``overhead`` drives the ASGI app directly (no sockets, no threads) with a trivial endpoint,
so the differences between rows are the layers themselves. ``redis`` and ``http`` start a
throwaway ``redis-server`` on a free port. Each prints a Markdown fragment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from benchmarks.run import (
    KEY,
    WORK,
    data_dir,
    env_for,
    free_port,
    page_scope,
    sample_names,
    server,
    shixin,
    wrk,
)


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def settings_for(**env: str) -> Any:
    from core.settings import load_settings

    scratch = WORK / "scratch"
    return load_settings({"SHIXIN_DATA_DIR": str(scratch), "SHIXIN_ID_HASH_KEY": KEY, **env})


def stacks(redis_url: str | None) -> dict[str, ASGIApp]:
    from portal.accesslog import AccessLogMiddleware
    from portal.clientaddr import ClientAddress
    from portal.metrics import MetricsMiddleware
    from portal.ratelimit import build_limiter, limit_routes, rate_limited
    from portal.security import SecurityMiddleware

    plain = settings_for(SHIXIN_RATE_LIMIT_PAGES="100000000/minute")
    clients = ClientAddress()

    def limited(settings: Any) -> Starlette:
        limiter = build_limiter(settings, clients)
        routes = limit_routes([Route("/", hello)], limiter, settings)
        app = Starlette(routes=routes, exception_handlers={429: rate_limited})
        app.state.limiter = limiter
        return app

    # The access log writes a line per request in production too: to /dev/null here.
    devnull = open(os.devnull, "w")  # noqa: SIM115

    def full(inner: ASGIApp, settings: Any) -> ASGIApp:
        stack = MetricsMiddleware(SecurityMiddleware(inner, settings))
        return AccessLogMiddleware(stack, clients, devnull)

    out: dict[str, ASGIApp] = {
        "bare Starlette": Starlette(routes=[Route("/", hello)]),
        "+ security headers": SecurityMiddleware(Starlette(routes=[Route("/", hello)]), plain),
        "+ metrics": MetricsMiddleware(
            SecurityMiddleware(Starlette(routes=[Route("/", hello)]), plain)
        ),
        "+ access log": full(Starlette(routes=[Route("/", hello)]), plain),
        "+ rate limit, memory": full(limited(plain), plain),
    }
    if redis_url:
        shared = settings_for(
            SHIXIN_RATE_LIMIT_PAGES="100000000/minute", SHIXIN_REDIS_URL=redis_url
        )
        out["+ rate limit, Redis (production)"] = full(limited(shared), shared)
    return out


async def drive(app: ASGIApp, n: int) -> list[float]:
    scope_base = page_scope(b"q=%E5%BC%A0%E4%BC%9F")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    times = []
    for _ in range(n):
        scope = dict(scope_base)
        start = time.perf_counter()
        await app(scope, receive, send)
        times.append(time.perf_counter() - start)
    return times


def bench_overhead(n: int, rounds: int = 5) -> dict[str, object]:
    result: dict[str, object] = {}
    with redis() as url:
        apps = stacks(url)
        for app in apps.values():
            asyncio.run(drive(app, 500))  # warm up
        # Rounds interleave the stacks, and each keeps its best round, so that load from
        # elsewhere on the machine does not land on one row only.
        best: dict[str, tuple[float, float]] = {}
        for _ in range(rounds):
            for label, app in apps.items():
                times = sorted(asyncio.run(drive(app, n)))
                median, p99 = statistics.median(times) * 1e6, times[int(n * 0.99)] * 1e6
                if label not in best or median < best[label][0]:
                    best[label] = (median, p99)
    print(f"| stack ({n:,} requests, best of {rounds} rounds) | median | p99 | added to bare |")
    print("| --- | --- | --- | --- |")
    base = best["bare Starlette"][0]
    for label, (median, p99) in best.items():
        result[label] = {"median_us": round(median, 1), "p99_us": round(p99, 1)}
        print(f"| {label} | {median:.1f} µs | {p99:.1f} µs | {median - base:+.1f} µs |")
    return result


def bench_redis(n: int) -> dict[str, object]:
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    item = parse("100000000/minute")
    result: dict[str, object] = {}
    with redis() as url:
        print(f"| one rate-limit hit ({n:,} calls) | median | p99 | max |")
        print("| --- | --- | --- | --- |")
        for label, uri in (("memory", "memory://"), ("Redis, same host", url)):
            limiter = FixedWindowRateLimiter(storage_from_string(uri))
            for _ in range(200):
                limiter.hit(item, "warm", "pages")
            times = []
            for i in range(n):
                start = time.perf_counter()
                limiter.hit(item, f"203.0.113.{i % 250}", "pages")
                times.append(time.perf_counter() - start)
            times.sort()
            stats = {
                "median_us": round(statistics.median(times) * 1e6, 1),
                "p99_us": round(times[int(n * 0.99)] * 1e6, 1),
                "max_us": round(times[-1] * 1e6, 1),
            }
            result[label] = stats
            print(
                f"| {label} | {stats['median_us']} µs | {stats['p99_us']} µs | "
                f"{stats['max_us']} µs |"
            )
    return result


def bench_http(count: int, seconds: int) -> dict[str, object]:
    names = sample_names(count, 2000, seed=3)
    queries = WORK / f"pages-{count}.txt"
    queries.write_text("\n".join("/?" + urlencode({"q": n}) for n in names) + "\n")
    result: dict[str, object] = {}
    bare = [sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--no-access-log"]
    port = free_port()
    with server([*bare, "--port", str(port)], env_for(WORK / "scratch"), port, "/api/v1/entries"):
        bare_queries = WORK / "bare-queries.txt"
        bare_queries.write_text("/api/v1/entries\n")
        result["bare Starlette"] = wrk(port, bare_queries, seconds)
    with redis() as url:
        runs = {
            "HTML search page, rate limits off": {"SHIXIN_RATE_LIMIT_ENABLED": "0"},
            "HTML search page, rate limits in Redis": {
                "SHIXIN_REDIS_URL": url,
                "SHIXIN_RATE_LIMIT_PAGES": "100000000/minute",
            },
        }
        for label, extra in runs.items():
            port = free_port()
            cmd = shixin("serve", "--port", str(port), "--no-access-log")
            with server(cmd, env_for(data_dir(count), **extra), port, "/healthz"):
                result[label] = wrk(port, queries, seconds)
    print("| endpoint | requests/s | p50 | p99 | non-2xx |")
    print("| --- | --- | --- | --- | --- |")
    for label, stats in result.items():
        s: dict[str, float] = stats  # type: ignore[assignment]
        print(
            f"| {label} | {s['requests_per_second']:,.0f} | {s.get('p50_ms')} ms | "
            f"{s.get('p99_ms')} ms | {s.get('non_2xx', 0):.0f} |"
        )
    return result


@contextmanager
def redis() -> Iterator[str | None]:
    program = shutil.which("redis-server")
    if program is None:
        print("(redis-server not installed: Redis rows skipped)")
        yield None
        return
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    port = free_port()
    proc = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis as redis_client

        client = redis_client.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis_client.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.middleware")
    parser.add_argument("which", choices=("overhead", "redis", "http"))
    parser.add_argument("-n", type=int, default=5000, help="requests or calls per row")
    parser.add_argument("--count", type=int, default=1_000_000, help="entries (http)")
    parser.add_argument("--seconds", type=int, default=15, help="wrk duration (http)")
    args = parser.parse_args()
    if args.which == "overhead":
        bench_overhead(args.n)
    elif args.which == "redis":
        bench_redis(args.n)
    else:
        bench_http(args.count, args.seconds)


if __name__ == "__main__":
    main()
