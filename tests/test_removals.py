"""The removal guarantee: deadlines, proof of removal, compliance, reconciliation, expiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select, update
from support import (
    days_ago,
    ingest,
    instant_days_ago,
    make_settings,
    names,
    person,
    recent_instant,
    removal,
)

from search_index.dates import CST
from search_index.entries import doc_from_row
from search_index.removals import LEGAL_WORKING_DAYS
from search_index.service import EntryGone, ListService
from search_index.sync import LeaseBusy
from search_index.tables import entries, events, removals
from search_index.types import IndexDoc

pytestmark = pytest.mark.clock  # date-sensitive: .ci/shifted-clock runs it a year ahead and back


def _removal_rows(service: ListService) -> list[dict]:
    with service.store.read() as conn:
        return [dict(r) for r in conn.execute(select(removals).order_by(removals.c.id)).mappings()]


def _cst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


# --- Deadlines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "deadline_day"),
    [
        ("2026-11-20T10:00:00+08:00", "2026-11-25"),  # Friday -> Wednesday
        ("2026-11-21T10:00:00+08:00", "2026-11-25"),  # Saturday: the day itself never counts
        ("2026-09-30T18:00:00+08:00", "2026-10-10"),  # National Day; 10-10 is a make-up Saturday
        ("2026-12-30T22:00:00+08:00", "2027-01-04"),  # into 2027: weekends only, with a warning
    ],
)
def test_removal_deadline_is_three_working_days_on_chinas_calendar(
    service: ListService, effective: str, deadline_day: str
) -> None:
    # The calendar's cases need fixed dates, and ingest refuses effective times far from
    # today: the arithmetic is asked of the calendar ingest uses; the next test shows that
    # ingest records exactly what it answers.
    deadline = service.calendar.removal_deadline(_cst(effective[:19]), LEGAL_WORKING_DAYS)
    deadline = deadline.astimezone(CST)
    assert deadline.date().isoformat() == deadline_day
    assert (deadline.hour, deadline.minute) == (23, 59)


def test_a_removal_records_the_calendar_deadline(service: ListService) -> None:
    ingest(service, person("p1"))
    effective = recent_instant()
    ingest(service, removal("shield", "p1", effective))
    (row,) = _removal_rows(service)
    expected = service.calendar.removal_deadline(
        datetime.fromisoformat(effective), LEGAL_WORKING_DAYS
    )
    assert row["deadline"] == expected


def test_2027_holiday_override_file_moves_the_deadline(tmp_path: Path, database_url: str) -> None:
    overrides = tmp_path / "holidays.json"
    overrides.write_text(
        orjson.dumps({"2027": {"holidays": ["2027-01-01", "2027-01-04"], "workdays": []}}).decode()
    )
    settings = make_settings(tmp_path, database_url, SHIXIN_HOLIDAYS_FILE=str(overrides))
    service = ListService(settings)
    try:
        deadline = service.calendar.removal_deadline(_cst("2026-12-30T22:00:00"))
        assert deadline.astimezone(CST).date() == date(2027, 1, 6)  # 12-31, 01-05, 01-06
    finally:
        service.close()


# --- Proof of removal and the compliance report ---------------------------------------------


def test_removal_is_confirmed_gone_from_the_index_and_reported_on_time(
    service: ListService,
) -> None:
    ingest(service, person("p1"))
    effective = datetime.now(CST).replace(microsecond=0)
    ingest(service, removal("revoke", "p1", effective.isoformat()))
    (row,) = _removal_rows(service)
    assert row["removed_at"] is not None and row["kind"] == "revoked"
    assert service.index.present(["p1"]) == set()
    report = service.compliance()
    assert (report.total, report.confirmed, report.on_time, report.pending) == (1, 1, 1, 0)
    assert report.median_latency_seconds is not None and report.median_latency_seconds < 5
    assert report.problems == []


def test_removal_received_after_its_deadline_is_flagged_as_the_senders_lateness(
    service: ListService,
) -> None:
    ingest(service, person("p1"))
    # A month ago: its three working days ran out long before it reached us.
    ingest(service, removal("delete", "p1", instant_days_ago(30)))
    report = service.compliance()
    assert report.arrived_late == 1
    assert report.problems[0].arrived_late and report.problems[0].entry_id == "p1"
    assert report.as_dict()["problems"][0]["arrivedLate"] is True
    # Confirmed after the deadline, but not counted against us: it came in too late.
    assert (report.confirmed, report.late, report.on_time) == (1, 0, 0)


class FlakyIndex:
    """The real index, with deletes that fail (as a failed Meilisearch task would)."""

    def __init__(self, inner: object, *, silently: bool) -> None:
        self._inner = inner
        self.silently = silently
        self.broken = True

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def delete(self, ids: Sequence[str]) -> None:
        if not self.broken:
            self._inner.delete(ids)  # type: ignore[attr-defined]
        elif not self.silently:
            raise ConnectionError("index unreachable")


def _with_flaky_index(service: ListService, *, silently: bool) -> FlakyIndex:
    flaky = FlakyIndex(service.index, silently=silently)
    service.index = flaky  # type: ignore[assignment]
    service.syncer.index = flaky  # type: ignore[assignment]
    return flaky


def test_index_outage_leaves_removal_pending_then_sync_catches_up(service: ListService) -> None:
    ingest(service, person("p1"))
    flaky = _with_flaky_index(service, silently=False)
    with pytest.raises(ConnectionError):
        ingest(service, removal("shield", "p1", datetime.now(CST).isoformat()))
    with pytest.raises(EntryGone):  # the store already answers "removed"
        service.entry("p1")
    report = service.compliance()
    assert (report.pending, report.confirmed) == (1, 0)
    assert report.problems[0].state == "pending"
    overdue = _compliance_at(service, datetime.now(UTC) + timedelta(days=30))
    assert overdue.overdue == 1 and overdue.problems[0].state == "overdue"

    flaky.broken = False
    service.sync()
    assert service.search({"q": "张伟"}).total == 0
    assert service.compliance().confirmed == 1


def _compliance_at(service: ListService, now: datetime):  # type: ignore[no-untyped-def]
    from search_index import compliance

    with service.store.read() as conn:
        return compliance.report(conn, now=now)


def test_sync_never_confirms_a_removal_the_index_still_serves(service: ListService) -> None:
    ingest(service, person("p1"))
    _with_flaky_index(service, silently=True)
    with pytest.raises(RuntimeError, match="still serves"):
        ingest(service, removal("shield", "p1", datetime.now(CST).isoformat()))
    assert _removal_rows(service)[0]["removed_at"] is None
    # Reconciliation finds the drift, and the repaired removal is then proven.
    service.index.broken = False  # type: ignore[attr-defined]
    result = service.reconcile()
    assert result.removed == 0  # the catch-up sync inside reconcile already fixed it
    assert _removal_rows(service)[0]["removed_at"] is not None
    assert service.search({"q": "张伟"}).total == 0


def test_removal_superseded_by_republication_is_not_counted(service: ListService) -> None:
    ingest(service, person("p1"))
    flaky = _with_flaky_index(service, silently=False)
    with pytest.raises(ConnectionError):
        ingest(service, removal("shield", "p1", instant_days_ago(2)))
    flaky.broken = False
    republished = days_ago(1)
    case = f"({republished.year})京0105执1号"
    ingest(service, person("p1", publishDate=republished.isoformat(), caseCode=case))
    assert service.compliance().total == 0
    assert names(service.search({"q": "张伟"})) == ["张伟"]


# --- Reconciliation -------------------------------------------------------------------------


def test_reconciliation_repairs_injected_drift_and_reports_it(service: ListService) -> None:
    ingest(service, *[person(f"p{i}", iname=f"王{i}") for i in range(5)])
    ingest(service, removal("shield", "p4", datetime.now(CST).isoformat()))
    with service.store.read() as conn:
        removed_row = conn.execute(select(entries).where(entries.c.id == "p4")).mappings().one()
        stale_row = conn.execute(select(entries).where(entries.c.id == "p2")).mappings().one()
    # Drift: one public entry lost from the index, a removed one back in it, one stale copy.
    service.index.delete(["p1"])
    ghost = doc_from_row(removed_row)
    ghost.status = "published"
    service.index.upsert([ghost])
    stale: IndexDoc = doc_from_row(stale_row)
    stale.seq -= 1
    stale.name = "旧名字"
    service.index.upsert([stale])

    result = service.reconcile()
    assert (result.added, result.removed, result.refreshed) == (1, 1, 1)
    assert result.samples == {"added": ["p1"], "removed": ["p4"], "refreshed": ["p2"]}
    assert sorted(names(service.search({"q": "王"}))) == ["王0", "王1", "王2", "王3"]
    assert service.search({"q": "旧名字"}).total == 0
    assert service.reconcile().repaired == 0  # nothing left to fix


def test_rebuild_index_restores_exactly_the_public_set(service: ListService) -> None:
    ingest(
        service,
        person("p1"),
        person("p2", iname="李四"),
        person("p3", disclose=False, iname="赵五"),
    )
    ingest(service, removal("revoke", "p2", datetime.now(CST).isoformat()))
    service.index.clear()
    service.rebuild_index()
    assert [doc_id for doc_id, _ in service.index.iter_seqs()] == ["p1"]


def test_sync_lease_keeps_a_second_syncer_out(
    service: ListService, monkeypatch: pytest.MonkeyPatch
) -> None:
    with service.syncer.lease():
        other = ListService(service.settings, store=service.store, index=service.index)
        other_syncer = other.syncer
        monkeypatch.setattr("search_index.lease.HOLDER", "another-host:1:2:3")
        with pytest.raises(LeaseBusy):
            other_syncer.lease().__enter__()
        assert other_syncer.sync(wait=False).skipped


# --- Expiry ---------------------------------------------------------------------------------


def test_listing_period_ending_expires_the_entry_with_a_deadline(service: ListService) -> None:
    today = datetime.now(CST).date()
    ingest(
        service,
        person("old", iname="期满人", publishDate="2020-01-01", validUntil=today.isoformat()),
        person("new", iname="在册人"),
    )
    assert sorted(names(service.search({"partyType": "person"}))) == ["在册人", "期满人"]
    tomorrow = today + timedelta(days=1)
    assert service.expire(today=tomorrow) == 1
    assert names(service.search({"partyType": "person"})) == ["在册人"]
    with pytest.raises(EntryGone):
        service.entry("old")
    (row,) = _removal_rows(service)
    assert row["kind"] == "expired" and row["removed_at"] is not None
    assert row["effective_at"].astimezone(CST).date() == tomorrow
    assert row["deadline"] > row["effective_at"]
    assert service.expire(today=tomorrow) == 0  # idempotent


def test_entry_sent_after_its_listing_period_is_never_served(service: ListService) -> None:
    yesterday = (datetime.now(CST) - timedelta(days=1)).date()
    ingest(service, person("old", publishDate="2020-01-01", validUntil=yesterday.isoformat()))
    assert service.search({"q": "张伟"}).total == 0
    with pytest.raises(EntryGone):  # it was published by the court, so it is acknowledged
        service.entry("old")
    assert _removal_rows(service) == []  # never served here: nothing to remove
    with service.store.read() as conn:
        ops = conn.execute(select(events.c.op).order_by(events.c.id)).scalars().all()
    assert ops == ["publish", "expire"]  # the expiry is on record all the same


def test_store_and_index_files_never_contain_a_full_id_number(
    tmp_path: Path, service: ListService
) -> None:
    from support import id_number

    full = [id_number(birth=f"19{60 + i}0{1 + i % 9}1{i % 9}") for i in range(20)]
    ingest(service, *[person(f"p{i}", iname=f"赵{i}", cardNum=card) for i, card in enumerate(full)])
    ingest(service, removal("shield", "p0", datetime.now(CST).isoformat()))
    service.close()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("index.sqlite3") for p in files)
    for path in files:
        data = path.read_bytes()
        for card in full:
            assert card.encode() not in data, f"full ID number found in {path.name}"


def test_migrated_schema_matches_the_table_definitions(service: ListService) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import api_keys.tables
    import casework.tables
    import chat_state.tables
    import ingest_jobs.tables
    import screening.tables
    import search_index.tables
    import watches.tables
    import webhooks.tables
    from core.migrations import DOMAIN_TABLES
    from core.tables import metadata

    # Every domain's tables, as the migrations' environment loads them for autogenerate.
    domains = {
        casework.tables.__name__,
        search_index.tables.__name__,
        watches.tables.__name__,
        chat_state.tables.__name__,
        screening.tables.__name__,
        api_keys.tables.__name__,
        webhooks.tables.__name__,
        ingest_jobs.tables.__name__,
    }
    assert domains == set(DOMAIN_TABLES)
    with service.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_marking_an_entry_public_in_the_store_alone_is_not_enough(service: ListService) -> None:
    """The index follows sequence numbers, not statuses: a raw status edit without a new
    sequence number is drift that only reconciliation finds."""
    ingest(service, person("p1"))
    ingest(service, removal("shield", "p1", datetime.now(CST).isoformat()))
    with service.store.write() as conn:
        conn.execute(update(entries).where(entries.c.id == "p1").values(status="published"))
    service.sync()
    assert service.search({"q": "张伟"}).total == 0
    assert service.reconcile().added == 1


@pytest.mark.parametrize("damage", ["deleted", "outdated layout"])
def test_a_lost_or_outdated_index_file_is_refilled_from_the_store(
    tmp_path: Path, database_url: str, damage: str
) -> None:
    """The index is derived data: a missing file, or one of an older layout, is replaced
    by a fresh one that the next sync fills with exactly the public entries."""
    import sqlite3

    settings = make_settings(tmp_path, database_url)
    service = ListService(settings)
    ingest(service, person("p1", iname="王芳"), person("p2", iname="王强"))
    ingest(service, removal("revoke", "p2", "2024-06-01T09:00:00+08:00"))
    service.close()
    index_file = settings.index_path
    if damage == "deleted":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{index_file}{suffix}").unlink(missing_ok=True)
    else:
        conn = sqlite3.connect(index_file)
        conn.execute("PRAGMA user_version=1")
        conn.commit()
        conn.close()
    service = ListService(settings)
    try:
        assert service.index.fresh
        service.sync()
        assert names(service.search({"q": "王"})) == ["王芳"]
    finally:
        service.close()
    reopened = ListService(settings)  # a healthy file is kept as it is
    try:
        assert not reopened.index.fresh
        assert names(reopened.search({"q": "王"})) == ["王芳"]
    finally:
        reopened.close()
