"""Which process holds a claim, and whether that process has provably died.

A claim (the index's sync lease, an outbox round's rows) names its holder as
``host:pid:start:pidns``: ``start`` is the process's start time in clock ticks since boot
(``/proc/<pid>/stat``), so a recycled pid is not mistaken for the holder, and ``pidns`` the
PID namespace, since two containers may share a host name but not their pids. A claim may add
``/<anything>`` after it (an outbox round adds a token of its own).

A holder is dead when it is a process on this host and in this PID namespace that no longer
runs: its pid is gone, a zombie, or taken by a process started at another time. A holder
that cannot be checked from here (another host, another container, an older format) is never
called dead: its claim is waited out instead.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

# The claim columns (sync_state.lease_holder, outbox.claimed_by) are String(64): a host name
# of up to HOST_LENGTH characters is kept whole, a longer one is cut and given a fingerprint
# of the whole, so two hosts never share a holder name (a cut alone could make "web-1…" and
# "web-2…" one host, and then one would call the other's live processes dead).
HOST_LENGTH = 20


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a process on this host; None where /proc has
    nothing to say (not Linux, or no such process)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()  # after "pid (comm)": comm may hold spaces
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _pid_namespace() -> str:
    try:
        return "".join(ch for ch in os.readlink("/proc/self/ns/pid") if ch.isdigit())
    except OSError:
        return ""


def _host() -> str:
    name = socket.gethostname().replace(":", "_").replace("/", "_")
    if len(name) <= HOST_LENGTH:
        return name
    return name[: HOST_LENGTH - 9] + "~" + hashlib.sha256(name.encode()).hexdigest()[:8]


def identity() -> str:
    """This process as a holder (at most 56 characters). Computed afresh each time: a
    forked worker is a holder of its own."""
    pid = os.getpid()
    stat = _proc_stat(pid)
    return f"{_host()}:{pid}:{stat[1] if stat else ''}:{_pid_namespace()}"


def holder_is_dead(holder: str) -> bool:
    """Whether ``holder`` (optionally followed by ``/…``) is a process that provably no
    longer runs: on this host, in this PID namespace, and its pid gone, a zombie, or another
    process's now."""
    parts = holder.split("/", 1)[0].split(":")
    if len(parts) != 4 or not (parts[1].isascii() and parts[1].isdigit()):
        return False  # another format (an older version's): wait for its claim to run out
    host, pid_text, start, namespace = parts
    if host != _host() or not namespace or namespace != _pid_namespace():
        return False  # another host or container: its processes cannot be seen from here
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # a process of another user: it exists
    except OverflowError:
        return False
    stat = _proc_stat(pid)
    if stat is None:
        return False
    state, started = stat
    return state in ("Z", "X") or bool(start and started != start)
