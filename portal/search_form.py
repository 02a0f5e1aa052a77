"""What a search asked, in words and links: for the "you searched for" line, the results'
controls (sort, view, page numbers) and the "try without this condition" links of an empty
result. Every control is a plain link, so it works without JavaScript and can be bookmarked.

A full ID number is never written into a page or a link: it is shown masked, and a search by
one is not paged through links (see ``portal.pages``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from search_index.events import mask_full_ids
from search_index.identifiers import (
    IdentifierError,
    IdentifierKind,
    classify_identifier,
    mask_id_number,
)

# The criteria a person chose, in the order the form shows them, with their labels.
CRITERIA = {
    "q": "姓名或名称",
    "cardNum": "证件号码",
    "caseCode": "案号",
    "court": "执行法院",
    "region": "地区",
    "representative": "法定代表人或负责人",
    "partyType": "当事人类型",
    "publishedFrom": "发布日期起",
    "publishedTo": "发布日期止",
}
PARTY_TYPES = {"person": "自然人", "org": "法人或其他组织"}
# Parameters that shape the listing, kept by paging links but not criteria themselves.
LISTING = ("exact", "sort", "perPage", "view")
# The orders and views a results page offers; the first of each is the default, which
# links leave out of the address (so the plain search stays the short one).
SORTS = ("relevance", "publish_date")
VIEWS = ("cards", "compact")
# Page numbers shown on either side of the current page; the first and the last page are
# always shown, with "…" for the pages in between.
PAGE_WINDOW = 2


@dataclass(slots=True, frozen=True)
class Criterion:
    name: str
    label: str
    value: str
    without_url: str | None  # the same search without this criterion, if any remains


def asked(params: Mapping[str, str]) -> bool:
    return any((params.get(name) or "").strip() for name in CRITERIA)


def criteria(params: Mapping[str, str]) -> list[Criterion]:
    chosen = [(k, params[k].strip()) for k in CRITERIA if (params.get(k) or "").strip()]
    out = []
    for name, value in chosen:
        rest = [(k, v) for k, v in chosen if k != name]
        out.append(
            Criterion(
                name=name,
                label=CRITERIA[name],
                value=_shown(name, value),
                without_url=_url(rest, params) if rest and _linkable(rest) else None,
            )
        )
    return out


@dataclass(slots=True, frozen=True)
class Choice:
    """One way to show the results (a sort order or a view) and the link to it."""

    value: str
    url: str
    current: bool


@dataclass(slots=True, frozen=True)
class PageLink:
    """One item of the page numbers: a page (with its link) or, without one, a gap "…"."""

    number: int | None
    url: str | None
    current: bool = False


def view_of(params: Mapping[str, str]) -> str:
    """The view asked for; anything unknown is the default (presentation only: no error)."""
    value = (params.get("view") or "").strip()
    return value if value in VIEWS else VIEWS[0]


def sort_of(params: Mapping[str, str]) -> str:
    value = (params.get("sort") or "").strip()
    return value if value in SORTS else SORTS[0]


def choices(params: Mapping[str, str], name: str) -> list[Choice]:
    """The links of the ``sort`` or ``view`` control: the same search, from its first page
    (another order or view makes the current page number meaningless)."""
    values, current = (SORTS, sort_of(params)) if name == "sort" else (VIEWS, view_of(params))
    return [
        Choice(value, _listing_url(params, name, value, default=values[0]), value == current)
        for value in values
    ]


def last_page(total: int, per_page: int, most: int) -> int:
    """The number of the last page of ``total`` results, never above ``most`` (the query
    layer refuses pages beyond it)."""
    return max(1, min(most, -(-total // per_page)))


def page_links(params: Mapping[str, str], current: int, last: int) -> list[PageLink]:
    """1 … 4 5 [6] 7 8 … 42: the first, the last, and the pages near the current one."""
    near = range(max(1, current - PAGE_WINDOW), min(last, current + PAGE_WINDOW) + 1)
    numbers = sorted({1, last, *near})
    out: list[PageLink] = []
    for number in numbers:
        if out and out[-1].number is not None and number - out[-1].number > 1:
            # A gap of one page is shown as that page: "…" would hide no more than a number.
            if number - out[-1].number == 2:
                out.append(PageLink(number - 1, page_url(params, number - 1)))
            else:
                out.append(PageLink(None, None))
        out.append(PageLink(number, page_url(params, number), number == current))
    return out


def _listing_url(params: Mapping[str, str], name: str, value: str, *, default: str) -> str:
    """The same search from its first page, with ``name`` set to ``value`` (left out when
    that is the default)."""
    chosen = [(k, params[k]) for k in CRITERIA if params.get(k)]
    return _url(chosen, {**params, name: "" if value == default else value})


def page_url(params: Mapping[str, str], page: int) -> str:
    chosen = [(k, params[k]) for k in CRITERIA if params.get(k)]
    return _url([*chosen, ("page", str(page))], params)


def _url(pairs: list[tuple[str, str]], params: Mapping[str, str]) -> str:
    kept = [(k, params[k]) for k in LISTING if params.get(k)]
    return "/?" + urlencode([*pairs, *kept])


def _linkable(pairs: list[tuple[str, str]]) -> bool:
    return not any(k == "cardNum" and is_private_identifier(v) for k, v in pairs)


def _shown(name: str, value: str) -> str:
    if name == "partyType":
        return PARTY_TYPES.get(value, value)
    if name == "cardNum" and is_private_identifier(value):
        try:
            return mask_id_number(value)
        except IdentifierError:
            return "（已隐藏）"
    return mask_full_ids(value)  # a full ID number typed into the name box, say


def is_private_identifier(value: str) -> bool:
    """Whether ``value`` is (or may be) a full ID number, which must stay out of pages and
    addresses. Codes of organizations and masked ID numbers are public."""
    try:
        kind, _ = classify_identifier(value)
    except IdentifierError:
        return bool(value.strip())  # unreadable: it could be a mistyped ID number
    return kind is IdentifierKind.ID_NUMBER
