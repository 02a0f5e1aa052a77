"""The paths of the list API's part of the OpenAPI document: search, entries, ingest, operations.

One function a path, each the operations of that path as the app answers them
(portal/api.py); grouped by tag in :func:`search_paths` (查询), :func:`ingest_paths` (报送) and
:func:`operation_paths` (运行). The search parameters come from ``search_index.query``: their
names and texts are ``query.PARAMS``, their limits the parser's.
"""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from portal.openapi_base import (
    CSV,
    EXAMPLE_BASE,
    JSON,
    NDJSON,
    UNKNOWN_QUERY_EXAMPLE,
    WHITESPACE,
    char_class,
    common_responses,
    curl,
    error_example,
    error_response,
    ref,
    size_text,
)
from portal.openapi_examples import (
    EXAMPLE_CHANGES,
    EXAMPLE_CSV,
    EXAMPLE_EXPORT_JSONL,
    EXAMPLE_HEALTH,
    EXAMPLE_HISTORY,
    EXAMPLE_INGEST,
    EXAMPLE_INGEST_ALL_REJECTED,
    EXAMPLE_MATCH_REQUEST,
    EXAMPLE_MATCH_RESPONSE,
    EXAMPLE_NDJSON,
    EXAMPLE_ORG,
    EXAMPLE_PERSON,
    compliance_example,
)
from portal.openapi_ingest_jobs import accepted_response, job_paths, prefer_parameter
from portal.openapi_schemas import match_request_schema
from portal.responses import EMPTY_BATCH
from screening import matching
from screening.queries import MAX_BODY_BYTES as MATCH_BODY_LIMIT
from screening.queries import MAX_QUERIES, QUERIES_PER_SEARCH
from search_index import events, feed, query
from search_index.ingest import XLSX_TYPE

OWN_PATH = "/api/v1/openapi.json"

# A date as the schema states it (RFC 3339 full-date, what a non-date is refused against);
# the other forms the list uses are taken too, and said so.
_DATE_TEXT = {
    "type": "string",
    "format": "date",
    "description": (
        "如 2019-07-13；20190709、2019年07月13日（全角数字亦可）也接受；其他文字返回 400"
    ),
    "examples": ["2023-01-01"],
}


def _width(ascii_chars: str) -> str:
    """The characters and their full-width forms (what fold_width turns into them)."""
    return ascii_chars + "".join(chr(ord(ch) + 0xFEE0) for ch in ascii_chars if ch != " ")


def _chars(ranges: str) -> str:
    """``"0-9A-F"`` spelt out: every character of the ranges."""
    out, i = [], 0
    while i < len(ranges):
        if i + 2 < len(ranges) and ranges[i + 1] == "-":
            out.extend(chr(c) for c in range(ord(ranges[i]), ord(ranges[i + 2]) + 1))
            i += 3
        else:
            out.append(ranges[i])
            i += 1
    return "".join(out)


def _identifier_pattern() -> str:
    """The shapes ``identifiers.classify_identifier`` reads, as it reads them: upper or lower
    case, full-width or not, white space, hyphens, dashes and zero-width characters anywhere
    (``normalize_identifier`` removes them). Check characters, birth dates and province
    codes cannot be a regular expression: they are checked, and named in the 400."""
    sep = (
        char_class(
            WHITESPACE
            + "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d"
            + "\u200b\u200c\u200d\u2060\ufeff"
        )
        + "*"
    )

    def atom(chars: str, count: int = 1) -> str:
        unit = f"{char_class(_width(chars))}{sep}"
        return f"(?:{unit}){{{count}}}" if count > 1 else unit

    digit, star = "0123456789", "*"
    check = digit + "Xx"
    credit = _chars("0-9A-HJ-NP-RTUWXY") + _chars("a-hj-np-rtuwxy")
    org = _chars("0-9A-Za-z")
    shapes = [
        atom(digit, 17) + atom(check),  # ID number
        atom(digit, 15),  # first-generation ID number
        atom(digit, 10) + atom(star, 4) + atom(digit, 3) + atom(check),  # masked ID
        atom(digit, 11) + atom(star, 4) + atom(digit, 3) + atom(check),  # older masked ID
        atom(digit, 8) + atom(star, 4) + atom(digit, 3),  # masked 15-digit ID
        atom(credit, 2) + atom(digit, 6) + atom(credit, 10),  # credit code
        atom(credit, 2) + atom(digit, 6) + atom(credit, 2) + atom(star, 4) + atom(credit, 4),
        atom(org, 8) + atom(check),  # organization code
    ]
    return f"^{sep}(?:" + "|".join(shapes) + ")$"


IDENTIFIER_PATTERN = _identifier_pattern()

# Each parameter's schema; its description is query.PARAMS[name], the text the pages use too.
SEARCH_PARAMS: dict[str, dict[str, Any]] = {
    "q": {
        "type": "string",
        "maxLength": query.MAX_TEXT,
        "description": "须含文字或数字（只有标点或符号时返回 400）",
        "examples": ["张伟", "張偉"],
    },
    "exact": {
        "type": "string",
        "maxLength": query.MAX_TEXT,
        "default": "false",
        "description": "true、1、yes、on 为是，其他值为否；只在给出 q 时起作用",
        "examples": ["true"],
    },
    "cardNum": {
        "type": "string",
        "maxLength": query.MAX_TEXT,
        "pattern": IDENTIFIER_PATTERN,
        "description": (
            "完整的 18 位或 15 位身份证号码（校验码须正确；"
            "完整号码也找到法院以打码形式公布的条目）、"
            "打码的身份证号码（如 1101051980****1238，旧式 11+4+4 位亦可）、"
            "统一社会信用代码（完整或打码，如 9114082306****333G）"
            "或组织机构代码（带不带连字符均可）"
        ),
        "examples": ["91110105MA0000015F", "1101051980****1238", "55269853-1"],
    },
    "caseCode": {
        "type": "string",
        "maxLength": query.MAX_TEXT,
        "description": (
            "各种括号（（）()〔〕[]）、全角半角、空格、末尾的“号”均可；"
            "旧式案号如（2014）并执字第00085号、2015年丰执字第08996号亦可"
        ),
        "examples": ["(2023)京0105执1234号", "（2023）京0105执1234", "2015年丰执字第08996号"],
    },
    "court": {"type": "string", "maxLength": query.MAX_TEXT, "examples": ["朝阳区人民法院"]},
    "region": {"type": "string", "maxLength": query.MAX_TEXT, "examples": ["北京"]},
    "representative": {
        "type": "string",
        "maxLength": query.MAX_TEXT,
        "description": "须含文字或数字；自然人条目的 relatedOrganizations.moreUrl 即用此参数",
        "examples": ["张伟"],
    },
    "partyType": {"type": "string", "enum": ["person", "org"]},
    "publishedFrom": {
        **_DATE_TEXT,
        "description": _DATE_TEXT["description"] + "；晚于 publishedTo 时返回 400",
    },
    "publishedTo": dict(_DATE_TEXT),
    "sort": {"type": "string", "enum": ["relevance", "publish_date"], "default": "relevance"},
    "page": {"type": "integer", "minimum": 1, "maximum": query.MAX_PAGE, "default": 1},
    "perPage": {
        "type": "integer",
        "minimum": 1,
        "maximum": query.MAX_PER_PAGE,
        "default": 20,
    },
}


def search_parameters() -> list[dict[str, Any]]:
    """The query parameters of ``GET /api/v1/entries``, in ``query.PARAMS``'s order."""
    out = []
    for name, schema in SEARCH_PARAMS.items():
        schema = dict(schema)
        extra = schema.pop("description", "")
        text = query.PARAMS[name] + (f"。{extra}" if extra else "")
        out.append(
            {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
        )
    return out


def search_body_schema() -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/search``: the same parameters as fields, nothing else
    (portal/api.py refuses other fields and other JSON types by this schema)."""
    properties = {}
    for parameter in search_parameters():
        schema = dict(parameter["schema"])
        if schema.get("type") == "integer":  # "2" and 2 are both taken
            schema["type"] = ["integer", "string"]
            # minimum and maximum hold for numbers only; a text must spell one in range.
            schema["pattern"] = whole_numbers_pattern(schema["minimum"], schema["maximum"])
        properties[parameter["name"]] = {**schema, "description": parameter["description"]}
    return {"type": "object", "additionalProperties": False, "properties": properties}


def whole_numbers_pattern(low: int, high: int) -> str:
    """A regular expression for the decimal numbers ``low`` (1) to ``high``, leading zeros
    allowed (``int()`` takes them): ``^0*(?:[1-9][0-9]?|100)$`` for 1–100."""
    if low != 1:
        raise ValueError("only ranges from 1")
    top = str(high)
    shorter = [f"[1-9][0-9]{{0,{len(top) - 2}}}"] if len(top) > 1 else []
    same_length = []  # as many digits as high, and not above it
    for i, digit in enumerate(top):
        last = i == len(top) - 1
        first, upto = (1 if i == 0 else 0), int(digit) if last else int(digit) - 1
        if upto >= first:
            rest = len(top) - 1 - i
            tail = f"[0-9]{{{rest}}}" if rest else ""
            digits = str(first) if first == upto else f"[{first}-{upto}]"
            same_length.append(f"{top[:i]}{digits}{tail}")
    return "^0*(?:" + "|".join(shorter + same_length) + ")$"


# --- The paths, by tag ----------------------------------------------------------------------


def search_paths() -> dict[str, Any]:
    """查询: searching public entries, and one entry."""
    return {
        "/api/v1/entries": _entries(),
        "/api/v1/search": _search_posted(),
        "/api/v1/entries/{id}": _entry(),
        "/api/v1/match": _match(),
    }


def ingest_paths(settings: Settings) -> dict[str, Any]:
    """报送: a court's batch."""
    return {"/api/v1/ingest": _ingest(settings), **job_paths()}


def operation_paths() -> dict[str, Any]:
    """运行: the compliance report, this document, the health check."""
    return {
        "/api/v1/compliance": _compliance(),
        OWN_PATH: _openapi(),
        "/healthz": _health(),
    }


# --- Search and entries ---------------------------------------------------------------------


def _entries() -> dict[str, Any]:
    """GET /api/v1/entries: the search, its parameters in the query string."""
    return {
        "get": {
            "operationId": "searchEntries",
            "tags": ["查询"],
            "summary": "检索公开的条目",
            "description": (
                "所有参数均可选，可任意组合（同时给出时须全部满足）；"
                "证件号码与案号精确匹配，姓名可部分匹配，繁简、全半角均可。"
            ),
            "parameters": search_parameters(),
            "responses": {
                "200": {
                    "description": "一页结果",
                    "content": {
                        JSON: {
                            "schema": ref("SearchPage"),
                            "examples": {
                                "person": {
                                    "summary": "按姓名检索",
                                    "value": {
                                        "total": 1,
                                        "page": 1,
                                        "perPage": 20,
                                        "items": [EXAMPLE_PERSON],
                                    },
                                },
                                "org": {
                                    "summary": "按统一社会信用代码检索",
                                    "value": {
                                        "total": 1,
                                        "page": 1,
                                        "perPage": 20,
                                        "items": [EXAMPLE_ORG],
                                    },
                                },
                            },
                        }
                    },
                },
                **common_responses("400", "429", "500"),
            },
            "x-codeSamples": curl(
                f"curl -G '{EXAMPLE_BASE}/api/v1/entries'",
                "--data-urlencode 'q=张伟'",
                "--data-urlencode 'region=北京'",
                "--data-urlencode 'perPage=10'",
            ),
        }
    }


def _search_posted() -> dict[str, Any]:
    """POST /api/v1/search: the same search, its parameters in a JSON body."""
    return {
        "post": {
            "operationId": "searchEntriesPosted",
            "tags": ["查询"],
            "summary": "以 JSON 请求体检索公开的条目（证件号码不进入网址）",
            "description": (
                "与 GET /api/v1/entries 相同的参数与结果，"
                "参数放在 JSON 对象中（值为文本或整数）；"
                "不认识的字段、不符合其类型的值（如 region 为数字）返回 400。"
                "按身份证号码检索时请用此接口：网址会留在代理和服务器日志、浏览历史中。"
                "响应不被缓存（Cache-Control: no-store）。"
            ),
            "requestBody": {
                "required": False,
                "content": {JSON: {"schema": search_body_schema()}},
            },
            "responses": {
                "200": {
                    "description": "一页结果",
                    "content": {JSON: {"schema": ref("SearchPage")}},
                },
                **common_responses("400", "413", "429", "500"),
            },
            "x-codeSamples": curl(
                f"curl -X POST '{EXAMPLE_BASE}/api/v1/search'",
                "-H 'Content-Type: application/json'",
                '-d \'{"cardNum": "<18 位身份证号码>"}\'',
            ),
        }
    }


def _entry() -> dict[str, Any]:
    """GET /api/v1/entries/{id}: one entry with its history."""
    return {
        "get": {
            "operationId": "getEntry",
            "tags": ["查询"],
            "summary": "一个条目及其更正记录",
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "description": "条目编号",
                    "schema": {"type": "string", "pattern": events.ENTRY_ID.pattern},
                }
            ],
            "responses": {
                "200": {
                    "description": "公开中的条目",
                    "content": {
                        JSON: {
                            "schema": ref("EntryDetail"),
                            "example": {**EXAMPLE_PERSON, "history": EXAMPLE_HISTORY},
                        }
                    },
                },
                **common_responses("400", "404", "410", "429", "500"),
            },
            "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/api/v1/entries/zw'"),
        }
    }


def _match() -> dict[str, Any]:
    """POST /api/v1/match: many names at once, each match saying how it matched."""
    return {
        "post": {
            "operationId": "matchEntries",
            "tags": ["查询"],
            "summary": f"一次比对最多 {MAX_QUERIES} 个姓名或名称（可附证件号码）",
            "description": (
                "每个查询给出姓名或名称，可附身份证号码、统一社会信用代码或组织机构代码，"
                "以及调用方自己的编号 ref；每个查询返回匹配的公开条目，并说明如何匹配："
                "identifier（证件号码完全一致，完整号码按密钥散列比对，从不模糊比对）、"
                "name（姓名或名称完全一致，繁简、全半角、空格不计）、"
                "partial（条目的姓名或名称包含所查的）。"
                "证件号码只能以打码形式比对时（法院以打码形式公布，或所查的号码是打码的），"
                "只有姓名也完全一致才算 identifier，并标明 maskedIdentifier。"
                f"每个查询最多列出 {matching.MAX_MATCHES} 个条目。"
                "已屏蔽、删除、撤销、有效期届满和依法不宜公开的条目从不出现。"
                "完整的身份证号码从不出现在响应中。"
                "请求体的形式不对（不是 JSON 对象、未知字段、类型不对、缺少字段）返回 400，"
                "内容有误（没有查询或超过上限、姓名为空、证件号码无效）返回 422，"
                "field 指出是哪一个（如 queries[3].cardNum，从 0 数起）；"
                "Accept-Language 以英语为先时错误说明为英文。"
                f"频率限制：每 {QUERIES_PER_SEARCH} 个查询按一次请求计入接口的频率限制"
                f"（{MAX_QUERIES} 个查询计 {-(-MAX_QUERIES // QUERIES_PER_SEARCH)} 次）。"
                "响应不被缓存（Cache-Control: no-store）。"
            ),
            "requestBody": {
                "required": True,
                "content": {
                    JSON: {
                        "schema": match_request_schema(IDENTIFIER_PATTERN),
                        "example": EXAMPLE_MATCH_REQUEST,
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "每个查询一个结果，顺序与请求相同",
                    "content": {
                        JSON: {"schema": ref("MatchResponse"), "example": EXAMPLE_MATCH_RESPONSE}
                    },
                },
                "400": error_response(
                    "请求体的形式不对，或网址带有查询参数",
                    notJson=error_example(
                        "bad_request",
                        '请求体应为 JSON 对象，如 {"queries": [{"name": "张伟", "cardNum": "…",'
                        ' "ref": "…"}]}',
                    ),
                    unknownField=error_example(
                        "bad_request",
                        "未知的字段：id；可用的字段：name、cardNum、ref",
                        field="queries[0].id",
                    ),
                    unknownQuery=UNKNOWN_QUERY_EXAMPLE,
                ),
                "422": error_response(
                    "内容有误：field 指出是哪一个查询的哪一个字段",
                    tooMany=error_example(
                        "invalid",
                        f"一次最多 {MAX_QUERIES} 个查询，本次 101 个，请分批提交",
                        field="queries",
                    ),
                    badId=error_example(
                        "invalid",
                        "queries[2].cardNum：身份证号码校验位不正确，请逐位核对",
                        field="queries[2].cardNum",
                    ),
                ),
                "413": error_response(
                    f"请求体超过上限（{size_text(MATCH_BODY_LIMIT)}）",
                    tooLarge=error_example(
                        "too_large",
                        f"提交内容过大（上限 {size_text(MATCH_BODY_LIMIT)}），请分批提交",
                    ),
                ),
                **common_responses("429", "500"),
            },
            "x-codeSamples": curl(
                f"curl -X POST '{EXAMPLE_BASE}/api/v1/match'",
                "-H 'Content-Type: application/json'",
                '-d \'{"queries": [{"name": "张伟", "cardNum": "<18 位身份证号码>", "ref": "1"},'
                ' {"name": "上海某某科技有限公司", "ref": "2"}]}\'',
            ),
        }
    }


# --- Ingest ---------------------------------------------------------------------------------


def _ingest(settings: Settings) -> dict[str, Any]:
    """POST /api/v1/ingest: a batch, with this deployment's size limit."""
    return {
        "post": {
            "operationId": "ingest",
            "tags": ["报送"],
            "summary": "报送一批公布、更正、屏蔽、删除或撤销",
            "description": (
                "JSON Lines（每行一个事件，见 IngestLine）或 CSV（仅公布，表头为字段名）。"
                "application/jsonl、application/json、text/plain 按 JSON Lines 处理。"
                "坏行被拒绝并给出行号与原因，其余各行照常生效；重复提交同一批次不改变任何数据。"
                "法院的令牌只能报送本院的条目。"
                "没有任何数据行（空文件、只有空行或只有表头）时返回 400，不记录批次。"
                f"请求体上限 {size_text(settings.ingest_max_bytes)}。"
            ),
            "security": [{"ingestToken": []}],
            "parameters": [
                {
                    "name": "X-Filename",
                    "in": "header",
                    "required": False,
                    "description": "原始文件名，记入批次",
                    "schema": {"type": "string"},
                },
                prefer_parameter(settings),
            ],
            "requestBody": {
                "required": True,
                "description": (
                    "JSON Lines、CSV 或 XLSX。CSV 和 XLSX 只能公布；表头可以是字段名，"
                    "也可以是全国失信被执行人名单网站下载文件的中文列名"
                    "（被执行人姓名/名称、身份证号码/组织机构代码、执行法院、案号、发布时间……，"
                    "可带“：”），表头上方的标题行自动跳过，不认识的列忽略；"
                    "按中文列名的 JSON Lines 同样接受。没有 op 时按 publish，"
                    "没有 id 时由案号、被执行人姓名/名称和证件号码生成固定的条目编号，"
                    "所以重复提交同一文件不改变任何数据。"
                    "编码（UTF-8、带 BOM 的 UTF-8、GB18030）自动识别。"
                    "不带 Content-Type 或为 application/octet-stream 时，"
                    "按 X-Filename 的扩展名、再按内容判断格式。"
                ),
                "content": {
                    NDJSON: {
                        "schema": {"type": "string", "description": "每行一个 IngestLine"},
                        "example": EXAMPLE_NDJSON,
                    },
                    CSV: {
                        "schema": {
                            "type": "string",
                            "description": (
                                "UTF-8（可带 BOM）或 GB18030，自动识别；"
                                "表头为字段名或网站的中文列名，可在标题行之下"
                            ),
                        },
                        "example": EXAMPLE_CSV,
                    },
                    XLSX_TYPE: {
                        "schema": {
                            "type": "string",
                            "format": "binary",
                            "description": (
                                "Excel 工作簿，读第一个工作表，表头同 CSV；"
                                "超过 15 位的数字单元格（如设成数字格式的身份证号码）"
                                "已丢失末位，该行被拒绝"
                            ),
                        },
                    },
                },
            },
            "responses": {
                "200": {
                    "description": (
                        "已处理；rejects 列出被拒绝的行，warningList 列出已生效但有字段"
                        "被忽略或截断的行"
                    ),
                    "content": {JSON: {"schema": ref("IngestReport"), "example": EXAMPLE_INGEST}},
                },
                "202": accepted_response(),
                "400": error_response(
                    "请求体中没有任何数据行（不记录批次），或网址带有未知的查询参数",
                    empty=error_example("bad_request", EMPTY_BATCH),
                    unknownQuery=UNKNOWN_QUERY_EXAMPLE,
                ),
                "422": {
                    "description": "所有行都被拒绝",
                    "content": {
                        JSON: {
                            "schema": ref("IngestReport"),
                            "example": EXAMPLE_INGEST_ALL_REJECTED,
                        }
                    },
                },
                **common_responses("401", "413", "415", "429", "500"),
            },
            "x-codeSamples": curl(
                f"curl -X POST '{EXAMPLE_BASE}/api/v1/ingest'",
                "-H 'Authorization: Bearer <令牌>'",
                f"-H 'Content-Type: {NDJSON}'",
                "-H 'X-Filename: batch-2026-11-20.jsonl'",
                "--data-binary @batch-2026-11-20.jsonl",
            )
            + curl(
                f"curl -i -X POST '{EXAMPLE_BASE}/api/v1/ingest'",
                "-H 'Authorization: Bearer <令牌>'",
                "-H 'Prefer: respond-async'",
                f"-H 'Content-Type: {NDJSON}'",
                "--data-binary @batch-2026-11-20-full.jsonl",
            ),
        }
    }


# --- Operations -----------------------------------------------------------------------------


def _compliance() -> dict[str, Any]:
    """GET /api/v1/compliance: the removal compliance report."""
    return {
        "get": {
            "operationId": "complianceReport",
            "tags": ["运行"],
            "summary": "移除合规报告",
            "description": (
                "公开：数量、耗时，以及每一次超期或待确认的移除（只给本站的移除编号）。"
                "附单位令牌时另给条目编号与法院的理由，便于跟进。"
            ),
            "security": [{}, {"ingestToken": []}],
            "responses": {
                "200": {
                    "description": "报告",
                    "content": {
                        JSON: {
                            "schema": ref("ComplianceReport"),
                            "examples": {
                                "public": {
                                    "summary": "公开（无令牌）",
                                    "value": compliance_example(public=True),
                                },
                                "unit": {
                                    "summary": "附单位令牌",
                                    "value": compliance_example(public=False),
                                },
                            },
                        }
                    },
                },
                **common_responses("400", "429", "500"),
            },
            "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/api/v1/compliance'"),
        }
    }


def _openapi() -> dict[str, Any]:
    """GET /api/v1/openapi.json: this document."""
    return {
        "get": {
            "operationId": "openapiDocument",
            "tags": ["运行"],
            "summary": "本文档（OpenAPI 3.1）",
            "responses": {
                "200": {
                    "description": "OpenAPI 文档",
                    "content": {JSON: {"schema": {"type": "object"}}},
                },
                **common_responses("400", "429"),
            },
            "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/api/v1/openapi.json'"),
        }
    }


def _health() -> dict[str, Any]:
    """GET /healthz: store and index reachable, index lag."""
    return {
        "get": {
            "operationId": "health",
            "tags": ["运行"],
            "summary": "健康检查（不限频率）",
            "responses": {
                "200": {
                    "description": "数据库与索引均可达",
                    "content": {JSON: {"schema": ref("Health"), "example": EXAMPLE_HEALTH}},
                },
                "503": {
                    "description": "数据库或索引不可达，或（有多个副本时）本机副本不在线",
                    "content": {JSON: {"schema": ref("Health")}},
                },
                **common_responses("500"),
            },
            "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/healthz'"),
        }
    }


# --- For media and republishers -------------------------------------------------------------

_EXPORT_FILTERS = ("region", "court", "partyType", "publishedFrom", "publishedTo")
_CURSOR = {"type": "string", "pattern": feed.CURSOR_PATTERN, "maxLength": feed.MAX_CURSOR}
_SNAPSHOT_HEADERS = {
    "X-Snapshot-At": {
        "description": "数据的时间点（UTC）",
        "schema": {"type": "string", "format": "date-time"},
    },
    "X-Feed-Cursor": {
        "description": "与本文件一致的变更游标：从它起读 /api/v1/changes?since=…",
        "schema": _CURSOR,
    },
}


def republisher_paths() -> dict[str, Any]:
    """转载: the export, the change feed and the daily snapshot."""
    return {
        "/api/v1/export": _export(),
        "/api/v1/changes": _changes(),
        "/api/v1/snapshot": _snapshot(),
    }


def _export() -> dict[str, Any]:
    filters = [p for p in search_parameters() if p["name"] in _EXPORT_FILTERS]
    return {
        "get": {
            "operationId": "exportEntries",
            "tags": ["转载"],
            "summary": "导出公开的条目（CSV、XLSX 或 JSON Lines）",
            "description": (
                "此刻公开的全部条目（可按地区、法院、当事人类型、发布日期筛选，与检索相同），"
                "取自同一时间点，边读边传。CSV 为带 BOM 的 UTF-8（Excel 可直接打开），"
                "首行为以 # 开头的说明（快照时间、游标、使用条件）；JSON Lines 首行为 "
                '{"meta": …}；XLSX 的第二个工作表“说明”载有同样内容。身份证号码只以打码形式出现。'
                "在演示站点导出的文件会在元数据中注明其内容是虚构的。"
            ),
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "description": "文件格式",
                    "schema": {
                        "type": "string",
                        "enum": ["csv", "xlsx", "jsonl"],
                        "default": "csv",
                    },
                },
                {
                    "name": "keys",
                    "in": "query",
                    "required": False,
                    "description": (
                        "zh：中文表头（本站的字段名称）；en：英文字段名（与 JSON 接口相同）"
                    ),
                    "schema": {"type": "string", "enum": ["zh", "en"], "default": "zh"},
                },
                *filters,
            ],
            "responses": {
                "200": {
                    "description": "导出文件",
                    "headers": _SNAPSHOT_HEADERS,
                    "content": {
                        CSV: {"schema": {"type": "string"}},
                        NDJSON: {"schema": {"type": "string"}, "example": EXAMPLE_EXPORT_JSONL},
                        XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                **common_responses("400", "429", "500"),
            },
            "x-codeSamples": curl(
                f"curl -G -o beijing.csv '{EXAMPLE_BASE}/api/v1/export'",
                "--data-urlencode 'region=北京'",
                "--data-urlencode 'publishedFrom=2026-11-01'",
            ),
        }
    }


def _changes() -> dict[str, Any]:
    return {
        "get": {
            "operationId": "listChanges",
            "tags": ["转载"],
            "summary": "变更流：公布、更正与移除（含删除期限）",
            "description": (
                "从游标 since 之后的变更，按顺序；不给 since 即从头开始。每个条目只以最新状态"
                "出现一次，从头（或从快照的 cursor）依次应用即得此刻的公开名单。从未公开的条目"
                "不出现。removed 带 mustDeleteBy：转载者须在此前删除（移除生效后 3 个工作日）。"
            ),
            "parameters": [
                {
                    "name": "since",
                    "in": "query",
                    "required": False,
                    "description": "上次响应的 next，或快照、导出文件的 cursor",
                    "schema": _CURSOR,
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": f"最多返回的变更数，1–{feed.MAX_LIMIT}",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": feed.MAX_LIMIT,
                        "default": feed.DEFAULT_LIMIT,
                    },
                },
            ],
            "responses": {
                "200": {
                    "description": "一页变更",
                    "content": {JSON: {"schema": ref("ChangesPage"), "example": EXAMPLE_CHANGES}},
                },
                **common_responses("400", "429", "500"),
            },
            "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/api/v1/changes?since=czEuMTI0&limit=100'"),
        }
    }


def _snapshot() -> dict[str, Any]:
    return {
        "get": {
            "operationId": "latestSnapshot",
            "tags": ["转载"],
            "summary": "最新的每日完整快照（JSON Lines）",
            "description": (
                "全部公开条目，首行 meta 含 cursor：加载后从该游标读 /api/v1/changes。"
                "响应头 X-Checksum-Sha256 为文件的 SHA-256。"
            ),
            "responses": {
                "200": {
                    "description": "快照文件",
                    "headers": {
                        "X-Checksum-Sha256": {
                            "description": "文件的 SHA-256（十六进制）",
                            "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        }
                    },
                    "content": {NDJSON: {"schema": {"type": "string"}}},
                },
                **common_responses("400", "404", "429", "500"),
            },
            "x-codeSamples": curl(f"curl -O -J '{EXAMPLE_BASE}/api/v1/snapshot'"),
        }
    }
