"""The result file of a screening, as CSV (UTF-8 with a BOM, so that Excel reads the
Chinese) or XLSX: the uploaded rows in their order, each with how it matched and the matched
entries' case numbers, courts and links. Identifiers are shown as the job keeps them (an ID
number masked). The file echoes what the uploader typed, so every cell passes
``core.formula_guard``: a name that a spreadsheet would take for a formula (``=``, ``+``,
``-``, ``@``, tab, CR or LF first) is written with a leading apostrophe and cannot run.

``result_file`` writes a file once, on its first download, and serves the kept copy after
that (``Screenings.result_path``; the sweep deletes it with the job).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import threading
from collections.abc import Mapping, Sequence

from core.formula_guard import text_cell
from screening.jobs import ResultRow, Screenings

HEADERS = {
    "zh": ["行号", "姓名/名称", "证件号码", "备注", "匹配结果", "案号", "执行法院", "链接", "问题"],
    "en": [
        "Row",
        "Name",
        "Identifier",
        "Reference",
        "Match",
        "Case numbers",
        "Courts",
        "Links",
        "Problem",
    ],
}
STATUS = {
    "zh": {
        "identifier": "证件号码一致",
        "name": "姓名或名称一致",
        "partial": "名称部分一致",
        "none": "未匹配",
        "error": "无法核对",
    },
    "en": {
        "identifier": "identifier",
        "name": "name",
        "partial": "partial",
        "none": "none",
        "error": "not checked",
    },
}
MORE = {"zh": "（另有更多，请在网站上查询）", "en": " (more: search the site)"}


def table(
    rows: Sequence[ResultRow], lang: str, base_url: str, errors: Mapping[str, str]
) -> list[list[str]]:
    """The file's cells, header first. ``errors`` words a row's error code."""
    lang = lang if lang in HEADERS else "zh"
    out = [HEADERS[lang]]
    for row in rows:
        status = "error" if row.error else (row.best or "none")
        more = MORE[lang] if row.more else ""
        out.append(
            [
                str(row.row_no),
                row.name,
                row.card or "",
                row.ref or "",
                STATUS[lang][status],
                "；".join(m["caseCode"] for m in row.matches) + more,
                "；".join(dict.fromkeys(m["courtName"] for m in row.matches)),
                " ".join(f"{base_url}/entries/{m['id']}" for m in row.matches),
                errors.get(row.error, row.error) if row.error else "",
            ]
        )
    return [[text_cell(cell) for cell in line] for line in out]


def result_file(
    jobs: Screenings,
    token: str,
    kind: str,
    lang: str,
    base_url: str,
    errors: Mapping[str, str],
    client: str | None = None,
) -> bytes | None:
    """The finished job's result as ``kind`` (csv or xlsx) bytes; None for no such job, one
    not yet finished, or (with ``client``) another client's."""
    progress = jobs.progress(token, client=client, summary=False)
    if progress is None or not progress.finished or kind not in ("csv", "xlsx"):
        return None
    lang = lang if lang in HEADERS else "zh"
    site = hashlib.sha256(base_url.encode()).hexdigest()[:12]
    path = jobs.result_path(token, f"{lang}-{site}.{kind}")
    if path.exists():
        return path.read_bytes()
    rows = jobs.results(token, client=client)
    if rows is None:
        return None
    cells = table(rows, lang, base_url, errors)
    body = to_csv(cells) if kind == "csv" else to_xlsx(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(
        f"{path.name}.{os.getpid()}-{threading.get_ident()}.part"
    )  # never a half file served
    partial.write_bytes(body)
    partial.replace(path)
    return body


def to_csv(cells: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(cells)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(cells: list[list[str]]) -> bytes:
    from openpyxl import Workbook  # only a download pays for importing openpyxl

    book = Workbook(write_only=True)
    sheet = book.create_sheet("screening")
    for line in cells:
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
