"""The demo feed in the national platform's real conventions (issue 10): in realistic shares
of what `make demo` writes (5,000 entries, seed 1), each a form of what the plain feed says
about the same entry, and `plain` is the feed as it always was, byte for byte."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from support import NOW, TODAY
from test_demo import parse_date

from search_index.dates import CST
from search_index.demo import courts, generate_events, write_demo_file
from search_index.events import EventParser
from search_index.identifiers import (
    id_check_char,
    is_valid_credit_code,
    is_valid_id_number,
    is_valid_org_code,
)
from search_index.normalize import normalize_case_code

pytestmark = pytest.mark.clock  # date-sensitive: .ci/shifted-clock runs it a year ahead and back

COUNT, SEED = 5000, 1  # what `make demo` generates
Event = dict[str, Any]
MASKED_ID = re.compile(r"\d{10}\*{4}\d{3}[\dX]")
MASKED_ID_OLD = re.compile(r"\d{11}\*{4}\d{3}[\dX]")
MASKED_CREDIT = re.compile(r"[0-9A-Z]{10}\*{4}[0-9A-Z]{4}")
OLD_CASE_CODE = re.compile(r"[(（]?(\d{4})[)）年].+?执(?:恢)?字第\d+号")
MODERN_CASE_CODE = re.compile(r"[(（](\d{4})[)）].+执(?:恢)?\d+号")
PLACEHOLDERS = {"", "暂无", "无", "null", None}
MIRROR_KEYS = {"StdStg", "loc", "publishDateStamp", "lastmod", "SiteId", "_version"}


@pytest.fixture(scope="module")
def feeds() -> tuple[list[Event], list[Event]]:
    """The demo as `make demo` writes it, and the same feed plain."""
    return (
        list(generate_events(COUNT, SEED, TODAY)),
        list(generate_events(COUNT, SEED, TODAY, plain=True)),
    )


@pytest.fixture(scope="module")
def pairs(feeds: tuple[list[Event], list[Event]]) -> list[tuple[Event, Event]]:
    """(varied, plain) publish lines of the same entries."""
    varied, plain = feeds
    return [(v, p) for v, p in zip(varied, plain, strict=True) if v["op"] == "publish"]


@pytest.fixture(scope="module")
def persons(pairs: list[tuple[Event, Event]]) -> list[tuple[Event, Event]]:
    return [(v, p) for v, p in pairs if "sexy" in p]


@pytest.fixture(scope="module")
def orgs(pairs: list[tuple[Event, Event]]) -> list[tuple[Event, Event]]:
    return [(v, p) for v, p in pairs if "businessEntity" in p]


def share(lines: list[tuple[Event, Event]], test: Callable[[Event], bool]) -> float:
    return sum(test(varied) for varied, _ in lines) / len(lines)


# Plain is what it always was; varied holds the same entries


def test_plain_writes_the_feed_as_it_was_before_the_variety(tmp_path: Path) -> None:
    """Seeds used elsewhere (tests, benchmarks) keep their data. The digest is of the feed
    written by the generator before it learned the real conventions, on a fixed day; a new
    Faker release (other names) would change it too."""
    path = tmp_path / "plain.jsonl"
    assert write_demo_file(path, 2000, 7, date(2026, 12, 1), plain=True) == 2165
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == "5ee5b36a76e0cdf17806052e5e6b5d5754ac6f68c1840fd7ac63864fbc06a901"


def test_varied_and_plain_feeds_hold_the_same_entries_and_changes(
    feeds: tuple[list[Event], list[Event]],
) -> None:
    varied, plain = feeds
    assert len(varied) == len(plain)
    for v, p in zip(varied, plain, strict=True):
        if p["op"] != "publish":
            assert v == p  # corrections and removals are untouched
            continue
        for key in ("op", "id", "iname", "courtName", "areaName", "publishDate", "disclose"):
            assert v[key] == p[key]
        assert v.get("validUntil") == p.get("validUntil")


def test_the_importer_reads_a_varied_line_as_its_plain_line(
    pairs: list[tuple[Event, Event]],
) -> None:
    """Party type, name, sex (unless left out), age of a person, dates: the same facts."""
    parser = EventParser(id_hash_key="demo-test-key")
    for varied, plain in pairs:
        v, p = parser.parse(varied, NOW).payload, parser.parse(plain, NOW).payload
        assert v["party_type"] == p["party_type"], varied
        for key in ("name", "court_name", "publish_date", "valid_until", "disclose"):
            assert v.get(key) == p.get(key), (key, varied)
        for key in ("sexy", "age"):
            if key in v["fields"]:
                assert v["fields"][key] == p["fields"][key], (key, varied)


# Sex, age, party type


def test_sex_comes_as_often_in_the_long_words_as_in_the_short_ones(
    persons: list[tuple[Event, Event]],
) -> None:
    words = Counter(varied["sexy"] for varied, _ in persons)
    long, short = words["男性"] + words["女性"], words["男"] + words["女"]
    assert 0.35 < long / len(persons) < 0.6 and 0.35 < short / len(persons) < 0.6
    assert 0.03 < (words[""] + words["暂无"]) / len(persons) < 0.15
    assert words[""] and words["暂无"]
    assert set(words) == {"男性", "女性", "男", "女", "", "暂无"}
    for varied, plain in persons:  # and always the sex the plain line says, if any
        assert varied["sexy"] in ("", "暂无") or varied["sexy"][0] == plain["sexy"]


def test_ages_come_as_text_and_organizations_carry_zero_or_nothing(
    persons: list[tuple[Event, Event]], orgs: list[tuple[Event, Event]]
) -> None:
    assert 0.5 < share(persons, lambda v: isinstance(v["age"], str)) < 0.8
    assert all(str(v["age"]) == str(p["age"]) for v, p in persons)
    ages = Counter(varied.get("age", "absent") for varied, _ in orgs)
    assert set(ages) == {"0", "", "absent"}
    assert ages["0"] / len(orgs) > 0.4
    assert 0.3 < share(orgs, lambda v: v.get("sexy") == "") < 0.8


def test_party_type_comes_as_the_platforms_codes_in_a_good_share(
    pairs: list[tuple[Event, Event]],
) -> None:
    stated = [(v, p) for v, p in pairs if "partyTypeName" in v]
    assert 0.7 < len(stated) / len(pairs) < 0.9  # the rest is left to inference
    assert 0.4 < share(stated, lambda v: v["partyTypeName"] in ("0", "1")) < 0.7
    names = {"0": "自然人", "1": "法人或其他组织"}
    for varied, plain in stated:
        said = names.get(varied["partyTypeName"], varied["partyTypeName"])
        assert said == plain.get("partyTypeName", said)


# Identifiers


def _person_card_forms(full: str) -> dict[str, str]:
    return {
        "full": full,
        "lower x": full[:-1] + "x",
        "15 digits": full[:6] + full[8:17],
        "masked": f"{full[:10]}****{full[14:]}",
    }


def test_person_ids_come_full_masked_in_both_lengths_old_and_with_a_lower_case_x(
    persons: list[tuple[Event, Event]],
) -> None:
    kinds: Counter[str] = Counter()
    for varied, plain in persons:
        card, original = varied["cardNum"], plain["cardNum"]
        if "*" in original:  # masked already: the same mask, or its older 11 + 4 + 4 form
            if MASKED_ID_OLD.fullmatch(card):
                assert card[:10] + card[11:] == original and card[10] in "01"
                kinds["masked 11+4+4"] += 1
            else:
                assert card == original and MASKED_ID.fullmatch(card)
                kinds["masked 10+4+4"] += 1
            continue
        forms = {form: kind for kind, form in _person_card_forms(original).items()}
        assert card in forms, (card, original)
        kinds[forms[card]] += 1
    n = len(persons)
    assert 0.55 < (kinds["full"] + kinds["lower x"]) / n < 0.8  # most stay full and valid
    assert 0.15 < kinds["masked 10+4+4"] / n < 0.3
    assert 0.04 < kinds["masked 11+4+4"] / n < 0.15
    assert 0.01 < kinds["15 digits"] / n < 0.06
    assert 0.005 < kinds["lower x"] / n < 0.05


def test_fifteen_digit_ids_have_a_valid_region_and_birth_date(
    persons: list[tuple[Event, Event]],
) -> None:
    old = [(v, p) for v, p in persons if len(v["cardNum"]) == 15]
    regions = {region for court in courts() for region in court.regions}
    assert old
    for varied, _ in old:
        card = varied["cardNum"]
        assert card.isdigit() and card[:6] in regions, card
        born = date(1900 + int(card[6:8]), int(card[8:10]), int(card[10:12]))
        listed = parse_date(varied["publishDate"])
        age = listed.year - born.year - ((listed.month, listed.day) < (born.month, born.day))
        assert age == int(varied["age"])
        upgraded = card[:6] + "19" + card[6:]
        assert is_valid_id_number(upgraded + id_check_char(upgraded))


def test_organizations_come_with_masked_credit_codes_and_hyphenated_org_codes(
    orgs: list[tuple[Event, Event]],
) -> None:
    kinds: Counter[str] = Counter()
    for varied, plain in orgs:
        card, original = varied["cardNum"], plain["cardNum"]
        if MASKED_CREDIT.fullmatch(card):
            assert card == f"{original[:10]}****{original[14:]}" and is_valid_credit_code(original)
            kinds["masked credit code"] += 1
        elif len(card) == 18:
            assert card == original and is_valid_credit_code(card)
            kinds["credit code"] += 1
        else:
            code = card.replace("-", "")
            assert is_valid_org_code(code), card
            assert code in (original, original[8:17])  # its own, or the one in its credit code
            if "-" in card:
                assert re.fullmatch(r"[0-9A-Z]{8}-[0-9X]", card)
            kinds["org code with hyphen" if "-" in card else "org code"] += 1
    n = len(orgs)
    assert 0.2 < kinds["masked credit code"] / n < 0.45
    assert 0.4 < kinds["credit code"] / n < 0.7
    assert kinds["org code with hyphen"] and kinds["org code"]
    assert 0.05 < (kinds["org code with hyphen"] + kinds["org code"]) / n < 0.25


# Case numbers


def test_cases_filed_before_2016_carry_the_older_styles_of_number(
    pairs: list[tuple[Event, Event]],
) -> None:
    styles: Counter[str] = Counter()
    cases: dict[str, set[str]] = {}  # plain case number -> varied ones
    for varied, plain in pairs:
        code = varied["caseCode"]
        cases.setdefault(plain["caseCode"], set()).add(code)
        filed = parse_date(varied["regDate"])
        old = OLD_CASE_CODE.fullmatch(code)
        if old:
            assert int(old[1]) == filed.year < 2016, varied
            assert filed < parse_date(varied["publishDate"])
            styles["年" if "年" in code else "恢" if "执恢字" in code else "字"] += 1
        else:
            modern = MODERN_CASE_CODE.fullmatch(code)
            assert modern and int(modern[1]) == filed.year >= 2016, varied
            assert code == plain["caseCode"] and varied["regDate"] == plain["regDate"]
            styles["modern"] += 1
        normalize_case_code(code)  # every one reads as a case number
    old_share = 1 - styles["modern"] / len(pairs)
    assert 0.02 < old_share < 0.1
    assert styles["字"] and styles["恢"] and styles["年"]
    # Co-debtors listed under one case keep one number.
    assert all(len(varied) == 1 for varied in cases.values())


# Placeholders and the mirror's keys


def test_optional_fields_say_nothing_in_every_way_real_records_do(
    pairs: list[tuple[Event, Event]], persons: list[tuple[Event, Event]]
) -> None:
    unpaid = [(v, p) for v, p in pairs if p["performedPart"] == "暂无"]
    written = Counter(v["performedPart"] for v, _ in unpaid)
    assert set(written) == PLACEHOLDERS
    assert 0.03 < share(pairs, lambda v: v["unperformPart"] in PLACEHOLDERS) < 0.15
    entities = Counter(v.get("businessEntity", "absent") for v, _ in persons)
    assert set(entities) == PLACEHOLDERS | {"absent"}
    assert 0.4 < 1 - entities["absent"] / len(persons) < 0.75


def test_some_lines_carry_the_mirrors_own_keys(pairs: list[tuple[Event, Event]]) -> None:
    mirrored = [varied for varied, _ in pairs if MIRROR_KEYS & set(varied)]
    assert 0.1 < len(mirrored) / len(pairs) < 0.2
    for varied in mirrored:
        assert set(varied) >= MIRROR_KEYS
        # As the mirror writes a record: the party type as a code, the age as text.
        assert varied["partyTypeName"] in ("0", "1")
        assert isinstance(varied.get("age", ""), str)
        assert ".example.cn/" in varied["loc"]  # never a link to a real entry
        stamp = int(varied["publishDateStamp"])
        assert datetime.fromtimestamp(stamp, CST).date() == parse_date(varied["publishDate"])


def test_the_command_writes_the_demo_varied_or_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shixin import cli

    monkeypatch.setenv("SHIXIN_DATA_DIR", str(tmp_path / "data"))
    written = {}
    for flags in ([], ["--plain"]):
        out = tmp_path / f"demo{len(flags)}.jsonl"
        args = ["demo-data", "--count", "300", "--seed", "3", "--out", str(out), *flags]
        assert cli.main(args) == cli.EXIT_OK
        written[bool(flags)] = out.read_bytes()
    expected = tmp_path / "expected.jsonl"
    write_demo_file(expected, 300, 3, plain=True)
    assert written[True] == expected.read_bytes()
    assert written[False] != written[True] and b'"StdStg"' in written[False]


def test_make_demo_imports_with_no_rejection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The two commands `make demo` runs before it serves (the Makefile's own arguments):
    every line of the demo, in all its real conventions, is accepted."""
    from shixin import cli

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    assert "shixin demo-data --count 5000 --seed 1 " in makefile
    data = tmp_path / "data"
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(data))
    monkeypatch.delenv("SHIXIN_DATABASE_URL", raising=False)
    demo = data / "demo.jsonl"
    assert cli.main(["demo-data", "--count", "5000", "--seed", "1", "--out", str(demo)]) == 0
    assert cli.main(["import", str(demo)]) == cli.EXIT_OK, capsys.readouterr().err
    summary = orjson.loads((data / "demo.jsonl.summary.json").read_bytes())
    assert summary["rejected"] == 0
    assert summary["accepted"] == summary["lines"] == demo.read_bytes().count(b"\n")
    # Placeholders mean "not given" and nothing in the demo is junk: no warning either.
    assert summary.get("warnings", 0) == 0
    assert (data / "demo.jsonl.rejects.jsonl").read_bytes() == b""
