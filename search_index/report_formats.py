"""A quarterly report as CSV or XLSX: the same numbers as its page, one row per court and
per region, and the total.

The CSV starts with a UTF-8 byte-order mark (Excel otherwise reads UTF-8 as the local code
page) and one ``#`` line saying which quarter and when it was frozen, as the list's exports
do (``export_formats``). Reports are small (a row per court), so both are built whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping

from search_index.dates import CST
from search_index.quarterly import COUNT_KEYS, Counts
from search_index.reports import QuarterReport

BOM = "\ufeff"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
# The columns' Chinese labels: the page shows the same ones.
COUNT_LABELS = {
    "listed": "新纳入",
    "shielded": "屏蔽",
    "revoked": "撤销",
    "deleted": "删除",
    "expired": "期满移出",
    "ours_on_time": "本网站按时移除",
    "ours_late": "本网站超期移除",
    "senders_late": "报送时已超期",
    "corrected": "更正",
}
SCOPES = {"total": "合计", "court": "法院", "region": "地区"}
# Every label a download uses, Chinese; the portal hands in their translation.
LABELS = {"scope": "范围", "name": "名称", **COUNT_LABELS, **SCOPES}


def report_rows(report: QuarterReport) -> Iterator[tuple[str, str, Counts]]:
    """(scope, name, counts): the total, then each court, then each region."""
    yield "total", "", report.total
    for court, counts in report.by_court:
        yield "court", court, counts
    for region, counts in report.by_region:
        yield "region", region, counts


def meta_line(report: QuarterReport) -> str:
    frozen = report.frozen_at.astimezone(CST).isoformat(timespec="seconds")
    return f"# quarter={report.quarter.key}；frozenAt={frozen}"


def headers(labels: Mapping[str, str] | None) -> list[str]:
    """The header row: the labels (the site's, in the reader's language), or the keys."""
    names = ["scope", "name", *COUNT_KEYS]
    return [labels.get(k, k) if labels else k for k in names]


def table(report: QuarterReport, labels: Mapping[str, str] | None) -> list[list[object]]:
    scope_names = labels or {}
    return [
        [scope_names.get(scope, scope), name, *(getattr(counts, k) for k in COUNT_KEYS)]
        for scope, name, counts in report_rows(report)
    ]


def csv_bytes(report: QuarterReport, labels: Mapping[str, str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([meta_line(report)])
    writer.writerow(headers(labels))
    writer.writerows(table(report, labels))
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(report: QuarterReport, labels: Mapping[str, str] | None = None) -> bytes:
    from openpyxl import Workbook  # a second's import: only for those who ask for XLSX

    book = Workbook(write_only=True)
    sheet = book.create_sheet(report.quarter.key)
    sheet.append(headers(labels))
    for row in table(report, labels):
        sheet.append(row)
    about = book.create_sheet("说明")
    about.append(["quarter", report.quarter.key])
    about.append(["frozenAt", report.frozen_at.astimezone(CST).isoformat(timespec="seconds")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
