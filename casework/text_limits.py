"""How long the free-text fields of a ticket may be, and the one check every text goes through.

The forms and the OpenAPI document (portal/) read the same limits, so a browser refuses
what casework would refuse.
"""

from __future__ import annotations

from casework.errors import InvalidInput

MAX_TEXT = 5000  # what happened, replies, reasons, notes
MAX_SHORT = 500  # names, places, dates, codes


def check_text(value: str | None, name: str, limit: int, *, required: bool = False) -> None:
    """InvalidInput for field ``name`` if the text is missing (when required), too long or
    holds a NUL (which the database cannot store)."""
    if value is None or not value.strip():
        if required:
            raise InvalidInput(name, "此项必填")
        return
    if len(value) > limit:
        raise InvalidInput(name, f"最多{limit}个字符")
    if "\x00" in value:
        raise InvalidInput(name, "含有无法保存的字符")
