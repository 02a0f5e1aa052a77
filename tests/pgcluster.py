"""A throwaway PostgreSQL cluster for the test session.

``PgServer.start()`` finds ``initdb`` (on ``PATH``, then ``/usr/lib/postgresql/*/bin``, newest
first), initialises a cluster in a fresh temporary directory and starts it on a free port of
127.0.0.1 (its unix socket lives in the same directory), with durability switched off for speed.
``PgServer.stop()`` stops it and deletes the directory. PostgreSQL refuses to run as root, so
when the tests run as root the directory is handed to the ``postgres`` system user (``nobody``
if there is none) and the server programs run as that user via ``setpriv`` (or ``runuser``).

``PgServer.external(url)`` wraps a server someone else runs instead (``SHIXIN_TEST_DATABASE_URL``);
it must let us create and drop databases.

Either way, ``create_database()`` makes a fresh uniquely named database and returns its SQLAlchemy
URL (``postgresql+psycopg://...``); ``drop_database(url)`` removes it again.

A session killed outright (SIGKILL, a CI timeout) cannot clean up after itself, so ``start()``
first stops and deletes clusters left in the temporary directory by test sessions that are gone.

Only the standard library and psycopg are used, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DIR_PREFIX = "shixin-pg-"
OWNER_FILE = "owner.pid"
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class PgUnavailable(RuntimeError):
    """PostgreSQL could not be found or started; the message says why."""


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None."""
    candidates: list[str] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(on_path)

    def version(path: str) -> tuple[int, ...]:
        numbers = re.findall(r"\d+", Path(path).parent.parent.name)
        return tuple(int(n) for n in numbers)

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    for initdb in candidates:
        bindir = Path(initdb).resolve().parent
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _server_user() -> pwd.struct_passwd | None:
    """The user to run PostgreSQL as when we are root."""
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    return None


def _as_user_prefix(user: str) -> list[str]:
    """A command prefix that runs a program as ``user`` (we are root)."""
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    if os.access(setpriv, os.X_OK):
        return [setpriv, f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if os.access(runuser, os.X_OK):
        return [runuser, "-u", user, "--"]
    raise PgUnavailable("running as root, and neither setpriv nor runuser is available")


def _clean_env() -> dict[str, str]:
    """Our environment without libpq's PG* variables, which could point the tools elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _temp_root() -> str:
    """A temporary directory the server user can reach (every parent searchable by others)."""
    base = Path(tempfile.gettempdir()).resolve()
    if os.geteuid() == 0:
        for part in (base, *base.parents):
            if not part.stat().st_mode & 0o001:
                return "/tmp"
    return str(base)


class PgServer:
    """A PostgreSQL server tests may create databases on."""

    def __init__(self, base_url: str) -> None:
        # base_url: a postgresql:// URL (no driver) naming the database to administer from.
        self.base_url = base_url
        self.bindir: Path | None = None
        self.tmpdir: Path | None = None
        self.port: int | None = None
        self.server_version = ""
        self.startup_seconds = 0.0
        self._prefix: list[str] = []
        self._env = _clean_env()

    # --- construction -------------------------------------------------------------------

    @classmethod
    def external(cls, url: str) -> PgServer:
        """A server someone else runs; ``url`` may carry a driver (``postgresql+psycopg``)."""
        parts = urlsplit(url)
        if not re.fullmatch(r"postgres(ql)?(\+\w+)?", parts.scheme):
            raise PgUnavailable(f"not a postgresql:// URL: {parts.scheme}://...")
        server = cls(urlunsplit(("postgresql", *parts[1:])))
        if not parts.path.strip("/"):
            server.base_url = server._with_db("postgres")
        server._check_connection()
        return server

    @classmethod
    def start(cls) -> PgServer:
        """Initialise and start a throwaway cluster; raise PgUnavailable if that fails."""
        began = time.monotonic()
        bindir = find_bindir()
        if bindir is None:
            raise PgUnavailable(
                "PostgreSQL server programs not found (no initdb on PATH or in "
                "/usr/lib/postgresql/*/bin); install Debian's postgresql package"
            )
        reap_stale_clusters(bindir)
        server = cls("")
        server.bindir = bindir
        try:
            server._init_and_run()
        except OSError as exc:  # e.g. no writable temporary directory
            server.stop()
            raise PgUnavailable(f"cannot set up the cluster: {exc}") from exc
        except BaseException:
            server.stop()
            raise
        server.startup_seconds = time.monotonic() - began
        return server

    def _init_and_run(self) -> None:
        assert self.bindir is not None
        self.tmpdir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=_temp_root()))
        (self.tmpdir / OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="ascii")
        if os.geteuid() == 0:
            user = _server_user()
            if user is None:
                raise PgUnavailable("running as root and there is no 'postgres' user to run as")
            self._prefix = _as_user_prefix(user.pw_name)
            os.chown(self.tmpdir, user.pw_uid, user.pw_gid)
        self._initdb()
        conf = self.datadir / "postgresql.conf"
        settings = {**SERVER_SETTINGS, "unix_socket_directories": f"'{self.tmpdir}'"}
        with conf.open("a", encoding="utf-8") as fh:
            fh.write("\n# shixin test session\n")
            fh.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._pg_ctl_start()

    def _initdb(self) -> None:
        base = [str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres"]
        base += ["-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]
        result = self._run([*base, "--locale=C.UTF-8"])
        if result.returncode != 0 and "locale" in result.stdout.lower():
            # No C.UTF-8 locale on this system: plain C collation, still UTF-8 encoded.
            result = self._run([*base, "--no-locale"])
        if result.returncode != 0:
            raise PgUnavailable(f"initdb failed (exit {result.returncode}):\n{result.stdout}")

    def _pg_ctl_start(self) -> None:
        # The port is picked before the server binds it; on a clash, try another.
        last = ""
        for _attempt in range(3):
            self.port = free_port()
            cmd = [str(self.bindir / "pg_ctl"), "start", "-D", str(self.datadir), "-w"]
            cmd += ["-t", "60", "-l", str(self.logfile), "-o", f"-p {self.port}"]
            result = self._run(cmd, timeout=90)
            if result.returncode == 0:
                self.base_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
                self._check_connection()
                return
            last = f"{result.stdout}\n--- server log ---\n{self.log_tail()}"
            if "already in use" not in last:
                break
        raise PgUnavailable(f"pg_ctl start failed:\n{last}")

    def _run(self, cmd: Sequence[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        # Output goes to a file, not a pipe: a server started in the background must not hold
        # our pipe open (we would wait for it forever).
        assert self.tmpdir is not None
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
            try:
                proc = subprocess.run(
                    [*self._prefix, *cmd],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.tmpdir,
                    env=self._env,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise PgUnavailable(f"{Path(cmd[0]).name} timed out after {timeout}s") from exc
            out.seek(0)
            return subprocess.CompletedProcess(proc.args, proc.returncode, out.read())

    def _check_connection(self) -> None:
        try:
            with psycopg.connect(self.base_url, autocommit=True, connect_timeout=10) as conn:
                row = conn.execute("SHOW server_version").fetchone()
        except psycopg.Error as exc:
            raise PgUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
        self.server_version = row[0].split()[0] if row else "?"

    # --- paths and URLs -----------------------------------------------------------------

    @property
    def datadir(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "data"

    @property
    def logfile(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "server.log"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _with_db(self, dbname: str) -> str:
        parts = urlsplit(self.base_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))

    def url_for(self, dbname: str) -> str:
        """The SQLAlchemy URL of database ``dbname`` on this server."""
        parts = urlsplit(self._with_db(dbname))
        return urlunsplit(("postgresql+psycopg", *parts[1:]))

    # --- databases ----------------------------------------------------------------------

    def create_database(self) -> str:
        """Create a fresh, empty, uniquely named UTF-8 database; return its SQLAlchemy URL."""
        name = f"shixin_test_{uuid.uuid4().hex[:16]}"
        ident = sql.Identifier(name)
        with psycopg.connect(self.base_url, autocommit=True) as conn:
            try:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(ident)
                )
            except psycopg.errors.InvalidParameterValue:
                # The server's default locale cannot hold UTF-8 (e.g. a Latin-1 locale).
                conn.execute(
                    sql.SQL(
                        "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
                    ).format(ident)
                )
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        """Drop the database ``url`` names, closing any connections tests left open."""
        name = urlsplit(url).path.lstrip("/")
        ident = sql.Identifier(name)
        with psycopg.connect(self.base_url, autocommit=True) as conn:
            try:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            except psycopg.errors.SyntaxError:  # servers before PostgreSQL 13
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))

    # --- shutdown -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the cluster we started (if any) and delete its directory. Idempotent."""
        if self.tmpdir is None:
            return
        try:
            if (self.datadir / "postmaster.pid").exists():
                _stop_cluster(self.bindir, self.datadir, self._prefix, self._env, self.tmpdir)
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


def _stop_cluster(
    bindir: Path | None, datadir: Path, prefix: list[str], env: dict[str, str], cwd: Path
) -> None:
    """Stop the postmaster of ``datadir``: fast shutdown, then immediate, then SIGKILL."""
    if bindir is not None:
        pg_ctl = str(bindir / "pg_ctl")
        for mode in ("fast", "immediate"):
            cmd = [*prefix, pg_ctl, "stop", "-D", str(datadir), "-m", mode, "-w", "-t", "30"]
            with contextlib.suppress(subprocess.TimeoutExpired):
                done = subprocess.run(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=cwd,
                    env=env,
                    timeout=60,
                    check=False,
                )
                if done.returncode == 0 or not (datadir / "postmaster.pid").exists():
                    return
    # Last resort: the pid file's first line is the postmaster's pid. Its children notice
    # the postmaster is gone and exit on their own.
    try:
        pid = int((datadir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, 9)


def reap_stale_clusters(bindir: Path, older_than: float = 60.0) -> None:
    """Stop and delete clusters left behind by test sessions that no longer run."""
    root = Path(_temp_root())
    for tmpdir in root.glob(DIR_PREFIX + "*"):
        try:
            owner = int((tmpdir / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            owner = None
        try:
            age = time.time() - tmpdir.stat().st_mtime
        except OSError:
            continue
        if owner is not None and _pid_alive(owner):
            continue
        if owner is None and age < older_than:
            continue  # a session still setting up (the owner file is written first thing)
        datadir = tmpdir / "data"
        if (datadir / "postmaster.pid").exists():
            prefix: list[str] = []
            if os.geteuid() == 0:
                with contextlib.suppress(PgUnavailable):
                    prefix = _as_user_prefix(pwd.getpwuid(tmpdir.stat().st_uid).pw_name)
            _stop_cluster(bindir, datadir, prefix, _clean_env(), tmpdir)
        shutil.rmtree(tmpdir, ignore_errors=True)
