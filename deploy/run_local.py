#!/usr/bin/env python3
"""The production recipe, started on this machine: nginx in front of two portal hosts.

In a scratch directory: a throwaway PostgreSQL cluster (tests/pgcluster.py, which also knows
how to run it as a non-root user when we are root), a throwaway redis-server for the rate
limits, two ``shixin serve`` processes (``web1`` and ``web2``, each with an embedded index
replica of its own, on one store and one data directory), the bot in webhook mode when
``SHIXIN_TELEGRAM_TOKEN`` and ``SHIXIN_TELEGRAM_WEBHOOK_SECRET`` are set, and Debian's nginx on
one port in front, with deploy/upstream_health.py taking a host out while its /healthz fails.
Every portal process runs the background loops (sync, expiry, mail, ...) as in production.

Every other ``SHIXIN_*`` variable of our environment goes to both portals as it is (rate
limits, operator, Telegram); ``SHIXIN_DATABASE_URL`` and ``SHIXIN_REDIS_URL``, when set, are
used instead of the throwaway servers. Secrets come from the environment or are generated
for this run.

When everything answers it writes ``stack.json`` (the addresses, logs and the env file for
``shixin`` commands against this stack) into the scratch directory and prints the URL; on
Ctrl-C or SIGTERM it stops everything, nginx first, PostgreSQL last, and deletes the scratch
directory unless ``--keep``. If any process dies, it stops the rest and exits 1. Exit 3: a
program it needs is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
ROOT = DEPLOY_DIR.parent
# One implementation of a throwaway cluster that is safe as root, tested with the tests.
sys.path.insert(0, str(ROOT / "tests"))
from pgcluster import PgServer, PgUnavailable, find_bindir  # noqa: E402
from upstream_health import Watch, healthy, write_atomically  # noqa: E402

HOSTS = ("web1", "web2")
NGINX = "/usr/sbin/nginx"
# The user nginx runs as when we are root: nginx's own workers would otherwise be "nobody",
# who cannot reach a scratch directory made for root.
NGINX_USER = "www-data"
EXIT_FAILED, EXIT_MISSING = 1, 3
# Ours to set: the shape of the stack. Everything else SHIXIN_* passes through.
STACK_VARIABLES = (
    "SHIXIN_INDEX",
    "SHIXIN_INDEX_PATH",
    "SHIXIN_INDEX_REPLICA",
    "SHIXIN_TRUSTED_PROXIES",
    "SHIXIN_DATA_DIR",
)


class Missing(RuntimeError):
    """A program the stack needs is not installed; the message says which, and how."""


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM


@dataclass
class Stack:
    scratch: Path
    port: int
    env: Mapping[str, str]
    services: list[Service] = field(default_factory=list)
    pg: PgServer | None = None
    nginx_tmp: Path | None = None
    watch_stop: threading.Event = field(default_factory=threading.Event)
    info: dict[str, object] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def logs(self) -> Path:
        return self.scratch / "logs"

    # --- starting -------------------------------------------------------------------------

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        shared = self._shared_env()
        servers = self._start_portals(shared)
        self._start_nginx(servers)
        env_file = self._write_env_file(shared)
        self.info.update(
            url=self.url,
            hosts={name: f"http://{server}" for name, server in zip(HOSTS, servers, strict=True)},
            logs={service.name: str(service.log) for service in self.services},
            envFile=str(env_file),
            nginxConf=str(self.scratch / "nginx" / "nginx.conf"),
            upstreamConf=str(self.scratch / "nginx" / "upstream.conf"),
        )
        write_atomically(self.scratch / "stack.json", json.dumps(self.info, indent=2) + "\n")

    def _shared_env(self) -> dict[str, str]:
        """What both hosts are given: the environment's SHIXIN_* and the stack's servers."""
        given = {k: v for k, v in self.env.items() if k.startswith("SHIXIN_")}
        shared = {k: v for k, v in given.items() if k not in STACK_VARIABLES}
        shared.setdefault("SHIXIN_DATABASE_URL", self._database_url())
        shared.setdefault("SHIXIN_REDIS_URL", self._redis_url())
        # Both hosts hash ID numbers and sign forms alike, or one would not know the other's.
        shared.setdefault("SHIXIN_ID_HASH_KEY", secrets.token_hex(32))
        shared.setdefault("SHIXIN_SECRET_KEY", secrets.token_hex(32))
        shared.setdefault("SHIXIN_PUBLIC_URL", self.url)
        shared.update(
            SHIXIN_INDEX="sqlite",
            # nginx reaches the hosts from the loopback address: only it is believed.
            SHIXIN_TRUSTED_PROXIES="127.0.0.1",
            # One data directory for both (evidence files, outbox, snapshots): on several
            # machines it is a shared mount (README section on this recipe).
            SHIXIN_DATA_DIR=str(self.scratch / "data"),
        )
        return shared

    def _database_url(self) -> str:
        self.pg = PgServer.start()
        self.info["postgresql"] = f"127.0.0.1:{self.pg.port} ({self.pg.server_version})"
        return self.pg.create_database()

    def _redis_url(self) -> str:
        program = shutil.which("redis-server") or "/usr/bin/redis-server"
        port = free_port()
        workdir = self.scratch / "redis"
        workdir.mkdir()
        command = [program, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(workdir), "--loglevel", "warning"]
        self._spawn("redis", command, os.environ)
        wait_for_port(port, self.services[-1])
        self.info["redis"] = f"127.0.0.1:{port}"
        return f"redis://127.0.0.1:{port}/0"

    def _start_portals(self, shared: Mapping[str, str]) -> list[str]:
        """Both hosts at once (each spends seconds importing), then wait for both."""
        servers = []
        for name in HOSTS:
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("SHIXIN_")}
            env.update(shared, PYTHONUNBUFFERED="1")
            env.update(
                SHIXIN_INDEX_REPLICA=name,
                SHIXIN_INDEX_PATH=str(self.scratch / name / "index.sqlite3"),
            )
            (self.scratch / name).mkdir()
            command = [sys.executable, "-m", "shixin.cli", "serve", "--port", str(port)]
            self._spawn(name, command, env)
            servers.append(f"127.0.0.1:{port}")
        for server, service in zip(servers, self.services[-len(HOSTS) :], strict=True):
            wait_for_health(server, service)
        return servers

    def _start_nginx(self, servers: Sequence[str]) -> None:
        nginx_dir = self._nginx_dir()
        watch = Watch(servers, nginx_dir / "upstream.conf", lambda: self._reload_nginx())
        watch.write()
        conf = nginx_dir / "nginx.conf"
        conf.write_text(render_nginx_conf(nginx_dir, self.port), encoding="utf-8")
        command = [*self._nginx_user(), NGINX, "-p", str(nginx_dir), "-c", str(conf)]
        command += ["-e", str(nginx_dir / "error.log")]
        self._spawn("nginx", command, os.environ, stop_signal=signal.SIGQUIT)
        wait_for_port(self.port, self.services[-1])
        threading.Thread(
            target=watch.run, args=(1.0, self.watch_stop), name="upstream-health", daemon=True
        ).start()

    def _nginx_dir(self) -> Path:
        """``scratch/nginx``. As root, nginx runs as NGINX_USER, who may not pass through the
        scratch directory's parents (pytest's are private): then, as PostgreSQL's cluster,
        it lives in a directory of its own under /tmp, and ``scratch/nginx`` links to it."""
        link = self.scratch / "nginx"
        if os.geteuid() != 0:
            link.mkdir()
            return link
        user = pwd.getpwnam(NGINX_USER)
        self.nginx_tmp = Path(tempfile.mkdtemp(prefix="shixin-nginx-", dir="/tmp"))
        os.chown(self.nginx_tmp, user.pw_uid, user.pw_gid)
        link.symlink_to(self.nginx_tmp)
        return self.nginx_tmp

    def _nginx_user(self) -> list[str]:
        """As root, nginx runs as NGINX_USER (port and files need no more); else as we are."""
        if os.geteuid() != 0:
            return []
        user = pwd.getpwnam(NGINX_USER)
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]

    def _reload_nginx(self) -> None:
        nginx = next((s for s in self.services if s.name == "nginx"), None)
        if nginx is not None and nginx.process.poll() is None:
            nginx.process.send_signal(signal.SIGHUP)

    def _write_env_file(self, shared: Mapping[str, str]) -> Path:
        """The variables of host web1, for ``shixin`` commands against this stack
        (``set -a; . shixin.env; set +a; shixin token add ...``). It holds secrets: 0600."""
        path = self.scratch / "shixin.env"
        values = {
            **shared,
            "SHIXIN_INDEX_REPLICA": HOSTS[0],
            "SHIXIN_INDEX_PATH": str(self.scratch / HOSTS[0] / "index.sqlite3"),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(f"{key}={shell_quote(value)}\n" for key, value in sorted(values.items()))
        return path

    def _spawn(
        self,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str],
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(command),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.scratch,
                start_new_session=True,  # our Ctrl-C is for us: we stop them in order
            )
        self.services.append(Service(name, process, log, stop_signal))

    # --- running and stopping -------------------------------------------------------------

    def failed(self) -> Service | None:
        """A process that ended while it should run."""
        return next((s for s in self.services if s.process.poll() is not None), None)

    def stop(self) -> None:
        """Newest first: nginx stops taking requests before the hosts go. Idempotent."""
        self.watch_stop.set()
        while self.services:
            stop_service(self.services.pop())
        if self.nginx_tmp is not None:
            shutil.rmtree(self.nginx_tmp, ignore_errors=True)
            self.nginx_tmp = None
        if self.pg is not None:
            self.pg.stop()
            self.pg = None


def stop_service(service: Service, timeout: float = 40.0) -> None:
    """Ask, then insist. A portal lets a background round finish (up to 30 s) first."""
    if service.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, service.stop_signal)
        try:
            service.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()


def render_nginx_conf(nginx_dir: Path, port: int) -> str:
    template = (DEPLOY_DIR / "nginx" / "local.conf.template").read_text(encoding="utf-8")
    values = {
        "NGINX_DIR": str(nginx_dir),
        "LISTEN": f"127.0.0.1:{port}",
        "DEPLOY_DIR": str(DEPLOY_DIR),
    }
    return re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], template)


def shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _check_running(service: Service) -> None:
    if service.process.poll() is not None:
        tail = service.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{service.name} exited ({service.process.returncode}):\n{tail}")


def wait_for_port(port: int, service: Service, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while port_free(port):
        _check_running(service)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{service.name}: nothing listens on port {port}")
        time.sleep(0.05)


def wait_for_health(server: str, service: Service, timeout: float = 90.0) -> None:
    """Until /healthz answers 200: the store is migrated and the replica has caught up."""
    deadline = time.monotonic() + timeout
    while not healthy(server):
        _check_running(service)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{service.name} not healthy after {timeout:.0f}s")
        time.sleep(0.1)


def missing_programs() -> list[str]:
    """What is not installed, each with the Debian package that brings it."""
    missing = []
    if not os.access(NGINX, os.X_OK):
        missing.append(f"nginx ({NGINX}; apt-get install nginx)")
    if not (shutil.which("redis-server") or os.access("/usr/bin/redis-server", os.X_OK)):
        missing.append("redis-server (apt-get install redis-server)")
    if "SHIXIN_DATABASE_URL" not in os.environ and find_bindir() is None:
        missing.append("PostgreSQL's initdb (apt-get install postgresql)")
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        missing.append("setpriv, to run nginx as a non-root user (apt-get install util-linux)")
    return missing


@contextlib.contextmanager
def running(scratch: Path, port: int, env: Mapping[str, str]) -> Iterator[Stack]:
    """The started stack; stopped on the way out, whatever happens."""
    problems = missing_programs()
    if problems:
        raise Missing("not installed: " + "; ".join(problems))
    stack = Stack(scratch, port, env)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def serve_until_signalled(stack: Stack) -> int:
    """Print the URL, then wait for Ctrl-C or SIGTERM, or for a process to die."""
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"shixin: ready at {stack.url} (details in {stack.scratch / 'stack.json'})", flush=True)
    print("shixin: Ctrl-C stops everything", flush=True)
    while not stopping.wait(0.5):
        if (dead := stack.failed()) is not None:
            print(f"shixin: {dead.name} ended; stopping (its log: {dead.log})", file=sys.stderr)
            return EXIT_FAILED
    print("shixin: stopping", flush=True)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8080, help="nginx's port (default 8080)")
    parser.add_argument("--scratch", type=Path, help="the scratch directory (default: a new one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not port_free(args.port):
        print(f"port {args.port} is in use: pick another with --port", file=sys.stderr)
        return EXIT_FAILED
    if args.scratch is not None and args.scratch.exists() and any(args.scratch.iterdir()):
        # It is deleted at the end: never a directory that holds something already.
        print(f"--scratch {args.scratch} is not empty", file=sys.stderr)
        return EXIT_FAILED
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="shixin-deploy-"))
    scratch.mkdir(parents=True, exist_ok=True)
    # Until the handlers of serve_until_signalled are in: a SIGTERM during start-up still
    # runs the clean-up below.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with running(scratch, args.port, os.environ) as stack:
            return serve_until_signalled(stack)
    except Missing as exc:
        print(f"shixin: {exc}", file=sys.stderr)
        return EXIT_MISSING
    except (PgUnavailable, RuntimeError, OSError) as exc:
        print(f"shixin: could not start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
