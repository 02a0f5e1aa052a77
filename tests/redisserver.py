"""A throwaway redis-server for the tests that need shared rate-limit storage.

``redis_server`` starts Debian's ``redis-server`` once per session on a free port, without
persistence, in a temporary directory. When the program is missing the tests that use it
are skipped, unless ``SHIXIN_REQUIRE_REDIS=1`` (CI sets it): then they fail.

Test modules import the fixture: ``from redisserver import redis_server_fixture  # noqa: F401``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port)
        try:
            client.flushall()
        finally:
            client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with status {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout:.0f}s")


def _require_redis() -> bool:
    return os.environ.get("SHIXIN_REQUIRE_REDIS", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session", name="redis_server")
def redis_server_fixture() -> Iterator[RedisServer]:
    program = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if program is None:
        problem = "redis-server not found (apt-get install redis-server)"
        if _require_redis():
            pytest.fail(f"{problem}; SHIXIN_REQUIRE_REDIS is set", pytrace=False)
        pytest.skip(problem)
    workdir = tempfile.mkdtemp(prefix="shixin-redis-")
    port = free_port()
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir, "--loglevel", "warning",
         "--logfile", os.path.join(workdir, "redis.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
    except RuntimeError as exc:
        process.kill()
        process.wait()
        log = os.path.join(workdir, "redis.log")
        text = Path(log).read_text(errors="replace") if os.path.exists(log) else ""
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(f"redis-server did not start: {exc}\n{text}", pytrace=False)
    try:
        yield RedisServer(port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
