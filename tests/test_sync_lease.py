"""The sync lease after a crash, and rebuilds that never serve a partial index (issue 12).

A process that dies holding the lease must not hold removals back: its claim is taken over
at once when it provably no longer runs, and otherwise runs out within ``LEASE`` because only
a heartbeat keeps it. The ingest answer says whether its changes reached the index. A rebuild
fills a new index beside the live one and swaps it in: searches see the old or the new one,
and removals that arrive meanwhile are neither lost nor brought back. Every test runs on the
SQLite and the PostgreSQL store; the processes killed for real are in tests/test_crash.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from support import ingest, person, removal

from search_index import lease as lease_module
from search_index import sync as sync_module
from search_index.index.sqlite import SqliteFtsIndex
from search_index.lease import Lease, LeaseBusy, LeaseLost, holder_is_dead
from search_index.service import ListService
from search_index.sync import REBUILD_STATE, STATE, Syncer
from search_index.tables import sync_state
from search_index.types import IndexBackend, SearchQuery

ELSEWHERE = "another-host:4242:1234:4026531836"  # alive as far as this host can tell


def finished_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def holder_with(pid: int | str = "", start: str | None = None) -> str:
    host, own_pid, own_start, namespace = lease_module.HOLDER.split(":")
    return f"{host}:{pid or own_pid}:{own_start if start is None else start}:{namespace}"


def hold_lease(service: ListService, holder: str, seconds: float = 60, name: str = STATE) -> None:
    """Leave a claim in the store as a process that held it would have."""
    with service.store.write() as conn:
        lease_module.ensure_row(conn, name)
        conn.execute(
            update(sync_state)
            .where(sync_state.c.name == name)
            .values(lease_holder=holder, lease_until=datetime.now(UTC) + timedelta(seconds=seconds))
        )


def lease_row(service: ListService, name: str = STATE) -> Any:
    with service.store.read() as conn:
        return conn.execute(sync_state.select().where(sync_state.c.name == name)).one()


def search_ids(service: ListService, **params: str) -> set[str]:
    return {doc.id for doc in service.search(params).items}


# --- Who is provably dead ---------------------------------------------------------------------


def test_only_a_provably_dead_holder_counts_as_dead() -> None:
    host, _pid, start, namespace = lease_module.HOLDER.split(":")
    assert not holder_is_dead(lease_module.HOLDER)  # this process
    assert holder_is_dead(holder_with(finished_pid()))  # its pid is gone
    assert holder_is_dead(holder_with(start="1"))  # this pid, but another process's start
    assert not holder_is_dead(f"other-{host}:{finished_pid()}:{start}:{namespace}")
    assert not holder_is_dead(f"{host}:{finished_pid()}:{start}:1")  # another PID namespace
    assert not holder_is_dead(f"{host}:{finished_pid()}")  # an older version's holder
    assert not holder_is_dead("")
    assert not holder_is_dead(f"{host}:x:{start}:{namespace}")


FORK_AND_REPORT = """
import os, sys
from search_index import lease
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(write, lease.HOLDER.encode())
    os._exit(0)
os.close(write)
child = os.read(read, 200).decode()
os.waitpid(pid, 0)
print(lease.HOLDER, pid, child)
"""


def test_a_forked_child_holds_in_its_own_name() -> None:
    """Workers forked after import (gunicorn --preload) must not share the parent's name."""
    out = subprocess.run(
        [sys.executable, "-c", FORK_AND_REPORT],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    ).stdout.split()
    parent, pid, child = out
    assert child.split(":")[1] == pid and child != parent
    assert holder_is_dead(child)


def test_a_killed_process_not_yet_reaped_is_dead() -> None:
    """kill -9 leaves a zombie until its parent waits for it: it runs nothing any more."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stat = Path(f"/proc/{child.pid}/stat")
        started = stat.read_text().rsplit(")", 1)[1].split()[19]
        holder = holder_with(child.pid, started)
        assert not holder_is_dead(holder)
        child.kill()
        deadline = time.monotonic() + 5
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert holder_is_dead(holder)
    finally:
        child.kill()
        child.wait()


# --- The lease after a crash --------------------------------------------------------------------


def test_a_dead_holders_lease_is_taken_over_at_once(service: ListService) -> None:
    """The issue's fault: a restarted portal found the killed one's 60-second lease, skipped
    the ingest's round, and kept serving a shielded entry. Now the claim of a process that no
    longer runs is taken over by the first round, and the shield is gone when ingest answers."""
    ingest(service, person("p1"), person("p2", iname="李娜"))
    hold_lease(service, holder_with(finished_pid()))
    started = time.monotonic()
    report = ingest(service, removal("shield", "p1"))
    elapsed = time.monotonic() - started
    assert report.synced is True and report.index_lag == 0
    assert elapsed < 1.0
    assert search_ids(service, q="张伟") == set()
    assert search_ids(service, q="李娜") == {"p2"}
    assert service.compliance().pending == 0  # the removal is confirmed, not only done
    assert lease_row(service).lease_holder is None  # and the lease released after the round


def test_a_recycled_pid_does_not_keep_the_lease(service: ListService) -> None:
    """The dead holder's pid now belongs to another process (here: this one)."""
    ingest(service, person("p1"))
    hold_lease(service, holder_with(os.getpid(), start="1"))
    assert ingest(service, removal("shield", "p1")).synced is True
    assert search_ids(service, q="张伟") == set()


def test_a_live_holder_is_waited_for_and_the_answer_says_when_in_vain(
    service: ListService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A holder that may be alive (another host) is never taken over early. Ingest waits up
    to SYNC_WAIT for it, then answers synced: false with the lag, and the next round after
    the claim ends removes the entry."""
    ingest(service, person("p1"))
    monkeypatch.setattr(sync_module, "SYNC_WAIT", 0.3)
    hold_lease(service, ELSEWHERE)
    started = time.monotonic()
    report = ingest(service, removal("shield", "p1"))
    assert 0.3 <= time.monotonic() - started < 2
    assert report.synced is False and report.index_lag == 1
    assert report.summary()["synced"] is False and report.summary()["indexLag"] == 1
    assert search_ids(service, q="张伟") == {"p1"}  # what synced: false warns of
    hold_lease(service, ELSEWHERE, seconds=-1)  # its claim runs out unrenewed
    assert not service.sync().skipped
    assert search_ids(service, q="张伟") == set()


def test_a_claim_that_runs_out_while_ingest_waits_is_taken(service: ListService) -> None:
    """A holder on another host that died: nobody renews its claim, so it ends within LEASE
    of its last renewal (here one second), and the waiting ingest's round runs then."""
    ingest(service, person("p1"))
    hold_lease(service, ELSEWHERE, seconds=1)
    started = time.monotonic()
    report = ingest(service, removal("shield", "p1"))
    assert report.synced is True and 0.8 <= time.monotonic() - started < 5
    assert search_ids(service, q="张伟") == set()


def test_ingest_waits_for_the_round_another_process_runs(service: ListService) -> None:
    """While another process's round is running, ingest waits for it; when that round took
    in this batch's changes, that is enough."""
    ingest(service, person("p1"))
    hold_lease(service, ELSEWHERE)

    def other_process_round() -> None:
        time.sleep(0.3)
        other = Lease(service.store, STATE)
        other.holder = ELSEWHERE  # it already holds the claim
        with other:
            Syncer(service.store, service.index)._drain(other, optimize=False)

    thread = threading.Thread(target=other_process_round)
    thread.start()
    try:
        started = time.monotonic()
        report = ingest(service, removal("shield", "p1"))
        waited = time.monotonic() - started
    finally:
        thread.join()
    assert report.synced is True and 0.3 <= waited < 5
    assert search_ids(service, q="张伟") == set()


def test_the_heartbeat_keeps_a_long_round_leased(
    service: ListService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease is short and renewed while held, so a long round (a million-entry rebuild)
    keeps it, and one that lost it (taken over) stops before writing."""
    monkeypatch.setattr(lease_module, "LEASE", timedelta(seconds=0.6))
    monkeypatch.setattr(lease_module, "HEARTBEAT", 0.1)
    other = Lease(service.store, STATE)
    other.holder = ELSEWHERE
    with Lease(service.store, STATE) as held:
        time.sleep(1.5)  # more than twice the lease
        held.check()
        with pytest.raises(LeaseBusy):
            other.__enter__()
        assert lease_row(service).lease_until > datetime.now(UTC)
        hold_lease(service, ELSEWHERE)  # taken over (say its clock ran ahead)
        deadline = time.monotonic() + 2
        with pytest.raises(LeaseLost):
            while time.monotonic() < deadline:
                held.check()
                time.sleep(0.05)
        with pytest.raises(LeaseLost), service.store.write() as conn:
            held.fence(conn)
    assert lease_row(service).lease_holder == ELSEWHERE  # not released by the loser


def test_a_round_that_loses_its_lease_records_nothing(service: ListService) -> None:
    ingest(service, person("p1"))
    ingest(service, removal("shield", "p1"), sync=False)
    before = service.syncer.synced_seq()
    original = service.index.delete

    def delete_then_lose(ids: Any) -> None:
        original(ids)
        hold_lease(service, ELSEWHERE)  # another process takes over meanwhile

    service.index.delete = delete_then_lose  # type: ignore[method-assign]
    try:
        assert service.sync(wait=False).skipped
    finally:
        del service.index.delete
    assert service.syncer.synced_seq() == before  # the other holder's round will do it
    assert service.compliance().pending == 1


# --- Rebuilds ---------------------------------------------------------------------------------

COUNT = 2400


def namesakes(count: int, prefix: str = "p") -> Iterator[dict[str, Any]]:
    for i in range(count):
        yield person(f"{prefix}{i}", iname="王" + chr(0x4E00 + i % 400) + chr(0x4E00 + i // 400))


@pytest.fixture
def filled(service: ListService, monkeypatch: pytest.MonkeyPatch) -> ListService:
    ingest(service, *namesakes(COUNT))
    monkeypatch.setattr(sync_module, "BATCH", 300)  # a fill of several batches
    return service


def slow_fill(monkeypatch: pytest.MonkeyPatch, index: IndexBackend, seconds: float) -> None:
    """Make every write to the index being built take a while, so that searches overlap."""
    original = type(index).upsert

    def upsert(self: Any, docs: Any) -> None:
        if self.path != index.path:  # type: ignore[attr-defined]
            time.sleep(seconds)
        original(self, docs)

    monkeypatch.setattr(type(index), "upsert", upsert)


def test_searches_during_a_rebuild_see_the_whole_index(
    filled: ListService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's fault: a rebuild emptied the index in place. Now, searching all the time
    (on the rebuilding service's own index, and on one opened apart like another process's),
    every answer counts every entry: the old index until the swap, the new one after."""
    service = filled
    elsewhere = SqliteFtsIndex(service.settings.index_path)
    seen: list[tuple[str, int, float]] = []
    stop = threading.Event()

    def search(who: str, index: IndexBackend) -> None:
        while not stop.is_set():
            everyone = index.search(SearchQuery(per_page=1)).total
            named = index.search(SearchQuery(name_tokens=("王",), per_page=1)).total
            seen.append((who, min(everyone, named), time.monotonic()))

    threads = [
        threading.Thread(target=search, args=("here", service.index)),
        threading.Thread(target=search, args=("elsewhere", elsewhere)),
    ]
    slow_fill(monkeypatch, service.index, 0.05)
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        result = service.rebuild_index()
        ended = time.monotonic()
        time.sleep(0.1)  # searches after the swap too
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    try:
        assert result.upserted == COUNT
        during = [s for s in seen if started <= s[2] <= ended]
        assert {who for who, _, _ in during} == {"here", "elsewhere"}
        assert len(during) >= 10  # searched all along (fewer on a slow, busy machine)
        assert {total for _, total, _ in seen} == {COUNT}
        assert [s for s in seen if s[0] == "elsewhere" and s[2] > ended + 0.05]
        # The live path now names the new file; the old one is gone with its side files.
        path = service.settings.index_path
        assert path.is_symlink()
        leftovers = sorted(p.name for p in path.parent.glob(path.name + "*"))
        target = os.readlink(path)
        assert set(leftovers) <= {path.name, target, f"{target}-wal", f"{target}-shm"}
        assert elsewhere.count() == COUNT
    finally:
        elsewhere.close()


def test_removals_during_a_rebuild_are_neither_lost_nor_resurrected(
    filled: ListService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removals go on reaching the live index while the new one is filled, and the new one
    follows them: one copied into the new index before its shield arrived, one not copied
    yet, one that arrives between the fill and the swap; and an entry published meanwhile."""
    service = filled
    live_path = service.settings.index_path
    original_upsert = SqliteFtsIndex.upsert
    writes = []

    def upsert(index: SqliteFtsIndex, docs: Any) -> None:
        original_upsert(index, docs)
        if index.path == live_path:
            return
        writes.append(len(docs))
        if len(writes) == 2:  # p0 is in the new index, p2399 not yet
            report = ingest(service, removal("shield", "p0"), removal("delete", "p2399"))
            assert report.synced is True  # ordinary rounds go on during the rebuild
            assert search_ids(service, q="王一一") == set()  # p0 gone from the live index
            ingest(service, person("late", iname="赵新"))

    original_optimize = SqliteFtsIndex.optimize

    def optimize(index: SqliteFtsIndex) -> None:  # between the fill and the swap
        original_optimize(index)
        if index.path != live_path:
            ingest(service, removal("revoke", "p5"))

    monkeypatch.setattr(SqliteFtsIndex, "upsert", upsert)
    monkeypatch.setattr(SqliteFtsIndex, "optimize", optimize)
    result = service.rebuild_index()
    assert len(writes) >= 8
    removed = {"p0", "p2399", "p5"}
    public = {f"p{i}" for i in range(COUNT)} - removed | {"late"}
    assert result.upserted == len(public) == service.index.count()
    assert {doc_id for doc_id, _ in service.index.iter_seqs()} == public
    assert service.index.present(sorted(removed)) == set()
    assert search_ids(service, q="赵新") == {"late"}
    assert service.syncer.lag() == 0
    compliance = service.compliance()
    assert compliance.pending == 0 and compliance.confirmed == 3
    assert not service.sync().upserted  # the rounds go on from where the fill ended
    assert service.reconcile().repaired == 0


def test_a_failed_rebuild_leaves_the_live_index_and_no_files(
    filled: ListService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = filled
    path = service.settings.index_path
    before = sorted(p.name for p in path.parent.glob(path.name + "*"))
    original = SqliteFtsIndex.upsert
    calls = []

    def failing(index: SqliteFtsIndex, docs: Any) -> None:
        calls.append(1)
        if index.path != path and len(calls) == 3:
            raise OSError("disk full")
        original(index, docs)

    monkeypatch.setattr(SqliteFtsIndex, "upsert", failing)
    with pytest.raises(OSError, match="disk full"):
        service.rebuild_index()
    assert service.index.count() == COUNT
    assert sorted(p.name for p in path.parent.glob(path.name + "*")) == before
    assert lease_row(service, REBUILD_STATE).lease_holder is None
    assert lease_row(service).lease_holder is None


def test_files_a_crashed_rebuild_left_are_removed_by_the_next(service: ListService) -> None:
    ingest(service, person("p1"))
    path = service.settings.index_path
    stale = [
        path.with_name(f"{path.name}.20240101000000-abcdef{suffix}") for suffix in ("", "-wal")
    ]
    for file in stale:
        file.write_bytes(b"half a rebuild")
    service.rebuild_index()
    first = os.readlink(path)
    service.rebuild_index()  # and the second rebuild removes the first one's file
    assert not any(file.exists() for file in stale)
    assert not path.with_name(first).exists()
    assert search_ids(service, q="张伟") == {"p1"}


def test_one_rebuild_at_a_time(service: ListService) -> None:
    ingest(service, person("p1"))
    hold_lease(service, ELSEWHERE, name=REBUILD_STATE)
    with pytest.raises(LeaseBusy):
        service.rebuild_index()
    assert search_ids(service, q="张伟") == {"p1"}
    hold_lease(service, holder_with(finished_pid()), name=REBUILD_STATE)  # that one died
    assert service.rebuild_index().upserted == 1


def test_a_filled_rebuild_waits_out_a_long_round_elsewhere(
    service: ListService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's long round (a reconciliation) holds the sync lease when the new
    index is filled: the rebuild keeps catching up and swaps once the lease is free."""
    ingest(service, person("p1"))
    monkeypatch.setattr(sync_module, "SYNC_WAIT", 0.2)
    hold_lease(service, ELSEWHERE)
    releaser = threading.Timer(0.7, lambda: hold_lease(service, ELSEWHERE, seconds=-1))
    releaser.start()
    try:
        assert service.rebuild_index().upserted == 1
    finally:
        releaser.join()
    assert service.settings.index_path.is_symlink()
    monkeypatch.setattr(sync_module, "REBUILD_WAIT", 0.0)
    hold_lease(service, ELSEWHERE)
    with pytest.raises(LeaseBusy):
        service.rebuild_index()  # given up: the work is discarded, the live index serves on
    assert search_ids(service, q="张伟") == {"p1"}
