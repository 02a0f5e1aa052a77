"""Ingest: every op, every rejection reason, idempotent re-import, crash and rerun."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from support import (
    correction,
    id_number,
    ingest,
    make_settings,
    names,
    org,
    person,
    records,
    removal,
)

from core.settings import Settings
from search_index.ingest import Ingestor, csv_records, jsonl_records
from search_index.service import EntryGone, EntryNotFound, ListService
from search_index.tables import entries, events

# --- Each op ----------------------------------------------------------------------------


def test_publish_makes_an_entry_searchable_with_masked_id(service: ListService) -> None:
    full = id_number(birth="19750615")
    report = ingest(service, person("p1", cardNum=full))
    assert report.ok and report.accepted == 1
    page = service.search({"q": "张伟"})
    assert names(page) == ["张伟"]
    item = page.items[0].to_api()
    assert item["cardNum"] == full[:10] + "****" + full[14:]
    assert item["status"] == "published" and item["validUntil"] == "2099-03-20"
    assert item["partyTypeName"] == "自然人" and item["regDate"] == "2023-01-15"


def test_correct_changes_fields_keeps_entry_public_with_history(service: ListService) -> None:
    ingest(service, person("p1"))
    ingest(service, correction("p1", "2024-01-02T09:00:00+08:00", performance="部分履行"))
    view = service.entry("p1")
    assert view.doc.status == "corrected"
    assert view.doc.fields["performance"] == "部分履行"
    assert view.history[-1]["op"] == "correct" and view.history[-1]["fields"] == ["performance"]


@pytest.mark.parametrize("op", ["shield", "delete", "revoke"])
def test_removal_ops_take_entry_off_every_read_path(service: ListService, op: str) -> None:
    ingest(service, person("p1"), person("p2", iname="张伟民"))
    report = ingest(service, removal(op, "p1"))
    assert report.ok
    assert names(service.search({"q": "张伟"})) == ["张伟民"]
    with pytest.raises(EntryGone):
        service.entry("p1")
    assert service.index.get("p1") is None


def test_never_public_entry_is_stored_but_never_indexed(service: ListService) -> None:
    ingest(service, person("p1", disclose=False))
    assert service.search({"q": "张伟"}).total == 0
    with pytest.raises(EntryNotFound):  # indistinguishable from an unknown id
        service.entry("p1")
    with service.store.read() as conn:
        assert conn.execute(select(entries.c.status)).scalar() == "never_public"


def test_correction_to_disclose_false_removes_a_public_entry(service: ListService) -> None:
    ingest(service, person("p1"))
    ingest(service, correction("p1", "2024-01-02", disclose=False))
    assert service.search({"q": "张伟"}).total == 0
    assert service.compliance().total == 1


def test_organization_with_credit_code_and_inferred_type(service: ListService) -> None:
    line = org("o1")
    del line["partyTypeName"]  # inferred from the credit code
    assert ingest(service, line).ok
    item = service.search({"cardNum": line["cardNum"]}).items[0].to_api()
    assert item["partyType"] == "org" and item["cardNum"] == line["cardNum"]


def test_person_type_inferred_from_sex_and_age_without_card(service: ListService) -> None:
    line = person("p1", cardNum=None, partyTypeName=None)
    assert ingest(service, line).ok
    assert service.search({"q": "张伟"}).items[0].party_type == "person"


@pytest.mark.parametrize("form", ["2019-07-13", "20190713", "2019年07月13日"])
def test_accepted_date_forms(service: ListService, form: str) -> None:
    ingest(service, person("p1", publishDate=form))
    assert service.entry("p1").doc.publish_date.isoformat() == "2019-07-13"


def test_masked_id_accepted_and_matched_by_masked_query(service: ListService) -> None:
    ingest(service, person("p1", cardNum="3423011964****3224"))
    assert names(service.search({"cardNum": "3423011964****3224"})) == ["张伟"]


# --- Rejections -------------------------------------------------------------------------


def _bad(**over: object) -> dict:
    line = person("bad1")
    line.update(over)
    return {k: v for k, v in line.items() if v is not None}


# Only the card could tell the party type: a bad one rejects the line (with a type or other
# evidence it is dropped with a warning instead, see tests/test_ingest_warnings.py).
ONLY_THE_CARD = {"partyTypeName": None, "sexy": None, "age": None}

# Junk in an optional field (regDate, sexy, age, ...) is a warning, not a rejection: see
# tests/test_ingest_warnings.py.
REJECTIONS = [
    ("not json", "bad_json"),
    ([1, 2], "not_an_object"),
    ({"op": "frobnicate", "id": "x"}, "unknown_op"),
    (_bad(id="has space"), "bad_id"),
    (_bad(id=None), "bad_id"),
    (_bad(iname=None), "missing_field"),
    (_bad(courtName="  "), "missing_field"),
    (_bad(publishDate=None), "missing_field"),
    (_bad(caseCode="京0105执1234"), "bad_case_code"),
    (_bad(publishDate="2019-02-30"), "bad_date"),
    (
        _bad(
            cardNum=id_number()[:-1] + "0" if not id_number().endswith("0") else "1",
            **ONLY_THE_CARD,
        ),
        "bad_id_checksum",
    ),
    (_bad(cardNum="12345", **ONLY_THE_CARD), "unrecognized_identifier"),
    (_bad(cardNum="91110000802100433C", **ONLY_THE_CARD), "bad_credit_code_checksum"),
    (_bad(partyTypeName="外星人", cardNum=None, sexy=None, age=None), "bad_party_type"),
    (_bad(partyTypeName=None, cardNum=None, sexy=None, age=None), "undecidable_party_type"),
    (_bad(partyTypeName="法人或其他组织"), "party_card_mismatch"),
    (_bad(age=16), "minor"),
    (_bad(cardNum=id_number(birth="20100101")), "minor"),
    (_bad(validUntil="2020-01-01"), "bad_period"),
    (_bad(disclose="maybe"), "bad_type"),
    (_bad(iname="张" * 201), "too_long"),
    (_bad(iname=["张伟"]), "bad_type"),
    (_bad(iname="张\x00伟"), "nul_character"),  # PostgreSQL cannot store it
    (_bad(courtName="北京市朝阳区人民法院\x00"), "nul_character"),
    (
        {"op": "shield", "id": "p1", "effectiveAt": "2026-01-01", "reason": "已\x00履行"},
        "nul_character",
    ),
    ({"op": "shield", "id": "p1", "reason": "已履行"}, "missing_field"),
    ({"op": "revoke", "id": "p1", "effectiveAt": "2026-01-01"}, "missing_field"),
    ({"op": "delete", "id": "p1", "effectiveAt": "soon", "reason": "x"}, "bad_date"),
    ({"op": "correct", "id": "p1", "fields": {}}, "nothing_to_correct"),
]


@pytest.mark.parametrize(("line", "code"), REJECTIONS, ids=[c for _, c in REJECTIONS])
def test_each_rejection_reason_is_reported_with_line_and_chinese_message(
    service: ListService, line: object, code: str
) -> None:
    raw = line if isinstance(line, str) else orjson.dumps(line).decode()
    body = "\n".join([orjson.dumps(person("good1")).decode(), raw]).encode()
    report = service.ingest(jsonl_records(body.splitlines()), source="test")
    assert report.accepted == 1  # the good line still applies
    assert [(r.line, r.code) for r in report.rejected] == [(2, code)]
    message = report.rejected[0].message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_bad_lines_do_not_stop_good_ones_and_blank_lines_are_skipped(service: ListService) -> None:
    body = b"\n".join(
        [
            orjson.dumps(person("a", iname="甲")),
            b"",
            b"{oops",
            orjson.dumps(person("b", iname="乙")),
        ]
    )
    report = service.ingest(jsonl_records(body.splitlines()), source="test")
    assert report.accepted == 2 and [r.line for r in report.rejected] == [3]
    assert sorted(names(service.search({"partyType": "person"}))) == ["乙", "甲"]


# --- Idempotency and ordering -------------------------------------------------------------


def test_importing_the_same_batch_twice_changes_nothing(service: ListService) -> None:
    ingest(service, org("o1"))
    batch = [person("p1"), correction("p1", "2024-01-01", duty="新义务"), removal("shield", "o1")]
    first = ingest(service, *batch)
    with service.store.read() as conn:
        before = conn.execute(select(entries).order_by(entries.c.id)).all()
    second = ingest(service, *batch)
    with service.store.read() as conn:
        after = conn.execute(select(entries).order_by(entries.c.id)).all()
        event_count = conn.execute(select(func.count()).select_from(events)).scalar()
    assert first.accepted == 3 and second.accepted == 0 and second.duplicates == 3
    assert before == after and event_count == 4
    assert service.compliance().total == 1


def test_stale_correction_never_overwrites_a_newer_correction(service: ListService) -> None:
    ingest(service, person("p1"))
    ingest(service, correction("p1", "2024-06-01", performance="全部履行"))
    ingest(service, correction("p1", "2024-03-01", performance="部分履行"))  # older, arrives later
    assert service.entry("p1").doc.fields["performance"] == "全部履行"


def test_stale_correction_does_not_resurrect_a_removed_entry(service: ListService) -> None:
    ingest(service, person("p1"))
    ingest(service, removal("revoke", "p1", "2024-06-01T00:00:00+08:00"))
    ingest(service, correction("p1", "2024-03-01", performance="部分履行"))
    with pytest.raises(EntryGone):
        service.entry("p1")
    assert service.search({"q": "张伟"}).total == 0


def test_removal_that_arrives_before_its_publish_still_wins(service: ListService) -> None:
    ingest(service, removal("shield", "p1", "2024-06-01T00:00:00+08:00"))
    ingest(service, person("p1"))  # published 2023-03-20, before the shield took effect
    with pytest.raises(EntryGone):
        service.entry("p1")
    assert service.search({"q": "张伟"}).total == 0


def test_republication_after_removal_is_public_again(service: ListService) -> None:
    ingest(service, person("p1"))
    ingest(service, removal("shield", "p1", "2024-06-01T00:00:00+08:00"))
    ingest(service, person("p1", publishDate="2025-01-01", caseCode="(2025)京0105执9号"))
    assert service.entry("p1").doc.case_code == "(2025)京0105执9号"


# --- Crash and rerun ----------------------------------------------------------------------


def test_crash_between_journal_and_apply_loses_nothing(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    batch = [person(f"p{i}", iname=f"张{i}") for i in range(12)]
    service = ListService(settings)
    try:
        monkeypatch.setattr("search_index.ingest.CHUNK", 5)

        def crash(lines_read: int) -> None:
            if lines_read >= 10:
                raise KeyboardInterrupt("power cut")

        monkeypatch.setattr(Ingestor, "after_chunk", staticmethod(crash))
        with pytest.raises(KeyboardInterrupt):
            service.ingest(records(*batch), source="test")
        monkeypatch.setattr(Ingestor, "after_chunk", None)
        rerun = service.ingest(records(*batch), source="test")
        assert rerun.ok and rerun.duplicates == 10 and rerun.accepted == 2
        assert service.search({"partyType": "person", "perPage": "50"}).total == 12
    finally:
        service.close()


def test_killed_import_process_is_finished_by_a_rerun(tmp_path: Path, database_url: str) -> None:
    """A real process killed mid-import (os._exit after the first chunk is journaled)."""
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(b"\n".join(orjson.dumps(person(f"k{i}", iname=f"李{i}")) for i in range(30)))
    settings = make_settings(tmp_path, database_url)
    env = cli_env(settings)
    script = (
        "import os, sys\n"
        "import search_index.ingest as ing\n"
        "ing.CHUNK = 10\n"
        "ing.Ingestor.after_chunk = staticmethod(lambda n: os._exit(137) if n >= 20 else None)\n"
        "from shixin.cli import main\n"
        "sys.exit(main(['import', sys.argv[1]]))\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, str(batch)], env=env, capture_output=True
    )
    assert killed.returncode == 137
    rerun = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(batch)], env=env, capture_output=True
    )
    assert rerun.returncode == 0, rerun.stderr.decode()
    service = ListService(settings)
    try:
        assert service.search({"partyType": "person", "perPage": "50"}).total == 30
    finally:
        service.close()


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment a ``shixin`` process needs to work on the same store as the test."""
    return {
        "SHIXIN_DATA_DIR": str(settings.data_dir),
        "SHIXIN_DATABASE_URL": settings.database_url,
        "SHIXIN_ID_HASH_KEY": settings.id_hash_key.reveal(),
        "PATH": "/usr/bin:/bin",
        # Under .ci/shifted-clock the command must live on the tests' clock.
        **{k: v for k, v in os.environ.items() if k == "LD_PRELOAD" or k.startswith("FAKETIME")},
    }


# --- CSV ------------------------------------------------------------------------------------


def test_csv_publish_batch_with_bom_and_a_bad_row(service: ListService) -> None:
    good = person("c1")
    header = [
        "id",
        "caseCode",
        "iname",
        "cardNum",
        "sexy",
        "age",
        "courtName",
        "areaName",
        "publishDate",
    ]
    rows = [
        ",".join(header),
        ",".join(str(good[h]) for h in header),
        "c2,(2023)京0105执9号,王芳,,女,17,北京市朝阳区人民法院,北京,2023-01-01",
    ]
    data = ("\ufeff" + "\n".join(rows) + "\n").encode()
    report = service.ingest(csv_records(data), source="test")
    assert report.accepted == 1
    assert [(r.line, r.code) for r in report.rejected] == [(3, "minor")]
    assert names(service.search({"q": "张伟"})) == ["张伟"]


def test_gb18030_csv_from_older_systems_is_read(service: ListService) -> None:
    data = (
        "id,caseCode,iname,courtName,publishDate,partyTypeName\n"
        "g1,(2023)京0105执9号,赵六,北京市朝阳区人民法院,2023-01-01,自然人\n"
    )
    report = service.ingest(csv_records(data.encode("gb18030")), source="test")
    assert report.ok and names(service.search({"q": "赵六"})) == ["赵六"]


# --- The command line -------------------------------------------------------------------------


def test_cli_import_writes_rejects_and_summary_and_exit_status(
    tmp_path: Path, database_url: str
) -> None:
    batch = tmp_path / "court.jsonl"
    batch.write_bytes(orjson.dumps(person("p1")) + b"\nnot json\n")
    settings = make_settings(tmp_path, database_url)
    env = cli_env(settings)
    run = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(batch)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "拒收 1" in run.stdout and "第 2 行" in run.stderr
    rejects = [
        orjson.loads(line)
        for line in (tmp_path / "court.jsonl.rejects.jsonl").read_bytes().splitlines()
    ]
    assert rejects[0]["line"] == 2 and rejects[0]["code"] == "bad_json"
    assert rejects[0]["raw"] == "not json"  # the clerk sees which line it was
    assert "JSON" in rejects[0]["message"] and "第 1 个字符" in rejects[0]["message"]
    summary = orjson.loads((tmp_path / "court.jsonl.summary.json").read_bytes())
    assert summary["accepted"] == 1 and summary["rejected"] == 1 and len(summary["sha256"]) == 64

    good = tmp_path / "good.jsonl"
    good.write_bytes(orjson.dumps(org("o1")) + b"\n")
    run = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(good)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(tmp_path / "nope.jsonl")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "找不到文件" in missing.stderr


# --- Parsing on a second core ------------------------------------------------------------------


def test_parallel_parse_gives_the_same_result_as_in_process(tmp_path: Path) -> None:
    from search_index.parallel import ParallelJsonl

    lines = [orjson.dumps(person(f"p{i}", iname=f"钱{i}")) for i in range(12)]
    lines[3] = b"{broken"
    lines[7] = orjson.dumps(person("minor", age=12))
    lines.insert(5, b"")
    outcomes = []
    for name, make in (
        ("inline", lambda svc: jsonl_records(lines)),
        ("worker", lambda svc: ParallelJsonl(lines, svc.settings.id_hash_key.reveal())),
    ):
        service = ListService(make_settings(tmp_path / name, f"sqlite:///{tmp_path}/{name}.db"))
        try:
            report = service.ingest(make(service), source="test")
            with service.store.read() as conn:
                keys = conn.execute(select(events.c.event_key).order_by(events.c.id)).all()
            found = service.search({"q": "钱", "perPage": "50"}).total
            rejects = [(r.line, r.code) for r in report.rejected]
            outcomes.append((report.lines, report.accepted, rejects, keys, found))
        finally:
            service.close()
    assert outcomes[0] == outcomes[1]
    lines_read, accepted, rejects, _, found = outcomes[0]
    assert (lines_read, accepted, found) == (12, 10, 10)
    assert rejects == [(4, "bad_json"), (9, "minor")]


# --- The bulk path for first publications --------------------------------------------------


def _store_contents(service: ListService) -> dict[str, object]:
    """Everything an import decides, without what differs between runs (times of receipt,
    batch ids) or only orders rows (ids, sequence numbers)."""
    from search_index.tables import removals

    with service.store.read() as conn:
        keys = dict(conn.execute(select(events.c.id, events.c.event_key)).all())
        journal = sorted(
            (r.event_key, r.entry_id, r.op, r.effective_at, r.source, r.line_no, r.payload)
            for r in conn.execute(select(events))
        )
        rows = sorted(
            tuple(v for k, v in r._mapping.items() if k != "seq")
            for r in conn.execute(select(entries))
        )
        proofs = sorted(
            (r.entry_id, keys[r.event_id], r.kind, r.reason, r.effective_at, r.deadline)
            for r in conn.execute(select(removals))
        )
    return {"journal": journal, "entries": rows, "removals": proofs}


def test_bulk_path_for_first_publications_writes_what_the_general_path_writes(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Demo data (publications, corrections, removals, never-public entries, entries whose
    period is over) in two batches, then the whole file again: parsed in a worker (which
    prepares first publications for the bulk path) and in process (the general path)."""
    from search_index import firstpub
    from search_index.demo import write_demo_file
    from search_index.parallel import ParallelJsonl

    bulk_written: list[int] = []
    write = firstpub._write

    def counting_write(conn, items, **kw):  # type: ignore[no-untyped-def]
        bulk_written.append(len(items))
        write(conn, items, **kw)

    monkeypatch.setattr(firstpub, "_write", counting_write)

    demo = tmp_path / "demo.jsonl"
    write_demo_file(demo, 400, seed=3)
    lines = demo.read_bytes().splitlines()
    half = len(lines) // 2
    batches = [lines[:half], lines[half:], lines]
    outcomes = []
    for name, parallel in (("general", False), ("bulk", True)):
        url = database_url if name == "bulk" else f"sqlite:///{tmp_path}/general.db"
        service = ListService(make_settings(tmp_path / name, url))
        try:
            reports = []
            for batch in batches:
                key = service.settings.id_hash_key.reveal()
                stream = ParallelJsonl(batch, key) if parallel else jsonl_records(batch)
                report = service.ingest(stream, source="court")
                counts = (report.lines, report.accepted, report.duplicates, len(report.rejected))
                reports.append(counts)
            outcomes.append((reports, _store_contents(service)))
        finally:
            service.close()
    (general_reports, general), (bulk_reports, bulk) = outcomes
    assert general_reports == bulk_reports
    assert general_reports[2][1] == 0  # the whole file again: nothing new
    assert general == bulk
    # Most publications took the bulk path; the rest (entries with several events in a
    # batch) the general one.
    assert 200 < sum(bulk_written) < general_reports[0][1] + general_reports[1][1]


@pytest.mark.clock
def test_large_import_indexes_alongside_and_serves_exactly_the_public_entries(
    tmp_path: Path, database_url: str
) -> None:
    """The command's path for large files (parsing in a worker, index sync in a third
    process), forced on a small demo file in two batches: afterwards the index has caught
    up, serves every public entry and no other, and every removal is confirmed."""
    from search_index.dates import today_cst
    from search_index.demo import write_demo_file
    from search_index.entries import servable_clause

    demo = tmp_path / "demo.jsonl"
    write_demo_file(demo, 300, seed=5)
    settings = make_settings(tmp_path, database_url)
    script = (
        "import sys\n"
        "import shixin.cli as cli\n"
        "cli.PARALLEL_BYTES = 0\n"
        "sys.exit(cli.main(['import', sys.argv[1]]))\n"
    )
    lines = demo.read_bytes().splitlines(keepends=True)
    # Which demo removals cross the split depends on the day the demo is dated from, so one
    # entry is published in the first batch and shielded in the second on every day.
    first = [*lines[: len(lines) // 2], orjson.dumps(person("crossing")) + b"\n"]
    second = [*lines[len(lines) // 2 :], orjson.dumps(removal("shield", "crossing")) + b"\n"]
    for part, chunk in enumerate((first, second)):
        batch = tmp_path / f"part{part}.jsonl"
        batch.write_bytes(b"".join(chunk))
        done = subprocess.run(
            [sys.executable, "-c", script, str(batch)], env=cli_env(settings), capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode()
    service = ListService(settings)
    try:
        with service.store.read() as conn:
            public = set(
                conn.execute(select(entries.c.id).where(servable_clause(today_cst()))).scalars()
            )
            removed = set(
                conn.execute(
                    select(entries.c.id).where(entries.c.ever_public, ~servable_clause(today_cst()))
                ).scalars()
            )
        assert service.health()["indexLag"] == 0
        assert public and removed
        assert not service.index.present(sorted(removed))
        assert service.index.present(sorted(public)) == public
        report = service.compliance()
        assert report.total > 0 and report.pending == 0 and report.confirmed == report.total
        for entry_id in sorted(removed)[:5]:
            with pytest.raises(EntryGone):
                service.entry(entry_id)
    finally:
        service.close()


def test_an_undecodable_line_is_echoed_with_any_full_id_number_masked(
    service: ListService,
) -> None:
    full = id_number(birth="19750615")
    broken = b'{"op": "publish", "id": "p1", "cardNum": "' + full.encode() + b'", '
    report = service.ingest(jsonl_records([broken]), source="test")
    [rejection] = report.rejected
    assert rejection.code == "bad_json"
    assert full not in rejection.raw
    assert full[:10] + "****" + full[14:] in rejection.raw
