"""What both halves of the OpenAPI document share: media types, schema helpers, errors, text.

The list API's schemas and paths (:mod:`portal.openapi_schemas`, :mod:`portal.openapi_paths`),
the complaints-and-reports part (:mod:`portal.openapi_casework`), the assembly
(:mod:`portal.openapi`) and the page (:mod:`portal.api_page`) build on this module; it imports
none of them. The error codes,
the ``Error`` schema and the shared error responses (``#/components/responses/...``) live here
because every part of the API answers with them.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from core.settings import Settings
from portal.responses import unknown_names_message
from search_index import query

EXAMPLE_BASE = "http://127.0.0.1:8000"  # what `shixin serve` listens on by default
JSON = "application/json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
MULTIPART = "multipart/form-data"


# --- Schema pieces --------------------------------------------------------------------------


def ref(name: str) -> dict[str, str]:
    """A reference to ``#/components/schemas/<name>``."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema, also allowing null (JSON Schema 2020-12 type arrays)."""
    out = dict(schema)
    kind = out.get("type", "string")
    out["type"] = [*(kind if isinstance(kind, list) else [kind]), "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


STR = {"type": "string"}


def char_class(chars: str) -> str:
    """A regex character class of exactly these characters, written with ``\\uXXXX``
    escapes (the same in ECMA-262, which JSON Schema patterns use, and in Python)."""
    points = sorted({ord(ch) for ch in chars})
    runs: list[list[int]] = []
    for cp in points:
        if runs and cp == runs[-1][1] + 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    spelt = (
        f"\\u{low:04x}" if low == high else f"\\u{low:04x}-\\u{high:04x}" for low, high in runs
    )
    return "[" + "".join(spelt) + "]"


# What str.strip() removes (every str.isspace() character lies below U+3001).
WHITESPACE = "".join(chr(cp) for cp in range(0x3001) if chr(cp).isspace())
# A text with at least one character that is not white space: the casework fields are read
# stripped, and a blank one counts as not given.
NOT_BLANK = char_class(WHITESPACE).replace("[", "[^", 1)
DATE = {"type": "string", "format": "date"}
TIME = {"type": "string", "format": "date-time"}  # always Beijing time, with +08:00


# --- Errors ---------------------------------------------------------------------------------

# code -> (HTTP status, meaning). Every `api_error(...)` of the API uses one of these codes.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "bad_query": (
        400,
        "查询参数有误，或带有接口不接受的查询参数（JSON 接口不忽略未知参数）；"
        "field 指出是哪一个参数",
    ),
    "bad_request": (
        400,
        "请求体不是有效的 JSON 对象（投诉与举报接口），或报送的请求体中没有任何数据行",
    ),
    "unauthorized": (401, "缺少或无效的令牌（仅提交接口）"),
    "invalid_api_key": (401, "API 密钥无效或已被吊销（只有带了密钥的请求会得到）"),
    "api_key_required": (401, "这个接口需要 API 密钥（批量筛查）"),
    "not_found": (404, "没有这个条目（未知的编号与依法不宜公开的条目一样回答）"),
    "forbidden": (403, "浏览器从其他网站的页面发起的提交（投诉与举报接口）"),
    "conflict": (409, "事项当前的状态不允许此操作（如尚未答复时提出异议）"),
    "removed": (410, "条目已依法屏蔽、删除、撤销或有效期届满，不再公开；不返回条目的任何数据"),
    "too_large": (413, "提交内容超过上限，请分批提交"),
    "unsupported_media_type": (415, "提交的内容类型不是该接口接受的类型"),
    "invalid": (422, "提交的内容有误；field 指出是哪一个字段"),
    "quota_exceeded": (429, "这个密钥今天的额度已用完（批量筛查的份数）"),
    "rate_limited": (429, "请求过于频繁；retryAfter 与响应头 Retry-After 给出需等待的秒数"),
    "server_error": (500, "服务器内部错误（不含任何细节）"),
    "http_error": (0, "其他 HTTP 错误，如不存在的地址（404）、不支持的请求方法（405）"),
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "接口的统一错误格式：机器可读的 code 与面向用户的中文 message",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": list(ERROR_CODES),
                    "description": "错误代码",
                },
                "message": {"type": "string", "description": "中文说明，可直接展示给用户"},
                "field": {
                    "type": "string",
                    "description": "出错的查询参数（400）或提交的字段（422）",
                },
                "retryAfter": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "需等待的秒数（仅 429）",
                },
            },
        }
    },
}


def error_example(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"value": {"error": {"code": code, "message": message, **extra}}}


def unknown_query_example(known: list[str]) -> dict[str, Any]:
    """The 400 of a query parameter the operation does not name (portal/api_query.py)."""
    message = unknown_names_message("查询参数", ["id"], known)
    return error_example("bad_query", message, field="id")


# For the operations that take no query parameters.
UNKNOWN_QUERY_EXAMPLE = unknown_query_example([])


def error_response(description: str, **examples: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": ref("Error"), "examples": examples}},
    }


def error_responses(settings: Settings) -> dict[str, Any]:
    """``#/components/responses``: the errors any endpoint may answer with. The casework
    endpoints add their own (:func:`portal.openapi_casework.casework_responses`)."""
    size = size_text(settings.ingest_max_bytes)
    return {
        "BadRequest": error_response(
            "查询参数有误，或带有本接口不接受的查询参数",
            unknown=unknown_query_example(list(query.PARAMS)),
            unknownHere=UNKNOWN_QUERY_EXAMPLE,
            perPage=error_example("bad_query", "perPage 应在 1 到 100 之间", field="perPage"),
            date=error_example(
                "bad_query",
                "无法识别的日期：'abc'，请使用 2019-07-13、20190709 或 2019年07月13日",
                field="publishedFrom",
            ),
        ),
        "Unauthorized": error_response(
            "缺少或无效的令牌",
            unauthorized=error_example(
                "unauthorized", "缺少或无效的令牌（Authorization: Bearer …）"
            ),
        ),
        "NotFound": error_response(
            "没有这个条目：未知的编号与依法不宜公开的条目回答相同",
            notFound=error_example("not_found", "没有这个条目"),
        ),
        "Gone": error_response(
            "条目曾经公开，现已移除；响应中没有条目的任何数据",
            removed=error_example("removed", "该条目已依法屏蔽、删除、撤销或有效期届满，不再公开"),
        ),
        "TooLarge": error_response(
            f"提交内容超过上限（本站为 {size}）",
            tooLarge=error_example("too_large", f"提交内容过大（上限 {size}），请分批提交"),
        ),
        "UnsupportedMediaType": error_response(
            "内容类型不受支持",
            unsupported=error_example(
                "unsupported_media_type", "请以 application/x-ndjson（JSON Lines）或 text/csv 提交"
            ),
        ),
        "RateLimited": {
            **error_response(
                "请求过于频繁：每个客户端地址对 JSON 接口的请求合计"
                + rate_text(settings.rate_limit_api),
                rateLimited=error_example(
                    "rate_limited", "请求过于频繁，请在 60 秒后再试", retryAfter=60
                ),
            ),
            "headers": {
                "Retry-After": {
                    "description": "需等待的秒数",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
        },
        "ServerError": error_response(
            "服务器内部错误",
            serverError=error_example("server_error", "服务器内部错误，请稍后再试"),
        ),
    }


def common_responses(*statuses: str) -> dict[str, Any]:
    """References to the :func:`error_responses` components for these HTTP statuses."""
    names = {
        "400": "BadRequest",
        "401": "Unauthorized",
        "404": "NotFound",
        "410": "Gone",
        "413": "TooLarge",
        "415": "UnsupportedMediaType",
        "429": "RateLimited",
        "500": "ServerError",
    }
    return {s: {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


# --- Text -----------------------------------------------------------------------------------


def curl(*lines: str) -> list[dict[str, str]]:
    """An ``x-codeSamples`` entry: one curl command, one option a line."""
    return [{"lang": "Shell", "label": "curl", "source": " \\\n  ".join(lines)}]


def json_text(value: Any, *, indent: bool = False) -> str:
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(value, option=option).decode()


def size_text(limit: int) -> str:
    return f"{limit / 2**20:.1f} MB" if limit >= 2**20 else f"{limit / 1024:.1f} KB"


_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d*)\s*(second|minute|hour|day)s?\s*$")
_UNITS = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天"}


def rate_text(limit: str) -> str:
    """``60/minute`` as 每分钟 60 次; several limits (``;``) joined; anything else as given."""
    parts = []
    for one in limit.split(";"):
        match = _RATE.match(one)
        if not match:
            return limit
        count, every, unit = match.groups()
        every = every if every not in ("", "1") else ""
        parts.append(f"每{every}{_UNITS[unit]} {count} 次")
    return "，".join(parts)
