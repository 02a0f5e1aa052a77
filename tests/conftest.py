"""Shared fixtures: every store test runs on SQLite and on PostgreSQL.

``database_url`` is parametrized: the ``sqlite`` case is a file in the test's ``tmp_path``; the
``postgresql`` case (marked ``postgres``) is a fresh empty database on the session's
``pg_server``, dropped after the test.

``pg_server`` is a throwaway cluster started once per session (see ``tests/pgcluster.py``), or
the server at ``SHIXIN_TEST_DATABASE_URL`` when that is set. When PostgreSQL cannot be found or
started the PostgreSQL cases are skipped, unless ``SHIXIN_REQUIRE_PG=1`` (CI sets it): then
they fail. Run only the SQLite cases with ``-m "not postgres"``; the cluster then never starts.

Only the standard library, pytest and psycopg are imported here: project modules are imported
by the tests that use them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if str(Path(__file__).parent) not in sys.path:  # pgcluster sits beside this file
    sys.path.insert(0, str(Path(__file__).parent))

from pgcluster import PgServer, PgUnavailable
from support import service, settings  # noqa: F401  (fixtures for list tests)

_started: list[str] = []  # what pg_server used, for the closing summary


def _require_pg() -> bool:
    return os.environ.get("SHIXIN_REQUIRE_PG", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server the tests may create databases on."""
    url = os.environ.get("SHIXIN_TEST_DATABASE_URL")
    try:
        server = PgServer.external(url) if url else PgServer.start()
    except PgUnavailable as exc:
        problem = f"PostgreSQL unavailable: {exc}"
    else:
        problem = ""
    if problem:  # outside the except block, so the report is not a chained traceback
        if _require_pg():
            pytest.fail(
                f"{problem}\n(SHIXIN_REQUIRE_PG is set, so this is an error)", pytrace=False
            )
        pytest.skip(problem)
    if server.bindir is None:
        _started.append(f"PostgreSQL {server.server_version}: SHIXIN_TEST_DATABASE_URL")
    else:
        _started.append(
            f"PostgreSQL {server.server_version}: throwaway cluster on 127.0.0.1:{server.port},"
            f" started in {server.startup_seconds:.2f}s"
        )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, once per store."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/shixin.sqlite3"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.create_database()
    try:
        yield url
    finally:
        try:
            server.drop_database(url)
        except Exception as exc:  # a failed drop must not hide the test's own result
            print(f"warning: could not drop {url}: {exc}", file=sys.stderr)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _started:
        terminalreporter.write_line(line)
