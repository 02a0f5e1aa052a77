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
