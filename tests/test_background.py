"""The portal's background loops (portal/app.py) stop cleanly: a round running when the
portal shuts down finishes first, so no store connection is left open behind it (with
PostgreSQL each would hold one of the server's connection slots until it timed out)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from site_support import TestClient
from support import make_settings

from portal.app import create_app

BUSY = {  # every loop runs all the time, so shutdown always meets a round in progress
    "SHIXIN_SYNC_INTERVAL": "0.01",
    "SHIXIN_MAIL_INTERVAL": "0.01",
    "SHIXIN_SWEEP_INTERVAL": "0.01",
    "SHIXIN_EXPIRE_INTERVAL": "0.01",
    "SHIXIN_RECONCILE_INTERVAL": "0.01",
}


@pytest.mark.parametrize("run", range(6))
def test_shutting_down_during_background_rounds_leaves_no_connection_open(
    tmp_path: Path, database_url: str, run: int
) -> None:
    # pytest turns a psycopg/sqlite "deleted while still open" ResourceWarning into a failure.
    settings = make_settings(tmp_path, database_url, **BUSY)
    with TestClient(create_app(settings)) as client:
        time.sleep(0.1 + run * 0.017)  # stop at a different point of the rounds each time
        assert client.get("/healthz").status_code == 200


def test_background_rounds_never_take_the_threads_requests_need(tmp_path: Path) -> None:
    # The sync loop's round waits for a change (up to SHIXIN_SYNC_INTERVAL): on the
    # requests' threads it held one of them all along, and with SHIXIN_THREADS=1 every
    # request waited for it. Each loop has a thread of its own.
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path}/shixin.sqlite3",
        SHIXIN_THREADS="1",
        SHIXIN_SYNC_INTERVAL="60",
    )
    with TestClient(create_app(settings)) as client:
        time.sleep(0.3)  # the loops are in their first rounds, the sync loop waiting
        started = time.monotonic()
        for path in ("/healthz", "/api/v1/entries?q=张伟", "/?q=张伟", "/status"):
            assert client.get(path).status_code == 200, path
        assert time.monotonic() - started < 20  # not a minute of waiting for the sync round


def test_searches_get_threads_of_their_own(tmp_path: Path) -> None:
    from core.settings import load_settings

    def threads(**env: str) -> tuple[int, int]:
        s = load_settings({"SHIXIN_DATA_DIR": str(tmp_path), **env})
        return s.threads, s.search_threads

    assert threads() == (4, 1)  # the embedded index: CPU work, one search at a time
    assert threads(SHIXIN_SEARCH_THREADS="3") == (4, 3)
    assert threads(SHIXIN_THREADS="2", SHIXIN_SEARCH_THREADS="8") == (2, 2)  # never more
    meili = {"SHIXIN_INDEX": "meili", "SHIXIN_MEILI_URL": "http://127.0.0.1:7700"}
    assert threads(**meili, SHIXIN_THREADS="6") == (6, 6)  # network waits: all of them
