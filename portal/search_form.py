"""What a search asked, in words and links: for the "you searched for" line, the paging links
and the "try without this condition" links of an empty result.

A full ID number is never written into a page or a link: it is shown masked, and a search by
one is not paged through links (see ``portal.pages``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

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
    "partyType": "当事人类型",
    "publishedFrom": "发布日期起",
    "publishedTo": "发布日期止",
}
PARTY_TYPES = {"person": "自然人", "org": "法人或其他组织"}
# Parameters that shape the listing, kept by paging links but not criteria themselves.
LISTING = ("exact", "sort", "perPage")


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
    return value


def is_private_identifier(value: str) -> bool:
    """Whether ``value`` is (or may be) a full ID number, which must stay out of pages and
    addresses. Codes of organizations and masked ID numbers are public."""
    try:
        kind, _ = classify_identifier(value)
    except IdentifierError:
        return bool(value.strip())  # unreadable: it could be a mistyped ID number
    return kind is IdentifierKind.ID_NUMBER
