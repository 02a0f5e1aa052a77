"""Screening a list of counterparties: upload a CSV or XLSX at /screening, follow the job's
page while the background rounds match it, download the result as CSV and XLSX.

The real app on the parametrized store, with the casework site's entries plus a few of our
own; the background round is run by hand (``run``), as the portal's loop or
``shixin screening run`` would run it. What is asserted is what the uploader sees: the
pages, the errors and the result files opened with the csv module and openpyxl.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from casework_site import CaseSite, case_site, token
from openpyxl import Workbook, load_workbook
from site_support import full_ids_in
from sqlalchemy import select
from support import KEY, credit_code, id_number, org, person, removal

from portal.screening_pages import ANONYMOUS_FILES, ANONYMOUS_ROWS, UNIT_ROWS
from screening.jobs import Screenings
from screening.tables import screening_rows, screenings

ID_WANG = id_number("110105", "19800101", "611")
ID_GONE = id_number("110105", "19800101", "622")
ID_STRANGER = id_number("440106", "19900220", "633")
CODE_ACME = credit_code("MA000611")
JOB_URL = re.compile(r"^/screening/([A-Za-z0-9_-]{20,})$")

if TYPE_CHECKING:
    from starlette.testclient import TestClient


@pytest.fixture(name="cs")  # tests/test_screening_api.py uses it too
def screening_site(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    with case_site(tmp_path, database_url) as site:
        site.site.publish(
            person("w1", iname="王建国", cardNum=ID_WANG, caseCode="(2024)京0105执611号"),
            person("w2", iname="王建国", cardNum=id_number(), caseCode="(2024)京0105执612号"),
            person("gone", iname="赵已删", cardNum=ID_GONE, caseCode="(2024)京0105执613号"),
            org("acme", iname="北京阿克米贸易有限公司", cardNum=CODE_ACME),
        )
        site.site.publish(removal("delete", "gone"))
        yield site


def jobs(cs: CaseSite) -> Screenings:
    return cs.site.app.state.screenings


def upload(
    client: TestClient, filename: str, data: bytes, path: str = "/screening", **params: str
) -> Any:
    query = "".join(f"&{k}={v}" for k, v in params.items()).replace("&", "?", 1)
    page = token(client, "/screening" + query)
    return client.post(
        path + query,
        data={"csrf_token": page},
        files=[("file", (filename, data, "application/octet-stream"))],
        follow_redirects=False,
    )


def started(client: TestClient, filename: str, data: bytes) -> str:
    """Upload; the job page's address."""
    response = upload(client, filename, data)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert JOB_URL.match(location), location
    return location


def screened(cs: CaseSite, filename: str, data: bytes) -> str:
    url = started(cs.client, filename, data)
    jobs(cs).run()
    return url


def csv_result(client: TestClient, url: str) -> list[list[str]]:
    response = client.get(url + "/result.csv")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())  # Excel reads the Chinese
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def xlsx_result(client: TestClient, url: str) -> list[list[str]]:
    response = client.get(url + "/result.xlsx")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [[cell or "" for cell in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


def as_csv(rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue()


def as_xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CHINESE_ROWS = [
    ["姓名/名称", "证件号码", "备注"],
    ["王建国", ID_WANG, "客户-001"],
    ["北京阿克米贸易有限公司", CODE_ACME, "客户-002"],
    ["王建", "", "客户-003"],
    ["赵已删", ID_GONE, "客户-004"],
    ["陌生人", ID_STRANGER, "客户-005"],
    ["王建国", ID_WANG[:17] + ("0" if ID_WANG[17] != "0" else "1"), "客户-006"],
    ["", "", "客户-007"],
]
# row number -> the status the result file shows (the header is row 1)
CHINESE_STATUS = {
    "2": "证件号码一致",
    "3": "证件号码一致",
    "4": "名称部分一致",
    "5": "未匹配",  # removed: never matched
    "6": "未匹配",
    "7": "无法核对",  # wrong check character
    "8": "无法核对",  # no name
}


def by_row(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row for row in rows[1:]}


# --- Reading the file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, data",
    [
        ("list.csv", as_csv(CHINESE_ROWS).encode("utf-8")),
        ("list.csv", as_csv(CHINESE_ROWS).encode("utf-8-sig")),
        ("list.csv", as_csv(CHINESE_ROWS).encode("gb18030")),
        ("list.xlsx", as_xlsx(CHINESE_ROWS)),
    ],
    ids=["utf8", "bom", "gb18030", "xlsx"],
)
def test_a_list_in_any_encoding_or_as_xlsx_is_screened_row_by_row(
    cs: CaseSite, filename: str, data: bytes
) -> None:
    url = screened(cs, filename, data)
    page = cs.client.get(url)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert 'http-equiv="refresh"' not in page.text  # done: no more refreshing
    assert "已核对 7 / 7 行" in page.text
    assert "证件号码一致：2 行" in page.text and "无法核对：2 行" in page.text
    bad = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", page.text)
    assert bad == [("7", "身份证号码校验位不对"), ("8", "缺少姓名或名称")]
    for rows in (csv_result(cs.client, url), xlsx_result(cs.client, url)):
        assert rows[0][:5] == ["行号", "姓名/名称", "证件号码", "备注", "匹配结果"]
        table = by_row(rows)
        assert {no: row[4] for no, row in table.items()} == CHINESE_STATUS
        wang = table["2"]
        assert wang[2] == ID_WANG[:10] + "****" + ID_WANG[14:]  # masked
        assert wang[3] == "客户-001"
        assert wang[5].split("；")[0] == "(2024)京0105执611号"
        assert "/entries/w1" in wang[7] and "/entries/w2" in wang[7]  # the namesake too
        assert table["3"][2] == CODE_ACME  # codes are public
        assert "gone" not in "".join(table["5"])
        assert table["7"][8] == "身份证号码校验位不对"


def test_english_headers_and_an_english_user_get_english_results(cs: CaseSite) -> None:
    rows = [["Name", "ID", "Ref"], ["王建国", ID_WANG, "c1"], ["Nobody Ltd", "", "c2"]]
    url = started(cs.client, "list.xlsx", as_xlsx(rows))
    jobs(cs).run()
    cs.client.get("/screening?lang=en")
    page = cs.client.get(url)
    assert "2 of 2 rows checked" in page.text and "Same identifier: 1 rows" in page.text
    assert "批量核对结果" not in page.text
    result = xlsx_result(cs.client, url)
    assert result[0][:5] == ["Row", "Name", "Identifier", "Reference", "Match"]
    assert [row[4] for row in result[1:]] == ["identifier", "none"]


def test_a_job_not_yet_done_shows_its_progress_and_refreshes(cs: CaseSite) -> None:
    url = started(cs.client, "list.csv", as_csv(CHINESE_ROWS).encode())
    page = cs.client.get(url)
    assert "已核对 0 / 7 行" in page.text
    assert '<meta http-equiv="refresh" content="3">' in page.text
    assert "<script" not in page.text
    assert cs.client.get(url + "/result.csv").status_code == 404  # nothing to download yet


def test_a_job_half_done_resumes_after_a_restart(cs: CaseSite) -> None:
    url = started(cs.client, "list.csv", as_csv(CHINESE_ROWS).encode())
    assert jobs(cs).run(batch=2, limit=3) == 3  # the worker stops after 3 rows
    assert "已核对 3 / 7 行" in cs.client.get(url).text
    # A new process: a fresh Screenings over the same store goes on from row 4.
    fresh = Screenings(cs.site.service, "another-process", timedelta(hours=24))
    assert fresh.run(batch=2) == 4
    assert "已核对 7 / 7 行" in cs.client.get(url).text
    assert by_row(csv_result(cs.client, url))["2"][4] == "证件号码一致"


# --- Privacy ---------------------------------------------------------------------------------


def stored(cs: CaseSite) -> str:
    with cs.site.service.store.read() as conn:
        jobs_rows = conn.execute(select(screenings)).all()
        rows = conn.execute(select(screening_rows)).all()
    return repr(jobs_rows) + repr(rows)


def test_no_full_id_number_is_stored_shown_or_written(cs: CaseSite) -> None:
    rows = [*CHINESE_ROWS, [f"备注里有 {ID_STRANGER}", ID_STRANGER, f"身份证 {ID_WANG}"]]
    url = screened(cs, f"{ID_WANG}.csv", as_csv(rows).encode())
    assert full_ids_in(stored(cs)) == []
    assert ID_WANG not in stored(cs) and ID_STRANGER not in stored(cs)
    assert full_ids_in(cs.client.get(url).text) == []
    assert full_ids_in(as_csv(csv_result(cs.client, url))) == []
    assert full_ids_in(as_csv(xlsx_result(cs.client, url))) == []


def test_the_token_is_the_only_way_to_a_job(cs: CaseSite) -> None:
    url = screened(cs, "list.csv", as_csv(CHINESE_ROWS).encode())
    job_token = url.rsplit("/", 1)[1]
    assert job_token not in stored(cs)  # only its hash
    other = cs.browser()
    assert other.get("/screening/" + "A" * len(job_token)).status_code == 404
    assert job_token not in cs.client.get("/screening").text  # never listed


def test_retention_deletes_the_job_and_its_rows(cs: CaseSite) -> None:
    url = screened(cs, "list.csv", as_csv(CHINESE_ROWS).encode())
    later = datetime.now(UTC) + timedelta(hours=25)
    assert jobs(cs).sweep(now=datetime.now(UTC)) == 0
    assert jobs(cs).sweep(now=later) == 1
    assert cs.client.get(url).status_code == 404
    assert cs.client.get(url + "/result.xlsx").status_code == 404
    with cs.site.service.store.read() as conn:
        assert conn.execute(select(screening_rows)).all() == []
        assert conn.execute(select(screenings)).all() == []


# --- Budgets and errors ----------------------------------------------------------------------


def names(count: int) -> bytes:
    return as_csv([["name"], *([f"某某{i}"] for i in range(count))]).encode()


def test_an_anonymous_upload_is_small_and_a_unit_may_screen_more(cs: CaseSite) -> None:
    response = upload(cs.client, "big.csv", names(ANONYMOUS_ROWS + 1))
    assert response.status_code == 400
    assert f"未登录时一次最多 {ANONYMOUS_ROWS} 行" in response.text
    unit = cs.login("tourism")
    assert f"最多 {UNIT_ROWS} 行" in unit.get("/unit/screening").text
    response = upload(unit, "big.csv", names(ANONYMOUS_ROWS + 1), path="/unit/screening")
    assert response.status_code == 303
    assert unit.get(response.headers["location"]).status_code == 200


def test_the_units_upload_needs_a_login(cs: CaseSite) -> None:
    response = cs.client.get("/unit/screening", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/unit/login"


def test_an_anonymous_client_has_a_few_files_a_day(cs: CaseSite) -> None:
    for _ in range(ANONYMOUS_FILES):
        assert upload(cs.client, "l.csv", names(1)).status_code == 303
    response = upload(cs.client, "l.csv", names(1))
    assert response.status_code == 429
    assert "今天的上传次数已用完" in response.text


@pytest.mark.parametrize(
    "filename, data, zh, en",
    [
        ("list.pdf", b"%PDF-1.4", "文件类型不对", "Wrong file type"),
        ("list.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "文件类型不对", "Wrong file type"),
        ("list.csv", b"\xff\xfe\x00\x00junk\n\xff\xff", "无法识别文件的编码（第 1 行）", "line 1"),
        (
            "list.csv",
            as_csv([["公司", "电话"], ["x", "y"]]).encode(),
            "找不到姓名或名称一列",
            "No name",
        ),
        ("list.xlsx", b"PK\x03\x04 not really a zip", "无法读取这个 Excel 文件", "cannot be read"),
        ("list.csv", b"name\n\n", "文件中没有要核对的行", "no rows"),
    ],
    ids=["pdf", "xls", "encoding", "no-name", "bad-xlsx", "empty"],
)
def test_a_file_that_cannot_be_screened_says_why_in_the_users_language(
    cs: CaseSite, filename: str, data: bytes, zh: str, en: str
) -> None:
    response = upload(cs.client, filename, data)
    assert response.status_code == 400 and zh in response.text
    response = upload(cs.client, filename, data, lang="en")
    assert response.status_code == 400 and en in response.text


def test_an_xlsx_that_would_unpack_huge_is_refused_unread(cs: CaseSite) -> None:
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (80 << 20))
    response = upload(cs.client, "bomb.xlsx", buffer.getvalue())
    assert response.status_code == 400 and "解压后过大" in response.text


def test_an_upload_without_the_form_token_is_refused(cs: CaseSite) -> None:
    response = cs.client.post(
        "/screening", files=[("file", ("l.csv", names(1), "text/csv"))], follow_redirects=False
    )
    assert response.status_code == 403
    with cs.site.service.store.read() as conn:
        assert conn.execute(select(screenings)).all() == []


def test_shixin_screening_run_matches_the_due_jobs(
    cs: CaseSite,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shixin.cli import main

    url = started(cs.client, "list.csv", as_csv(CHINESE_ROWS).encode())
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHIXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("SHIXIN_ID_HASH_KEY", KEY)
    assert main(["screening", "run", "--batch", "3"]) == 0
    assert "核对 7 行" in capsys.readouterr().out
    assert "已核对 7 / 7 行" in cs.client.get(url).text
