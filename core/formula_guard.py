"""Spreadsheet cells that cannot run as formulas (CSV or formula injection).

Excel, LibreOffice and Google Sheets take a cell whose text starts with ``=``, ``+``, ``-``
or ``@`` for a formula, and tab or carriage return there can hide one (OWASP's "CSV
Injection" list; line feed is added here too, which no legitimate value starts with). A
name typed as ``=HYPERLINK("http://…","点此")`` would turn into a link, or worse, in the
spreadsheet of whoever opens the file. Such a cell gets a leading apostrophe, the
spreadsheets' own "this is text" mark, as OWASP recommends. Values that start otherwise are
left alone: case numbers start with a bracket, and no field of ours holds a negative number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_FIRST = frozenset(FORMULA_STARTS)


def text_cell(value: str) -> str:
    """``value``, with a leading apostrophe if a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def safe_cell(value: Any) -> Any:
    """A cell for a CSV or XLSX file: text guarded, numbers and the rest as they are."""
    return text_cell(value) if isinstance(value, str) else value


def guard_row(values: Iterable[Any]) -> list[Any]:
    """A row of cells: text guarded, ``None`` empty, the rest as it is. One pass without a
    call per cell, since an export of the whole list passes some twelve million cells."""
    return [
        "" if v is None else "'" + v if v.__class__ is str and v[:1] in _FIRST else v
        for v in values
    ]
