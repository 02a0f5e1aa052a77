"""``POST /api/v1/match``: up to 100 names, each with an optional identifier, matched at once.

The route only reads and checks the body, then hands the queries to
``screening.matching.match_many``. A body that is not the documented shape (not JSON, not an
object, a field the schema does not name, a value of another JSON type, a missing field) is
a 400 ``bad_request``; a well-formed body with a value that cannot be matched (no queries or
too many, an empty name, an invalid identifier, a text too long) is a 422 ``invalid``.
Either names the field (``queries[3].cardNum``, counted from 0) and says what is wrong in
Chinese, or in English when the client's ``Accept-Language`` prefers English.

A request of many queries does the work of many searches, so it draws on the API budget
accordingly: one request per ``QUERIES_PER_SEARCH`` queries begun (a 100-query request
costs 25), about what it costs the server (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import ratelimit
from portal.api_lang import api_lang
from portal.api_query import strict_query
from portal.openapi_base import size_text
from portal.responses import JSONResponse, api_error, shown_name, unknown_names_message
from screening.matching import match_many
from screening.queries import (
    MAX_BODY_BYTES,
    MAX_QUERIES,
    QUERIES_PER_SEARCH,
    MatchQuery,
    QueryInputError,
    read_query,
)

BODY_FIELDS = ("queries",)
QUERY_FIELDS = ("name", "cardNum", "ref")
EXAMPLE_BODY = '{"queries": [{"name": "张伟", "cardNum": "…", "ref": "…"}]}'

# English for the domain's and the identifiers' codes (their Chinese comes with the error).
ENGLISH = {
    "too_long": "{field} is too long",
    "no_name": "the name is empty",
    "no_letters": "the name has no letter or digit to search for",
    "bad_id_checksum": "the ID number's check character is wrong: check it digit by digit",
    "bad_id_birthdate": "the birth date in the ID number (digits 7 to 14) is not a real date",
    "bad_id_region": "the first six digits of the ID number (the region) cannot all be 0",
    "bad_credit_code_checksum": "the credit code's check character is wrong",
    "bad_credit_code_charset": (
        "credit codes never use the letters I, O, S, V or Z: was a 1, 0, 5 or 2 mistyped?"
    ),
    "bad_org_code_checksum": "the organization code's check character is wrong",
    "unrecognized_identifier": (
        "not an identifier: expected an 18- or 15-digit ID number, a unified social credit "
        "code or an organization code"
    ),
}


class BodyError(ValueError):
    """A body we do not match: the answer's status, code, field and message in both
    languages."""

    def __init__(self, status: int, field: str | None, zh: str, en: str) -> None:
        super().__init__(zh)
        self.status, self.field, self.zh, self.en = status, field, zh, en

    def response(self, lang: str) -> JSONResponse:
        code = {400: "bad_request", 415: "unsupported_media_type"}.get(self.status, "invalid")
        extra = {"field": self.field} if self.field else {}
        return api_error(self.status, code, self.en if lang == "en" else self.zh, **extra)


async def match_entries(request: Request) -> Response:
    lang = api_lang(request)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        size = size_text(MAX_BODY_BYTES)
        zh, en = (
            f"提交内容过大（上限 {size}），请分批提交",
            f"The body is too large ({size} at most)",
        )
        return api_error(413, "too_large", en if lang == "en" else zh)
    try:
        queries = read_body(body)
    except BodyError as exc:
        return exc.response(lang)
    settings = request.app.state.settings
    extra = math.ceil(len(queries) / QUERIES_PER_SEARCH) - 1  # the route counted one
    ratelimit.charge(request, settings.rate_limit_api, ratelimit.API, cost=extra)
    results = await to_thread.run_sync(match_many, request.app.state.service, queries)
    response = JSONResponse({"results": [result.to_api() for result in results]})
    response.headers["Cache-Control"] = "no-store"  # queries may carry ID numbers
    return response


def read_body(body: bytes) -> list[MatchQuery]:
    """The queries of a request body, or ``BodyError``."""
    try:
        data = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise BodyError(
            400,
            None,
            f"请求体应为 JSON 对象，如 {EXAMPLE_BODY}",
            f"Send a JSON object: {EXAMPLE_BODY}",
        )
    known_fields(data, BODY_FIELDS, "")
    queries = data.get("queries")
    if not isinstance(queries, list):
        raise BodyError(
            400, "queries", "queries 应为数组（缺少或类型不对）", "queries must be an array"
        )
    if not queries:
        raise BodyError(422, "queries", "queries 中没有查询", "queries is empty")
    if len(queries) > MAX_QUERIES:
        raise BodyError(
            422,
            "queries",
            f"一次最多 {MAX_QUERIES} 个查询，本次 {len(queries)} 个，请分批提交",
            f"At most {MAX_QUERIES} queries a request ({len(queries)} sent): split them",
        )
    return [_query(item, f"queries[{i}]") for i, item in enumerate(queries)]


def _query(item: Any, where: str) -> MatchQuery:
    if not isinstance(item, dict):
        raise BodyError(
            400,
            where,
            f'{where} 应为 JSON 对象，如 {{"name": "张伟"}}',
            f"{where} must be an object",
        )
    known_fields(item, QUERY_FIELDS, f"{where}.")
    name = item.get("name")
    if not isinstance(name, str):
        raise BodyError(
            400, f"{where}.name", f"{where}.name 应为文本（必填）", f"{where}.name must be a string"
        )
    for key in ("cardNum", "ref"):
        if not isinstance(item.get(key), str | None):
            message = f"{where}.{key} must be a string or null"
            raise BodyError(400, f"{where}.{key}", f"{where}.{key} 应为文本或 null", message)
    try:
        return read_query(name, item.get("cardNum"), item.get("ref"))
    except QueryInputError as exc:
        field = f"{where}.{exc.field}"
        english = ENGLISH.get(exc.code, exc.code).format(field=field)
        raise BodyError(422, field, f"{field}：{exc.message}", f"{field}: {english}") from exc


def known_fields(data: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
    unknown = [name for name in data if name not in known]
    if unknown:
        zh = unknown_names_message("字段", unknown, known)
        shown = ", ".join(shown_name(n) for n in unknown[:10])
        en = f"Unknown field: {shown}; the fields are {', '.join(known)}"
        raise BodyError(400, prefix + shown_name(unknown[0]), zh, en)


# Like every /api/v1 endpoint, it refuses query parameters (api_query).
routes = strict_query([Route("/api/v1/match", match_entries, methods=["POST"])])
