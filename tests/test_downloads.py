"""Files as the national site's downloads come: CSV (UTF-8 with BOM, GB 18030), XLSX and
JSON Lines keyed by its Chinese column labels, without op or id (issue 10, point 3).

Every fixture is made up here (names, case numbers, valid masked identifiers); one test
turns the real records of ``../shared/realdata/`` into labelled files when they exist."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support import credit_code, id_number, make_settings, recent_instant
from test_ingest import cli_env

from core.settings import Settings
from portal.app import create_app
from search_index.downloads import derive_entry_id
from search_index.events import ENTRY_ID
from search_index.ingest import XLSX_TYPE, csv_records, jsonl_records, sniff_format, xlsx_records
from search_index.service import EntryGone, ListService
from search_index.tokens import create_token

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx still works (see test_api.py).
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata" / "national-mirror-50.jsonl"

# The site's columns, in the order of its detail page.
LABELS = [
    "被执行人姓名/名称",
    "性别",
    "年龄",
    "身份证号码/组织机构代码",
    "法定代表人或者负责人姓名",
    "执行法院",
    "省份",
    "执行依据文号",
    "立案时间",
    "案号",
    "做出执行依据单位",
    "生效法律文书确定的义务",
    "被执行人的履行情况",
    "失信被执行人行为具体情形",
    "发布时间",
    "已履行",
    "未履行",
]
# Our keys for the same columns, for turning real records back into labelled files.
KEYS = [
    "iname",
    "sexy",
    "age",
    "cardNum",
    "businessEntity",
    "courtName",
    "areaName",
    "gistId",
    "regDate",
    "caseCode",
    "gistUnit",
    "duty",
    "performance",
    "disruptTypeName",
    "publishDate",
    "performedPart",
    "unperformPart",
]
TITLE = "失信被执行人名单"
QUERY = "查询条件：执行法院＝北京市朝阳区人民法院"


def masked(full: str) -> str:
    return full[:10] + "****" + full[14:]


def person_row(name: str, case: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "被执行人姓名/名称": name,
        "性别": "男性",
        "年龄": "45",
        "身份证号码/组织机构代码": masked(id_number(birth="19780304")),
        "法定代表人或者负责人姓名": "",
        "执行法院": "北京市朝阳区人民法院",
        "省份": "北京",
        "执行依据文号": "(2022)京0105民初5678号",
        "立案时间": "20230115",
        "案号": case,
        "做出执行依据单位": "北京市朝阳区人民法院",
        "生效法律文书确定的义务": "支付货款人民币十万元，\n并支付利息",  # a cell of two lines
        "被执行人的履行情况": "全部未履行",
        "失信被执行人行为具体情形": "有履行能力而拒不履行生效法律文书确定义务",
        "发布时间": "2023年03月20日",
        "已履行": "暂无",
        "未履行": "十万元",
    }
    row.update(over)
    return row


def org_row(name: str, case: str, **over: Any) -> dict[str, Any]:
    return person_row(
        name,
        case,
        **{
            "性别": "",
            "年龄": "0",
            "身份证号码/组织机构代码": credit_code(),
            "法定代表人或者负责人姓名": "周某某",
            **over,
        },
    )


def national_rows() -> list[dict[str, Any]]:
    return [
        person_row("陈晓明", "(2023)京0105执1201号"),
        person_row("林秀英", "（2023）京0105执1202号", 性别="女"),
        org_row("北京某某餐饮有限公司", "(2024)京0105执77号", 发布时间="2024-05-06"),
    ]


# --- Writing the files as the site and Excel write them ----------------------------------------


def header(style: str) -> list[str]:
    """The header row: ``plain`` labels, or ``variants`` with trailing colons and spaces as
    some downloads have them; both with a row-number column we do not read."""
    if style == "plain":
        return ["序号", *LABELS]
    decorated = [f" {label}：" if i % 2 else f"{label}:" for i, label in enumerate(LABELS)]
    return ["序号", *decorated]


def as_csv(rows: list[dict[str, Any]], encoding: str, style: str = "plain") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([TITLE])
    writer.writerow([QUERY])
    writer.writerow(header(style))
    for n, row in enumerate(rows, start=1):
        writer.writerow([n, *(row.get(label, "") for label in LABELS)])
    return out.getvalue().encode(encoding)


def as_xlsx(rows: list[dict[str, Any]], style: str = "plain", typed: bool = True) -> bytes:
    """A workbook like Excel's: a title, a blank row, the header; with ``typed`` the dates
    and ages are date and number cells, as a clerk's Excel makes them."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([TITLE])
    sheet.append([])
    sheet.append(header(style))
    for n, row in enumerate(rows, start=1):
        cells = [row.get(label) for label in LABELS]
        if typed:
            cells = [_typed(label, value) for label, value in zip(LABELS, cells, strict=True)]
        sheet.append([n, *cells])
    book.create_sheet("说明").append(["只读第一个工作表"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _typed(label: str, value: Any) -> Any:
    if label == "发布时间" and isinstance(value, str):
        digits = "".join(ch for ch in value if ch.isdigit())
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    if label == "立案时间" and isinstance(value, str) and value.isdigit():
        return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]))
    if label == "年龄" and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def as_jsonl(rows: list[dict[str, Any]], style: str = "plain") -> bytes:
    labels = header(style)[1:]
    return b"".join(
        orjson.dumps(dict(zip(labels, (row[label] for label in LABELS), strict=True))) + b"\n"
        for row in rows
    )


# name: (file suffix, maker, API content type)
FORMATS: dict[str, tuple[str, Callable[[list[dict[str, Any]]], bytes], str]] = {
    "csv-utf8-bom": (".csv", lambda rows: as_csv(rows, "utf-8-sig"), "text/csv"),
    "csv-gb18030": (".csv", lambda rows: as_csv(rows, "gb18030", "variants"), "text/csv"),
    "xlsx": (".xlsx", as_xlsx, XLSX_TYPE),
    "jsonl-labels": (".jsonl", lambda rows: as_jsonl(rows, "variants"), "application/x-ndjson"),
}


# --- Running an import ------------------------------------------------------------------------


def cli_import(settings: Settings, path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """``shixin import`` in a process of its own: exit status, summary, stderr."""
    run = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(path), *args],
        env=cli_env(settings),
        capture_output=True,
        text=True,
    )
    summary = orjson.loads(path.with_name(path.name + ".summary.json").read_bytes())
    return run.returncode, summary, run.stderr


def cli_rejects(path: Path) -> list[dict[str, Any]]:
    rejects = path.with_name(path.name + ".rejects.jsonl").read_bytes()
    return [orjson.loads(line) for line in rejects.splitlines()]


class Api:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    def ingest(self, body: bytes, content_type: str | None, **headers: str) -> Any:
        sent = {"Authorization": f"Bearer {self.token}", **headers}
        if content_type:
            sent["Content-Type"] = content_type
        return self.client.post("/api/v1/ingest", content=body, headers=sent)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    app = create_app(settings, background=False)
    with TestClient(app) as client:
        yield Api(client, create_token(app.state.service.store, "北京市朝阳区人民法院", None)[0])


def found(service: ListService, rows: list[dict[str, Any]]) -> list[tuple[list[str], list[str]]]:
    """For each row: the ids found by its name and by its case number as written."""
    out = []
    for row in rows:
        by_name = service.search({"q": row["被执行人姓名/名称"], "exact": "1"}).items
        by_case = service.search({"caseCode": row["案号"]}).items
        out.append(([d.id for d in by_name], [d.id for d in by_case]))
    return out


def assert_each_found_once(service: ListService, rows: list[dict[str, Any]]) -> None:
    ids = set()
    for by_name, by_case in found(service, rows):
        assert len(by_name) == 1 and by_name == by_case, (by_name, by_case)
        assert ENTRY_ID.match(by_name[0])
        ids.add(by_name[0])
    assert len(ids) == len(rows)


# --- Each format, through the command line and the API -------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_download_imports_with_shixin_import_and_again_changes_nothing(
    settings: Settings, tmp_path: Path, fmt: str
) -> None:
    suffix, make, _ = FORMATS[fmt]
    rows = national_rows()
    path = tmp_path / f"下载{suffix}"
    path.write_bytes(make(rows))
    status, summary, stderr = cli_import(settings, path)
    assert status == 0, stderr
    assert (summary["lines"], summary["accepted"], summary["rejected"]) == (3, 3, 0)
    status, again, stderr = cli_import(settings, path)
    assert status == 0, stderr
    assert (again["accepted"], again["duplicates"]) == (0, 3)  # nothing new
    service = ListService(settings)
    try:
        assert_each_found_once(service, rows)
        shown = service.search({"q": "陈晓明"}).items[0].to_api()
        assert (shown["sexy"], shown["age"], shown["partyTypeName"]) == ("男", 45, "自然人")
        assert (shown["publishDate"], shown["regDate"]) == ("2023-03-20", "2023-01-15")
        assert shown["duty"] == "支付货款人民币十万元，\n并支付利息"
        company = service.search({"q": "北京某某餐饮有限公司"}).items[0].to_api()
        assert (company["partyTypeName"], company["age"]) == ("法人或其他组织", None)
        assert company["businessEntity"] == "周某某"
    finally:
        service.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_download_imports_through_the_api_and_again_changes_nothing(api: Api, fmt: str) -> None:
    _, make, content_type = FORMATS[fmt]
    rows = national_rows()
    body = make(rows)
    first = api.ingest(body, content_type)
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], first.json()["rejected"]) == (3, 0)
    again = api.ingest(body, content_type).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 0)
    assert_each_found_once(api.client.app.state.service, rows)  # type: ignore[attr-defined]


def test_the_api_tells_the_format_from_the_file_name_or_the_content(api: Api) -> None:
    rows = national_rows()
    xlsx = api.ingest(as_xlsx(rows[:1]), None, **{"X-Filename": "shixin-2026-11.xlsx"}).json()
    csv_body = as_csv(rows[1:2], "gb18030")
    sniffed = api.ingest(csv_body, "application/octet-stream").json()  # no name: the bytes
    jsonl = api.ingest(as_jsonl(rows[2:]), None).json()
    assert [r["accepted"] for r in (xlsx, sniffed, jsonl)] == [1, 1, 1]
    assert_each_found_once(api.client.app.state.service, rows)  # type: ignore[attr-defined]


def test_shixin_import_tells_the_format_from_the_content_when_the_name_does_not(
    settings: Settings, tmp_path: Path
) -> None:
    rows = national_rows()
    for n, body in enumerate((as_xlsx(rows[:1]), as_csv(rows[1:2], "gb18030"))):
        path = tmp_path / f"导出{n}.dat"
        path.write_bytes(body)
        status, summary, stderr = cli_import(settings, path)
        assert status == 0 and summary["accepted"] == 1, stderr
    path = tmp_path / "名单.txt"
    path.write_bytes(as_xlsx(rows[2:]))
    status, summary, stderr = cli_import(settings, path, "--format", "xlsx")
    assert status == 0 and summary["accepted"] == 1, stderr


def test_format_detection_by_type_extension_and_first_bytes() -> None:
    assert sniff_format("名单.XLSX") == "xlsx" and sniff_format("a.csv") == "csv"
    assert sniff_format("a.ndjson") == "jsonl" and sniff_format(None, XLSX_TYPE) == "xlsx"
    assert sniff_format("a.bin", head=b"PK\x03\x04rest") == "xlsx"
    assert sniff_format("a", head=b"\xef\xbb\xbf\r\n  {") == "jsonl"
    assert sniff_format("a.txt", head="被执行人姓名/名称,案号".encode()) == "csv"


# --- Ids for entries that come without one --------------------------------------------------


def test_a_later_download_with_a_changed_field_updates_that_entry(
    settings: Settings, tmp_path: Path
) -> None:
    rows = national_rows()
    first = tmp_path / "十一月.csv"
    first.write_bytes(as_csv(rows, "utf-8-sig"))
    assert cli_import(settings, first)[0] == 0
    rows[1]["被执行人的履行情况"] = "部分未履行"
    rows[1]["已履行"] = "已支付二万元"
    later = tmp_path / "十二月.xlsx"  # another month, another format: the same entries
    later.write_bytes(as_xlsx(rows))
    status, summary, stderr = cli_import(settings, later)
    assert status == 0, stderr
    assert (summary["accepted"], summary["duplicates"]) == (1, 2)
    service = ListService(settings)
    try:
        assert_each_found_once(service, rows)
        item = service.search({"q": "林秀英"}).items[0].to_api()
        assert (item["performance"], item["performedPart"]) == ("部分未履行", "已支付二万元")
        assert item["status"] == "published"
        assert service.search({"q": "陈晓明"}).items[0].to_api()["performance"] == "全部未履行"
    finally:
        service.close()


def test_a_later_download_does_not_bring_back_a_removed_entry(service: ListService) -> None:
    rows = national_rows()
    service.ingest(csv_records(as_csv(rows, "utf-8-sig")), source="test")
    [entry] = service.search({"q": "林秀英"}).items
    shield = {"op": "shield", "id": entry.id, "effectiveAt": recent_instant(), "reason": "已履行"}
    assert service.ingest(jsonl_records([orjson.dumps(shield)]), source="test").ok
    rows[1]["被执行人的履行情况"] = "部分未履行"  # the site's next download still lists it
    report = service.ingest(csv_records(as_csv(rows, "utf-8-sig")), source="test")
    assert (report.accepted, report.duplicates) == (1, 2)
    assert service.search({"q": "林秀英"}).total == 0
    with pytest.raises(EntryGone):
        service.entry(entry.id)


def test_the_id_follows_the_normalized_case_number_name_and_identifier(
    service: ListService,
) -> None:
    row = person_row("陳曉明", "（2023）京0105执1201号")  # traditional, full-width brackets
    same = dict(row, **{"被执行人姓名/名称": "陈晓明 ", "案号": "(2023)京0105执1201号"})
    other = dict(row, **{"身份证号码/组织机构代码": masked(id_number(birth="19800101"))})
    ids = [rec["id"] for _, rec in jsonl_records(as_jsonl([row, same, other]).splitlines())]
    assert ids[0] == ids[1] != ids[2]
    assert all(re.fullmatch(r"d[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}", i) for i in ids)
    assert all(ENTRY_ID.match(i) for i in ids)


def test_a_derived_id_never_holds_a_run_of_digits_that_could_be_an_id_number() -> None:
    # Hex digits are digits 10 times in 16: without the hyphens about one id in 250 would
    # hold 15 or more in a row, and some of those read as an ID number.
    ids = [derive_entry_id(f"(2023)京0105执{n}号", "王某", "") for n in range(3000)]
    assert max(len(run) for i in ids for run in re.findall(r"[0-9]+", i)) <= 8


def test_our_own_header_without_id_and_op_gets_the_same_derived_id(service: ListService) -> None:
    row = person_row("陈晓明", "(2023)京0105执1201号")
    ours = "iname,caseCode,cardNum,courtName,publishDate\n" + ",".join(
        [
            row["被执行人姓名/名称"],
            row["案号"],
            row["身份证号码/组织机构代码"],
            row["执行法院"],
            "2023-03-20",
        ]
    )
    [(_, from_ours)] = list(csv_records(ours.encode()))
    [(_, from_labels)] = list(jsonl_records(as_jsonl([row]).splitlines()))
    assert from_ours["op"] == "publish" and from_ours["id"] == from_labels["id"]


def test_rows_without_name_or_case_number_are_rejected_on_their_spreadsheet_row(
    service: ListService,
) -> None:
    rows = national_rows()
    rows.insert(1, person_row("", "(2023)京0105执1299号"))
    rows.insert(3, person_row("赵某", "  "))
    report = service.ingest(csv_records(as_csv(rows, "utf-8-sig")), source="test")
    # Title, query, header, then one row per entry, whatever lines the cells span.
    assert [(r.line, r.code, r.field) for r in report.rejected] == [
        (5, "missing_field", "iname"),
        (7, "missing_field", "caseCode"),
    ]
    assert "被执行人姓名/名称" in report.rejected[0].message
    assert report.accepted == 3


def test_unknown_columns_are_ignored_and_a_file_without_a_header_is_refused_once(
    service: ListService,
) -> None:
    text = "失信被执行人名单\n说明,请勿修改\n张三,李四\n"
    report = service.ingest(csv_records(text.encode()), source="test")
    assert [(r.line, r.code) for r in report.rejected] == [(1, "no_header")]
    assert "表头" in report.rejected[0].message


def test_tab_separated_text_reads_like_csv(service: ListService) -> None:
    rows = national_rows()
    text = as_csv(rows, "utf-8").decode().replace(",", "\t")  # no cell holds an ASCII comma
    report = service.ingest(csv_records(text.encode("gb18030")), source="test")
    assert report.ok and report.accepted == 3, [r.as_dict() for r in report.rejected]


# --- Encodings and cells that must not be imported -------------------------------------------


def test_bytes_in_neither_utf8_nor_gb18030_get_one_clear_rejection(
    settings: Settings, tmp_path: Path, api: Api
) -> None:
    good = as_csv(national_rows()[:1], "gb18030")
    broken = good + "李某,".encode("gb18030") + b"\xff\xfe\x80\x80\r\n"
    path = tmp_path / "乱码.csv"
    path.write_bytes(broken)
    status, summary, _ = cli_import(settings, path)
    assert status == 1 and (summary["accepted"], summary["rejected"]) == (0, 1)
    [reject] = cli_rejects(path)
    # The file's line as a text editor counts it (the first row's duty spans two lines):
    # no spreadsheet opens such a file.
    assert reject["code"] == "bad_encoding" and reject["line"] == 6
    assert "UTF-8" in reject["message"] and "GB18030" in reject["message"]
    response = api.ingest(broken, "text/csv")
    assert response.status_code == 422
    assert [r["code"] for r in response.json()["rejects"]] == ["bad_encoding"]
    # A JSON Lines line in neither encoding costs only that line.
    lines = as_jsonl(national_rows()[:1]) + b'{"\xe6\xa1\x88\xff": "x"}\n'
    report = api.ingest(lines, "application/x-ndjson").json()
    assert report["accepted"] == 1 and report["rejects"][0]["code"] == "bad_encoding"


def test_a_long_number_cell_in_xlsx_is_rejected_not_imported_wrong(
    settings: Settings, tmp_path: Path, api: Api
) -> None:
    full = id_number(birth="19780304")
    rows = national_rows()
    rows[0]["身份证号码/组织机构代码"] = int(full[:17] + "0")  # what Excel keeps of a typed ID
    path = tmp_path / "数字格式.xlsx"
    path.write_bytes(as_xlsx(rows))
    status, summary, _ = cli_import(settings, path)
    assert status == 1 and (summary["accepted"], summary["rejected"]) == (2, 1)
    [reject] = cli_rejects(path)
    assert (reject["line"], reject["code"], reject["field"]) == (4, "number_lost_digits", "cardNum")
    assert "文本" in reject["message"] and "15" in reject["message"]
    assert full[:10] not in reject["raw"]  # not echoed either
    response = api.ingest(as_xlsx(rows), XLSX_TYPE).json()
    assert response["rejects"][0]["code"] == "number_lost_digits"
    service = api.client.app.state.service  # type: ignore[attr-defined]
    assert service.search({"q": "陈晓明"}).total == 0


def test_xlsx_cells_become_the_text_the_importer_expects() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["案号", "被执行人姓名/名称", "发布时间", "立案时间", "年龄", "身份证号码"])
    sheet.append(
        ["(2023)京0105执5号", "王某", date(2023, 3, 20), datetime(2023, 1, 15), 45.0, 552698531]
    )
    out = io.BytesIO()
    book.save(out)
    [(row_no, record)] = list(xlsx_records(io.BytesIO(out.getvalue())))
    assert row_no == 2
    assert (record["publishDate"], record["regDate"]) == ("2023-03-20", "2023-01-15")
    assert (record["age"], record["cardNum"]) == ("45", "552698531")


def test_a_damaged_xlsx_is_refused_once(service: ListService) -> None:
    report = service.ingest(xlsx_records(io.BytesIO(b"PK\x03\x04not a workbook")), source="t")
    assert [r.code for r in report.rejected] == ["bad_xlsx"]


# --- The real records, as labelled files --------------------------------------------------------


def _real_records() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in REALDATA.read_bytes().splitlines() if line.strip()]


def _labelled(record: dict[str, Any]) -> dict[str, Any]:
    row = {label: record.get(key) for label, key in zip(LABELS, KEYS, strict=True)}
    row["当事人类型"] = record.get("partyTypeName")
    return row


@pytest.mark.skipif(not REALDATA.exists(), reason=f"no real records at {REALDATA}")
def test_real_records_as_labelled_csv_and_xlsx_import_as_their_json_lines_do(
    tmp_path: Path,
) -> None:
    records = _real_records()
    labels = [*LABELS, "当事人类型"]
    rows = [_labelled(record) for record in records]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([TITLE])
    writer.writerow(labels)
    writer.writerows([[row[label] or "" for label in labels] for row in rows])
    book = openpyxl.Workbook()
    book.active.append(labels)
    for row in rows:
        book.active.append([row[label] for label in labels])
    xlsx = io.BytesIO()
    book.save(xlsx)
    (tmp_path / "real.csv").write_bytes(text.getvalue().encode("gb18030"))
    (tmp_path / "real.xlsx").write_bytes(xlsx.getvalue())

    accepted = {}
    for name, make in (
        ("jsonl", lambda: jsonl_records(REALDATA.read_bytes().splitlines())),
        ("csv", lambda: csv_records((tmp_path / "real.csv").read_bytes())),
        ("xlsx", lambda: xlsx_records(io.BytesIO((tmp_path / "real.xlsx").read_bytes()))),
    ):
        service = ListService(make_settings(tmp_path / name, f"sqlite:///{tmp_path}/{name}.db"))
        try:
            report = service.ingest(make(), source="test")
            accepted[name] = report.accepted
            if name != "jsonl":
                again = service.ingest(make(), source="test")
                assert again.accepted == 0 and again.duplicates == report.accepted
        finally:
            service.close()
    assert accepted["csv"] == accepted["jsonl"] == accepted["xlsx"], accepted
