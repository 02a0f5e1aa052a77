"""Warnings, not rejections, for what is optional (issue 10): a line whose optional field is
junk is applied without that field (or with an overlong case text cut), and the sender is
told which field, what it held (masked) and what we did, in the report, the CLI's warnings
file and summary, and the API's answer. What the Rules require still rejects the line."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from support import correction, id_number, ingest, make_settings, org, person
from test_ingest import cli_env

from search_index.events import MAX_TEXT
from search_index.ingest import IngestReport, jsonl_records
from search_index.service import ListService
from search_index.tables import batches, entries, events
from search_index.tokens import create_token

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

CHINESE = "\u4e00", "\u9fff"
LONG = "很长的文字" * 450  # 2250 characters: over MAX_TEXT


def one_digit_off(full: str) -> str:
    """An ID number with its 17th digit changed: the check character no longer fits."""
    return full[:16] + str((int(full[16]) + 1) % 10) + full[17]


def chinese(text: str) -> bool:
    return any(CHINESE[0] <= ch <= CHINESE[1] for ch in text)


def warned(report: IngestReport) -> list[tuple[int, str, str]]:
    return [(w.line, w.field, w.code) for w in report.warnings]


def api_item(service: ListService, entry_id: str) -> dict[str, Any]:
    return service.entry(entry_id).doc.to_api()


# --- Per field: junk is dropped with a warning, the entry is published -----------------------

# (the line, the field warned about, its code, the entry's value of that field afterwards)
JUNK: list[tuple[str, dict[str, Any], str, str, Any]] = [
    ("unknown sex word", person("e1", sexy="未知"), "sexy", "bad_sex", None),
    ("sex as a list", person("e1", sexy=["男"]), "sexy", "bad_sex", None),
    ("age not a number", person("e1", age="老"), "age", "bad_age", None),
    ("absurd age", person("e1", age=200), "age", "bad_age", None),
    ("unreadable regDate", person("e1", regDate="yesterday"), "regDate", "bad_date", None),
    ("unreadable validUntil", person("e1", validUntil="soon"), "validUntil", "bad_date", None),
    ("areaName too long", person("e1", areaName="北" * 201), "areaName", "too_long", ""),
    ("areaName a list", person("e1", areaName=["北京"]), "areaName", "bad_type", ""),
    ("severity too long", person("e1", severity="重" * 201), "severity", "too_long", None),
    ("cardNum junk", person("e1", cardNum="，"), "cardNum", "unrecognized_identifier", None),
    (
        "cardNum bad checksum",
        person("e1", cardNum=one_digit_off(id_number())),
        "cardNum",
        "bad_id_checksum",
        None,
    ),
    (
        "credit code bad checksum",
        org("e1", cardNum="91110000802100433C"),
        "cardNum",
        "bad_credit_code_checksum",
        None,
    ),
    ("gistId too long", person("e1", gistId=LONG), "gistId", "too_long", None),
    ("gistUnit a number list", person("e1", gistUnit=[1, 2]), "gistUnit", "bad_type", None),
    ("businessEntity too long", org("e1", businessEntity=LONG), "businessEntity", "too_long", None),
    ("performance an object", person("e1", performance={"a": 1}), "performance", "bad_type", None),
    ("duty a boolean", person("e1", duty=True), "duty", "bad_type", None),
    # A NUL character (PostgreSQL's text cannot hold one), however long the text.
    ("areaName with NUL", person("e1", areaName="北京\x00"), "areaName", "nul_character", ""),
    ("duty with NUL", person("e1", duty="x\x00" * 1500), "duty", "nul_character", None),
]


@pytest.mark.parametrize(
    ("line", "field", "code", "after"),
    [case[1:] for case in JUNK],
    ids=[case[0] for case in JUNK],
)
def test_junk_in_an_optional_field_is_dropped_with_a_warning_and_the_entry_is_published(
    service: ListService, line: dict[str, Any], field: str, code: str, after: Any
) -> None:
    report = ingest(service, person("good", iname="王五"), line)
    assert report.ok and report.accepted == 2, [r.as_dict() for r in report.rejected]
    assert warned(report) == [(2, field, code)]
    warning = report.warnings[0]
    assert chinese(warning.message) and "已忽略该字段" in warning.message, warning.message
    assert report.summary()["warnings"] == 1 and report.summary()["warnedLines"] == 1
    assert report.summary()["rejected"] == 0
    found = service.search({"q": line["iname"]}).items
    assert [doc.id for doc in found] == ["e1"]
    assert api_item(service, "e1")[field] == after


def test_the_warning_says_an_entry_without_validUntil_does_not_expire(
    service: ListService,
) -> None:
    report = ingest(service, person("p1", validUntil="2099-13-45"))
    assert "不会自动到期" in report.warnings[0].message
    assert api_item(service, "p1")["validUntil"] is None


def test_an_overlong_case_text_is_cut_and_marked_not_dropped(service: ListService) -> None:
    report = ingest(service, person("p1", duty=LONG, unperformPart="八万元"))
    assert warned(report) == [(1, "duty", "truncated")]
    assert "截断" in report.warnings[0].message
    duty = api_item(service, "p1")["duty"]
    assert len(duty) == MAX_TEXT and duty.endswith("…") and LONG.startswith(duty[:-1])
    assert api_item(service, "p1")["unperformPart"] == "八万元"


def test_several_junk_fields_of_one_line_give_one_warning_each(service: ListService) -> None:
    report = ingest(service, person("p1", sexy="未知", age="老", regDate="x", cardNum="，"))
    assert report.ok
    assert sorted(w.field for w in report.warnings) == ["age", "cardNum", "regDate", "sexy"]
    assert report.summary()["warnings"] == 4 and report.summary()["warnedLines"] == 1
    item = api_item(service, "p1")
    assert (item["sexy"], item["age"], item["regDate"], item["cardNum"]) == (None,) * 4


def test_a_junk_card_of_an_organization_is_dropped_when_the_legal_representative_says_org(
    service: ListService,
) -> None:
    line = org("o1", cardNum="，", partyTypeName=None)  # only businessEntity is left
    report = ingest(service, line)
    assert warned(report) == [(1, "cardNum", "unrecognized_identifier")]
    assert api_item(service, "o1")["partyType"] == "org"


def test_an_unknown_party_type_word_is_dropped_when_the_card_decides(
    service: ListService,
) -> None:
    report = ingest(service, person("p1", partyTypeName="外星人"))
    assert warned(report) == [(1, "partyTypeName", "bad_party_type")]
    assert api_item(service, "p1")["partyTypeName"] == "自然人"


def test_junk_sex_and_age_are_no_evidence_of_a_person(service: ListService) -> None:
    """Without a type or a card, a sex word we cannot read does not make a person."""
    line = person("p1", partyTypeName=None, cardNum=None, sexy="？？", age="不详")
    report = ingest(service, line)
    assert [r.code for r in report.rejected] == ["undecidable_party_type"]
    assert report.warnings == []  # a rejected line has no warnings: nothing of it applied


# --- No full ID number in a warning or in the store -----------------------------------------


def test_an_invalid_card_is_never_stored_and_its_warning_is_masked(
    service: ListService,
) -> None:
    typo = one_digit_off(id_number(birth="19700304"))
    report = ingest(service, person("p1", cardNum=typo))
    assert report.warnings[0].value == typo[:10] + "****" + typo[14:]
    assert typo not in orjson.dumps([w.as_dict() for w in report.warnings]).decode()
    with service.store.read() as conn:
        stored = repr(conn.execute(select(events.c.payload)).all())
        stored += repr(conn.execute(select(entries)).all())
    assert typo not in stored and typo[:14] not in stored
    assert api_item(service, "p1")["cardNum"] is None
    assert service.search({"q": "张伟"}).total == 1


def test_a_full_id_number_inside_a_dropped_text_is_masked_in_the_warning(
    service: ListService,
) -> None:
    full = id_number(birth="19650707")
    report = ingest(service, person("p1", gistId=f"{full} " + LONG))
    value = report.warnings[0].value
    assert full not in value and full[:10] + "****" + full[14:] in value
    assert len(value) <= 201  # the echo is cut short


# --- What the Rules require still rejects ----------------------------------------------------

REJECTED: list[tuple[str, dict[str, Any], str]] = [
    ("name too long", person("r1", iname="张" * 201), "too_long"),
    ("no name", person("r1", iname=None), "missing_field"),
    ("no case number", person("r1", caseCode=None), "missing_field"),
    ("bad case number", person("r1", caseCode="京0105执1234"), "bad_case_code"),
    ("no court", person("r1", courtName=None), "missing_field"),
    ("court too long", person("r1", courtName="院" * 201), "too_long"),
    ("bad publish date", person("r1", publishDate="2019-02-30"), "bad_date"),
    ("disclose unreadable", person("r1", disclose="maybe"), "bad_type"),
    ("minor by age", person("r1", age=16), "minor"),
    ("minor by ID", person("r1", cardNum=id_number(birth="20100101"), age=None), "minor"),
    (
        "minor by an ID with a bad checksum",
        person("r1", cardNum=one_digit_off(id_number(birth="20100101"))),
        "minor",
    ),
    (
        "type contradicts the card",
        person("r1", partyTypeName="法人或其他组织"),
        "party_card_mismatch",
    ),
    (
        "junk card and nothing else to decide the type",
        person("r1", cardNum="，", partyTypeName=None, sexy=None, age=None),
        "unrecognized_identifier",
    ),
    ("period ends before publication", person("r1", validUntil="2020-01-01"), "bad_period"),
]


@pytest.mark.parametrize(
    ("line", "code"), [case[1:] for case in REJECTED], ids=[case[0] for case in REJECTED]
)
def test_what_the_rules_require_still_rejects_the_line(
    service: ListService, line: dict[str, Any], code: str
) -> None:
    line = {**line, "sexy": "未知"}  # junk beside the real problem: no warning for it either
    report = ingest(service, person("good", iname="王五"), line)
    assert report.accepted == 1 and [(r.line, r.code) for r in report.rejected] == [(2, code)]
    assert report.warnings == []


@pytest.mark.parametrize(
    "line",
    [
        {"op": "shield", "id": "p1", "effectiveAt": "2024-06-01", "reason": ["x"]},
        {"op": "delete", "id": "p1", "effectiveAt": "soon", "reason": "已履行"},
        {"op": "revoke", "id": "p1", "reason": "错误纳入"},
    ],
    ids=["reason not text", "effectiveAt unreadable", "no effectiveAt"],
)
def test_a_removal_without_what_it_needs_is_rejected(service: ListService, line: dict) -> None:
    ingest(service, person("p1"))
    report = ingest(service, line)
    assert len(report.rejected) == 1 and report.warnings == []
    assert service.search({"q": "张伟"}).total == 1


# --- Corrections ----------------------------------------------------------------------------


def test_a_correction_with_a_junk_field_applies_the_rest_with_a_warning(
    service: ListService,
) -> None:
    ingest(service, person("p1", sexy="男"))
    fix = correction("p1", "2024-01-02T09:00:00+08:00", sexy="不明", performance="部分履行")
    report = ingest(service, fix)
    assert report.ok and warned(report) == [(1, "sexy", "bad_sex")]
    item = api_item(service, "p1")
    assert item["performance"] == "部分履行" and item["sexy"] == "男"  # sex left as it was


def test_a_correction_whose_only_field_is_junk_is_rejected(service: ListService) -> None:
    ingest(service, person("p1"))
    report = ingest(service, correction("p1", "2024-01-02T09:00:00+08:00", regDate="某日"))
    assert [r.code for r in report.rejected] == ["nothing_to_correct"]
    assert "regDate" in report.rejected[0].message and report.warnings == []
    assert api_item(service, "p1")["status"] == "published"  # not "corrected"


# --- Through the whole path: batches, scope, CLI, API, parallel -------------------------------


def test_the_batch_record_counts_the_lines_warned(service: ListService) -> None:
    report = ingest(service, person("p1", sexy="?", age="?"), person("p2", iname="李四"))
    with service.store.read() as conn:
        row = conn.execute(select(batches).where(batches.c.id == report.batch_id)).one()
    assert (row.lines, row.accepted, row.rejected, row.warned) == (2, 2, 0, 1)


def test_a_line_refused_for_another_court_keeps_no_warnings(service: ListService) -> None:
    foreign = person("p2", iname="李四", courtName="上海市浦东新区人民法院", sexy="?")
    report = ingest(service, person("p1", sexy="?"), foreign, court_scope="北京市朝阳区人民法院")
    assert [(r.line, r.code) for r in report.rejected] == [(2, "out_of_scope")]
    assert warned(report) == [(1, "sexy", "bad_sex")]


def test_cli_writes_the_warnings_file_and_the_summary_counts_both(
    tmp_path: Path, database_url: str
) -> None:
    batch = tmp_path / "court.jsonl"
    lines = [person("p1", sexy="未知"), person("p2", iname="李四", regDate="x"), {"op": "x"}]
    batch.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    env = cli_env(make_settings(tmp_path, database_url))
    run = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(batch)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1, run.stderr  # one line rejected
    assert "拒收 1" in run.stdout and "警告 2 条" in run.stdout
    assert "警告：第 1 行（sexy）" in run.stderr and "警告：第 2 行（regDate）" in run.stderr
    warnings_file = tmp_path / "court.jsonl.warnings.jsonl"
    written = [orjson.loads(line) for line in warnings_file.read_bytes().splitlines()]
    assert [(w["line"], w["field"], w["code"], w["value"]) for w in written] == [
        (1, "sexy", "bad_sex", "未知"),
        (2, "regDate", "bad_date", "x"),
    ]
    assert all(chinese(w["message"]) for w in written)
    summary = orjson.loads((tmp_path / "court.jsonl.summary.json").read_bytes())
    assert (summary["accepted"], summary["rejected"]) == (2, 1)
    assert (summary["warnings"], summary["warnedLines"]) == (2, 2)
    assert summary["warningsFile"] == str(warnings_file)

    only_warned = tmp_path / "warned.jsonl"
    only_warned.write_bytes(orjson.dumps(person("p3", iname="赵六", age="老")) + b"\n")
    elsewhere = tmp_path / "out" / "w.jsonl"
    elsewhere.parent.mkdir()
    command = ["import", str(only_warned), "--warnings", str(elsewhere)]
    run = subprocess.run(
        [sys.executable, "-m", "shixin.cli", *command],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr  # warnings alone do not fail the import
    assert orjson.loads(elsewhere.read_bytes().splitlines()[0])["field"] == "age"
    assert str(elsewhere) in run.stdout


def test_the_api_answer_lists_the_warnings_as_documented(settings: Any) -> None:
    from test_openapi import Checker

    from portal import openapi
    from portal.app import create_app

    app = create_app(settings, background=False)
    with TestClient(app) as client:
        token = create_token(app.state.service.store, "北京市高级人民法院信息中心", None)[0]
        body = b"\n".join(
            orjson.dumps(line)
            for line in (person("p1", sexy="未知"), person("p2", iname="李四"), {"op": "x"})
        )
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
        answer = client.post("/api/v1/ingest", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        summary = Checker(openapi.build_document(settings)).response(
            "/api/v1/ingest", "post", answer
        )
        found = client.get("/api/v1/entries", params={"q": "张伟"}).json()["items"]
    assert (summary["accepted"], summary["rejected"]) == (2, 1)
    assert (summary["warnings"], summary["warnedLines"]) == (1, 1)
    assert summary["warningList"] == [
        {
            "line": 1,
            "field": "sexy",
            "code": "bad_sex",
            "message": summary["warningList"][0]["message"],
            "value": "未知",
        }
    ]
    assert [item["id"] for item in found] == ["p1"] and found[0]["sexy"] is None


def test_the_parallel_import_carries_the_warnings_across_the_process_boundary(
    tmp_path: Path,
) -> None:
    from search_index.parallel import ParallelJsonl

    lines = [orjson.dumps(person(f"p{i}", iname=f"钱{i}")) for i in range(6)]
    lines[1] = orjson.dumps(person("w1", iname="钱甲", sexy="未知", cardNum="，"))
    lines[4] = orjson.dumps(correction("p0", "2024-01-02T09:00:00+08:00", age="老", duty="新"))
    typo = one_digit_off(id_number())
    lines.append(orjson.dumps(org("w2", cardNum=typo[:17] + "Z", businessEntity=LONG)))
    outcomes = []
    for name, make in (
        ("inline", lambda svc: jsonl_records(lines)),
        ("worker", lambda svc: ParallelJsonl(lines, svc.settings.id_hash_key.reveal())),
    ):
        service = ListService(make_settings(tmp_path / name, f"sqlite:///{tmp_path}/{name}.db"))
        try:
            report = service.ingest(make(service), source="test")
            found = service.search({"q": "钱甲"}).total
            summary = {k: v for k, v in report.summary().items() if k != "batch"}
            outcomes.append(([w.as_dict() for w in report.warnings], summary, found))
        finally:
            service.close()
    assert outcomes[0] == outcomes[1]
    worker, worker_summary, found = outcomes[1]
    assert found == 1
    assert [(w["line"], w["field"]) for w in worker] == [
        (2, "sexy"),
        (2, "cardNum"),
        (5, "age"),
        (7, "cardNum"),
        (7, "businessEntity"),
    ]
    assert (worker_summary["warnings"], worker_summary["warnedLines"]) == (5, 3)
    assert worker_summary["rejected"] == 0
    assert typo[:17] not in orjson.dumps(worker).decode()
