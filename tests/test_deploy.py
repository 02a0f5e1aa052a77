"""The production recipe, end to end (issue 16): deploy/run_local.py starts PostgreSQL, Redis,
two portal hosts (web1, web2: one store, an index replica each, the bot in webhook mode) and
nginx in front; these tests talk to it the way users, courts and Telegram would.

The stack is started once for the module (about 15 seconds) and stopped by the last test,
which checks that SIGTERM leaves nothing running. Each test speaks from a loopback address
of its own (127.0.0.x), so each has its own rate-limit budgets, and the hosts see that
address only through nginx's X-Forwarded-For: the TCP peer of every host is nginx.

Skipped when nginx, redis-server or PostgreSQL's initdb is missing, unless
``SHIXIN_REQUIRE_NGINX``, ``SHIXIN_REQUIRE_REDIS`` or ``SHIXIN_REQUIRE_PG`` (CI sets all
three) asks for the missing one: then it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pgcluster import PgServer, find_bindir
from processes import Proc, descendants, require_proc, wait_until_gone
from redisserver import free_port
from support import TODAY, iso_days_ago, person, removal

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "deploy" / "run_local.py"
NGINX = "/usr/sbin/nginx"
API_LIMIT = 20  # per client a minute, on both hosts together
REPLICA_TIMEOUT = 6  # seconds of silence before a host's replica stops counting
WEBHOOK_SECRET = "deploy-test-webhook-secret-0123456789"
# The format of a token, never a real one: Telegram is not reachable from the tests.
TELEGRAM_TOKEN = "123456789:AAdeployTestTokenNotReal_0123456789"
START_SECONDS = 120.0


def on_the_stack(test: Callable[..., None]) -> Callable[..., None]:
    """The marks of a test that needs the running stack (PostgreSQL among it)."""
    return pytest.mark.postgres(pytest.mark.slow(test))


def _required(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in ("1", "true", "yes")


def require_programs() -> None:
    """Skip without the programs, or fail if the environment says they must be here."""
    missing = []
    if not os.access(NGINX, os.X_OK):
        missing.append(("SHIXIN_REQUIRE_NGINX", "nginx not found (apt-get install nginx)"))
    if not (shutil.which("redis-server") or os.access("/usr/bin/redis-server", os.X_OK)):
        missing.append(("SHIXIN_REQUIRE_REDIS", "redis-server not found"))
    if not os.environ.get("SHIXIN_TEST_DATABASE_URL") and find_bindir() is None:
        missing.append(("SHIXIN_REQUIRE_PG", "PostgreSQL's initdb not found"))
    for variable, problem in missing:
        if _required(variable):
            pytest.fail(f"{problem}; {variable} is set", pytrace=False)
    if missing:
        pytest.skip("; ".join(problem for _, problem in missing))


@dataclass
class Deployment:
    process: subprocess.Popen[bytes]
    scratch: Path
    info: dict[str, Any]

    @property
    def url(self) -> str:
        return self.info["url"]

    @property
    def hosts(self) -> dict[str, str]:
        return self.info["hosts"]

    def env(self) -> dict[str, str]:
        """The stack's variables (its env file), for ``shixin`` commands against it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIXIN_")}
        for line in Path(self.info["envFile"]).read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            env[key] = value.strip("'")
        return env

    def access_log(self, host: str) -> list[dict[str, Any]]:
        """The JSON access log lines of a host (uvicorn and warnings are other lines)."""
        lines = Path(self.info["logs"][host]).read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"ts"')]

    def service_pid(self, host: str) -> int:
        port = int(self.hosts[host].rsplit(":", 1)[1])
        for proc in descendants(self.process.pid):
            if "shixin.cli serve" in proc.command and f"--port {port}" in proc.command:
                return proc.pid
        raise AssertionError(f"no process for {host}")


def start_deployment(scratch: Path, env: dict[str, str]) -> Deployment:
    output = scratch.with_name("run_local.out")  # beside the scratch, which goes at the end
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--port", str(free_port()), "--scratch", str(scratch)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack_file = scratch / "stack.json"
    deadline = time.monotonic() + START_SECONDS
    while not stack_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            said = output.read_text(errors="replace")
            pytest.fail(f"deploy/run_local.py did not start:\n{said}", pytrace=False)
        time.sleep(0.1)
    return Deployment(process, scratch, json.loads(stack_file.read_text(encoding="utf-8")))


def stop(process: subprocess.Popen[bytes], timeout: float = 90.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


def stack_env(request: pytest.FixtureRequest) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIXIN_")}
    env.update(
        SHIXIN_RATE_LIMIT_API=f"{API_LIMIT}/minute",
        SHIXIN_INDEX_REPLICA_TIMEOUT=str(REPLICA_TIMEOUT),
        SHIXIN_TELEGRAM_TOKEN=TELEGRAM_TOKEN,
        SHIXIN_TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    if os.environ.get("SHIXIN_TEST_DATABASE_URL"):  # someone else's server: a database on it
        server: PgServer = request.getfixturevalue("pg_server")
        env["SHIXIN_DATABASE_URL"] = server.create_database()
    return env


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    require_programs()
    require_proc()
    started = time.monotonic()
    stack = start_deployment(tmp_path_factory.mktemp("deploy") / "stack", stack_env(request))
    print(f"deploy/run_local.py ready in {time.monotonic() - started:.1f}s")
    try:
        yield stack
    finally:
        stop(stack.process)


def client(source: str, base: str | None = None) -> httpx.Client:
    """An HTTP client that speaks from ``source``, one of the machine's loopback addresses."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=base or "", transport=transport, timeout=30)


def ingest_token(stack: Deployment) -> str:
    """A platform's ingest token, made the way an operator makes one: ``shixin token add``."""
    done = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "token", "add", "--unit", "部署测试", "--all-courts"],
        env=stack.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip().splitlines()[-1]


def ingest(http: httpx.Client, stack: Deployment, token: str, *lines: Any) -> dict[str, Any]:
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    answer = http.post(
        f"{stack.url}/api/v1/ingest",
        content=body.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def listed(http: httpx.Client, base: str, name: str) -> set[str]:
    answer = http.get(f"{base}/api/v1/entries", params={"q": name})
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


def published(entry_id: str, name: str) -> dict[str, Any]:
    """A listing published a month ago, running for years: public whenever the test runs."""
    until = (TODAY + timedelta(days=3 * 365)).isoformat()
    return person(entry_id, iname=name, publishDate=iso_days_ago(30), validUntil=until)


def state(http: httpx.Client, stack: Deployment, replica: str) -> str:
    """The replica's state, asked of web1's /healthz (no rate limit: it may be polled)."""
    health = http.get(f"{stack.hosts['web1']}/healthz").json()
    return next(r["state"] for r in health["replicas"] if r["name"] == replica)


def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds:.0f}s: {what}"
        time.sleep(0.2)


# --- the tests, in the order they run --------------------------------------------------------


def setting_names(text: str) -> set[str]:
    return set(re.findall(r"\bSHIXIN_[A-Z_]+[A-Z]\b", text))


def test_the_systemd_examples_set_what_the_script_sets_and_the_portal_reads() -> None:
    units = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "deploy/systemd").iterdir())
    script = SCRIPT.read_text(encoding="utf-8")
    read = setting_names((ROOT / "core/settings.py").read_text(encoding="utf-8"))
    assert setting_names(script) <= setting_names(units)
    assert setting_names(units) <= read, setting_names(units) - read
    # The site file includes the very proxying the tests below go through.
    assert "include /etc/nginx/snippets/shixin-locations.conf;" in units
    assert (ROOT / "deploy/nginx/shixin-locations.conf").exists()


@on_the_stack
def test_each_host_answers_from_its_own_index_replica(deployment: Deployment) -> None:
    with client("127.0.0.10") as http:
        for name, base in deployment.hosts.items():
            health = http.get(f"{base}/healthz").json()
            assert health["indexReplica"] == name
            assert {r["name"]: r["state"] for r in health["replicas"]} == {
                "web1": "live",
                "web2": "live",
            }
        assert http.get(f"{deployment.url}/healthz").status_code == 200


@on_the_stack
def test_a_removal_sent_through_nginx_is_gone_from_both_replicas(deployment: Deployment) -> None:
    token = ingest_token(deployment)
    with client("127.0.0.11") as http:
        sent = ingest(
            http,
            deployment,
            token,
            published("deploy-keep-1", "欧阳部署"),
            published("deploy-gone-1", "欧阳部署"),
        )
        assert sent["synced"] is True  # both live replicas applied it before the answer
        assert listed(http, deployment.url, "欧阳部署") == {"deploy-keep-1", "deploy-gone-1"}
        page = http.get(f"{deployment.url}/", params={"q": "欧阳部署"})
        assert page.status_code == 200 and "欧阳部署" in page.text
        for base in deployment.hosts.values():
            assert listed(http, base, "欧阳部署") == {"deploy-keep-1", "deploy-gone-1"}

        revoked = ingest(http, deployment, token, removal("revoke", "deploy-gone-1"))
        assert revoked["synced"] is True
        for base in deployment.hosts.values():  # each host asked itself, not through nginx
            assert listed(http, base, "欧阳部署") == {"deploy-keep-1"}
            assert http.get(f"{base}/api/v1/entries/deploy-gone-1").status_code == 410

        report = http.get(f"{deployment.url}/api/v1/compliance").json()
    assert {r["name"]: r["state"] for r in report["replicas"]} == {"web1": "live", "web2": "live"}
    assert report["removals"]["confirmed"] == report["removals"]["total"] >= 1
    assert report["removals"]["pending"] == 0
    assert report["warnings"] == []


@on_the_stack
def test_a_report_filed_through_nginx_is_tracked_on_either_host(deployment: Deployment) -> None:
    with client("127.0.0.12") as http:
        entry = http.get(f"{deployment.url}/api/v1/entries", params={"q": "欧阳部署"})
        filed = http.post(
            f"{deployment.url}/api/v1/reports",
            json={
                "category": "consumption.hotel",
                "entryId": entry.json()["items"][0]["id"],
                "what": "最近在某大酒店入住行政套房",
                "where": "青岛市市北区某大酒店",
            },
        )
        assert filed.status_code == 201, filed.text
        ticket = {"number": filed.json()["number"], "code": filed.json()["accessCode"]}
        for base in deployment.hosts.values():
            tracked = http.post(f"{base}/api/v1/track", json=ticket)
            assert tracked.status_code == 200, tracked.text
            assert tracked.json()["number"] == ticket["number"]


@on_the_stack
def test_the_rate_limit_is_one_budget_for_both_hosts_behind_nginx(deployment: Deployment) -> None:
    tries = API_LIMIT + API_LIMIT // 2  # each host alone would allow every one of them
    with client("127.0.0.21", deployment.url) as http:
        codes = [
            http.get("/api/v1/entries", params={"q": "欧阳部署"}).status_code for _ in range(tries)
        ]
        # Writing another address into the header buys no fresh budget: nginx appends the
        # real one, and the hosts believe only what nginx appended.
        forged = http.get("/api/v1/entries", headers={"X-Forwarded-For": "198.51.100.7"})
    assert codes.count(200) == API_LIMIT
    assert codes[API_LIMIT:] == [429] * (tries - API_LIMIT)
    assert forged.status_code == 429
    with client("127.0.0.22", deployment.url) as other:
        assert other.get("/api/v1/entries").status_code == 200  # another client, its own budget

    # Both hosts took part, and both saw the client's own address, not nginx's.
    served = {
        host: [
            line["status"] for line in deployment.access_log(host) if line["client"] == "127.0.0.21"
        ]
        for host in deployment.hosts
    }
    assert all(served.values()), served
    assert sum(len(statuses) for statuses in served.values()) == tries + 1
    assert sum(statuses.count(200) for statuses in served.values()) == API_LIMIT


@on_the_stack
def test_the_bot_webhook_answers_only_with_telegrams_secret(deployment: Deployment) -> None:
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
    }
    header = "X-Telegram-Bot-Api-Secret-Token"
    with client("127.0.0.13", deployment.url) as http:
        assert http.post("/telegram/webhook", json=update).status_code == 403
        wrong = http.post("/telegram/webhook", json=update, headers={header: "x" * 40})
        assert wrong.status_code == 403
        # The right secret gets past the check; the bot cannot reach Telegram from here,
        # so it is still starting and asks Telegram to post again later.
        right = http.post("/telegram/webhook", json=update, headers={header: WEBHOOK_SECRET})
    assert right.status_code == 503
    assert right.headers["Retry-After"] == "30"


@on_the_stack
def test_a_frozen_host_is_taken_out_and_back_only_once_caught_up(deployment: Deployment) -> None:
    token = ingest_token(deployment)
    frozen = deployment.service_pid("web2")
    upstream = Path(deployment.info["upstreamConf"])
    with client("127.0.0.14") as http:
        os.kill(frozen, signal.SIGSTOP)
        try:
            eventually(lambda: " down;" in upstream.read_text(), 15, "web2 taken out")
            eventually(lambda: state(http, deployment, "web2") == "silent", 20, "web2 silent")
            # Removed while web2 cannot hear of it: web1 alone confirms it.
            done = ingest(http, deployment, token, removal("revoke", "deploy-keep-1"))
            assert done["synced"] is True
            assert listed(http, deployment.url, "欧阳部署") == set()
        finally:
            os.kill(frozen, signal.SIGCONT)
        eventually(lambda: " down;" not in upstream.read_text(), 30, "web2 back in")
        # Back in only after its own round applied the removal it missed.
        assert listed(http, deployment.hosts["web2"], "欧阳部署") == set()
        assert all(listed(http, deployment.url, "欧阳部署") == set() for _ in range(4))


@on_the_stack
def test_sigterm_stops_everything_and_leaves_nothing_behind(deployment: Deployment) -> None:
    children: list[Proc] = descendants(deployment.process.pid)
    assert len([p for p in children if "shixin.cli serve" in p.command]) == 2
    ports = [int(deployment.url.rsplit(":", 1)[1])]
    ports += [int(base.rsplit(":", 1)[1]) for base in deployment.hosts.values()]
    ports.append(int(deployment.info["redis"].rsplit(":", 1)[1]))
    if "postgresql" in deployment.info:  # the script's own cluster
        ports.append(int(deployment.info["postgresql"].split(":")[1].split()[0]))

    assert stop(deployment.process) == 0
    assert wait_until_gone(children, 10)[0] == []
    assert not deployment.scratch.exists()
    for port in ports:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
