"""``shixin serve`` and ``make demo`` report a busy port in Chinese and English before
anything starts: no uvicorn "[Errno 98]" traceback, and no demo import spent first.

Every test holds a real listening socket on a port the system picked, so nothing here
depends on which ports happen to be free on the machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shixin.cli import port_problem

BIN = Path(sys.executable).parent  # the virtualenv's bin/, where `shixin` is installed
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program is listening on (this test, here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    # Only what the command needs: no SHIXIN_* setting of the caller leaks in.
    return {"PATH": f"{BIN}:/usr/bin:/bin", "SHIXIN_DATA_DIR": str(data_dir)}


def test_a_free_port_has_no_problem() -> None:
    assert port_problem("127.0.0.1", _free_port()) is None


def test_a_busy_port_is_reported_in_chinese_then_english(busy_port: int) -> None:
    problem = port_problem("127.0.0.1", busy_port)
    assert problem is not None
    chinese, english = problem.splitlines()
    assert chinese.startswith(f"端口 {busy_port} 已被占用：请换一个端口，例如 make demo PORT=")
    assert english.startswith(f"Port {busy_port} is already in use: pick another one, e.g.")
    assert f"PORT={busy_port} " not in problem  # the suggestion is another port
    assert "shixin serve --port" in problem


def test_the_suggested_port_is_free(busy_port: int) -> None:
    problem = port_problem("127.0.0.1", busy_port)
    assert problem is not None
    suggested = int(problem.split("PORT=")[1].split()[0])
    assert port_problem("127.0.0.1", suggested) is None


def test_an_address_not_on_this_machine_is_reported() -> None:
    # 192.0.2.0/24 is reserved for documentation: never one of this machine's addresses.
    problem = port_problem("192.0.2.1", _free_port())
    assert problem is not None
    assert problem.startswith("无法在 192.0.2.1:")


def _shixin(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shixin.cli", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_stops_on_a_busy_port_before_touching_the_data_dir(
    busy_port: int, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    run = _shixin("serve", "--port", str(busy_port), data_dir=data)
    assert run.returncode == 2
    assert f"端口 {busy_port} 已被占用" in run.stderr
    assert f"Port {busy_port} is already in use" in run.stderr
    assert "Errno" not in run.stderr and "Traceback" not in run.stderr
    assert not data.exists()  # no key files, no database: nothing started


def test_check_port_exits_0_on_a_free_port_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = _shixin("serve", "--check-port", "--port", str(_free_port()), data_dir=data)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert not data.exists()


def test_check_port_exits_2_on_a_busy_port(busy_port: int, tmp_path: Path) -> None:
    run = _shixin("serve", "--check-port", "--port", str(busy_port), data_dir=tmp_path)
    assert run.returncode == 2
    assert f"Port {busy_port} is already in use" in run.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_on_a_busy_port_fails_before_generating_or_importing(
    busy_port: int, tmp_path: Path
) -> None:
    if not (BIN / "shixin").exists():
        pytest.skip(f"no shixin command in {BIN}")
    data = tmp_path / "data"
    venv = BIN.parent
    # -o: the virtualenv is taken as installed; make must not rebuild it here.
    make = ["make", "-C", str(REPO), "-o", f"{venv}/.installed", "demo", f"VENV={venv}"]
    run = subprocess.run(
        [*make, f"PORT={busy_port}", f"SHIXIN_DATA_DIR={data}"],
        env={**_env(data), "MAKEFLAGS": "", "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert f"端口 {busy_port} 已被占用" in run.stderr
    assert f"Port {busy_port} is already in use" in run.stderr
    assert "demo data" not in run.stdout  # the generate-and-import step never ran
    assert not data.exists()
