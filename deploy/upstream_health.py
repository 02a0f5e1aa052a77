#!/usr/bin/env python3
"""Active health checks for open-source nginx: take a portal host out while its /healthz fails.

nginx's own checks are passive (``max_fails``): a host counts as failed only once a real
request to it errs. A host whose index replica is silent or catching up still answers
searches with 200, from an index that may still hold an entry the others removed; only its
``/healthz`` says 503 (README "Several hosts, one index each"). Active ``health_check`` is
NGINX Plus only, so this watcher asks every host's ``/healthz`` each interval, writes the
``upstream shixin { }`` block with the failing ones marked ``down``, and reloads nginx (SIGHUP
to its master: workers finish the requests they hold, new ones go by the new list).

When every host fails at once (the store itself is down, say) none is marked down: nginx
then goes on trying them all, rather than answering 502 for the whole site.

Standard library only, so production can run it with the system's python3 (see
deploy/systemd/shixin-upstream-health.service); deploy/run_local.py runs it in a thread.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("shixin.upstream_health")
UPSTREAM = "shixin"
# One failed request is enough to route around a process that is gone; it is tried again
# after fail_timeout (nginx's passive check, between two rounds of ours).
SERVER_OPTIONS = "max_fails=1 fail_timeout=5s"


def render(servers: Sequence[str], down: set[str]) -> str:
    """The ``upstream`` block for ``servers`` (``host:port``), those in ``down`` marked so."""
    lines = [f"upstream {UPSTREAM} {{"]
    for server in servers:
        mark = " down" if server in down else ""
        lines.append(f"    server {server} {SERVER_OPTIONS}{mark};")
    lines += ["    keepalive 16;", "}", ""]
    return "\n".join(lines)


def healthy(server: str, timeout: float = 2.0) -> bool:
    """``/healthz`` answers 200: the store and index are reachable and the replica is live."""
    try:
        with urllib.request.urlopen(f"http://{server}/healthz", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):  # HTTPError (503) is a URLError too
        return False


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` at once, so a reload never reads half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(0o644)  # nginx may run as another user
    partial.replace(path)


def reload_nginx(pid_file: Path) -> None:
    try:
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGHUP)
    except (OSError, ValueError, IndexError) as exc:
        log.warning("could not reload nginx (pid file %s): %s", pid_file, exc)


class Watch:
    """One round a ``interval``: check every server, and on any change rewrite and reload."""

    def __init__(
        self,
        servers: Sequence[str],
        conf: Path,
        reload: Callable[[], None],
        check: Callable[[str], bool] = healthy,
    ) -> None:
        self.servers = list(servers)
        self.conf = conf
        self.reload = reload
        self.check = check
        self.down: set[str] = set()

    def write(self) -> None:
        write_atomically(self.conf, render(self.servers, self.down))

    def round(self) -> bool:
        """One check of every server; True when the upstream list changed."""
        failing = {server for server in self.servers if not self.check(server)}
        if failing == set(self.servers):
            if failing:
                log.warning("every portal host fails /healthz: none is taken out")
            failing = set()
        if failing == self.down:
            return False
        for server in sorted(failing - self.down):
            log.warning("%s fails /healthz: taken out of the upstream", server)
        for server in sorted(self.down - failing):
            log.warning("%s answers /healthz again: back in the upstream", server)
        self.down = failing
        self.write()
        self.reload()
        return True

    def run(self, interval: float, stop: threading.Event) -> None:
        while not stop.wait(interval):
            try:
                self.round()
            except OSError as exc:  # the conf directory went away: say so, keep going
                log.warning("health round failed: %s", exc)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("servers", nargs="+", help="the portal hosts, host:port")
    parser.add_argument("--conf", type=Path, required=True, help="the upstream file to write")
    parser.add_argument("--pid-file", type=Path, default=Path("/run/nginx.pid"))
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument(
        "--write-only", action="store_true", help="write the file with every host in, then stop"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    watch = Watch(args.servers, args.conf, lambda: reload_nginx(args.pid_file))
    # Every host in to begin with: a file left by an earlier run may still hold a `down`.
    watch.write()
    if args.write_only:
        return 0
    watch.reload()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    watch.run(args.interval, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
