"""Reading CSV and XLSX files into numbered rows of cells, as the clerk sees them in Excel.

CSV comes in UTF-8 (with or without the BOM Excel writes) or GB 18030 (what Excel on a
Chinese Windows writes by default), never labelled: strict UTF-8 is tried first, then
strict GB 18030; a file that is neither is refused as a whole rather than imported as
mojibake. XLSX is read with openpyxl in read-only (streaming) mode, first worksheet only;
cells typed as dates or numbers become the text the importer expects.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import IO, Any

from search_index.downloads import BadCell
from search_index.events import Rejection

Row = tuple[int, list[Any]]  # (row number as the spreadsheet shows it, cells)

# Excel keeps 15 significant digits: a longer number (an ID number typed into a cell that
# is not formatted as text) has already lost its last digits when we read it.
EXACT_DIGITS = 15
_SNIFF_CHARS = 8192
_SAVE_AS_UTF8 = "请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后重新提交"


class UnreadableFile(Exception):
    """The file as a whole cannot be read; ``rejection`` says why, for the clerk."""

    def __init__(self, rejection: Rejection, line: int = 1) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection
        self.line = line


# --- CSV ------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """The text of a CSV file: strict UTF-8 (a BOM dropped), else strict GB 18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as as_utf8:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as as_gb:
            # The encoding that got further is most likely the file's: name the line where
            # it broke, so the clerk can look at it.
            where = max(as_utf8.start, as_gb.start)
            line = data.count(b"\n", 0, where) + 1
            raise UnreadableFile(
                Rejection(
                    "bad_encoding",
                    "无法识别文件的编码：既不是 UTF-8 也不是 GB18030"
                    f"（第 {line} 行有无法解码的字节）。{_SAVE_AS_UTF8}",
                ),
                line,
            ) from None


def csv_rows(text: str) -> Iterator[Row]:
    """Rows numbered as a spreadsheet numbers them (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    yield from enumerate(reader, start=1)


def _delimiter(text: str) -> str:
    # Excel's "Unicode text" and some portals' exports separate by tabs.
    head = text[:_SNIFF_CHARS]
    return "\t" if head.count("\t") > head.count(",") else ","


# --- XLSX -----------------------------------------------------------------------------------


def xlsx_rows(stream: IO[bytes]) -> Iterator[Row]:
    """The rows of the first worksheet, each cell as text (or None, or a BadCell)."""
    from openpyxl import load_workbook  # only an XLSX import pays for importing openpyxl

    try:
        book = load_workbook(stream, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # a damaged file fails in zipfile, XML or openpyxl itself
        raise UnreadableFile(Rejection("bad_xlsx", _BAD_XLSX)) from exc
    row_no = 0
    try:
        sheet = book.worksheets[0]
        # Some tools write a wrong sheet size; read what is there, not what it claims.
        sheet.reset_dimensions()
        for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield row_no, [cell_text(value) for value in values]
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(Rejection("bad_xlsx", _BAD_XLSX), row_no + 1) from exc
    finally:
        book.close()


_BAD_XLSX = (
    "无法读取这个 Excel 文件（不是有效的 .xlsx 文件，或已损坏）："
    "请在 Excel 中重新“另存为”.xlsx 后再提交"
)


def cell_text(value: Any) -> Any:
    """A cell as the importer reads it: dates ISO, integral numbers without ".0", numbers
    too long to be exact refused (a BadCell)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | float):
        return _number_text(value)
    return str(value)


def _number_text(value: float) -> Any:
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
        return None
    integral = isinstance(value, int) or value.is_integer()
    if integral and abs(value) >= 10**EXACT_DIGITS:
        digits = len(str(abs(int(value))))
        return BadCell(
            "number_lost_digits",
            f"这一格是 {digits} 位的数字：Excel 只保留 15 位有效数字，末尾几位已经丢失，"
            "无法按原值导入。请把这一列设为“文本”格式，重新录入（如身份证号码）后再提交",
        )
    return str(int(value)) if integral else repr(value)
