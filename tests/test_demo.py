"""The demo feed: deterministic, valid identifiers, every kind of line the ingest handles, dates
relative to the day it is generated, and removals that a fresh demo's /stats shows on time.

The feed writes its publish lines in the national platform's real conventions in realistic
shares (tests/test_demo_variety.py); ``plain`` writes the same entries in our own conventions
only. What the generator invents (identifiers, ages, names, courts) is checked on the plain
feed, where each value is in one form; everything else on the feed as the demo writes it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import opencc
import pytest
from site_support import running
from support import NOW, TODAY

from core.settings import Settings
from search_index.demo import courts, data_range, generate_events, write_demo_file
from search_index.events import EventParser
from search_index.identifiers import (
    is_valid_credit_code,
    is_valid_id_number,
    is_valid_org_code,
)
from search_index.ingest import jsonl_records
from search_index.normalize import normalize_case_code

pytestmark = pytest.mark.clock  # date-sensitive: .ci/shifted-clock runs it a year ahead and back

COUNT = 3000
SEED = 20240501
START, END = data_range(TODAY)  # of the feed generated today (in China)
MASKED_ID = re.compile(r"^\d{10}\*{4}\d{3}[\dX]$")
MIDDLE_DOTS = re.compile("[·•・]")
REMOVAL_REASONS = {
    "被执行人已履行生效法律文书确定的义务或人民法院已执行完毕的",
    "当事人达成执行和解协议且已履行完毕的",
    "申请执行人书面申请删除失信信息，人民法院审查同意的",
    "终结本次执行程序后，通过网络执行查控系统查询被执行人财产两次以上，未发现有可供执行财产，"
    "且申请执行人或者其他人未提供有效财产线索的",
    "因审判监督或破产程序，人民法院依法裁定对失信被执行人中止执行的",
    "人民法院依法裁定不予执行的",
    "人民法院依法裁定终结执行的",
}

Event = dict[str, Any]


@pytest.fixture(scope="module")
def feed() -> list[Event]:
    return list(generate_events(COUNT, SEED, TODAY))


@pytest.fixture(scope="module")
def published(feed: list[Event]) -> dict[str, Event]:
    return {event["id"]: event for event in feed if event["op"] == "publish"}


@pytest.fixture(scope="module")
def plain_published() -> dict[str, Event]:
    feed = generate_events(COUNT, SEED, TODAY, plain=True)
    return {event["id"]: event for event in feed if event["op"] == "publish"}


@pytest.fixture(scope="module")
def persons(plain_published: dict[str, Event]) -> list[Event]:
    return [entry for entry in plain_published.values() if "sexy" in entry]


@pytest.fixture(scope="module")
def orgs(plain_published: dict[str, Event]) -> list[Event]:
    return [entry for entry in plain_published.values() if "businessEntity" in entry]


def parse_date(text: str) -> date:
    """A date in one of the feed's forms (2019-07-13, 20190713, 2019年07月13日), read without
    the importer's bounds: a feed dated a year ahead is still a feed to check."""
    digits = re.sub(r"[^0-9]", "", text)
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# Determinism and size


@pytest.mark.parametrize("plain", [False, True])
def test_same_seed_writes_identical_bytes(tmp_path: Path, plain: bool) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    lines = write_demo_file(first, 1500, 7, TODAY, plain=plain)
    assert write_demo_file(second, 1500, 7, TODAY, plain=plain) == lines
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().count(b"\n") == lines


def test_another_seed_writes_another_feed(tmp_path: Path) -> None:
    write_demo_file(tmp_path / "a.jsonl", 500, 7, TODAY)
    write_demo_file(tmp_path / "b.jsonl", 500, 8, TODAY)
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "b.jsonl").read_bytes()


@pytest.mark.parametrize("days", [-400, 0, 400])
def test_the_feed_ends_the_day_before_it_is_generated(days: int) -> None:
    today = TODAY + timedelta(days=days)
    feed = list(generate_events(500, 7, today))
    days_in_feed = [_day_of(event) for event in feed]
    assert max(days_in_feed) < today
    assert max(days_in_feed) >= today - timedelta(days=7)  # recent lines, not an old list
    assert data_range(today)[1] == today - timedelta(days=1)


def test_file_is_utf8_with_chinese_kept(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    write_demo_file(path, 50, 7)
    text = path.read_text(encoding="utf-8")
    assert "人民法院" in text
    assert "\\u" not in text


def test_count_is_the_number_of_entries(feed: list[Event], published: dict[str, Event]) -> None:
    assert sum(event["op"] == "publish" for event in feed) == COUNT
    assert len(published) == COUNT  # ids are unique
    assert len(feed) > COUNT  # corrections and removals come on top
    assert list(generate_events(0, SEED)) == []


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        generate_events(-1, SEED)


# Every line is something the ingest accepts


def test_every_line_passes_the_ingest_parser(feed: list[Event]) -> None:
    parser = EventParser(id_hash_key="demo-test-key")
    for event in feed:
        parser.parse(event, NOW)  # raises Rejection on anything it would refuse


def test_entry_ids_are_ascii(published: dict[str, Event]) -> None:
    assert all(re.fullmatch(r"[0-9]{6}-[0-9]{4}-[0-9]{8}", entry_id) for entry_id in published)


# Identifiers


def test_id_numbers_are_valid_or_masked(persons: list[Event]) -> None:
    masked = [p["cardNum"] for p in persons if "*" in p["cardNum"]]
    full = [p["cardNum"] for p in persons if "*" not in p["cardNum"]]
    assert all(MASKED_ID.fullmatch(card) for card in masked)
    assert all(is_valid_id_number(card) for card in full)
    assert 0.2 < len(masked) / len(persons) < 0.4


def test_id_numbers_carry_the_sex(persons: list[Event]) -> None:
    for person in persons:
        odd = int(person["cardNum"][16]) % 2 == 1
        assert odd == (person["sexy"] == "男"), person


def test_org_identifiers_are_valid(orgs: list[Event]) -> None:
    credit = [o["cardNum"] for o in orgs if len(o["cardNum"]) == 18]
    org_codes = [o["cardNum"] for o in orgs if len(o["cardNum"]) == 9]
    assert len(credit) + len(org_codes) == len(orgs)
    assert org_codes, "some organizations are known only by their organization code"
    assert all(is_valid_org_code(code) for code in org_codes)
    for code in credit:
        assert is_valid_credit_code(code), code
        assert code[:2] == "91"
        assert code[2:8].isdigit()
        assert is_valid_org_code(code[8:17]), code
        assert not is_valid_id_number(code), code


# People


def test_no_minors_and_ages_match_birth_dates(persons: list[Event]) -> None:
    for person in persons:
        age, card = person["age"], person["cardNum"]
        published = parse_date(person["publishDate"])
        assert 18 <= age <= 75, person
        if "*" in card:
            assert published.year - int(card[6:10]) in (age, age + 1), person
        else:
            born = date(int(card[6:10]), int(card[10:12]), int(card[12:14]))
            assert _years(born, published) == age, person


def test_names_come_in_traditional_script_and_with_middle_dots(
    published: dict[str, Event],
) -> None:
    to_simplified = opencc.OpenCC("t2s")
    names = [entry["iname"] for entry in published.values()]
    assert any(to_simplified.convert(name) != name for name in names)
    assert any(MIDDLE_DOTS.search(name) for name in names)


def test_some_debtors_have_several_entries(published: dict[str, Event]) -> None:
    # Repeat debtors make "this ID has 3 entries" demonstrable, on the demo as it is written.
    full_ids = Counter(e["cardNum"] for e in published.values() if is_valid_id_number(e["cardNum"]))
    assert max(full_ids.values()) > 1


# Courts, cases and dates


def test_courts_are_unique_and_well_formed() -> None:
    all_courts = courts()
    assert len(all_courts) > 300
    assert len({c.name for c in all_courts}) == len(all_courts)
    assert len({c.code for c in all_courts}) == len(all_courts)
    assert len({c.key for c in all_courts}) == len(all_courts)
    for court in all_courts:
        assert court.name.endswith("人民法院")
        assert re.fullmatch(r"[^\x00-\x7f][0-9]{2}(?:[0-9]{2})?", court.code), court
        assert court.key.isascii() and len(court.key) == 6


def test_case_numbers_name_the_executing_court(plain_published: dict[str, Event]) -> None:
    by_name = {c.name: c for c in courts()}
    for entry in plain_published.values():
        court = by_name[entry["courtName"]]
        canonical = normalize_case_code(entry["caseCode"])
        assert canonical.split(")", 1)[1].startswith(court.code + "执"), entry
        assert entry["areaName"] == court.area
        assert entry["id"].startswith(court.key + "-")


def test_dates_vary_in_form_and_stay_in_range(published: dict[str, Event]) -> None:
    forms = Counter()
    for entry in published.values():
        registered, listed = parse_date(entry["regDate"]), parse_date(entry["publishDate"])
        assert registered < listed
        assert START <= listed <= END
        assert listed.weekday() < 5
        for text in (entry["regDate"], entry["publishDate"]):
            forms["年" if "年" in text else "-" if "-" in text else "compact"] += 1
    assert set(forms) == {"年", "-", "compact"}


def test_listing_periods_are_two_years_and_some_have_ended(
    published: dict[str, Event],
) -> None:
    ended = ahead = open_ended = 0
    for entry in published.values():
        if "validUntil" not in entry:
            assert "有履行能力而拒不履行" in entry["disruptTypeName"]  # ground 1 only
            open_ended += 1
            continue
        listed, until = parse_date(entry["publishDate"]), parse_date(entry["validUntil"])
        assert (until.year - listed.year, until.month) == (2, listed.month)
        ended += until < END
        ahead += until >= END
    assert ended and open_ended
    assert ahead > ended  # most entries are still live


def test_party_type_is_sometimes_left_to_inference(published: dict[str, Event]) -> None:
    stated = sum("partyTypeName" in entry for entry in published.values())
    assert 0.7 < stated / COUNT < 0.9


def test_some_entries_are_never_public(published: dict[str, Event]) -> None:
    hidden = [entry for entry in published.values() if entry["disclose"] is False]
    assert 0 < len(hidden) < 0.03 * COUNT


# Corrections and removals


def test_every_kind_of_change_occurs(feed: list[Event]) -> None:
    ops = Counter(event["op"] for event in feed)
    assert {"correct", "shield", "delete", "revoke"} <= set(ops)
    assert 0.01 * COUNT < ops["correct"] < 0.05 * COUNT
    assert 0.02 * COUNT < ops["shield"] + ops["delete"] + ops["revoke"] < 0.08 * COUNT


def test_changes_follow_their_publish_line(feed: list[Event]) -> None:
    seen: dict[str, Event] = {}
    for event in feed:
        if event["op"] == "publish":
            seen[event["id"]] = event
            continue
        entry = seen.get(event["id"])
        assert entry is not None, f"{event} comes before its publish line"
        assert entry["disclose"], "a never-public entry needs no changes"
        effective = parse_instant(event["effectiveAt"]).date()
        assert parse_date(entry["publishDate"]) < effective <= END
        if event["op"] != "correct" and "validUntil" in entry:
            assert effective < parse_date(entry["validUntil"])


def test_removals_give_a_legal_ground(feed: list[Event]) -> None:
    for event in feed:
        if event["op"] == "revoke":
            assert event["reason"] == "不应纳入失信被执行人名单"
        elif event["op"] in ("shield", "delete"):
            assert event["reason"] in REMOVAL_REASONS


def test_corrections_change_disclosed_fields(feed: list[Event]) -> None:
    allowed = {
        "performance",
        "performedPart",
        "unperformPart",
        "duty",
        "gistId",
        "businessEntity",
    }
    for event in feed:
        if event["op"] == "correct":
            assert event["fields"] and set(event["fields"]) <= allowed


def test_feed_is_in_time_order(feed: list[Event]) -> None:
    days = [_day_of(e) for e in feed]
    assert days == sorted(days)


def _day_of(event: Event) -> date:
    if event["op"] == "publish":
        return parse_date(event["publishDate"])
    return parse_instant(event["effectiveAt"]).date()


# A fresh demo's /stats


def _stat(html: str, name: str) -> int:
    match = re.search(rf'<dd id="stat-{name}">([0-9,]+)', html)
    assert match, f"no #stat-{name} on /stats"
    return int(match.group(1).replace(",", ""))


def test_a_fresh_demo_shows_its_removals_within_the_legal_deadline(
    tmp_path: Path, settings: Settings
) -> None:
    """What `make demo` does (5,000 entries, seed 1, imported right after), then /stats: the
    recent removals reached the site within three working days and took effect in time."""
    path = tmp_path / "demo.jsonl"
    write_demo_file(path, 5000, 1)
    with running(settings) as site:
        with path.open("rb") as stream:
            report = site.service.ingest(jsonl_records(stream), source="cli:demo.jsonl")
        assert not report.rejected
        html = site.client.get("/stats").text
    removed, on_time = _stat(html, "removed"), _stat(html, "on-time")
    assert _stat(html, "late") == 0 and _stat(html, "pending") == 0
    # Older removals of the replayed history honestly arrived late; most did not.
    assert on_time > _stat(html, "arrived-late")
    assert on_time >= 10 and removed == on_time + _stat(html, "arrived-late")
