"""Turning what a user typed into a normalized :class:`SearchQuery`.

The same parameters serve the JSON API, the search page and (later) the bot, so a query
means the same everywhere. Names and places are normalized here, once: the index backends use
a query's tokens and place texts as given. Errors carry a Chinese message fit to show the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from search_index.dates import DateParseError, parse_date
from search_index.identifiers import (
    MASKED_KINDS,
    IdentifierError,
    IdentifierKind,
    classify_identifier,
    keyed_hash,
    masked_form,
)
from search_index.normalize import (
    CaseCodeError,
    name_key,
    name_tokens,
    normalize_case_code,
    place_key,
)
from search_index.types import PartyType, SearchQuery, Sort

MAX_PER_PAGE = 100
MAX_PAGE = 500
MAX_TEXT = 200

# Query parameter names, shared by the API, the pages and the docs.
PARAMS = {
    "q": "姓名或名称（可部分匹配，繁简、全半角均可）",
    "exact": "为 true 时姓名或名称须完全一致",
    "cardNum": "身份证号码、统一社会信用代码或组织机构代码（精确匹配）",
    "caseCode": "案号，如（2019）京0105执12345号（精确匹配）",
    "court": "执行法院（可部分匹配）",
    "region": "地区（可部分匹配）",
    "representative": "法定代表人或负责人的姓名（完全一致，繁简、全半角均可；只找法人或其他组织）",
    "partyType": "person（自然人）或 org（法人或其他组织）",
    "publishedFrom": "发布日期起（含）",
    "publishedTo": "发布日期止（含）",
    "sort": "relevance（相关度）或 publish_date（发布日期）",
    "page": "页码，从 1 开始",
    "perPage": f"每页条数，1–{MAX_PER_PAGE}",
}


class QueryError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = "bad_query"


def build_query(params: Mapping[str, str], id_hash_key: str) -> SearchQuery:
    query = SearchQuery()
    name = _text(params, "q")
    exact = _flag(params, "exact")  # read (and its length checked) with or without q
    if name:
        tokens = name_tokens(name)
        if not tokens:
            raise QueryError("q", "姓名或名称中没有可检索的文字或数字")
        query.name_tokens = tuple(tokens)
        query.name_exact = exact
    card = _text(params, "cardNum")
    if card:
        _card(query, card, id_hash_key)
    case = _text(params, "caseCode")
    if case:
        try:
            query.case_code = normalize_case_code(case)
        except CaseCodeError as exc:
            raise QueryError("caseCode", str(exc)) from exc
    representative = _text(params, "representative")
    if representative:
        query.representative = name_key(representative)
        if not query.representative:
            raise QueryError("representative", "法定代表人姓名中没有可检索的文字或数字")
    query.court = _place(params, "court")
    query.region = _place(params, "region")
    party = _text(params, "partyType")
    if party:
        try:
            query.party_type = PartyType(party)
        except ValueError as exc:
            raise QueryError("partyType", "当事人类型应为 person 或 org") from exc
    query.published_from = _date(params, "publishedFrom")
    query.published_to = _date(params, "publishedTo")
    if query.published_from and query.published_to and query.published_from > query.published_to:
        raise QueryError("publishedFrom", "发布日期的起始日晚于截止日")
    sort = _text(params, "sort")
    if sort:
        try:
            query.sort = Sort(sort)
        except ValueError as exc:
            raise QueryError("sort", "排序应为 relevance 或 publish_date") from exc
    query.page = _int(params, "page", 1, 1, MAX_PAGE)
    query.per_page = _int(params, "perPage", 20, 1, MAX_PER_PAGE)
    return query


def _card(query: SearchQuery, card: str, key: str) -> None:
    try:
        kind, normalized = classify_identifier(card)
    except IdentifierError as exc:
        raise QueryError("cardNum", exc.message) from exc
    if kind in MASKED_KINDS:  # matched as masked, whether a person's or a credit code
        query.card_display = normalized
        return
    query.card_key = keyed_hash(key, normalized)
    # Entries the courts sent masked match the masked form of the full identifier, as on the
    # national platform.
    query.card_masked = masked_form(kind, normalized)
    if kind is not IdentifierKind.ID_NUMBER:  # codes of organizations are public as well
        query.card_display = normalized


def _text(params: Mapping[str, str], name: str) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > MAX_TEXT:
        raise QueryError(name, f"{name} 过长（最多 {MAX_TEXT} 字）")
    return value


def _place(params: Mapping[str, str], name: str) -> str | None:
    value = _text(params, name)
    if not value:
        return None
    return place_key(value) or None


def _flag(params: Mapping[str, str], name: str) -> bool:
    return _text(params, name).lower() in ("1", "true", "yes", "on")


def _date(params: Mapping[str, str], name: str) -> date | None:
    value = _text(params, name)
    if not value:
        return None
    try:
        # A filter is not an entry: "published up to 2030" simply means "all of them".
        return parse_date(value, earliest=date.min, latest=date.max)
    except DateParseError as exc:
        raise QueryError(name, str(exc)) from exc


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _text(params, name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise QueryError(name, f"{name} 应为整数") from exc
    if not low <= number <= high:
        raise QueryError(name, f"{name} 应在 {low} 到 {high} 之间")
    return number
