"""Exports as a newspaper or a unit downloads them: the public list filtered like the search,
as CSV that Excel opens, XLSX and JSON Lines, each with its snapshot time, cursor and terms,
demo data marked, and nothing of a removed or never-public entry, no full ID number."""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
from openpyxl import load_workbook
from starlette.exceptions import StarletteDeprecationWarning
from support import KEY, TODAY, id_number, ingest, make_settings, org, person, removal

from portal.app import create_app
from portal.translations import FIELD_LABELS
from search_index.exports import export_filter, public_entries, snapshot
from search_index.service import ListService
from shixin.cli import main

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ID_ZHANG = id_number("110105", "19800101", "123")
ID_LI = id_number("440106", "19900220", "345")
ID_WANG = id_number("110108", "19750615", "234")
FULL_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def seed(service: ListService) -> None:
    ingest(
        service,
        person("zw", cardNum=ID_ZHANG, publishDate="2023-03-20"),
        person(
            "sh",
            iname="王上海",
            cardNum=ID_LI,
            caseCode="(2024)沪0115执9号",
            courtName="上海市浦东新区人民法院",
            areaName="上海",
            publishDate="2024-06-01",
        ),
        org("abc", publishDate="2024-05-06"),
        person("gone", iname="赵移除", caseCode="(2020)京0105执7号", cardNum=ID_WANG),
        person("secret", iname="王秘密", caseCode="(2020)京0105执8号", disclose=False),
    )
    ingest(service, removal("shield", "gone"))


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Any:
    settings = make_settings(tmp_path, database_url, SHIXIN_RATE_LIMIT_ENABLED="0")
    with TestClient(create_app(settings, background=False)) as client:
        seed(client.app.state.service)
        yield client


def read_csv(body: bytes) -> tuple[str, list[dict[str, str]]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    lines = body.decode("utf-8-sig").splitlines(keepends=True)
    meta = next(csv.reader(lines[:1]))[0]
    return meta, list(csv.DictReader(lines[1:]))


def test_csv_opens_with_the_sites_labels_the_terms_and_the_cursor(client: Any) -> None:
    answer = client.get("/api/v1/export")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    meta, rows = read_csv(answer.content)
    assert meta.startswith("# snapshotAt=") and answer.headers["x-feed-cursor"] in meta
    assert "最高人民法院关于公布失信被执行人名单信息的若干规定" in meta
    assert "不得用于营利" in meta and "三个工作日内" in meta
    assert sorted(r["条目编号"] for r in rows) == ["abc", "sh", "zw"]
    zhang = next(r for r in rows if r["条目编号"] == "zw")
    assert zhang[FIELD_LABELS["iname"]] == "张伟"
    assert zhang[FIELD_LABELS["courtName"]] == "北京市朝阳区人民法院"
    assert "****" in zhang["证件号码（身份证号码已打码）"]

    english = client.get("/api/v1/export", params={"keys": "en"}).content
    _, rows = read_csv(english)
    assert {r["id"]: r["iname"] for r in rows}["sh"] == "王上海"


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"region": "上海"}, ["abc", "sh"]),
        ({"court": "朝阳区"}, ["zw"]),
        ({"partyType": "org"}, ["abc"]),
        ({"publishedFrom": "2024-01-01", "publishedTo": "2024年05月31日"}, ["abc"]),
        ({"region": "上海", "partyType": "person"}, ["sh"]),
    ],
)
def test_filters_read_like_the_search(client: Any, params: dict[str, str], ids: list[str]) -> None:
    body = client.get("/api/v1/export", params={**params, "format": "jsonl"}).content
    lines = [orjson.loads(line) for line in body.splitlines()]
    assert "meta" in lines[0]
    assert sorted(line["id"] for line in lines[1:]) == ids


def test_bad_filters_are_refused_in_the_users_language(client: Any) -> None:
    for params in (
        {"publishedFrom": "2024-13-01"},
        {"partyType": "robot"},
        {"format": "pdf"},
        {"keys": "fr"},
        {"page": "2"},
    ):
        answer = client.get("/api/v1/export", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["code"] == "bad_query"


def test_xlsx_has_the_list_and_a_sheet_with_the_terms(client: Any) -> None:
    answer = client.get("/api/v1/export", params={"format": "xlsx"})
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    assert book.sheetnames == ["名单", "说明"]
    rows = list(book["名单"].values)
    assert rows[0][:4] == ("条目编号", "状态", "案号", "姓名或名称")
    assert sorted(r[0] for r in rows[1:]) == ["abc", "sh", "zw"]
    about = dict(book["说明"].values)
    assert about["cursor"] == answer.headers["x-feed-cursor"]
    assert "三个工作日内" in about["terms"] and about["demo"] == "false"


def test_no_export_carries_a_removed_or_never_public_entry_or_a_full_id(client: Any) -> None:
    texts = []
    for fmt in ("csv", "jsonl"):
        texts.append(client.get("/api/v1/export", params={"format": fmt}).content.decode())
    book = load_workbook(
        io.BytesIO(client.get("/api/v1/export", params={"format": "xlsx"}).content)
    )
    texts.append(repr([list(sheet.values) for sheet in book]))
    for text in texts:
        for secret in ("赵移除", "王秘密", "(2020)京0105执7号", "gone", "secret", ID_WANG):
            assert secret not in text
        assert not FULL_ID.findall(text)
        assert "张伟" in text


def test_a_demo_sites_exports_say_they_are_demo_data(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, SHIXIN_DEMO="1")
    service = ListService(settings)
    try:
        seed(service)
        _, body = service.export({}, "jsonl")
        meta = orjson.loads(b"".join(body).splitlines()[0])["meta"]
        assert meta["demo"] is True and "演示数据" in meta["note"]
        _, body = service.export({}, "csv")
        assert "演示数据" in b"".join(body).decode("utf-8-sig").splitlines()[0]
    finally:
        service.close()


def test_an_export_is_one_point_in_time(service: ListService) -> None:
    """A change made while an export is being read is not in it; the cursor tells the
    mirror to pick it up from the feed."""
    ingest(service, *(person(f"p{i:02}", caseCode=f"(2023)京0105执{i}号") for i in range(30)))
    with snapshot(service.store, demo=False) as (snap, conn):
        rows = public_entries(conn, export_filter({}), TODAY, batch=5)
        ids = [next(rows)["id"] for _ in range(5)]
        ingest(service, removal("delete", "p29"), person("late", caseCode="(2023)京0105执99号"))
        ids += [row["id"] for row in rows]
    assert "p29" in ids and "late" not in ids and len(ids) == 30
    changes = service.changes(snap.cursor).events
    assert {(e["type"], e["id"]) for e in changes} == {("removed", "p29"), ("published", "late")}


def test_the_command_line_writes_the_same_exports_and_the_snapshot(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    settings = make_settings(tmp_path, database_url)
    service = ListService(settings)
    try:
        seed(service)
    finally:
        service.close()
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHIXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("SHIXIN_ID_HASH_KEY", KEY)
    out = tmp_path / "shanghai.csv"
    assert main(["export", "--region", "上海", "-o", str(out)]) == 0
    _, rows = read_csv(out.read_bytes())
    assert sorted(r["条目编号"] for r in rows) == ["abc", "sh"]
    assert main(["export", "--publishedFrom", "2024-13-01"]) != 0
    assert "publishedFrom" in capsys.readouterr().err
    assert main(["snapshot"]) == 0
    [snap] = (settings.data_dir / "snapshots").glob("*.jsonl")
    assert len(snap.read_bytes().splitlines()) == 4  # the meta line and three entries
    assert snap.with_name(snap.name + ".sha256").exists()
