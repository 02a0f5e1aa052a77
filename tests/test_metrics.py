"""Operations: Prometheus metrics at /metrics, the JSON access log, and `shixin serve
--workers 2` answering with both."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
from liveserver import portal_env, portal_process
from starlette.exceptions import StarletteDeprecationWarning
from support import id_number, make_settings, person, removal

from portal.accesslog import param_names
from portal.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


def access_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    out = capsys.readouterr().out
    return [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]


@contextmanager
def portal(tmp_path: Path, **env: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3", **env)
    with TestClient(create_app(settings, background=False)) as http:
        yield http


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


# --- Metrics --------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template_not_by_address(tmp_path: Path) -> None:
    with portal(tmp_path) as http:
        before = http.get("/metrics").text
        for entry in ("a1", "b2", "c3"):
            assert http.get(f"/entries/{entry}").status_code == 404
        http.get("/", params={"q": "张伟"})
        text = http.get("/metrics").text
    route = "/entries/{entry_id:str}"
    counted = sample(text, "shixin_http_requests_total", route=route, status="404")
    assert counted - sample(before, "shixin_http_requests_total", route=route, status="404") == 3
    assert sample(text, "shixin_http_requests_total", route="/", method="GET", status="200") >= 1
    assert "a1" not in text and "张伟" not in text
    assert sample(text, "shixin_http_request_duration_seconds_count", route="/") >= 1
    assert sample(text, "shixin_http_request_duration_seconds_bucket", le="0.1", route="/") >= 1


def test_metrics_show_index_lag_and_pending_removals(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3")
    app = create_app(settings, background=False)
    with TestClient(app) as http:
        service = app.state.service
        service.ingest([(1, person("m1", cardNum=id_number()))], source="test")
        # The court revokes the entry; the index has not caught up yet.
        service.ingest([(1, removal("revoke", "m1"))], source="test", sync=False)
        text = http.get("/metrics").text
        assert sample(text, "shixin_up", component="store") == 1
        assert sample(text, "shixin_up", component="index") == 1
        assert sample(text, "shixin_index_lag") == service.syncer.lag() > 0
        assert sample(text, "shixin_removals_pending") == service.compliance().pending == 1
        assert "shixin_removals_overdue" in text


def test_unknown_paths_and_methods_do_not_create_new_series(tmp_path: Path) -> None:
    with portal(tmp_path) as http:
        http.get("/wp-login.php")
        http.request("BREW", "/")
        text = http.get("/metrics").text
    assert "wp-login" not in text and "BREW" not in text
    assert sample(text, "shixin_http_requests_total", route="<unmatched>") >= 1


# --- Access log -----------------------------------------------------------------------------


def test_access_log_is_one_json_line_per_request_without_query_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = id_number()
    with portal(tmp_path) as http:
        capsys.readouterr()
        http.get("/", params={"q": "张伟", "id": card})
        http.get("/entries/e1")
        lines = access_lines(capsys)
    search, entry = lines
    assert search["method"] == "GET" and search["path"] == "/" and search["status"] == 200
    assert search["params"] == ["id", "q"]
    assert card not in orjson.dumps(lines).decode()
    assert "张伟" not in orjson.dumps(lines).decode()
    assert isinstance(search["ms"], float) and search["ms"] >= 0
    assert search["client"] == "testclient"
    assert entry["route"] == "/entries/{entry_id:str}" and entry["status"] == 404


def test_secret_tokens_in_addresses_never_reach_the_access_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A screening job's or an email watch's address is its only key: logged as the
    parameter's name, never its value, whatever the page answers."""
    secret = "Sx7d3kQ9pLr2vB8nW4mZ1cT6"
    with portal(tmp_path) as http:
        capsys.readouterr()
        http.get(f"/screening/{secret}")
        http.get(f"/watch/manage/{secret}")
        http.get(f"/screening/{secret}/result.csv")
        lines = access_lines(capsys)
    assert secret not in orjson.dumps(lines).decode()
    paths = [line["path"] for line in lines]
    assert paths == [
        "/screening/{token}",
        "/watch/manage/{token}",
        "/screening/{token}/result.csv",
    ]


def test_a_crash_is_logged_as_500(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from starlette.routing import Route

    async def broken(request: object) -> None:
        raise RuntimeError("boom")

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3")
    app = create_app(settings, background=False)
    app.router.routes.insert(0, Route("/test-broken", broken))
    with TestClient(app, raise_server_exceptions=False) as http:
        capsys.readouterr()
        assert http.get("/test-broken").status_code == 500
        assert [line["status"] for line in access_lines(capsys)] == [500]


def test_access_log_can_be_switched_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with portal(tmp_path, SHIXIN_ACCESS_LOG="0") as http:
        capsys.readouterr()
        http.get("/")
        assert access_lines(capsys) == []


def test_param_names_survive_odd_query_strings() -> None:
    assert param_names(b"") == []
    assert param_names(b"q=%E5%BC%A0&q=x&page=2&flag") == ["flag", "page", "q"]


# --- Several workers ------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_with_two_workers_counts_every_workers_requests(tmp_path: Path) -> None:
    env = portal_env(tmp_path / "data", SHIXIN_RATE_LIMIT_PAGES="1000/minute")
    with portal_process(env, "--workers", "2", log=tmp_path / "serve.log") as base:
        # A new connection each time, so the requests spread over both workers.
        for _ in range(20):
            assert httpx.get(f"{base}/", timeout=10).status_code == 200
        scrapes = [httpx.get(f"{base}/metrics", timeout=10).text for _ in range(4)]
    for text in scrapes:
        assert sample(text, "shixin_http_requests_total", route="/", status="200") == 20
    log = (tmp_path / "serve.log").read_text(errors="replace")
    json_lines = [line for line in log.splitlines() if line.startswith("{")]
    assert len([line for line in json_lines if '"path":"/"' in line]) == 20
    assert "GET / HTTP" not in log  # uvicorn's own access log (with query strings) is off
