"""Reading an uploaded list of counterparties: a CSV or XLSX with a name column and,
optionally, an identifier and a reference column, one counterparty a row.

CSV is decoded as the national site's downloads are (``search_index.spreadsheets``: strict
UTF-8 with or without a BOM, else strict GB 18030, else refused naming the line). XLSX is
read with openpyxl in read-only mode, first worksheet only, after a look at the zip's
directory: a file that would unpack to more than ``MAX_XLSX_UNPACKED`` (a zip bomb, or a
sheet far larger than any list of 10,000 rows) is refused before anything is unpacked.

The header is the first of the first ``HEADER_ROWS`` rows with a name column we know, in
Chinese or English. A row that cannot be matched (no name, an invalid identifier) does not
fail the file: it is kept with its error and reported in the result.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from screening.queries import MatchQuery, QueryInputError, read_query
from search_index.spreadsheets import UnreadableFile, cell_text, csv_rows, decode_text

HEADER_ROWS = 10
MAX_COLUMNS = 50  # cells read of a row: a list of counterparties has a few
MAX_XLSX_UNPACKED = 64 << 20  # bytes: 10,000 rows of a few columns unpack to about 2 MB
MAX_XLSX_MEMBERS = 200

NAME, CARD, REF = "name", "card", "ref"
LOST_DIGITS = "\x00lost"  # a number cell too long to be exact (spreadsheets.cell_text)
# Header labels, compared without spaces, case, width or a trailing colon.
LABELS = {
    NAME: (
        "姓名/名称",
        "姓名",
        "名称",
        "被执行人姓名/名称",
        "被执行人",
        "企业名称",
        "单位名称",
        "客户名称",
        "公司名称",
        "name",
        "iname",
    ),
    CARD: (
        "证件号码",
        "身份证号码",
        "身份证号",
        "统一社会信用代码",
        "组织机构代码",
        "身份证号码/组织机构代码",
        "证件号码/统一社会信用代码",
        "id",
        "identifier",
        "idnumber",
        "cardnum",
        "creditcode",
    ),
    REF: ("备注", "编号", "客户编号", "参考号", "ref", "reference", "note"),
}
_LABEL_OF = {
    label.replace(" ", "").lower(): column for column, labels in LABELS.items() for label in labels
}


class UploadError(ValueError):
    """The file as a whole cannot be screened: ``code`` and what the message needs
    (``line``, ``limit``, ``rows``). The portal words it in the user's language."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class UploadRow:
    row_no: int  # as the spreadsheet numbers it
    query: MatchQuery | None  # None: the row cannot be matched
    name: str  # as given (the error rows' too), before masking
    ref: str | None
    error: str | None = None  # QueryInputError code
    error_field: str | None = None


def read_upload(filename: str, data: bytes, max_rows: int) -> list[UploadRow]:
    """The rows of the file, or UploadError: ``wrong_type``, ``bad_encoding`` (``line``),
    ``bad_xlsx``, ``too_large``, ``no_name_column``, ``no_rows``, ``too_many_rows``."""
    rows = _table(filename, data)
    header_no, columns = _header(rows)
    out: list[UploadRow] = []
    for row_no, cells in rows:
        if row_no <= header_no:
            continue
        values = {col: _text(cells, i) for col, i in columns.items()}
        if not any(values.values()):
            continue  # a blank line
        if len(out) >= max_rows:
            raise UploadError("too_many_rows", limit=max_rows)
        out.append(_row(row_no, values))
    if not out:
        raise UploadError("no_rows")
    return out


def read_rows(items: Sequence[tuple[str, str | None, str | None]]) -> list[UploadRow]:
    """Rows given as (name, identifier, reference), numbered from 1: a list sent through
    the API rather than as a file. A row that cannot be matched is kept with its error, as
    in a file."""
    rows = []
    for row_no, (name, card, ref) in enumerate(items, start=1):
        values = {NAME: (name or "").strip(), CARD: (card or "").strip(), REF: (ref or "").strip()}
        rows.append(_row(row_no, values))
    return rows


def _row(row_no: int, values: dict[str, str]) -> UploadRow:
    name, card, ref = values.get(NAME, ""), values.get(CARD) or None, values.get(REF) or None
    if card == LOST_DIGITS:  # an ID number typed into a number cell: Excel cut it
        return UploadRow(row_no, None, name, ref, "number_lost_digits", "cardNum")
    try:
        return UploadRow(row_no, read_query(name, card, ref), name, ref)
    except QueryInputError as exc:
        return UploadRow(row_no, None, name, ref, exc.code, exc.field)


def _table(filename: str, data: bytes) -> list[tuple[int, list[Any]]]:
    lower = filename.lower()
    if data.startswith(b"PK\x03\x04"):
        return list(_xlsx_rows(data))
    if lower.endswith((".xlsx", ".xlsm", ".xls")) or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadError("wrong_type")  # an old binary .xls, or not a spreadsheet at all
    if not lower.endswith((".csv", ".txt", ".tsv")):
        raise UploadError("wrong_type")
    try:
        text = decode_text(data)
    except UnreadableFile as exc:
        raise UploadError("bad_encoding", line=exc.line) from None
    return [(no, cells[:MAX_COLUMNS]) for no, cells in csv_rows(text)]


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # only an XLSX upload pays for importing openpyxl

    stream = io.BytesIO(data)
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise UploadError("bad_xlsx") from None
    if len(members) > MAX_XLSX_MEMBERS or sum(m.file_size for m in members) > MAX_XLSX_UNPACKED:
        raise UploadError("too_large")
    try:
        book = load_workbook(stream, read_only=True, data_only=True, keep_links=False)
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some tools write a wrong size: read what is there
        for row_no, values in enumerate(
            sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
        ):
            yield row_no, [cell_text(value) for value in values]
        book.close()
    except UploadError:
        raise
    except Exception as exc:  # a damaged file fails in zipfile, XML or openpyxl itself
        raise UploadError("bad_xlsx") from exc


def _header(rows: list[tuple[int, list[Any]]]) -> tuple[int, dict[str, int]]:
    for row_no, cells in rows[:HEADER_ROWS]:
        columns: dict[str, int] = {}
        for i, cell in enumerate(cells):
            column = _LABEL_OF.get(_label(cell))
            if column is not None and column not in columns:
                columns[column] = i
        if NAME in columns:
            return row_no, columns
    raise UploadError("no_name_column")


def _label(cell: Any) -> str:
    if not isinstance(cell, str):
        return ""
    text = unicodedata.normalize("NFKC", cell).replace(" ", "").strip().rstrip(":").lower()
    return text


def _text(cells: list[Any], i: int) -> str:
    if i >= len(cells) or cells[i] is None:
        return ""
    value = cells[i]
    return value.strip() if isinstance(value, str) else LOST_DIGITS  # the only BadCell
