"""Rate limits as a client meets them: budgets per client and kind of route, the Chinese 429
page and the API's JSON 429 (both with Retry-After), proxies, storage, and two real worker
processes sharing one real redis-server."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from liveserver import portal_env, portal_process
from redisserver import RedisServer, free_port, redis_server_fixture  # noqa: F401
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from support import make_settings

from core.settings import ConfigError, load_settings
from portal.app import ROOT, create_app
from portal.clientaddr import ClientAddress
from portal.ratelimit import build_limiter, limit_routes, rate_limited

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


@contextmanager
def portal(tmp_path: Path, client: tuple[str, int] = ("203.0.113.7", 5000), **env: str):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3", **env)
    with TestClient(create_app(settings, background=False), client=client) as http:
        yield http


def retry_after(response: httpx.Response) -> int:
    value = int(response.headers["retry-after"])
    assert 1 <= value <= 60, value
    return value


# --- Pages and API --------------------------------------------------------------------------


def test_search_pages_over_the_limit_get_a_chinese_page_saying_when_to_retry(
    tmp_path: Path,
) -> None:
    with portal(tmp_path, SHIXIN_RATE_LIMIT_PAGES="3/minute") as http:
        for _ in range(3):
            assert http.get("/", params={"q": "张伟"}).status_code == 200
        response = http.get("/", params={"q": "张伟"})
        assert response.status_code == 429
        assert response.headers["content-type"].startswith("text/html")
        seconds = retry_after(response)
        assert "请求过于频繁" in response.text
        assert f"{seconds} 秒" in response.text
        assert response.headers["cache-control"] == "no-store"
        # The API is a separate budget: a page visitor who hit the limit can still use it.
        assert http.get("/api/v1/entries", params={"q": "张伟"}).status_code == 200


def test_a_scraper_walking_entry_pages_shares_one_budget(tmp_path: Path) -> None:
    """Counted per client and kind of page, not per URL: new IDs give no new allowance."""
    with portal(tmp_path, SHIXIN_RATE_LIMIT_PAGES="4/minute") as http:
        statuses = [http.get(f"/entries/e{n}").status_code for n in range(4)]
        assert 429 not in statuses
        assert http.get("/entries/e99").status_code == 429
        assert http.get("/").status_code == 429  # same budget as the search page


def test_api_over_the_limit_gets_a_json_error_with_retry_after(tmp_path: Path) -> None:
    with portal(tmp_path, SHIXIN_RATE_LIMIT_API="2/minute") as http:
        for _ in range(2):
            assert http.get("/api/v1/entries", params={"q": "李"}).status_code == 200
        response = http.get("/api/v1/entries/x1")
        assert response.status_code == 429
        assert response.headers["content-type"].startswith("application/json")
        error = response.json()["error"]
        assert error["code"] == "rate_limited"
        assert error["retryAfter"] == retry_after(response)
        assert "请求过于频繁" in error["message"]
        assert http.get("/").status_code == 200  # pages are a separate budget


def test_clients_have_separate_budgets(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3", SHIXIN_RATE_LIMIT_PAGES="1/minute"
    )
    app = create_app(settings, background=False)
    with TestClient(app, client=("198.51.100.1", 1)) as first:
        assert first.get("/").status_code == 200
        assert first.get("/").status_code == 429
        second = TestClient(app, client=("198.51.100.2", 1))
        assert second.get("/").status_code == 200


def test_health_checks_and_static_files_are_not_limited(tmp_path: Path) -> None:
    with portal(tmp_path, SHIXIN_RATE_LIMIT_PAGES="1/minute") as http:
        assert http.get("/").status_code == 200
        assert http.get("/").status_code == 429
        assert all(http.get("/healthz").status_code == 200 for _ in range(5))
        assert all(http.get("/static/site.css").status_code == 200 for _ in range(5))


def test_every_route_of_the_portal_has_a_budget(tmp_path: Path) -> None:
    """Guards the routes other modules add later: each endpoint must be wrapped."""
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3")
    app = create_app(settings, background=False)
    unlimited = []

    def walk(routes: list[Any], prefix: str = "") -> None:
        for route in routes:
            if isinstance(route, Route):
                if prefix + route.path != "/healthz" and not hasattr(route.endpoint, "__wrapped__"):
                    unlimited.append(prefix + route.path)
            elif isinstance(route, Mount) and route.path != "/static":
                walk(route.routes, prefix + route.path)

    walk(app.routes)
    assert unlimited == []


def test_rate_limiting_can_be_switched_off(tmp_path: Path) -> None:
    with portal(
        tmp_path, SHIXIN_RATE_LIMIT_ENABLED="0", SHIXIN_RATE_LIMIT_PAGES="1/minute"
    ) as http:
        assert all(http.get("/").status_code == 200 for _ in range(5))


def test_a_malformed_limit_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SHIXIN_RATE_LIMIT_API"):
        load_settings(
            {"SHIXIN_DATA_DIR": str(tmp_path), "SHIXIN_RATE_LIMIT_API": "lots per minute"}
        )


# --- Routes under Mount and form posts (a tiny app, as issue 4's forms will be built) -------


def tiny_app(tmp_path: Path, **env: str) -> Starlette:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def complaint(request: Request) -> PlainTextResponse:
        return PlainTextResponse("received")

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3", **env)
    limiter = build_limiter(settings, ClientAddress())
    routes = [
        Route("/hello", hello),
        Mount("/casework", routes=[Route("/complaint", complaint, methods=["GET", "POST"])]),
        Mount("/static", StaticFiles(directory=ROOT / "static"), name="static"),
    ]
    app = Starlette(
        routes=limit_routes(routes, limiter, settings),
        exception_handlers={429: rate_limited},
    )
    app.state.limiter = limiter
    app.state.templates = create_app(settings, background=False).state.templates
    return app


def test_routes_under_a_mount_are_limited_too(tmp_path: Path) -> None:
    """slowapi's middleware would let these through: it only sees top-level routes."""
    http = TestClient(tiny_app(tmp_path, SHIXIN_RATE_LIMIT_PAGES="2/minute"))
    assert http.get("/casework/complaint").status_code == 200
    assert http.get("/hello").status_code == 200
    response = http.get("/casework/complaint")
    assert response.status_code == 429
    assert "请求过于频繁" in response.text


def test_form_posts_have_their_own_tighter_budget(tmp_path: Path) -> None:
    app = tiny_app(tmp_path, SHIXIN_RATE_LIMIT_FORMS="2/minute", SHIXIN_RATE_LIMIT_PAGES="5/minute")
    http = TestClient(app)
    assert http.post("/casework/complaint", data={"text": "1"}).text == "received"
    assert http.post("/casework/complaint", data={"text": "2"}).text == "received"
    response = http.post("/casework/complaint", data={"text": "3"})
    assert response.status_code == 429
    assert retry_after(response)
    assert http.get("/casework/complaint").status_code == 200  # reading the form still works


# --- Client address behind proxies ----------------------------------------------------------


def scope(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 1234), "headers": headers}


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    clients = ClientAddress(["10.0.0.0/8"])
    assert clients.resolve(scope("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    assert ClientAddress().resolve(scope("10.0.0.2", "1.2.3.4")) == "10.0.0.2"


def test_behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() -> None:
    clients = ClientAddress(["10.0.0.0/8", "::1"])
    # The client forged the first entry; our two proxies appended the rest.
    assert clients.resolve(scope("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.1.1.1")) == "203.0.113.9"
    assert clients.resolve(scope("::1", "2001:db8::5")) == "2001:db8::5"
    assert clients.resolve(scope("10.0.0.2", "10.0.0.3")) == "10.0.0.3"  # all ours
    assert clients.resolve(scope("10.0.0.2", "junk")) == "10.0.0.2"
    assert clients.resolve(scope("10.0.0.2")) == "10.0.0.2"


def test_behind_a_trusted_proxy_each_real_client_has_its_own_budget(tmp_path: Path) -> None:
    with portal(
        tmp_path,
        client=("10.0.0.2", 40000),
        SHIXIN_TRUSTED_PROXIES="10.0.0.0/8",
        SHIXIN_RATE_LIMIT_PAGES="1/minute",
    ) as http:
        alice = {"X-Forwarded-For": "203.0.113.10"}
        bob = {"X-Forwarded-For": "203.0.113.11"}
        assert http.get("/", headers=alice).status_code == 200
        assert http.get("/", headers=alice).status_code == 429
        assert http.get("/", headers=bob).status_code == 200
        # Alice cannot buy a fresh budget by prepending a made-up address.
        forged = {"X-Forwarded-For": "1.1.1.1, 203.0.113.10"}
        assert http.get("/", headers=forged).status_code == 429


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(tmp_path: Path) -> None:
    with portal(tmp_path, SHIXIN_RATE_LIMIT_PAGES="1/minute") as http:
        assert http.get("/", headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 200
        assert http.get("/", headers={"X-Forwarded-For": "2.2.2.2"}).status_code == 429


# --- Storage --------------------------------------------------------------------------------


def test_memory_storage_is_the_default_and_redis_is_used_when_configured(tmp_path: Path) -> None:
    base = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3")
    assert type(build_limiter(base, ClientAddress())._storage).__name__ == "MemoryStorage"
    shared = make_settings(
        tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3", SHIXIN_REDIS_URL="redis://127.0.0.1:1/0"
    )
    assert type(build_limiter(shared, ClientAddress())._storage).__name__ == "RedisStorage"


def test_when_redis_is_down_each_worker_still_answers_and_limits(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with portal(tmp_path, SHIXIN_REDIS_URL=dead, SHIXIN_RATE_LIMIT_PAGES="2/minute") as http:
        assert http.get("/").status_code == 200
        assert http.get("/").status_code == 200
        assert http.get("/").status_code == 429


def test_redis_storage_limits_in_process(tmp_path: Path, redis_server: RedisServer) -> None:
    redis_server.flush()
    with portal(
        tmp_path, SHIXIN_REDIS_URL=redis_server.url, SHIXIN_RATE_LIMIT_API="2/minute"
    ) as http:
        assert http.get("/api/v1/entries", params={"q": "王"}).status_code == 200
        assert http.get("/api/v1/entries", params={"q": "王"}).status_code == 200
        response = http.get("/api/v1/entries", params={"q": "王"})
        assert response.status_code == 429
        assert response.json()["error"]["retryAfter"] == retry_after(response)


@pytest.mark.slow
def test_the_limit_holds_across_two_worker_processes_sharing_redis(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Two real `shixin serve` processes on two ports, one redis-server: a client that
    spreads its requests over both workers still gets only one budget."""
    redis_server.flush()
    env = portal_env(
        tmp_path / "data",
        SHIXIN_REDIS_URL=redis_server.url,
        SHIXIN_RATE_LIMIT_PAGES="6/minute",
        SHIXIN_RATE_LIMIT_API="4/minute",
    )
    with (
        portal_process(env, log=tmp_path / "worker1.log") as one,
        portal_process(env, log=tmp_path / "worker2.log") as two,
    ):
        pages = [httpx.get(f"{base}/", timeout=10) for base in (one, two, one, two, one, two)]
        assert [r.status_code for r in pages] == [200] * 6
        for base in (one, two):
            response = httpx.get(f"{base}/", timeout=10)
            assert response.status_code == 429
            assert "请求过于频繁" in response.text
            assert retry_after(response)
        api = [httpx.get(f"{b}/api/v1/entries?q=x", timeout=10) for b in (two, one, two, one)]
        assert [r.status_code for r in api] == [200] * 4
        response = httpx.get(f"{one}/api/v1/entries?q=x", timeout=10)
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limited"


@pytest.mark.slow
def test_without_redis_two_workers_would_each_have_their_own_budget(tmp_path: Path) -> None:
    """The control for the test above: memory storage is per process."""
    env = portal_env(tmp_path / "data", SHIXIN_RATE_LIMIT_PAGES="2/minute")
    with (
        portal_process(env, log=tmp_path / "worker1.log") as one,
        portal_process(env, log=tmp_path / "worker2.log") as two,
    ):
        statuses = [httpx.get(f"{b}/", timeout=10).status_code for b in (one, one, two, two)]
        assert statuses == [200, 200, 200, 200]


# --- shixin serve with several workers ------------------------------------------------------


def _serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, **env: str
) -> dict[str, Any]:
    """Run ``shixin serve ARGS`` up to the point where uvicorn would start (it does not)."""
    from shixin import cli

    for name in ("SHIXIN_REDIS_URL", "SHIXIN_RATE_LIMIT_ENABLED", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHIXIN_ID_HASH_KEY", "k" * 32)
    monkeypatch.setenv("SHIXIN_SECRET_KEY", "s" * 32)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    started: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: started.update(kw))
    assert cli.main(["serve", "--port", str(free_port()), *args]) == 0
    return started


@pytest.mark.parametrize(
    ("args", "env", "warned"),
    [
        (("--workers", "2"), {}, True),
        (("--workers", "4"), {}, True),
        ((), {}, False),
        (("--workers", "1"), {}, False),
        (("--workers", "2"), {"SHIXIN_REDIS_URL": "redis://127.0.0.1:1/0"}, False),
        (("--workers", "2"), {"SHIXIN_RATE_LIMIT_ENABLED": "0"}, False),
    ],
)
def test_serve_warns_when_workers_would_count_rate_limits_apart(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    args: tuple[str, ...],
    env: dict[str, str],
    warned: bool,
) -> None:
    with caplog.at_level("WARNING"):
        started = _serve(monkeypatch, tmp_path, *args, **env)
    assert started["workers"] == (int(args[1]) if args else 1)
    warnings = [r for r in caplog.records if "SHIXIN_REDIS_URL" in r.getMessage()]
    if not warned:
        assert warnings == []
        return
    (record,) = warnings
    workers = args[1]
    assert record.levelname == "WARNING" and record.name == "shixin.serve"
    assert record.getMessage().startswith(f"{workers} workers without SHIXIN_REDIS_URL:")
    assert f"up to {workers} times every budget" in record.getMessage()
