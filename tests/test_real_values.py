"""Values as the national platform really writes them: sex words, ages as text, party-type
codes and placeholders for "nothing" (issue 10). Fixtures are synthetic; one test reads the
real records in ``../shared/realdata/`` when that folder exists."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from site_support import running
from support import ingest, org, person

from core.settings import Settings
from search_index.service import ListService

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata" / "national-mirror-50.jsonl"
PLACEHOLDERS = ["", "  ", "暂无", "无", "null", "NULL", None]  # None is a JSON null


def _item(service: ListService, entry_id: str) -> dict[str, Any]:
    return service.entry(entry_id).doc.to_api()


def _accepted(service: ListService, line: dict[str, Any]) -> dict[str, Any]:
    report = ingest(service, line)
    assert report.ok, [r.as_dict() for r in report.rejected]
    return _item(service, line["id"])


@pytest.mark.parametrize(("given", "shown"), [("男性", "男"), ("女性", "女"), ("男", "男")])
def test_sex_words_are_stored_in_the_short_form(
    service: ListService, given: str, shown: str
) -> None:
    assert _accepted(service, person("p1", sexy=given))["sexy"] == shown


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_a_sex_placeholder_is_not_given(service: ListService, placeholder: str | None) -> None:
    line = person("p1")
    line["sexy"] = placeholder
    assert _accepted(service, line)["sexy"] is None


def test_an_unknown_sex_word_is_dropped_with_a_warning(service: ListService) -> None:
    report = ingest(service, person("p1", sexy="未知"))
    assert report.ok and [(w.field, w.code) for w in report.warnings] == [("sexy", "bad_sex")]
    assert _item(service, "p1")["sexy"] is None


@pytest.mark.parametrize(("given", "shown"), [("43", 43), (" 58 ", 58), (43, 43), ("", None)])
def test_age_as_text_is_stored_as_a_number(
    service: ListService, given: str | int, shown: int | None
) -> None:
    assert _accepted(service, person("p1", age=given))["age"] == shown


@pytest.mark.parametrize("age", ["0", 0, "", "暂无"])
def test_an_organization_age_is_ignored_not_taken_for_a_minor(
    service: ListService, age: str | int
) -> None:
    item = _accepted(service, org("o1", age=age, sexy=""))
    assert item["age"] is None and item["partyTypeName"] == "法人或其他组织"


def test_an_organization_age_0_without_party_type_or_card_is_still_an_organization(
    service: ListService,
) -> None:
    line = org("o1", age="0", sexy="暂无", partyTypeName="")
    del line["cardNum"]  # only the legal representative says it is an organization
    assert _accepted(service, line)["partyTypeName"] == "法人或其他组织"


def test_a_person_of_age_0_is_still_a_minor(service: ListService) -> None:
    report = ingest(service, person("p1", age="0", partyTypeName="0"))
    assert [r.code for r in report.rejected] == ["minor"]


@pytest.mark.parametrize(
    ("make", "code", "shown"),
    [(person, "0", "自然人"), (org, "1", "法人或其他组织"), (org, 1, "法人或其他组织")],
)
def test_party_type_codes_0_and_1(service: ListService, make: Any, code: Any, shown: str) -> None:
    assert _accepted(service, make("e1", partyTypeName=code))["partyTypeName"] == shown


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_a_party_type_placeholder_is_decided_from_the_card(
    service: ListService, placeholder: str | None
) -> None:
    line = person("p1")
    line["partyTypeName"] = placeholder
    assert _accepted(service, line)["partyTypeName"] == "自然人"


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_placeholders_in_optional_fields_are_not_given(
    service: ListService, placeholder: str | None
) -> None:
    optional = ("performedPart", "unperformPart", "gistUnit", "areaName", "regDate", "cardNum")
    line = person("p1", partyTypeName="自然人")
    line.update(dict.fromkeys(optional, placeholder))
    item = _accepted(service, line)
    assert all(item[name] is None or item[name] == "" for name in optional), item


def _real_lines() -> list[dict[str, Any]]:
    lines = []
    for no, text in enumerate(REALDATA.read_bytes().splitlines(), start=1):
        raw = orjson.loads(text)
        raw.setdefault("op", "publish")
        raw.setdefault("id", f"real-{no}")
        lines.append(raw)
    return lines


needs_realdata = pytest.mark.skipif(not REALDATA.exists(), reason=f"no real records at {REALDATA}")


@needs_realdata
def test_real_records_import_unchanged_without_rejection(service: ListService) -> None:
    lines = _real_lines()
    report = ingest(service, *lines)
    assert Counter(r.code for r in report.rejected) == Counter(), report.rejected[:3]
    assert report.accepted == len(lines)


@needs_realdata
def test_each_real_record_is_found_by_name_case_number_and_identifier_as_written(
    service: ListService,
) -> None:
    lines = _real_lines()
    ingest(service, *lines)
    for line in lines:
        by = {
            "name": {"q": line["iname"], "exact": "1"},
            "case number": {"caseCode": line["caseCode"]},
            "identifier": {"cardNum": line["cardNum"]},
        }
        for what, params in by.items():
            found = [doc.id for doc in service.search({**params, "perPage": "100"}).items]
            assert line["id"] in found, (what, params)


@needs_realdata
def test_real_records_show_party_type_sex_and_age(service: ListService) -> None:
    lines = _real_lines()
    ingest(service, *lines)
    for line in lines:
        item = _item(service, line["id"])
        person = line["partyTypeName"] == "0"
        assert item["partyType"] == ("person" if person else "org"), line["id"]
        if person:
            assert item["sexy"] == line["sexy"][0]  # 男性 → 男
            assert item["age"] == int(line["age"])
        else:
            assert item["age"] is None and item["sexy"] is None
            assert item["businessEntity"] == line["businessEntity"]


@needs_realdata
def test_real_records_entry_pages_show_party_type_sex_age_and_identifier(
    settings: Settings,
) -> None:
    lines = _real_lines()
    with running(settings) as site:
        site.publish(*lines)
        for line in lines:
            page = site.client.get(f"/entries/{line['id']}")
            assert page.status_code == 200, line["id"]
            text = html.unescape(page.text)
            person = line["partyTypeName"] == "0"
            assert ("自然人" if person else "法人或其他组织") in text
            shown = _item(site.service, line["id"])["cardNum"]
            assert shown in text and line["iname"] in text
            if person:
                assert f"<dd>{line['sexy'][0]}</dd>" in text
                assert f"<dd>{int(line['age'])}</dd>" in text
