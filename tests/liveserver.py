"""Real portal processes (``shixin serve``) for the tests that need more than one worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from redisserver import free_port
from support import KEY


def portal_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIXIN_", "PROMETHEUS_"))}
    env.update(
        SHIXIN_DATA_DIR=str(data_dir),
        SHIXIN_ID_HASH_KEY=KEY,
        SHIXIN_SYNC_INTERVAL="30",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Portal:
    base: str  # the base URL
    process: subprocess.Popen[bytes]


@contextmanager
def portal_process(
    env: dict[str, str], *args: str, log: Path, timeout: float = 60.0
) -> Iterator[str]:
    """Run ``shixin serve`` on a free port until /healthz answers; yield its base URL."""
    with serving(env, *args, log=log, timeout=timeout) as (base, _):
        yield base


@contextmanager
def serving(
    env: dict[str, str], *args: str, log: Path, timeout: float = 60.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``portal_process``, yielding the process too (its own process group: a test may
    kill -9 the group, workers and all)."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shixin.cli", "serve", "--port", str(port), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so the workers are stopped with it
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"shixin serve exited:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"shixin serve not ready:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)  # the crash tests measure how soon a restart answers
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def running_portal(
    env: dict[str, str], *args: str, log: Path, timeout: float = 60.0
) -> Iterator[Portal]:
    """``serving``, as a Portal (for tests that kill it and read its base URL)."""
    with serving(env, *args, log=log, timeout=timeout) as (base, process):
        yield Portal(base, process)
