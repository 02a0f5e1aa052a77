"""One bad line never costs the good ones: dates the list cannot carry in a batch.

``effectiveAt: "0001-01-01"``, ``"9999-12-31T23:59:59-12:00"`` or such a ``publishDate`` once
overflowed deep in the store writes: a 500 from the API, a traceback from ``shixin import``,
and the good lines of the batch lost. Now each such line is refused with a Chinese reason,
and its neighbours are applied and found.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from support import (
    correction,
    id_number,
    iso_days_ago,
    make_settings,
    org,
    person,
    recent_instant,
    removal,
)
from test_api import Portal, jsonl, running  # the portal as the API tests run it

from core.bulk import wire_time
from core.settings import Settings
from search_index.service import ListService

pytestmark = pytest.mark.clock  # date-sensitive: .ci/shifted-clock runs it a year ahead and back

OUT_OF_RANGE = "日期超出合理范围"


def batch() -> tuple[list[Any], dict[int, str], dict[int, str]]:
    """Good lines with absurd dates among them: the lines, the lines that must be refused
    (line number: field) and those whose optional date goes (refused or warned)."""
    lines: list[Any] = [
        person("g1", cardNum=id_number(birth="19700101")),
        person("b-eff-early", effectiveAt="0001-01-01"),
        person("g2", iname="李雷", cardNum=id_number(birth="19750101")),
        person("b-eff-late", effectiveAt="9999-12-31T23:59:59-12:00"),
        person("b-pub-late", publishDate="9999-12-31"),
        org("g3"),
        person("b-pub-early", publishDate="0001-01-01"),
        person("b-pub-ahead", publishDate=iso_days_ago(-400)),
        removal("shield", "g1", effective="0001-01-01"),
        correction("g2", "9999-12-31T23:59:59-12:00", performance="部分履行"),
        correction("g2", recent_instant(3), publishDate="0001-01-01"),
        removal("shield", "g3", effective="0001-01-01T00:00:00+14:00"),
        person("o-valid", iname="韩梅梅", validUntil="9999-12-31"),
        person("o-reg", iname="王芳", regDate="00010101"),
        removal("revoke", "g3"),  # a good removal in the same batch
    ]
    refused = {2: "effectiveAt", 4: "effectiveAt", 5: "publishDate", 7: "publishDate",
               8: "publishDate", 9: "effectiveAt", 10: "effectiveAt", 11: "publishDate",
               12: "effectiveAt"}  # fmt: skip
    optional = {13: "validUntil", 14: "regDate"}
    return lines, refused, optional


def check_refusals(
    rejects: list[dict[str, Any]], warnings: list[dict[str, Any]], expected: tuple
) -> None:
    _, refused, optional = expected
    by_line = {item["line"]: item for item in rejects}
    assert set(by_line) == set(refused) | (set(by_line) & set(optional)), by_line
    for line_no, name in refused.items():
        assert by_line[line_no]["field"] == name, by_line[line_no]
        assert OUT_OF_RANGE in by_line[line_no]["message"], by_line[line_no]
    # An optional date is the parser's call: dropped with a warning, or the line refused;
    # either way the clerk reads why.
    warned = {item["line"]: item for item in warnings}
    for line_no, name in optional.items():
        said = by_line.get(line_no) or warned.get(line_no)
        assert said is not None and said["field"] == name, (line_no, rejects, warnings)
        assert OUT_OF_RANGE in said["message"]


def check_neighbours_applied(service: ListService, optional_refused: set[str]) -> None:
    found = {doc.id for doc in service.search({"perPage": "100"}).items}
    assert {"g1", "g2"} <= found and "g3" not in found  # g3 was revoked by a good line
    assert not found & {"b-eff-early", "b-eff-late", "b-pub-late", "b-pub-early", "b-pub-ahead"}
    assert found >= {"o-valid", "o-reg"} - optional_refused
    assert service.entry("g1").doc.status == "published"  # its absurd shield was refused
    assert service.entry("g2").doc.fields["performance"] == "全部未履行"
    assert service.entry("g2").doc.publish_date.isoformat() == "2023-03-20"
    assert [doc.name for doc in service.search({"q": "李雷"}).items] == ["李雷"]


def cli_env(settings: Settings) -> dict[str, str]:
    """As tests/test_ingest.py's: a ``shixin`` process on the test's store and clock."""
    return {
        "SHIXIN_DATA_DIR": str(settings.data_dir),
        "SHIXIN_DATABASE_URL": settings.database_url,
        "SHIXIN_ID_HASH_KEY": settings.id_hash_key.reveal(),
        "PATH": "/usr/bin:/bin",
        **{k: v for k, v in os.environ.items() if k == "LD_PRELOAD" or k.startswith("FAKETIME")},
    }


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _refused_ids(lines: list[Any], rejects: list[dict[str, Any]]) -> set[str]:
    return {lines[item["line"] - 1]["id"] for item in rejects}


@pytest.fixture
def portal(settings: Settings) -> Iterator[Portal]:
    with running(settings) as p:
        yield p


def test_shixin_import_refuses_absurd_dates_line_by_line(
    settings: Settings, tmp_path: Path
) -> None:
    expected = batch()
    source = tmp_path / "court.jsonl"
    source.write_bytes(jsonl(*expected[0]))
    run = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(source)],
        env=cli_env(settings),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1, run.stderr  # some lines refused, the others applied
    assert "Traceback" not in run.stderr and "Error" not in run.stderr
    assert OUT_OF_RANGE in run.stderr  # the first refusals are printed for the clerk
    rejects = _read_jsonl(Path(f"{source}.rejects.jsonl"))
    warnings = _read_jsonl(Path(f"{source}.warnings.jsonl"))
    check_refusals(rejects, warnings, expected)
    summary = orjson.loads(Path(f"{source}.summary.json").read_bytes())
    assert summary["rejected"] == len(rejects)
    service = ListService(settings)
    try:
        check_neighbours_applied(service, _refused_ids(expected[0], rejects))
    finally:
        service.close()


def test_the_ingest_api_refuses_absurd_dates_line_by_line(portal: Portal) -> None:
    expected = batch()
    response = portal.post_ingest(jsonl(*expected[0]))
    assert response.status_code == 200, response.text  # not a 500: the good lines applied
    body = response.json()
    warnings = body.get("warningList", body.get("warnings", []))
    check_refusals(body["rejects"], warnings if isinstance(warnings, list) else [], expected)
    check_neighbours_applied(portal.service, _refused_ids(expected[0], body["rejects"]))


def test_the_three_process_import_refuses_them_too(tmp_path: Path) -> None:
    from search_index.parallel import ParallelJsonl

    lines, refused, _ = batch()
    service = ListService(make_settings(tmp_path, f"sqlite:///{tmp_path}/store.db"))
    try:
        stream = ParallelJsonl(
            [orjson.dumps(line) for line in lines], service.settings.id_hash_key.reveal()
        )
        report = service.ingest(stream, source="test")
        rejects = [item.as_dict() for item in report.rejected]
        assert set(refused) <= {item["line"] for item in rejects}
        check_neighbours_applied(service, _refused_ids(lines, rejects))
    finally:
        service.close()


def test_a_time_with_no_utc_form_is_pinned_by_the_bulk_writer_not_raised() -> None:
    # Such times never come from the parser any more; one built another way must still not
    # fail a whole batch of rows.
    earliest = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    latest = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12)))
    assert wire_time(earliest) == "0001-01-02 00:00:00.000000"
    assert wire_time(latest) == "9999-12-30 23:59:59.999999"
    assert (
        datetime.fromisoformat(wire_time(latest))
        .replace(tzinfo=UTC)
        .astimezone(timezone(timedelta(hours=14)))
    )  # read back in any zone
