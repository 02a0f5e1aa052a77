"""Several portal hosts on one store, each with an embedded index of its own (issue 16).

Two replicas here are two ListServices over the same store (SQLite and PostgreSQL), each
with its own index file and replica name, as two hosts would be; their rounds are run by
hand (or by a thread standing in for a host's background loop). A removal is confirmed only
once every live replica has it out of its index; a replica that goes silent drops out after
the timeout, with a warning in /healthz and the compliance report, and must catch up from its
own cursor before it counts again.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.exceptions import StarletteDeprecationWarning
from support import ingest, make_settings, person, removal

from core.settings import ConfigError, Settings
from portal.app import create_app
from search_index import replicas
from search_index.service import ListService
from search_index.tables import index_replicas, removal_confirmations, removals, sync_state

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx still works (warnings are errors).
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TIMEOUT = 2.0  # seconds of silence before a replica drops out (short, so tests can wait)


def replica_settings(tmp_path: Path, database_url: str, name: str, **env: str) -> Settings:
    return make_settings(
        tmp_path / name,
        database_url,
        SHIXIN_INDEX_REPLICA=name,
        SHIXIN_INDEX_REPLICA_TIMEOUT=str(TIMEOUT),
        **env,
    )


@pytest.fixture
def hosts(tmp_path: Path, database_url: str) -> Iterator[tuple[ListService, ListService]]:
    a = ListService(replica_settings(tmp_path, database_url, "web1"))
    b = ListService(replica_settings(tmp_path, database_url, "web2"))
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def found(service: ListService, entry_id: str) -> bool:
    return entry_id in {doc.id for doc in service.search({"q": "张伟"}).items}


def removal_row(service: ListService) -> Any:
    with service.store.read() as conn:
        return conn.execute(select(removals).order_by(removals.c.id.desc())).mappings().first()


def confirmations(service: ListService) -> dict[str, datetime]:
    with service.store.read() as conn:
        rows = conn.execute(select(removal_confirmations)).all()
    return {row.replica: row.confirmed_at for row in rows}


def both_live(a: ListService, b: ListService) -> None:
    """Both hosts have synced what there is, so both count as live."""
    a.sync()
    b.sync()
    assert {r.name: r.state for r in a.syncer.replicas()} == {"web1": "live", "web2": "live"}


def go_silent(service: ListService, seconds: float = TIMEOUT + 1) -> None:
    """As if the host had stopped reporting ``seconds`` ago (a hung or unplugged host)."""
    with service.store.write() as conn:
        conn.execute(
            update(index_replicas)
            .where(index_replicas.c.name == service.syncer.replica)
            .values(seen_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )


# --- Confirmation by every live replica --------------------------------------------------------


def test_a_revoke_is_confirmed_only_once_both_replicas_have_it_out_of_their_index(
    hosts: tuple[ListService, ListService],
) -> None:
    a, b = hosts
    ingest(a, person("p1"), sync=False)
    both_live(a, b)
    assert found(a, "p1") and found(b, "p1")

    ingest(a, removal("revoke", "p1"), sync=False)
    a.sync()
    assert not found(a, "p1") and found(b, "p1")
    assert removal_row(a)["removed_at"] is None  # web2 still serves it
    assert a.compliance().pending == 1

    b.sync()
    assert not found(b, "p1")
    row, confirmed = removal_row(a), confirmations(a)
    assert set(confirmed) == {"web1", "web2"}
    # The proof is the last live replica's confirmation.
    assert row["removed_at"] == max(confirmed.values()) == confirmed["web2"]
    assert a.compliance().confirmed == 1


def test_an_ingest_answers_synced_once_every_live_replica_has_applied_it(
    hosts: tuple[ListService, ListService],
) -> None:
    a, b = hosts
    ingest(a, person("p1"), sync=False)
    both_live(a, b)
    with background_rounds(b):  # the other host's loop, syncing every 50 ms
        report = ingest(a, removal("shield", "p1"))
    assert report.synced and report.index_lag == 0
    assert not found(a, "p1") and not found(b, "p1")
    assert removal_row(a)["removed_at"] is not None


@contextmanager
def background_rounds(service: ListService) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            service.sync(wait=False)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- A replica that stops reporting --------------------------------------------------------------


def test_a_silent_replica_drops_out_after_the_timeout_and_the_live_one_confirms(
    hosts: tuple[ListService, ListService],
) -> None:
    a, b = hosts
    ingest(a, person("p1"), sync=False)
    both_live(a, b)
    ingest(a, removal("revoke", "p1"), sync=False)
    a.sync()
    assert removal_row(a)["removed_at"] is None  # web2 still counts, and has not confirmed
    assert a.health()["warnings"] == []

    time.sleep(TIMEOUT + 0.2)  # web2 reports nothing for longer than the timeout
    a.sync()  # web1's next round, with nothing new to apply
    row = removal_row(a)
    assert row["removed_at"] is not None
    # Not earlier than web2 dropped out: until then it counted, and may have served the entry.
    with a.store.read() as conn:
        seen = conn.execute(
            select(index_replicas.c.seen_at).where(index_replicas.c.name == "web2")
        ).scalar_one()
    assert row["removed_at"] >= seen + timedelta(seconds=TIMEOUT)
    assert set(confirmations(a)) == {"web1"}

    health = a.health()
    assert health["ok"] is True  # web1 itself is fine
    assert any("web2" in text and "未报告" in text for text in health["warnings"])
    states = {r["name"]: r["state"] for r in health["replicas"]}
    assert states == {"web1": "live", "web2": "silent"}
    report = a.compliance().as_dict(public=True)
    assert any("web2" in text for text in report["warnings"])
    assert report["slowestReplica"]["name"] == "web1"
    assert report["removals"]["confirmed"] == 1
    assert b.health()["ok"] is False  # the silent host tells its proxy not to send searches


def test_healthz_and_the_compliance_report_warn_of_a_silent_replica(
    tmp_path: Path, database_url: str
) -> None:
    with (
        portal(tmp_path, database_url, "web1") as one,
        portal(tmp_path, database_url, "web2") as two,
    ):
        one.service.sync()
        two.service.sync()
        assert one.client.get("/healthz").status_code == 200
        go_silent(two.service)

        answer = one.client.get("/healthz")
        assert answer.status_code == 200
        assert any("web2" in text for text in answer.json()["warnings"])
        report = one.client.get("/api/v1/compliance").json()
        assert [r["state"] for r in report["replicas"]] == ["live", "silent"]
        assert any("web2" in text for text in report["warnings"])
        metrics = one.client.get("/metrics").text
        assert 'shixin_index_replica_live{replica="web2"} 0.0' in metrics
        assert 'shixin_index_replica_live{replica="web1"} 1.0' in metrics
        # The silent host's own health check fails until it has caught up again.
        assert two.client.get("/healthz").status_code == 503
        two.service.sync()
        assert two.client.get("/healthz").status_code == 200
        assert one.client.get("/healthz").json()["warnings"] == []


@dataclass
class Host:
    client: TestClient
    service: ListService


@contextmanager
def portal(tmp_path: Path, database_url: str, name: str) -> Iterator[Host]:
    app = create_app(replica_settings(tmp_path, database_url, name), background=False)
    with TestClient(app) as client:
        yield Host(client, app.state.service)


def test_a_replica_back_from_silence_catches_up_before_it_counts_again(
    hosts: tuple[ListService, ListService],
) -> None:
    a, b = hosts
    ingest(a, person("p1"), person("p2", iname="张伟明"), sync=False)
    both_live(a, b)
    go_silent(b)
    ingest(a, removal("revoke", "p1"), sync=False)
    a.sync()
    assert removal_row(a)["removed_at"] is not None  # web2 is out: web1 alone vouches

    # web2 comes back with a stubborn index that keeps serving what it deletes: it reports,
    # but it has not caught up, so it is not live and holds nothing back, nor does it pass.
    stubborn = Stubborn(b.index)
    b.syncer.index = stubborn  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="still serves"):
        b.sync()
    assert {r.name: r.state for r in a.syncer.replicas()}["web2"] == "catching_up"
    assert b.health()["ok"] is False
    ingest(a, removal("revoke", "p2"), sync=False)
    a.sync()
    assert removal_row(a)["removed_at"] is not None  # not waiting for a replica catching up

    b.syncer.index = stubborn.inner  # type: ignore[assignment]
    b.sync()
    assert not found(b, "p1") and not found(b, "p2")
    assert {r.name: r.state for r in a.syncer.replicas()}["web2"] == "live"
    assert b.health()["ok"] is True


class Stubborn:
    """An index whose deletions do nothing."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def delete(self, ids: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# --- Lag ---------------------------------------------------------------------------------------


def test_the_compliance_report_gives_each_replicas_lag_and_the_slowest(
    hosts: tuple[ListService, ListService],
) -> None:
    a, b = hosts
    ingest(a, person("p1"), sync=False)
    both_live(a, b)
    ingest(a, person("p2"), person("p3"), person("p4"), sync=False)
    a.sync()
    report = a.compliance()
    assert {r.name: r.lag for r in report.replicas} == {"web1": 0, "web2": 3}
    assert report.slowest is not None and report.slowest.name == "web2"
    shown = report.as_dict(public=True)
    assert shown["slowestReplica"]["lag"] == 3
    from search_index.compliance import format_text

    text = format_text(report)
    assert "索引副本 web2：在线，尚未应用 3 项变更" in text and "最慢的在线副本：web2" in text
    b.sync()
    assert {r.name: r.lag for r in a.compliance().replicas} == {"web1": 0, "web2": 0}


# --- Restarts ------------------------------------------------------------------------------------


def test_a_restarted_replica_goes_on_from_its_own_cursor(
    tmp_path: Path, database_url: str, hosts: tuple[ListService, ListService]
) -> None:
    a, b = hosts
    ingest(a, person("p1"), person("p2"), sync=False)
    both_live(a, b)
    b.close()
    ingest(a, removal("revoke", "p1"), sync=False)
    a.sync()

    again = ListService(replica_settings(tmp_path, database_url, "web2"))
    try:
        assert again.syncer.synced_seq() > 0  # its index file survived: no refill
        result = again.sync()
        assert result.upserted == 0 and result.deleted == 1
        assert not found(again, "p1") and found(again, "p2")
        assert removal_row(a)["removed_at"] is not None
        assert set(confirmations(a)) == {"web1", "web2"}
    finally:
        again.close()


def test_a_replica_that_lost_its_index_file_counts_again_only_once_refilled(
    tmp_path: Path, database_url: str, hosts: tuple[ListService, ListService]
) -> None:
    a, b = hosts
    ingest(a, person("p1"), sync=False)
    both_live(a, b)
    b.close()
    settings = replica_settings(tmp_path, database_url, "web2")
    for path in settings.index_path.parent.glob(settings.index_path.name + "*"):
        path.unlink()

    again = ListService(settings)
    try:
        assert again.health()["ok"] is False  # an empty index must get no searches
        assert {r.name: r.state for r in a.syncer.replicas()}["web2"] == "catching_up"
        again.sync()
        assert found(again, "p1") and again.health()["ok"] is True
    finally:
        again.close()


def test_a_replica_whose_host_died_holding_its_lease_does_not_stop_the_other(
    hosts: tuple[ListService, ListService],
) -> None:
    a, b = hosts
    ingest(a, person("p1"), sync=False)
    both_live(a, b)
    with b.store.write() as conn:  # web2's host died mid-round, on another machine
        conn.execute(
            update(sync_state)
            .where(sync_state.c.name == replicas.state_name("web2"))
            .values(
                lease_holder="another-host:4242:1234:4026531836",
                lease_until=datetime.now(UTC) + timedelta(seconds=60),
            )
        )
    go_silent(b)
    ingest(a, removal("shield", "p1"), sync=False)
    assert not a.sync().skipped  # web1's lease is its own
    assert not found(a, "p1") and removal_row(a)["removed_at"] is not None
    assert b.sync(wait=False).skipped  # web2 waits for its own lease, as one host always did


def test_only_a_silent_replica_can_be_forgotten_and_then_warns_no_more(
    hosts: tuple[ListService, ListService],
) -> None:
    a, b = hosts
    ingest(a, person("p1"), sync=False)
    both_live(a, b)
    with pytest.raises(replicas.ReplicaNotSilent, match="live"):
        a.forget_replica("web2")
    go_silent(b)
    assert a.forget_replica("web2") == 0
    assert [r.name for r in a.replicas()] == ["web1"]
    assert a.health()["warnings"] == []
    with a.store.read() as conn:
        names = set(conn.execute(select(sync_state.c.name)).scalars())
    assert replicas.state_name("web2") not in names


# --- One replica, as before ----------------------------------------------------------------------


def test_a_single_replica_confirms_at_once_and_records_nothing_per_replica(
    service: ListService,
) -> None:
    ingest(service, person("p1"))
    ingest(service, removal("revoke", "p1"))
    assert removal_row(service)["removed_at"] is not None
    assert confirmations(service) == {}
    health = service.health()
    assert health["indexReplica"] == "main" and health["warnings"] == [] and health["ok"]
    with service.store.read() as conn:
        names = set(conn.execute(select(sync_state.c.name)).scalars())
    assert "index" in names and not any(name.startswith("index:") for name in names)


def test_replica_settings_are_checked_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.sqlite3"
    assert make_settings(tmp_path, url).index_replica == "main"
    with pytest.raises(ConfigError, match="SHIXIN_INDEX_REPLICA"):
        make_settings(tmp_path, url, SHIXIN_INDEX_REPLICA="Web 1")
    with pytest.raises(ConfigError, match="Meilisearch"):
        make_settings(
            tmp_path,
            url,
            SHIXIN_INDEX="meili",
            SHIXIN_MEILI_URL="http://127.0.0.1:7700",
            SHIXIN_INDEX_REPLICA="web1",
        )
