"""The entry a report or complaint is about, from what the user typed at that step of
bot/report_flow.py: an entry page's link or an entry id is looked up as the entry page does
(``ListService.entry``), a case number is searched as the site searches (public entries
only), anything else is the debtor's name. A removed entry is never described: a report
cannot name one, a complaint may (credit repair needs one) and then only its id is said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from bot import flow_texts as ft
from search_index.normalize import CaseCodeError, normalize_case_code
from search_index.service import EntryGone, EntryNotFound, ListService

CASE_MATCHES = 10
_ENTRY_LINK = re.compile(r"/entries/([^/?#\s]+)")
_ENTRY_ID = re.compile(r"[A-Za-z0-9._:-]{1,120}")


@dataclass(frozen=True, slots=True)
class Found:
    """What the entry step's text names: an entry, several to choose from, a name, or an
    error to say."""

    entry_id: str | None = None
    label: str | None = None
    name: str | None = None
    choices: list[list[str]] = field(default_factory=list)  # [entry id, label]
    case: str = ""
    error: str | None = None


def find(lists: ListService, text: str, kind: str, lang: str) -> Found:
    """A link or id is looked up as the entry page does, a case number searched as the site
    searches (public entries only), anything else is the debtor's name."""
    link = _ENTRY_LINK.search(text)
    if link:
        return _by_id(lists, unquote(link.group(1)), kind, lang)
    if any(c.isdigit() for c in text):
        try:
            case = normalize_case_code(text)
        except CaseCodeError:
            case = None
        if case is not None:
            return _by_case(lists, case, lang)
        if _ENTRY_ID.fullmatch(text):
            return _by_id(lists, text, kind, lang)
    return Found(name=text)


def _label(e: dict[str, Any]) -> str:
    return f"{e['iname']}（{e['caseCode']}，{e['courtName']}）"


def _by_id(lists: ListService, entry_id: str, kind: str, lang: str) -> Found:
    try:
        e = lists.entry(entry_id).doc.to_api()
    except EntryGone:
        # A complaint may concern a removed entry (credit repair needs one): its id is all
        # that is said. A report is about someone listed now.
        if kind == "complaint":
            return Found(entry_id=entry_id, label=ft.t(lang, "entry_gone_ok", id=entry_id))
        return Found(error=ft.t(lang, "entry_gone"))
    except EntryNotFound:
        return Found(error=ft.t(lang, "entry_missing"))
    return Found(entry_id=e["id"], label=_label(e))


def _by_case(lists: ListService, case: str, lang: str) -> Found:
    items = [
        d.to_api() for d in lists.search({"caseCode": case, "perPage": str(CASE_MATCHES)}).items
    ]
    if not items:
        return Found(error=ft.t(lang, "no_case"))
    if len(items) == 1:
        return Found(entry_id=items[0]["id"], label=_label(items[0]))
    return Found(choices=[[e["id"], _label(e)] for e in items], case=case)
