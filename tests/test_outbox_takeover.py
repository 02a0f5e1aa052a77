"""A restarted sender takes over the outbox rows of a round whose process died on this host
at once, instead of waiting out the dead round's 10-minute lease; rows of a round it cannot
check (another host, an older claim format) wait for their lease as before."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from casework import outbox
from core.db import Store
from core.process_identity import identity
from core.tables import outbox as outbox_table
from search_index.service import ListService

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(service: ListService) -> Iterator[Store]:
    yield service.store  # migrated: the outbox table is there


def dead_claimer() -> str:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    host, _pid, start, namespace = identity().split(":")
    return f"{host}:{child.pid}:{start}:{namespace}/abc123"


def leave_claimed(store: Store, claimer: str) -> None:
    with store.write() as conn:
        outbox.enqueue(conn, NOW, "email", "a@example.com", "主题", "正文")
        conn.execute(
            update(outbox_table).values(
                claimed_by=claimer, claimed_until=NOW + outbox.DEFAULT_LEASE
            )
        )


def test_rows_of_a_dead_round_are_claimed_at_once(store: Store) -> None:
    leave_claimed(store, dead_claimer())
    claimed = outbox.claim(store, "email", f"{identity()}/def456", NOW + timedelta(seconds=1))
    assert [m.recipient for m in claimed] == ["a@example.com"]


@pytest.mark.parametrize(
    "claimer",
    [
        "other-host-that-we-cannot-see:1:1:4026531836/abc123",  # another host
        "old-sender:12345:deadbeef",  # an older version's claim
        # A live round: this very process. Named, since an id holding the pid would
        # differ between test processes.
        pytest.param(f"{identity()}/abc123", id="this-process"),
    ],
)
def test_rows_of_a_round_that_may_live_wait_for_its_lease(store: Store, claimer: str) -> None:
    leave_claimed(store, claimer)
    assert outbox.claim(store, "email", f"{identity()}/def456", NOW + timedelta(minutes=9)) == []
    later = NOW + outbox.DEFAULT_LEASE + timedelta(seconds=1)
    assert len(outbox.claim(store, "email", f"{identity()}/def456", later)) == 1
