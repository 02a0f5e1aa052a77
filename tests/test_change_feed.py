"""The change feed and the daily snapshot, as a republisher uses them: a mirror built only
from the feed (from the start, or from a snapshot's cursor) holds exactly the public list,
with publications, corrections and removals interleaved; a removal says when the mirror must
have deleted the entry, and nothing else about it."""

from __future__ import annotations

import hashlib
import re
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support import (
    correction,
    id_number,
    ingest,
    make_settings,
    org,
    person,
    recent_instant,
    removal,
)

from core.workdays import WorkCalendar
from portal.app import create_app
from search_index import feed
from search_index.dates import CST
from search_index.exports import EXPORT_KEYS
from search_index.service import ListService

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ID_ZHANG = id_number("110105", "19800101", "123")
ID_LI = id_number("440106", "19900220", "345")
ID_WANG = id_number("110108", "19750615", "234")
FULL_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


class Mirror:
    """A republisher's copy, kept only from what the feed says."""

    def __init__(self, service: ListService, cursor: str = "", rows: Any = ()) -> None:
        self.service = service
        self.cursor = cursor
        self.rows: dict[str, dict[str, Any]] = {row["id"]: row for row in rows}
        self.pages: list[dict[str, Any]] = []

    def catch_up(self, limit: int = 2) -> None:
        while True:
            page = self.service.changes(self.cursor, limit).as_dict()
            self.pages.append(page)
            for event in page["events"]:
                if event["type"] == "removed":
                    self.rows.pop(event["id"], None)
                else:
                    self.rows[event["id"]] = event["entry"]
            self.cursor = page["next"]
            if not page["more"]:
                return


def public_set(service: ListService) -> dict[str, dict[str, Any]]:
    page = service.search({"perPage": "100"})
    return {doc.id: doc.to_api() for doc in page.items}


def columns(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {key: row.get(key) for key in EXPORT_KEYS} for k, row in rows.items()}


def test_a_mirror_replaying_the_feed_holds_the_public_list(service: ListService) -> None:
    live = Mirror(service)
    ingest(
        service,
        person("zw", cardNum=ID_ZHANG),
        person("ls", iname="李四", cardNum=ID_LI, caseCode="(2023)京0105执2号"),
        org("abc"),
        person("secret", iname="王秘密", cardNum=ID_WANG, disclose=False),
    )
    live.catch_up()
    assert live.rows == public_set(service)
    assert set(live.rows) == {"zw", "ls", "abc"}

    snap = service.write_snapshot()
    ingest(
        service,
        correction("abc", recent_instant(2), performance="部分未履行"),
        removal("shield", "ls"),
        person("new", iname="赵新", caseCode="(2024)京0105执3号"),
    )
    live.catch_up()
    assert live.rows == public_set(service)
    ingest(
        service,
        removal("delete", "new"),
        person(
            "ls",
            iname="李四",
            cardNum=ID_LI,
            caseCode="(2023)京0105执2号",
            duty="再次公布",
            effectiveAt=recent_instant(0.5),
        ),
        correction("zw", recent_instant(0.5), performance="全部未履行"),
    )
    live.catch_up()
    public = public_set(service)
    assert live.rows == public
    assert live.rows["abc"]["performance"] == "部分未履行"
    assert "new" not in live.rows and live.rows["ls"]["duty"] == "再次公布"

    fresh = Mirror(service)  # someone starting today, from the very beginning
    fresh.catch_up(limit=100)
    assert fresh.rows == public

    lines = snap.path.read_bytes().splitlines()
    meta = orjson.loads(lines[0])["meta"]
    assert meta["cursor"] == snap.cursor
    from_snapshot = Mirror(service, meta["cursor"], map(orjson.loads, lines[1:]))
    from_snapshot.catch_up(limit=3)
    assert columns(from_snapshot.rows) == columns(public)

    every_page = orjson.dumps(live.pages + fresh.pages + from_snapshot.pages).decode()
    assert "secret" not in every_page and "王秘密" not in every_page  # never public: absent
    assert not FULL_ID.findall(every_page)
    removed = [e for p in live.pages for e in p["events"] if e["type"] == "removed"]
    assert {e["id"] for e in removed} == {"ls", "new"}
    assert all(set(e) == {"type", "id", "removedAt", "mustDeleteBy"} for e in removed)
    assert "赵新" not in orjson.dumps(fresh.pages).decode()  # removed before this mirror began


def test_the_snapshot_file_has_a_checksum_and_the_cursor(service: ListService) -> None:
    ingest(service, person("zw", cardNum=ID_ZHANG), org("abc"))
    snap = service.write_snapshot()
    body = snap.path.read_bytes()
    assert snap.checksum_path.read_text().split() == [
        hashlib.sha256(body).hexdigest(),
        snap.path.name,
    ]
    assert snap.entries == 2 and len(body.splitlines()) == 3
    assert service.latest_snapshot() == snap.path
    assert feed.decode_cursor(snap.cursor) == feed.decode_cursor(service.changes("").next)


def test_a_removal_must_be_deleted_by_the_third_working_day_on_chinas_calendar() -> None:
    calendar = WorkCalendar()
    # Friday 13 Feb 2026: Saturday the 14th is a make-up working day, then the Spring
    # Festival holiday (15–23 Feb); the third working day is Wednesday 25 Feb.
    row = {
        "id": "ls",
        "ever_public": True,
        "status": "shielded",
        "valid_until": None,
        "status_changed_at": datetime(2026, 2, 13, 16, 30, tzinfo=CST),
    }
    event = feed.feed_event(row, datetime(2026, 3, 1).date(), calendar)
    assert event == {
        "type": "removed",
        "id": "ls",
        "removedAt": "2026-02-13T16:30:00+08:00",
        "mustDeleteBy": "2026-02-25T23:59:59+08:00",
    }
    # National Day: 30 Sep 2026 -> 8, 9 Oct and the make-up Saturday 10 Oct.
    national_day = datetime(2026, 9, 30, 10, tzinfo=CST)
    assert feed.must_delete_by(national_day, calendar).date().isoformat() == "2026-10-10"


def test_a_removals_deadline_in_the_feed_is_the_one_we_are_held_to(service: ListService) -> None:
    ingest(service, person("zw", cardNum=ID_ZHANG))
    ingest(service, removal("shield", "zw", "2026-02-13T16:30:00+08:00"))
    [event] = service.changes("").events
    assert event["mustDeleteBy"] == "2026-02-25T23:59:59+08:00"
    effective = datetime(2026, 2, 13, 16, 30, tzinfo=CST)
    ours = service.calendar.removal_deadline(effective).isoformat(timespec="seconds")
    assert event["mustDeleteBy"] == ours


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Any:
    settings = make_settings(tmp_path, database_url, SHIXIN_RATE_LIMIT_ENABLED="0")
    with TestClient(create_app(settings, background=False)) as client:
        yield client


def test_the_feed_and_the_snapshot_over_http(client: Any) -> None:
    service: ListService = client.app.state.service
    assert client.get("/api/v1/snapshot").status_code == 404
    ingest(
        service,
        person("zw", cardNum=ID_ZHANG),
        org("abc"),
        org("o2", caseCode="(2024)沪0115执78号"),
    )
    first = client.get("/api/v1/changes", params={"limit": "2"}).json()
    assert [e["id"] for e in first["events"]] == ["zw", "abc"] and first["more"] is True
    rest = client.get("/api/v1/changes", params={"since": first["next"]}).json()
    assert [e["id"] for e in rest["events"]] == ["o2"] and rest["more"] is False
    idle = client.get("/api/v1/changes", params={"since": rest["next"]}).json()
    assert idle == {"events": [], "next": rest["next"], "more": False}
    for bad in ({"since": "not-ours"}, {"limit": "0"}, {"limit": "1001"}, {"since": "a+b"}):
        answer = client.get("/api/v1/changes", params=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["code"] == "bad_query"

    snap = service.write_snapshot()
    answer = client.get("/api/v1/snapshot")
    assert answer.status_code == 200
    assert answer.headers["x-checksum-sha256"] == hashlib.sha256(answer.content).hexdigest()
    assert orjson.loads(answer.content.splitlines()[0])["meta"]["cursor"] == snap.cursor


def test_an_entry_whose_period_ran_out_is_removed_from_the_next_day() -> None:
    """Before the expiry sweep has recorded it, the feed already says so."""
    row = {
        "id": "old",
        "ever_public": True,
        "status": "published",
        "valid_until": datetime(2026, 9, 29).date(),
        "status_changed_at": datetime(2024, 1, 1, tzinfo=CST),
    }
    event = feed.feed_event(row, datetime(2026, 10, 2).date(), WorkCalendar())
    assert event == {
        "type": "removed",
        "id": "old",
        "removedAt": "2026-09-30T00:00:00+08:00",
        "mustDeleteBy": "2026-10-10T23:59:59+08:00",
    }
