"""Processes of the tests, read from Linux's /proc: a process's descendants, and whether one
of them still runs. Holds no tests itself.

A process is named by ``(pid, start time)``, so a pid the system hands out again after the
process ended never passes for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    pid: int
    started: int  # clock ticks after boot (/proc/PID/stat field 22)
    command: str

    def alive(self) -> bool:
        """Running (or stopped), not ended: a zombie waiting for its new parent to reap
        it has ended."""
        stat = _stat(self.pid)
        return stat is not None and stat[2] == self.started and stat[1] not in "ZX"


def require_proc() -> None:
    if not (PROC / "self" / "stat").exists():
        pytest.skip("needs Linux's /proc")


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of ``pid``, or None when there is no such process."""
    try:
        data = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2 :].split()  # after "pid (command) "
    return int(rest[1]), rest[0], int(rest[19])


def _command(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def descendants(pid: int) -> list[Proc]:
    """Every live process below ``pid``: children, their children, ..."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] not in "ZX":
                parents.setdefault(stat[0], []).append(int(entry.name))
    found: list[Proc] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            stat = _stat(child)
            if stat is not None:
                found.append(Proc(child, stat[2], _command(child)))
                todo.append(child)
    return found


def wait_until_gone(procs: list[Proc], timeout: float) -> tuple[list[Proc], float]:
    """Wait up to ``timeout`` seconds for ``procs`` to end: (those still running, seconds
    waited)."""
    started = time.monotonic()
    while True:
        left = [p for p in procs if p.alive()]
        waited = time.monotonic() - started
        if not left or waited > timeout:
            return left, waited
        time.sleep(0.05)
