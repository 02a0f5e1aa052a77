"""A host's sync loop wakes when another host changes the store (issue 16, removal latency).

Two hosts are two ListServices over one store, each with an index of its own (as in
tests/test_index_replicas.py). Host B's loop runs in a thread with a sync interval far longer
than the test may take: when a revoke ingested on host A disappears from B's search within
a few seconds, B's loop was woken by the change (a NOTIFY on PostgreSQL, the store's latest
change polled on SQLite), not by its interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pgcluster import PgServer
from sqlalchemy import text
from support import ingest, make_settings, person, removal

from search_index import change_watch
from search_index.change_watch import ChangeWatch
from search_index.service import ListService

LONG = 60.0  # the sync interval: no test here waits that long


def host(tmp_path: Path, database_url: str, name: str) -> ListService:
    return ListService(make_settings(tmp_path / name, database_url, SHIXIN_INDEX_REPLICA=name))


@pytest.fixture
def hosts(tmp_path: Path, database_url: str) -> Iterator[tuple[ListService, ListService]]:
    a, b = host(tmp_path, database_url, "web1"), host(tmp_path, database_url, "web2")
    try:
        yield a, b
    finally:
        a.close()
        b.close()


@contextmanager
def loop(service: ListService, interval: float = LONG) -> Iterator[None]:
    """The host's background sync loop, as the portal runs it, in a thread."""
    follower = service.follower(interval)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            follower.turn()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        follower.stop()  # as the portal's shutdown does: the waiting turn returns at once
        thread.join(timeout=10)
        assert not thread.is_alive()


def found(service: ListService, entry_id: str) -> bool:
    return entry_id in {doc.id for doc in service.search({"q": "张伟"}).items}


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> float:
    """Seconds until ``check`` held; fails the test if it did not within ``seconds``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not within the time"
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_revoke_on_one_host_leaves_the_other_hosts_search_without_waiting_its_interval(
    hosts: tuple[ListService, ListService],
) -> None:
    a, b = hosts
    with loop(b):
        ingest(a, person("p1"), sync=False)
        a.sync()
        eventually(lambda: found(b, "p1"))  # the publish, by the same wake-up

        ingest(a, removal("revoke", "p1"), sync=False)
        a.sync()
        assert not found(a, "p1")
        assert eventually(lambda: not found(b, "p1")) < LONG / 6

        # An ingest answers once every live replica has applied it: B's loop, woken at once.
        started = time.monotonic()
        assert ingest(a, person("p2")).synced
        assert time.monotonic() - started < LONG / 6
        assert found(b, "p2")


def test_stopping_ends_a_turn_that_waits_for_a_change_at_once(
    hosts: tuple[ListService, ListService],
) -> None:
    """A worker shutting down never waits out the sync interval (tests set it to 1000 s)."""
    _a, b = hosts
    follower = b.follower(LONG)
    follower.turn()
    threading.Timer(0.3, follower.stop).start()
    started = time.monotonic()
    assert follower.turn().skipped  # no round once stopping
    assert time.monotonic() - started < 5


def test_with_nothing_changing_the_loop_still_runs_a_round_each_interval(
    hosts: tuple[ListService, ListService],
) -> None:
    """The heartbeat that keeps a replica live goes on while the store is quiet."""
    _a, b = hosts
    follower = b.follower(0.3)
    follower.turn()  # the first turn runs a round at once
    started = time.monotonic()
    result = follower.turn()
    assert 0.25 <= time.monotonic() - started < 5
    assert not result.skipped


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """Only PostgreSQL notifies; SQLite is always polled."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.mark.postgres
def test_a_lost_listening_connection_falls_back_to_polling_and_listens_again(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url = pg_url
    monkeypatch.setattr(change_watch, "RECONNECT", 0.5)
    a, b = host(tmp_path, database_url, "web1"), host(tmp_path, database_url, "web2")
    watch = ChangeWatch(b.store, b.syncer.head)
    try:
        seen = watch.wait(-1, 0)
        assert watch._listener is not None and watch._listener.listening
        with a.store.write() as conn:  # the database server drops the listener
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                )
            )
        ingest(a, person("p1"))
        started = time.monotonic()
        assert watch.wait(seen, LONG) > seen  # noticed by polling, not after LONG
        assert time.monotonic() - started < 10
        seen = watch.wait(-1, 0)
        time.sleep(0.6)
        ingest(a, person("p2"))
        assert watch.wait(seen, LONG) > seen
        assert watch._listener.listening  # listening again after RECONNECT
    finally:
        watch.close()
        a.close()
        b.close()


def test_the_store_head_is_the_latest_change(hosts: tuple[ListService, ListService]) -> None:
    a, b = hosts
    watch = ChangeWatch(b.store, b.syncer.head)
    try:
        before = watch.wait(-1, 0)
        ingest(a, person("p1"))
        assert watch.wait(before, 0) > before
        assert watch.wait(before, 0) == a.syncer.head()
    finally:
        watch.close()
