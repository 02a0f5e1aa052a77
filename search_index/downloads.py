"""Files downloaded from the national site: its Chinese column labels, and entry ids for them.

The national platform (and every unit that re-sends its downloads) writes the list as CSV,
XLSX or JSON Lines keyed by the labels of its detail page (被执行人姓名/名称, 案号, 执行法院, …),
often under a title row, and without our ``op`` and ``id``. Here a header row in either
style is found, each row becomes an ingest record under our keys, and a row without an id
gets one derived from what identifies the entry (see ``derive_entry_id``), so re-importing
a file changes nothing and a later download of the same entries updates them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from search_index.events import PLACEHOLDERS, PUBLISH, Rejection
from search_index.identifiers import normalize_identifier
from search_index.normalize import CaseCodeError, fold_width, normalize_case_code, normalize_name
from search_index.types import CASE_FIELDS

Record = tuple[int, Any]  # (line or row number, record or a Rejection), as in ingest.py

# The national site's labels (and the variants units type) for our ingest keys.
LABELS: dict[str, str] = {
    **dict.fromkeys(
        (
            "被执行人姓名/名称",
            "被执行人姓名",
            "被执行人名称",
            "被执行人",
            "姓名/名称",
            "姓名",
            "名称",
        ),
        "iname",
    ),
    "性别": "sexy",
    "年龄": "age",
    **dict.fromkeys(
        (
            "身份证号码/组织机构代码",
            "身份证号码/统一社会信用代码",
            "身份证号码/组织机构代码/统一社会信用代码",
            "证件号码",
            "身份证号码",
            "身份证号",
            "组织机构代码",
            "统一社会信用代码",
        ),
        "cardNum",
    ),
    **dict.fromkeys(
        ("法定代表人或者负责人姓名", "法定代表人或负责人姓名", "法定代表人"), "businessEntity"
    ),
    "执行法院": "courtName",
    **dict.fromkeys(("省份", "地域", "地区"), "areaName"),
    "执行依据文号": "gistId",
    **dict.fromkeys(("立案时间", "立案日期"), "regDate"),
    **dict.fromkeys(("案号", "执行案号"), "caseCode"),
    **dict.fromkeys(("做出执行依据单位", "作出执行依据单位"), "gistUnit"),
    "生效法律文书确定的义务": "duty",
    **dict.fromkeys(("被执行人的履行情况", "履行情况"), "performance"),
    "失信被执行人行为具体情形": "disruptTypeName",
    **dict.fromkeys(("发布时间", "发布日期"), "publishDate"),
    **dict.fromkeys(("已履行", "已履行部分"), "performedPart"),
    **dict.fromkeys(("未履行", "未履行部分"), "unperformPart"),
    **dict.fromkeys(("当事人类型", "被执行人类型"), "partyTypeName"),
}

# Our own keys, accepted in a header as well (in any letter case).
INGEST_KEYS: tuple[str, ...] = (
    "op",
    "id",
    "iname",
    "caseCode",
    "cardNum",
    "courtName",
    "areaName",
    "partyTypeName",
    "publishDate",
    "regDate",
    "validUntil",
    "severity",
    "disclose",
    "effectiveAt",
    "reason",
    *CASE_FIELDS,
)
_KEYS_BY_LOWER = {key.lower(): key for key in INGEST_KEYS}

HEADER_SEARCH_ROWS = 30  # title and query-condition rows above the header, at most
_LABEL_STRIP = dict.fromkeys(map(ord, " \t\r\n\u3000\u200b\ufeff"))
ID_DIGEST_CHARS = 24
ID_GROUP = 8  # hex digits between hyphens: no run of digits can be 15 long


def header_key(cell: object) -> str | None:
    """The ingest key a header cell names, None for a column we do not read. Spaces, a
    trailing colon (``案号：``) and full-width forms are tolerated."""
    if not isinstance(cell, str):
        return None
    label = fold_width(cell.translate(_LABEL_STRIP)).rstrip(":")
    return LABELS.get(label) or _KEYS_BY_LOWER.get(label.lower())


def header_keys(cells: Sequence[object]) -> list[str | None] | None:
    """The keys of a header row, None when ``cells`` is not one: a header has at least two
    known columns, and most of its non-empty cells are known (a title row such as
    "失信被执行人名单" or a row of query conditions is not)."""
    keys = [header_key(cell) for cell in cells]
    filled = sum(1 for cell in cells if cell is not None and str(cell).strip())
    known = sum(1 for key in keys if key is not None)
    return keys if known >= 2 and known * 2 > filled else None


# --- Rows to records ------------------------------------------------------------------------


class BadCell:
    """A cell whose value must not be imported (see ``search_index.xlsx``): the row it is in
    is rejected with ``code`` and ``message``."""

    __slots__ = ("code", "message")

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message


def table_records(
    rows: Iterable[tuple[int, Sequence[Any]]], *, extra_cells_are_errors: bool
) -> Iterator[Record]:
    """Records from numbered rows: those above the header are skipped, blank ones too.
    ``extra_cells_are_errors``: a filled cell right of the last header column rejects its
    row (CSV: a stray comma shifts every later column); else it is an unnamed column."""
    numbered = iter(rows)
    header = _find_header(numbered)
    if header is None:
        yield (
            1,
            Rejection(
                "no_header",
                "找不到表头：前 30 行中没有一行是列名"
                "（如 被执行人姓名/名称、案号、执行法院、发布时间，"
                "或 iname、caseCode、courtName、publishDate）",
            ),
        )
        return
    for row_no, cells in numbered:
        if not any(_filled(cell) for cell in cells):
            continue
        if extra_cells_are_errors and any(_filled(c) for c in cells[len(header) :]):
            yield row_no, Rejection("bad_csv", "这一行的列数多于表头", line_text=_echo(cells))
            continue
        yield row_no, _row_record(header, cells)


def _find_header(rows: Iterator[tuple[int, Sequence[Any]]]) -> list[str | None] | None:
    """The keys of the first header row among the first rows; the rows before it (a title,
    the query conditions) are consumed with it."""
    for seen, (_, cells) in enumerate(rows, start=1):
        keys = header_keys(cells)
        if keys is not None:
            return keys
        if seen >= HEADER_SEARCH_ROWS:
            return None
    return None


def _row_record(header: Sequence[str | None], cells: Sequence[Any]) -> Any:
    record: dict[str, Any] = {}
    for key, cell in zip(header, cells, strict=False):
        if key is None:
            continue
        if isinstance(cell, BadCell):
            return Rejection(cell.code, cell.message, key, line_text=_echo(cells))
        value = cell.strip() if isinstance(cell, str) else cell
        if value is None or value == "":
            record.setdefault(key, None)
        elif record.get(key) is None:  # two columns for one key: the first filled one wins
            record[key] = value
    return with_publish_defaults(record)


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _echo(cells: Sequence[Any]) -> str:
    shown = ["（无法导入的单元格）" if isinstance(c, BadCell) else c for c in cells]
    return orjson.dumps(shown, default=str).decode()


def relabel(obj: dict[str, Any]) -> Any:
    """A JSON Lines object keyed by the site's labels, as an ingest record (or a Rejection);
    an object without any non-ASCII key is ours and comes back as it is."""
    if all(key.isascii() for key in obj):
        return obj
    record: dict[str, Any] = {}
    for label, value in obj.items():
        key = header_key(label)
        if key is not None and _blank(record.get(key)):
            record[key] = value
    return with_publish_defaults(record)


# --- Entry ids for files that carry none -----------------------------------------------------


def with_publish_defaults(record: dict[str, Any]) -> Any:
    """What a downloaded row leaves out: ``op`` is ``publish``, and a publish without an id
    gets the derived one. Returns the record, or a Rejection when no id can be derived."""
    if _blank(record.get("op")):
        record["op"] = PUBLISH
    if record["op"] == PUBLISH and _blank(record.get("id")):
        try:
            record["id"] = entry_id_for(record)
        except Rejection as exc:
            exc.line_text = orjson.dumps(record, default=str).decode()
            return exc
    return record


def entry_id_for(record: dict[str, Any]) -> str:
    """The derived id of a record: its case number and name are required for a publish
    anyway, so a line without them is rejected for the same reason the parser would give."""
    name = _required(record, "iname", "被执行人姓名/名称")
    try:
        case_code = normalize_case_code(_required(record, "caseCode", "案号"))
    except CaseCodeError as exc:
        raise Rejection("bad_case_code", exc.message, "caseCode") from exc
    card = record.get("cardNum")
    identifier = "" if _blank(card) else normalize_identifier(str(card))
    if not any(ch.isalnum() for ch in identifier):  # junk such as "，" identifies nothing
        identifier = ""
    return derive_entry_id(case_code, normalize_name(name), identifier)


def derive_entry_id(case_code: str, name: str, identifier: str) -> str:
    """``d`` + the first 24 hex digits of SHA-256 over the normalized case number, name and
    identifier joined by U+001F, in groups of 8 joined by ``-``: ``d3f9a1c2e-7b0d4e15-99aa0c3b``.
    The hyphens keep any run of digits short: an id must never read as an ID number
    (``search_index.redact.contains_id_number`` refuses one, letters around it or not).
    Documented in README ("Files downloaded from the national site"): change it only with a
    migration, or every re-imported file makes new entries."""
    digest = hashlib.sha256("\x1f".join((case_code, name, identifier)).encode()).hexdigest()
    return "d" + "-".join(digest[i : i + ID_GROUP] for i in range(0, ID_DIGEST_CHARS, ID_GROUP))


def _required(record: dict[str, Any], key: str, label: str) -> str:
    value = record.get(key)
    text = "" if value is None else str(value).strip()
    if not text:
        raise Rejection("missing_field", f"缺少必填字段 {key}（{label}）", key)
    return text


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in PLACEHOLDERS)
