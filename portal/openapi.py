"""The OpenAPI 3.1 document of the JSON API, and the human page rendered from it.

``GET /api/v1/openapi.json`` serves :func:`build_document`; ``GET /api`` renders the same
document as a page in Chinese (templates/api.html). The schemas live here, beside the code
that produces the responses, and take their names, limits and descriptions from it:
``search_index.query`` (search parameters), ``search_index.types.IndexDoc.to_api`` (item
fields), ``search_index.service`` (entry history, health), ``search_index.compliance`` and
``search_index.ingest`` (report shapes), ``portal.ratelimit`` (429). tests/test_openapi.py
checks the document against the app's routes and real responses, so when one of those
changes, this module has to change with it.

The examples are real responses of the test app (times and batch ids as they came out).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from casework import service
from casework.routing import ENTRY_COURT, MEASURE_UNIT
from casework.tickets import State
from portal import altcha, casework_pages
from portal.messages import FIELD_LABELS
from portal.responses import JSONResponse
from search_index import events, query
from shixin.settings import Settings

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
EXAMPLE_BASE = "http://127.0.0.1:8000"  # what `shixin serve` listens on by default
JSON = "application/json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
MULTIPART = "multipart/form-data"
OWN_PATH = "/api/v1/openapi.json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema, also allowing null (JSON Schema 2020-12 type arrays)."""
    out = dict(schema)
    kind = out.get("type", "string")
    out["type"] = [*(kind if isinstance(kind, list) else [kind]), "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


# --- Search parameters (search_index.query) -------------------------------------------------

_DATE_TEXT = {
    "type": "string",
    "maxLength": query.MAX_TEXT,
    "description": "接受 2019-07-13、20190709 或 2019年07月13日（全角数字亦可）",
    "examples": ["2023-01-01", "20230101", "2023年01月01日"],
}

# Each parameter's schema; its description is query.PARAMS[name], the text the pages use too.
SEARCH_PARAMS: dict[str, dict[str, Any]] = {
    "q": {"type": "string", "maxLength": query.MAX_TEXT, "examples": ["张伟", "張偉"]},
    "exact": {
        "type": "string",
        "default": "false",
        "description": "true、1、yes、on 为是，其他值为否；只在给出 q 时起作用",
        "examples": ["true"],
    },
    "cardNum": {
        "type": "string",
        "maxLength": query.MAX_TEXT,
        "description": (
            "完整的 18 位身份证号码（校验码须正确）、打码的身份证号码（如 1101051980****1238）、"
            "18 位统一社会信用代码或 9 位组织机构代码"
        ),
        "examples": ["91110105MA0000015F", "1101051980****1238"],
    },
    "caseCode": {
        "type": "string",
        "maxLength": query.MAX_TEXT,
        "description": "各种括号（（）()〔〕[]）、全角半角、空格、末尾的“号”均可",
        "examples": ["(2023)京0105执1234号", "（2023）京0105执1234"],
    },
    "court": {"type": "string", "maxLength": query.MAX_TEXT, "examples": ["朝阳区人民法院"]},
    "region": {"type": "string", "maxLength": query.MAX_TEXT, "examples": ["北京"]},
    "partyType": {"type": "string", "enum": ["person", "org"]},
    "publishedFrom": dict(_DATE_TEXT),
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


def _search_parameters() -> list[dict[str, Any]]:
    out = []
    for name, schema in SEARCH_PARAMS.items():
        schema = dict(schema)
        extra = schema.pop("description", "")
        text = query.PARAMS[name] + (f"。{extra}" if extra else "")
        out.append(
            {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
        )
    return out


def _search_body_schema() -> dict[str, Any]:
    properties = {}
    for parameter in _search_parameters():
        schema = dict(parameter["schema"])
        if schema.get("type") == "integer":  # "2" and 2 are both taken
            schema["type"] = ["integer", "string"]
        properties[parameter["name"]] = {**schema, "description": parameter["description"]}
    return {"type": "object", "properties": properties}


# --- The item (IndexDoc.to_api) -------------------------------------------------------------

_STR = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time"}


def _field(label_key: str, schema: dict[str, Any], note: str = "") -> dict[str, Any]:
    label = FIELD_LABELS.get(label_key, "")
    text = "；".join(t for t in (label, note) if t)
    return {**schema, "description": text}


# In the order to_api() emits them. Every key is always present; null where unknown.
ITEM_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": {
        "type": "string",
        "pattern": events.ENTRY_ID.pattern,
        "description": "条目编号（执行法院给出的稳定编号）",
    },
    "status": {
        "type": "string",
        "enum": ["published", "corrected"],
        "description": "状态：published（公布中）或 corrected（公布中，已更正）",
    },
    "caseCode": _field("caseCode", _STR, "规范形式"),
    "iname": _field("iname", _STR, "按公布原文（可能为繁体）"),
    "cardNum": _field(
        "cardNum",
        _nullable(_STR),
        "自然人为打码的身份证号码（绝不返回完整号码），法人或其他组织为统一社会信用代码"
        "或组织机构代码；未公布时为 null",
    ),
    "courtName": _field("courtName", _STR),
    "areaName": _field("areaName", _STR, "未公布时为空字符串"),
    "partyTypeName": {
        "type": "string",
        "enum": ["自然人", "法人或其他组织"],
        "description": "当事人类型（中文）",
    },
    "partyType": {
        "type": "string",
        "enum": ["person", "org"],
        "description": "当事人类型：person（自然人）或 org（法人或其他组织）",
    },
    "regDate": _field("regDate", _nullable(_DATE)),
    "publishDate": _field("publishDate", _DATE),
    "validUntil": _field("validUntil", _nullable(_DATE), "名单有效期届满日；未给出时为 null"),
    "severity": _field("severity", _nullable(_STR)),
    "sexy": _field("sexy", _nullable({"type": "string", "enum": ["男", "女"]}), "仅自然人"),
    "age": _field(
        "age", _nullable({"type": "integer", "minimum": events.MIN_AGE, "maximum": 130}), "仅自然人"
    ),
    "businessEntity": _field("businessEntity", _nullable(_STR), "仅法人或其他组织"),
    "gistId": _field("gistId", _nullable(_STR)),
    "gistUnit": _field("gistUnit", _nullable(_STR)),
    "duty": _field("duty", _nullable(_STR)),
    "performance": _field("performance", _nullable(_STR)),
    "performedPart": _field("performedPart", _nullable(_STR)),
    "unperformPart": _field("unperformPart", _nullable(_STR)),
    "disruptTypeName": _field("disruptTypeName", _nullable(_STR)),
}

HISTORY_EVENT = {
    "type": "object",
    "description": "公布或更正的一次记录：何时生效、更正了哪些字段（不含旧值）",
    "required": ["op", "effectiveAt", "fields"],
    "properties": {
        "op": {"type": "string", "enum": ["publish", "correct"], "description": "公布或更正"},
        "effectiveAt": {**_TIME, "description": "生效时间（北京时间）"},
        "fields": {
            "type": "array",
            "items": {"type": "string"},
            "description": "更正涉及的字段名（公布时为空）",
        },
    },
}

# --- Examples: real responses of the test app -----------------------------------------------

EXAMPLE_PERSON = {
    "id": "zw",
    "status": "corrected",
    "caseCode": "(2023)京0105执1234号",
    "iname": "张伟",
    "cardNum": "1101051980****1238",
    "courtName": "北京市朝阳区人民法院",
    "areaName": "北京",
    "partyTypeName": "自然人",
    "partyType": "person",
    "regDate": "2023-01-15",
    "publishDate": "2023-03-20",
    "validUntil": "2099-03-20",
    "severity": "一般",
    "sexy": "男",
    "age": 43,
    "businessEntity": None,
    "gistId": "(2022)京0105民初5678号",
    "gistUnit": "北京市朝阳区人民法院",
    "duty": "支付货款人民币十万元",
    "performance": "部分未履行",
    "performedPart": "已支付二万元",
    "unperformPart": "十万元",
    "disruptTypeName": "有履行能力而拒不履行生效法律文书确定义务",
}
EXAMPLE_ORG = {
    "id": "abc",
    "status": "published",
    "caseCode": "(2024)沪0115执77号",
    "iname": "上海某某科技有限公司",
    "cardNum": "91110105MA0000015F",
    "courtName": "上海市浦东新区人民法院",
    "areaName": "上海",
    "partyTypeName": "法人或其他组织",
    "partyType": "org",
    "regDate": None,
    "publishDate": "2024-05-06",
    "validUntil": "2099-05-06",
    "severity": None,
    "sexy": None,
    "age": None,
    "businessEntity": "李四",
    "gistId": None,
    "gistUnit": None,
    "duty": None,
    "performance": "全部未履行",
    "performedPart": None,
    "unperformPart": None,
    "disruptTypeName": None,
}
EXAMPLE_HISTORY = [
    {"op": "publish", "effectiveAt": "2023-03-20T00:00:00+08:00", "fields": []},
    {
        "op": "correct",
        "effectiveAt": "2026-11-23T10:18:54+08:00",
        "fields": ["performance", "performedPart"],
    },
]
EXAMPLE_INGEST = {
    "batch": "74886c1ead884b1aaa9c656397a691eb",
    "source": "api:北京市高级人民法院信息中心",
    "file": None,
    "sha256": "9c9618e86fc922c6d83f0d38c7fe666b45a5b55c1d5558e9c0c3cd73509e9d8f",
    "lines": 4,
    "accepted": 3,
    "duplicates": 0,
    "applied": 3,
    "rejected": 1,
    "rejects": [
        {
            "line": 4,
            "code": "missing_field",
            "field": "caseCode",
            "message": "缺少必填字段 caseCode",
            "raw": '{"op":"publish","id":"bad","iname":"x"}',
        }
    ],
}
EXAMPLE_INGEST_ALL_REJECTED = {
    "batch": "cdfbf77e876f4b64908c370c88e2f9a1",
    "source": "api:北京市高级人民法院信息中心",
    "file": None,
    "sha256": "d730b617f5a6d8df2956e77aa15d034ff6d226d6c3226bd05990c5e7b59973ca",
    "lines": 1,
    "accepted": 0,
    "duplicates": 0,
    "applied": 0,
    "rejected": 1,
    "rejects": [
        {
            "line": 1,
            "code": "bad_json",
            "field": None,
            "message": "这一行不是有效的 JSON：unexpected character, expected a string key",
            "raw": "",
        }
    ],
}
_EXAMPLE_PROBLEM = {
    "removal": 1,
    "entryId": "gone",
    "reason": "被执行人已履行义务",
    "kind": "shielded",
    "effectiveAt": "2026-11-02T10:00:00+08:00",
    "receivedAt": "2026-11-23T10:19:08+08:00",
    "deadline": "2026-11-05T23:59:59+08:00",
    "removedAt": "2026-11-23T10:19:08+08:00",
    "arrivedLate": True,
    "state": "late",
}


def _compliance_example(*, public: bool) -> dict[str, Any]:
    problem = dict(_EXAMPLE_PROBLEM)
    if public:
        del problem["entryId"], problem["reason"]
    return {
        "generatedAt": "2026-11-23T10:19:08+08:00",
        "removals": {
            "total": 1,
            "confirmed": 1,
            "onTime": 0,
            "late": 0,
            "pending": 0,
            "overdue": 0,
            "arrivedLate": 1,
        },
        "latencySeconds": {"median": 0.007, "max": 0.007},
        "problems": [problem],
        "problemsTruncated": False,
    }


EXAMPLE_HEALTH = {
    "store": "ok",
    "index": "ok",
    "indexBackend": "sqlite",
    "indexLag": 0,
    "checkedAt": "2026-11-23T10:18:55+08:00",
    "ok": True,
}
EXAMPLE_NDJSON = (
    '{"op":"publish","id":"zw","caseCode":"(2023)京0105执1234号","iname":"张伟",'
    '"cardNum":"1101051980****1238","courtName":"北京市朝阳区人民法院","areaName":"北京",'
    '"partyTypeName":"自然人","publishDate":"2023年03月20日","validUntil":"2099-03-20",'
    '"performance":"全部未履行"}\n'
    '{"op":"correct","id":"zw","effectiveAt":"2026-11-20T10:00:00+08:00",'
    '"fields":{"performance":"部分未履行","performedPart":"已支付二万元"}}\n'
    '{"op":"shield","id":"ls","effectiveAt":"2026-11-20T10:00:00+08:00",'
    '"reason":"被执行人已履行义务"}\n'
)
EXAMPLE_CSV = (
    "id,caseCode,iname,cardNum,courtName,areaName,partyTypeName,publishDate,validUntil\n"
    "abc,(2024)沪0115执77号,上海某某科技有限公司,91110105MA0000015F,上海市浦东新区人民法院,"
    "上海,法人或其他组织,2024-05-06,2099-05-06\n"
)

# --- Errors ---------------------------------------------------------------------------------

# code -> (HTTP status, meaning). Every `api_error(...)` of the API uses one of these codes.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "bad_query": (400, "查询参数有误；field 指出是哪一个参数"),
    "bad_request": (400, "请求体不是有效的 JSON 对象（投诉与举报接口）"),
    "unauthorized": (401, "缺少或无效的令牌（仅提交接口）"),
    "not_found": (404, "没有这个条目（未知的编号与依法不宜公开的条目一样回答）"),
    "forbidden": (403, "浏览器从其他网站的页面发起的提交（投诉与举报接口）"),
    "conflict": (409, "事项当前的状态不允许此操作（如尚未答复时提出异议）"),
    "removed": (410, "条目已依法屏蔽、删除、撤销或有效期届满，不再公开；不返回条目的任何数据"),
    "too_large": (413, "提交内容超过上限，请分批提交"),
    "unsupported_media_type": (415, "提交的内容类型不是该接口接受的类型"),
    "invalid": (422, "提交的内容有误；field 指出是哪一个字段"),
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


def _error_example(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"value": {"error": {"code": code, "message": message, **extra}}}


def _error_response(description: str, **examples: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": _ref("Error"), "examples": examples}},
    }


def _responses(settings: Settings) -> dict[str, Any]:
    size = _size(settings.ingest_max_bytes)
    return {
        "BadRequest": _error_response(
            "查询参数有误",
            perPage=_error_example("bad_query", "perPage 应在 1 到 100 之间", field="perPage"),
            date=_error_example(
                "bad_query",
                "无法识别的日期：'abc'，请使用 2019-07-13、20190709 或 2019年07月13日",
                field="publishedFrom",
            ),
        ),
        "Unauthorized": _error_response(
            "缺少或无效的令牌",
            unauthorized=_error_example(
                "unauthorized", "缺少或无效的令牌（Authorization: Bearer …）"
            ),
        ),
        "NotFound": _error_response(
            "没有这个条目：未知的编号与依法不宜公开的条目回答相同",
            notFound=_error_example("not_found", "没有这个条目"),
        ),
        "Gone": _error_response(
            "条目曾经公开，现已移除；响应中没有条目的任何数据",
            removed=_error_example("removed", "该条目已依法屏蔽、删除、撤销或有效期届满，不再公开"),
        ),
        "TooLarge": _error_response(
            f"提交内容超过上限（本站为 {size}）",
            tooLarge=_error_example("too_large", f"提交内容过大（上限 {size}），请分批提交"),
        ),
        "UnsupportedMediaType": _error_response(
            "内容类型不受支持",
            unsupported=_error_example(
                "unsupported_media_type", "请以 application/x-ndjson（JSON Lines）或 text/csv 提交"
            ),
        ),
        "RateLimited": {
            **_error_response(
                "请求过于频繁：每个客户端地址对 JSON 接口的请求合计"
                + rate_text(settings.rate_limit_api),
                rateLimited=_error_example(
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
        "ServerError": _error_response(
            "服务器内部错误",
            serverError=_error_example("server_error", "服务器内部错误，请稍后再试"),
        ),
    }


def _common(*statuses: str) -> dict[str, Any]:
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


# --- Ingest and compliance ------------------------------------------------------------------

REJECT_SCHEMA = {
    "type": "object",
    "description": "一行被拒绝的原因",
    "required": ["line", "code", "field", "message", "raw"],
    "properties": {
        "line": {"type": "integer", "minimum": 1, "description": "行号（CSV 为文件中的行号）"},
        "code": {
            "type": "string",
            "description": "原因代码，如 missing_field、bad_date、bad_case_code、bad_json",
        },
        "field": {**_nullable(_STR), "description": "出错的字段"},
        "message": {"type": "string", "description": "给报送人员看的中文说明"},
        "raw": {
            "type": "string",
            "description": "该行原文（截断；完整身份证号码已打码）",
        },
    },
}

INGEST_REPORT = {
    "type": "object",
    "description": "本批次的汇总与被拒绝的行；其余各行照常生效",
    "required": [
        "batch",
        "source",
        "file",
        "sha256",
        "lines",
        "accepted",
        "duplicates",
        "applied",
        "rejected",
        "rejects",
    ],
    "properties": {
        "batch": {"type": "string", "description": "批次编号"},
        "source": {"type": "string", "description": "来源：api:<令牌所属单位>"},
        "file": {**_nullable(_STR), "description": "请求头 X-Filename 给出的文件名"},
        "sha256": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "请求体的 SHA-256",
        },
        "lines": {"type": "integer", "minimum": 0, "description": "读到的行数"},
        "accepted": {"type": "integer", "minimum": 0, "description": "新记录的事件数"},
        "duplicates": {
            "type": "integer",
            "minimum": 0,
            "description": "以前已提交过的事件数（重复提交不改变任何数据）",
        },
        "applied": {"type": "integer", "minimum": 0, "description": "已生效的事件数"},
        "rejected": {"type": "integer", "minimum": 0, "description": "被拒绝的行数"},
        "rejects": {"type": "array", "items": _ref("Reject"), "description": "被拒绝的行"},
    },
}

_EVENT_COMMON = {
    "op": {"type": "string", "description": "操作"},
    "id": {
        "type": ["string", "integer"],
        "pattern": events.ENTRY_ID.pattern,
        "description": "条目编号：1–64 位字母、数字、- _ . :",
    },
}
_INGEST_FIELDS: dict[str, dict[str, Any]] = {
    "caseCode": _field("caseCode", _STR, "各种括号、全角半角均可"),
    "iname": _field("iname", {"type": "string", "maxLength": events.MAX_NAME}),
    "cardNum": _field(
        "cardNum",
        _STR,
        "自然人：18 位身份证号码（校验码须正确）或打码形式；组织：统一社会信用代码或组织机构代码",
    ),
    "courtName": _field("courtName", {"type": "string", "maxLength": events.MAX_NAME}),
    "areaName": _field("areaName", {"type": "string", "maxLength": events.MAX_NAME}),
    "partyTypeName": _field(
        "partyTypeName", {"type": "string"}, "自然人或法人或其他组织；缺省时按证件号码推断"
    ),
    "publishDate": _field("publishDate", {"type": ["string", "integer"]}),
    "regDate": _field("regDate", {"type": ["string", "integer"]}),
    "validUntil": _field("validUntil", {"type": ["string", "integer"]}),
    "severity": _field("severity", {"type": "string", "maxLength": events.MAX_NAME}),
    "sexy": _field("sexy", {"type": "string", "enum": ["男", "女"]}),
    "age": _field(
        "age",
        {"type": ["integer", "string"]},
        f"整数，可带“岁”；小于 {events.MIN_AGE} 的行被拒绝",
    ),
    "businessEntity": _field("businessEntity", _STR),
    "gistId": _field("gistId", _STR),
    "gistUnit": _field("gistUnit", _STR),
    "duty": _field("duty", _STR),
    "performance": _field("performance", _STR),
    "performedPart": _field("performedPart", _STR),
    "unperformPart": _field("unperformPart", _STR),
    "disruptTypeName": _field("disruptTypeName", _STR),
    "disclose": {
        "type": ["boolean", "string"],
        "default": True,
        "description": "为 false 时依法不宜公开，永不公开（默认 true）",
    },
}
_INSTANT = {
    "type": "string",
    "description": "生效时间：ISO 8601 时间（不带时区按北京时间）或日期",
    "examples": ["2026-11-20T10:00:00+08:00"],
}

INGEST_LINE = {
    "description": (
        "JSON Lines 的一行（CSV 的一行同样使用这些字段名作表头，且只能是 publish）。"
        "日期可写作 2019-07-13、20190709 或 2019年07月13日"
    ),
    "oneOf": [
        {
            "title": "publish",
            "type": "object",
            "description": "公布一个条目（全国平台的字段名）",
            "required": ["op", "id", "caseCode", "iname", "courtName", "publishDate"],
            "properties": {
                **_EVENT_COMMON,
                "op": {"const": "publish", "description": "操作：公布"},
                **_INGEST_FIELDS,
                "effectiveAt": {**_INSTANT, "description": "生效时间；缺省为发布日期"},
            },
        },
        {
            "title": "correct",
            "type": "object",
            "description": "更正：fields 中给出要更正的字段（字段名同 publish）",
            "required": ["op", "id", "fields"],
            "properties": {
                **_EVENT_COMMON,
                "op": {"const": "correct", "description": "操作：更正"},
                "effectiveAt": {**_INSTANT, "description": "生效时间；缺省为收到的时间"},
                "fields": {
                    "type": "object",
                    "minProperties": 1,
                    "description": "要更正的字段及其新值，字段名与 publish 相同",
                },
            },
        },
        {
            "title": "shield / delete / revoke",
            "type": "object",
            "description": "屏蔽、删除或撤销：须在生效后三个工作日内从本网站移除",
            "required": ["op", "id", "effectiveAt", "reason"],
            "properties": {
                **_EVENT_COMMON,
                "op": {
                    "enum": ["shield", "delete", "revoke"],
                    "description": "操作：屏蔽、删除或撤销",
                },
                "effectiveAt": _INSTANT,
                "reason": {"type": "string", "maxLength": events.MAX_TEXT, "description": "理由"},
            },
        },
    ],
}

_COUNT = {"type": "integer", "minimum": 0}
COMPLIANCE_PROBLEM = {
    "type": "object",
    "description": "一次需要关注的移除（超期、待确认或到达时已超期）",
    "required": [
        "removal",
        "kind",
        "effectiveAt",
        "receivedAt",
        "deadline",
        "removedAt",
        "arrivedLate",
        "state",
    ],
    "properties": {
        "removal": {"type": "integer", "description": "本站的移除编号（可公开）"},
        "entryId": {"type": "string", "description": "条目编号（仅凭单位令牌查询时提供）"},
        "reason": {**_nullable(_STR), "description": "法院给出的理由（仅凭单位令牌查询时提供）"},
        "kind": {
            "type": "string",
            "enum": ["shielded", "deleted", "revoked", "expired"],
            "description": "屏蔽、删除、撤销或有效期届满",
        },
        "effectiveAt": {**_TIME, "description": "移除的生效时间"},
        "receivedAt": {**_TIME, "description": "本站收到的时间"},
        "deadline": {**_TIME, "description": "法定期限：生效后第三个工作日结束"},
        "removedAt": {**_nullable(_TIME), "description": "确认已从索引移除的时间；未完成为 null"},
        "arrivedLate": {"type": "boolean", "description": "到达本站时已超过法定期限（报送方延误）"},
        "state": {
            "type": "string",
            "enum": ["on_time", "late", "pending", "overdue"],
            "description": "按时、超期完成、待确认、已超期未完成",
        },
    },
}

COMPLIANCE_REPORT = {
    "type": "object",
    "required": ["generatedAt", "removals", "latencySeconds", "problems", "problemsTruncated"],
    "properties": {
        "generatedAt": {**_TIME, "description": "生成时间（北京时间）"},
        "removals": {
            "type": "object",
            "description": "移除的数量",
            "required": [
                "total",
                "confirmed",
                "onTime",
                "late",
                "pending",
                "overdue",
                "arrivedLate",
            ],
            "properties": {
                "total": {**_COUNT, "description": "总数"},
                "confirmed": {**_COUNT, "description": "已确认移除"},
                "onTime": {**_COUNT, "description": "其中按时"},
                "late": {
                    **_COUNT,
                    "description": "其中超期（按时到达本站、本站移除超期；不含 arrivedLate）",
                },
                "pending": {**_COUNT, "description": "待确认"},
                "overdue": {**_COUNT, "description": "其中已超期（不含 arrivedLate）"},
                "arrivedLate": {**_COUNT, "description": "到达时已超过法定期限"},
            },
        },
        "latencySeconds": {
            "type": "object",
            "description": "从收到到确认移除的秒数；尚无已确认的移除时为 null",
            "required": ["median", "max"],
            "properties": {
                "median": {**_nullable({"type": "number"}), "description": "中位数"},
                "max": {**_nullable({"type": "number"}), "description": "最长"},
            },
        },
        "problems": {
            "type": "array",
            "items": _ref("ComplianceProblem"),
            "maxItems": 1000,
            "description": "需要关注的移除，最多 1000 条",
        },
        "problemsTruncated": {"type": "boolean", "description": "是否因超过 1000 条而截断"},
    },
}

HEALTH = {
    "type": "object",
    "required": ["store", "index", "indexBackend", "indexLag", "checkedAt", "ok"],
    "properties": {
        "store": {"type": "string", "enum": ["ok", "unreachable"], "description": "数据库"},
        "index": {"type": "string", "enum": ["ok", "unreachable"], "description": "搜索索引"},
        "indexBackend": {"type": "string", "enum": ["sqlite", "meili"], "description": "索引类型"},
        "indexLag": {
            **_nullable({"type": "integer", "minimum": 0}),
            "description": "索引尚未应用的变更数；数据库不可达时为 null",
        },
        "checkedAt": {**_TIME, "description": "检查时间（北京时间）"},
        "ok": {"type": "boolean", "description": "数据库与索引均可达"},
    },
}


# --- Complaints and reports (portal/casework_api.py) ----------------------------------------

_TEXT_FIELD = {"type": ["string", "null"], "maxLength": service.MAX_SHORT}
SUBMISSION_PROPERTIES: dict[str, dict[str, Any]] = {
    "category": {
        "type": "string",
        "description": "举报类别或投诉类型的代码（GET /api/v1/casework/categories）",
    },
    "entryId": {
        **_TEXT_FIELD,
        "description": (
            "名单条目编号。举报须为公开中的条目；投诉可为已移除的条目（信用修复须为已移除的条目）。"
            "给出公开中的条目时，姓名取自条目，debtorName 不用"
        ),
    },
    "debtorName": {**_TEXT_FIELD, "description": "被执行人姓名或名称（不在本站名单中时填写）"},
    "what": {
        "type": "string",
        "minLength": 1,
        "maxLength": service.MAX_TEXT,
        "description": "事情经过",
    },
    "when": {**_TEXT_FIELD, "description": "时间（文字）"},
    "where": {**_TEXT_FIELD, "description": "地点（文字）"},
    "measure": {
        **_TEXT_FIELD,
        "description": "所涉惩戒措施的代码（measures 之一）；仅 needsMeasure 为 true 的投诉类型",
    },
    "unit": {
        **_TEXT_FIELD,
        "description": "由类别的哪个责任单位办理（units 之一）；默认 receivingUnit",
    },
    "email": {
        **_TEXT_FIELD,
        "format": "email",
        "description": "接收办理进展的电子邮箱；不填即匿名，只能凭查询码查询",
    },
    "altcha": {
        **_TEXT_FIELD,
        "maxLength": altcha.MAX_PAYLOAD,
        "description": (
            "工作量证明：GET /altcha/challenge 的挑战解出后的 ALTCHA v2 载荷（base64）。"
            "不附时按“未附工作量证明”的较小额度受理"
        ),
    },
}
SUBMISSION = {
    "type": "object",
    "description": "一件举报或投诉；空字符串与 null 都视为未填",
    "required": ["category", "what"],
    "properties": SUBMISSION_PROPERTIES,
}
_CREDENTIALS = {
    "number": {"type": "string", "maxLength": 64, "description": "事项编号，如 JB-2026-K30YEE"},
    "code": {
        "type": "string",
        "maxLength": 64,
        "description": "查询码（不区分大小写，短横线和空格可省略）",
    },
}
TRACK_REQUEST = {
    "type": "object",
    "description": "事项编号与查询码（放在请求体中，不进入网址）",
    "required": ["number", "code"],
    "properties": _CREDENTIALS,
}
ADD_INFO_REQUEST = {
    "type": "object",
    "description": "补充材料",
    "required": ["number", "code"],
    "properties": {
        **_CREDENTIALS,
        "text": {
            "type": "string",
            "maxLength": service.MAX_TEXT,
            "description": "补充的内容（附有证据文件时可不填）",
        },
    },
}
CONTEST_REQUEST = {
    "type": "object",
    "description": "对答复、不予受理或办结提出异议",
    "required": ["number", "code"],
    "properties": {
        **_CREDENTIALS,
        "reason": {
            "type": "string",
            "minLength": 1,
            "maxLength": service.MAX_TEXT,
            "description": "异议理由（也可用 text 字段）",
        },
        "text": {"type": "string", "maxLength": service.MAX_TEXT, "description": "同 reason"},
    },
}
_UNIT_REF = {
    "type": "object",
    "required": ["code", "name"],
    "properties": {
        "code": {"type": "string", "description": "单位代码（法院为 court:法院名称）"},
        "name": {"type": "string", "description": "单位名称"},
    },
}
RECEIPT = {
    "type": "object",
    "description": "受理回执。查询码只在此返回一次，本站只保存其摘要，请妥善保存",
    "required": ["number", "accessCode", "unit", "acceptDue", "track"],
    "properties": {
        "number": {"type": "string", "description": "事项编号（举报 JB-，投诉 TS-）"},
        "accessCode": {"type": "string", "description": "查询码，只返回这一次"},
        "unit": {**_UNIT_REF, "description": "办理单位"},
        "acceptDue": {**_TIME, "description": "受理期限（北京时间）"},
        "track": {"type": "string", "const": "/track", "description": "查询办理进展的网页"},
    },
}
_STATES = [s.value for s in State]
TICKET = {
    "type": "object",
    "description": (
        "提交人看到的事项：状态、期限、时间线与每一条给提交人的答复；"
        "不含内部备注、经办人员和联系方式"
    ),
    "required": [
        "number",
        "kind",
        "category",
        "measure",
        "state",
        "stateName",
        "unit",
        "entryId",
        "debtorName",
        "courtName",
        "what",
        "when",
        "where",
        "receivedAt",
        "deadlines",
        "timeline",
        "evidence",
        "canAddInfo",
        "canContest",
    ],
    "properties": {
        "number": {"type": "string", "description": "事项编号"},
        "kind": {"type": "string", "enum": ["report", "complaint"], "description": "举报或投诉"},
        "category": {
            "type": "object",
            "required": ["code", "name"],
            "properties": {
                "code": {"type": "string", "description": "类别代码"},
                "name": {"type": "string", "description": "类别名称"},
            },
            "description": "类别",
        },
        "measure": {**_nullable(_STR), "description": "所涉惩戒措施的代码"},
        "state": {"type": "string", "enum": _STATES, "description": "状态"},
        "stateName": {"type": "string", "description": "状态（中文）"},
        "unit": {**_UNIT_REF, "description": "当前办理单位"},
        "entryId": {**_nullable(_STR), "description": "名单条目编号"},
        "debtorName": {**_nullable(_STR), "description": "被执行人姓名或名称"},
        "courtName": {**_nullable(_STR), "description": "执行法院（条目给出时）"},
        "what": {"type": "string", "description": "事情经过（按提交原文，展示时请转义）"},
        "when": {**_nullable(_STR), "description": "时间"},
        "where": {**_nullable(_STR), "description": "地点"},
        "receivedAt": {**_TIME, "description": "收到时间（北京时间）"},
        "deadlines": {
            "type": "array",
            "description": "正在计算的期限",
            "items": {
                "type": "object",
                "required": ["kind", "unitCode", "period", "dueAt", "overdue"],
                "properties": {
                    "kind": {
                        "type": "string",
                        "enum": ["accept", "reply", "correct"],
                        "description": "受理、答复或更正",
                    },
                    "unitCode": {"type": "string", "description": "负有期限的单位"},
                    "period": {"type": "string", "description": "期限，如 3 working days"},
                    "dueAt": {**_TIME, "description": "届满时间（北京时间）"},
                    "overdue": {"type": "boolean", "description": "是否已超期"},
                },
            },
        },
        "timeline": {
            "type": "array",
            "description": "办理过程中给提交人的每一条记录，按时间排列",
            "items": {
                "type": "object",
                "required": [
                    "at",
                    "action",
                    "actionName",
                    "by",
                    "state",
                    "stateName",
                    "unitCode",
                    "message",
                ],
                "properties": {
                    "at": {**_TIME, "description": "时间（北京时间）"},
                    "action": {
                        "type": "string",
                        "description": "submit、accept、transfer、decline、reply、close、"
                        "contest、add_info、correction、overdue 等",
                    },
                    "actionName": {"type": "string", "description": "操作（中文）"},
                    "by": {
                        "type": "string",
                        "enum": ["submitter", "unit", "system"],
                        "description": "提交人、办理单位或系统",
                    },
                    "state": {
                        **_nullable({"type": "string", "enum": _STATES}),
                        "description": "此后的状态",
                    },
                    "stateName": {**_nullable(_STR), "description": "此后的状态（中文）"},
                    "unitCode": {**_nullable(_STR), "description": "相关单位"},
                    "message": {"type": "string", "description": "给提交人的说明或答复"},
                },
            },
        },
        "evidence": {
            "type": "array",
            "description": "随事项提交的证据文件（只列名称与大小，文件不公开提供）",
            "items": {
                "type": "object",
                "required": ["filename", "mediaType", "size", "uploadedAt"],
                "properties": {
                    "filename": {"type": "string", "description": "文件名（展示时请转义）"},
                    "mediaType": {"type": "string", "description": "按内容识别的类型"},
                    "size": {"type": "integer", "minimum": 1, "description": "字节数"},
                    "uploadedAt": {**_TIME, "description": "上传时间（北京时间）"},
                },
            },
        },
        "canAddInfo": {"type": "boolean", "description": "可以补充材料（任何状态均可）"},
        "canContest": {
            "type": "boolean",
            "description": "可以提出异议（已答复、不予受理或已办结时）",
        },
    },
}
CASE_CATEGORY = {
    "type": "object",
    "description": "一个举报类别（一项惩戒措施）或投诉类型",
    "required": [
        "code",
        "name",
        "route",
        "units",
        "receivingUnit",
        "needsMeasure",
        "deadlines",
        "basis",
        "note",
    ],
    "properties": {
        "code": {"type": "string", "description": "代码，提交时用作 category（或 measure）"},
        "name": {"type": "string", "description": "名称"},
        "route": {
            "type": "string",
            "enum": ["units", ENTRY_COURT, MEASURE_UNIT],
            "description": (
                "units：由 units 中的单位办理；entry_court：由条目的执行法院办理；"
                "measure_unit：由所涉惩戒措施的单位办理"
            ),
        },
        "units": {"type": "array", "items": _UNIT_REF, "description": "责任单位"},
        "receivingUnit": {**_nullable(_STR), "description": "默认的办理单位代码"},
        "needsMeasure": {"type": "boolean", "description": "提交时须给出 measure"},
        "deadlines": {
            "type": "object",
            "required": ["accept", "reply", "correct"],
            "properties": {
                "accept": {"type": "string", "description": "受理期限"},
                "reply": {"type": "string", "description": "答复期限"},
                "correct": {**_nullable(_STR), "description": "理由成立时的更正期限"},
            },
            "description": "期限（工作日按国家法定节假日计算）",
        },
        "basis": {"type": "string", "description": "依据"},
        "note": {"type": "string", "description": "说明"},
        "requiresEntryStatus": {
            "type": "array",
            "items": {"type": "string"},
            "description": "仅投诉：所涉条目须处于这些状态之一",
        },
    },
}
CASE_CATEGORIES = {
    "type": "object",
    "description": "填写举报、投诉所需的全部选项，来自本站的路由文件",
    "required": ["routingVersion", "jurisdiction", "areas", "complaints", "measures"],
    "properties": {
        "routingVersion": {"type": "string", "description": "路由文件的版本（记在每件事项上）"},
        "jurisdiction": {"type": "string", "description": "路由文件适用的辖区"},
        "areas": {
            "type": "array",
            "description": "联合惩戒的各个方面及其举报类别",
            "items": {
                "type": "object",
                "required": ["code", "name", "categories"],
                "properties": {
                    "code": {"type": "string", "description": "方面代码"},
                    "name": {"type": "string", "description": "方面名称"},
                    "categories": {
                        "type": "array",
                        "items": _ref("CaseCategory"),
                        "description": "举报类别",
                    },
                },
            },
        },
        "complaints": {"type": "array", "items": _ref("CaseCategory"), "description": "投诉类型"},
        "measures": {
            "type": "array",
            "description": "惩戒措施（投诉的 measure 可取的值）",
            "items": {
                "type": "object",
                "required": ["code", "name"],
                "properties": {
                    "code": {"type": "string", "description": "措施代码"},
                    "name": {"type": "string", "description": "措施名称"},
                },
            },
        },
    },
}

EXAMPLE_SUBMISSION = {
    "category": "consumption.hotel",
    "entryId": "p1",
    "what": "2026年11月20日晚在某大酒店入住行政套房",
    "when": "2026年11月20日",
    "where": "青岛市市北区某大酒店",
    "email": "a@example.com",
}
EXAMPLE_RECEIPT = {
    "number": "JB-2026-K30YEE",
    "accessCode": "BBZN-8A5D-TBWK",
    "unit": {"code": "tourism", "name": "旅游局"},
    "acceptDue": "2026-11-26T23:59:59+08:00",
    "track": "/track",
}
EXAMPLE_TICKET = {
    "number": "JB-2026-K30YEE",
    "kind": "report",
    "category": {
        "code": "consumption.hotel",
        "name": "住宿星级宾馆饭店，在夜总会、高尔夫球场等场所消费",
    },
    "measure": None,
    "state": "replied",
    "stateName": "已答复",
    "unit": {"code": "tourism", "name": "旅游局"},
    "entryId": "p1",
    "debtorName": "张伟",
    "courtName": "北京市朝阳区人民法院",
    "what": "2026年11月20日晚在某大酒店入住行政套房",
    "when": "2026年11月20日",
    "where": "青岛市市北区某大酒店",
    "receivedAt": "2026-11-23T12:09:08+08:00",
    "deadlines": [],
    "timeline": [
        {
            "at": "2026-11-23T12:09:08+08:00",
            "action": "submit",
            "actionName": "提交",
            "by": "submitter",
            "state": "received",
            "stateName": "已收到",
            "unitCode": "tourism",
            "message": "已收到，交由旅游局办理，3个工作日内受理（2026-11-26前）",
        },
        {
            "at": "2026-11-24T09:30:12+08:00",
            "action": "accept",
            "actionName": "受理",
            "by": "unit",
            "state": "accepted",
            "stateName": "已受理",
            "unitCode": "tourism",
            "message": "已受理",
        },
        {
            "at": "2026-12-02T16:05:41+08:00",
            "action": "reply",
            "actionName": "答复",
            "by": "unit",
            "state": "replied",
            "stateName": "已答复",
            "unitCode": "tourism",
            "message": "经核查，已责令酒店整改并依法处理",
        },
    ],
    "evidence": [
        {
            "filename": "酒店门口.jpg",
            "mediaType": "image/jpeg",
            "size": 482113,
            "uploadedAt": "2026-11-23T12:09:08+08:00",
        }
    ],
    "canAddInfo": True,
    "canContest": True,
}
EXAMPLE_CASE_CATEGORY = {
    "code": "consumption.hotel",
    "name": "住宿星级宾馆饭店，在夜总会、高尔夫球场等场所消费",
    "route": "units",
    "units": [
        {"code": "tourism", "name": "旅游局"},
        {"code": "commerce", "name": "商务局"},
        {"code": "police-shibei", "name": "公安市北分局"},
        {"code": "law-enforcement", "name": "综合行政执法局"},
    ],
    "receivingUnit": "tourism",
    "needsMeasure": False,
    "deadlines": {"accept": "3个工作日", "reply": "20个工作日", "correct": None},
    "basis": "seed 003 二、(六)1",
    "note": "",
}
EXAMPLE_CASE_CATEGORIES = {
    "routingVersion": "sb-2026.1",
    "jurisdiction": "青岛市市北区",
    "areas": [
        {
            "code": "consumption",
            "name": "限制高消费及有关消费",
            "categories": [EXAMPLE_CASE_CATEGORY],
        }
    ],
    "complaints": [
        {
            "code": "credit-repair",
            "name": "名单屏蔽、撤销后申请解除惩戒（信用修复）",
            "route": "measure_unit",
            "units": [],
            "receivingUnit": None,
            "needsMeasure": True,
            "deadlines": {"accept": "3个工作日", "reply": "15个工作日", "correct": None},
            "basis": "",
            "note": "失信名单被依法屏蔽、撤销的，惩戒单位应当及时解除惩戒措施。",
            "requiresEntryStatus": ["deleted", "expired", "revoked", "shielded"],
        }
    ],
    "measures": [{"code": "consumption.hotel", "name": EXAMPLE_CASE_CATEGORY["name"]}],
}


def _casework_responses(settings: Settings) -> dict[str, Any]:
    json_size, upload_size = _size(settings.form_max_bytes), _size(settings.upload_max_bytes)
    return {
        "BadBody": _error_response(
            "请求体不是 JSON 对象",
            badJson=_error_example("bad_request", "请求体不是有效的 JSON"),
        ),
        "CrossSite": _error_response(
            "浏览器从其他网站的页面发起的提交（请求头 Origin 或 Sec-Fetch-Site 表明）",
            crossSite=_error_example("forbidden", "不接受其他网站的页面发起的提交"),
        ),
        "TicketNotFound": _error_response(
            "没有这个事项或查询码不正确（两者回答相同）",
            notFound=_error_example("not_found", casework_pages.NOT_FOUND),
        ),
        "Conflict": _error_response(
            "事项当前的状态不允许此操作",
            conflict=_error_example("conflict", "当前状态（已收到）不能进行此操作"),
        ),
        "Invalid": _error_response(
            "提交的内容有误；field 指出是哪一个字段",
            email=_error_example("invalid", "电子邮箱格式不正确", field="email"),
            entry=_error_example("invalid", "未找到该条目，或该条目已不再公开", field="entryId"),
            evidence=_error_example(
                "invalid",
                "文件“photo.jpg”不是 JPEG、PNG、WebP、HEIC 图片或 PDF 文件"
                "（按文件内容判断，与文件名无关）",
                field="evidence",
            ),
        ),
        "TooLargeSubmission": _error_response(
            f"提交内容超过上限（JSON {json_size}；附证据文件时整个请求 {upload_size}）",
            tooLarge=_error_example("too_large", f"提交内容过大（上限 {json_size}）"),
        ),
        "UnsupportedSubmission": _error_response(
            "内容类型不受支持",
            unsupported=_error_example(
                "unsupported_media_type", f"请以 {JSON} 或 {MULTIPART} 提交"
            ),
        ),
    }


def _case_errors(*statuses: str) -> dict[str, Any]:
    names = {
        "400": "BadBody",
        "403": "CrossSite",
        "404": "TicketNotFound",
        "409": "Conflict",
        "413": "TooLargeSubmission",
        "415": "UnsupportedSubmission",
        "422": "Invalid",
    }
    refs = {s: {"$ref": f"#/components/responses/{names[s]}"} for s in statuses if s in names}
    return {**refs, **_common(*(s for s in statuses if s not in names))}


def _multipart(json_schema: str, description: str) -> dict[str, Any]:
    return {
        "schema": {
            "type": "object",
            "required": ["submission"],
            "properties": {
                "submission": {
                    "type": "string",
                    "contentMediaType": JSON,
                    "description": f"与 {JSON} 请求体相同的 JSON（{json_schema}）",
                },
                "evidence": {
                    "type": "array",
                    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                    "description": description,
                },
            },
        },
        "encoding": {"submission": {"contentType": JSON}},
    }


def _casework_paths(settings: Settings) -> dict[str, Any]:
    files = (
        f"证据文件（每个一部分，最多 {settings.evidence_max_files} 个，每个不超过 "
        f"{_size(settings.evidence_max_file_bytes)}）：JPEG、PNG、WebP、HEIC 图片或 PDF，"
        "按内容判断类型，伪装的文件被拒绝"
    )
    budget = (
        "计入 JSON 接口的频率限制，同时与网页表单的提交合计计入表单的频率限制"
        f"（{rate_text(settings.rate_limit_forms)}）。"
    )
    proof = (
        "工作量证明：请先 GET /altcha/challenge 取得挑战，解出后放入 altcha 字段；"
        f"不附时每个客户端地址{rate_text(settings.rate_limit_unproven)}，超过返回 429。"
    )
    submit_responses = {
        "201": {
            "description": "已受理：事项编号与查询码（只此一次，Cache-Control: no-store）",
            "content": {JSON: {"schema": _ref("Receipt"), "example": EXAMPLE_RECEIPT}},
        },
        **_case_errors("400", "403", "413", "415", "422", "429", "500"),
    }

    def submit(kind: str, name: str, path: str, example: dict[str, Any]) -> dict[str, Any]:
        return {
            "post": {
                "operationId": f"file{kind}",
                "tags": ["投诉与举报"],
                "summary": f"提交{name}",
                "description": (
                    f"与网页 /{path}/new 相同的{name}，由路由文件决定的责任单位办理。"
                    f"请求体为 {JSON}；附证据文件时为 {MULTIPART}，JSON 放在 submission 部分，"
                    "文件放在 evidence 部分。不认识的字段被拒绝（422）。"
                    "响应中的查询码只返回这一次，请提示提交人保存。" + proof + budget
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {"schema": _ref("Submission"), "example": example},
                        MULTIPART: _multipart("Submission", files),
                    },
                },
                "responses": submit_responses,
                "x-codeSamples": _curl(
                    f"curl -X POST '{EXAMPLE_BASE}/api/v1/{path}'",
                    "-H 'Content-Type: application/json'",
                    f"-d '{_json(example)}'",
                )
                + _curl(
                    f"curl -X POST '{EXAMPLE_BASE}/api/v1/{path}'",
                    f"-F 'submission={_json(example)};type={JSON}'",
                    "-F 'evidence=@酒店门口.jpg'",
                ),
            }
        }

    ticket = {
        "description": "事项的当前情况（Cache-Control: no-store）",
        "content": {JSON: {"schema": _ref("Ticket"), "example": EXAMPLE_TICKET}},
    }
    credentials = {"number": EXAMPLE_RECEIPT["number"], "code": EXAMPLE_RECEIPT["accessCode"]}

    operation_paths = {
        "track": "track",
        "trackAddInfo": "track/add-info",
        "trackContest": "track/contest",
    }

    def act(
        operation: str, summary: str, description: str, schema: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        content: dict[str, Any] = {JSON: {"schema": _ref(schema), "example": body}}
        statuses = ["400", "403", "404", "413", "415", "422", "429", "500"]
        if operation != "track":
            statuses.insert(3, "409")
        if operation == "trackAddInfo":
            content[MULTIPART] = _multipart(schema, files)
        return {
            "post": {
                "operationId": operation,
                "tags": ["投诉与举报"],
                "summary": summary,
                "description": description + "未知的编号与错误的查询码回答相同（404）。" + budget,
                "requestBody": {"required": True, "content": content},
                "responses": {"200": ticket, **_case_errors(*statuses)},
                "x-codeSamples": _curl(
                    f"curl -X POST '{EXAMPLE_BASE}/api/v1/{operation_paths[operation]}'",
                    "-H 'Content-Type: application/json'",
                    f"-d '{_json(body)}'",
                ),
            }
        }

    return {
        "/api/v1/casework/categories": {
            "get": {
                "operationId": "caseworkCategories",
                "tags": ["投诉与举报"],
                "summary": "举报类别、投诉类型、责任单位与期限",
                "description": (
                    "构建提交表单所需的全部选项，来自本站的路由文件（routingVersion 为其版本）。"
                ),
                "responses": {
                    "200": {
                        "description": "全部选项",
                        "content": {
                            JSON: {
                                "schema": _ref("CaseCategories"),
                                "example": EXAMPLE_CASE_CATEGORIES,
                            }
                        },
                    },
                    **_common("429", "500"),
                },
                "x-codeSamples": _curl(f"curl '{EXAMPLE_BASE}/api/v1/casework/categories'"),
            }
        },
        "/api/v1/reports": submit("Report", "举报", "reports", EXAMPLE_SUBMISSION),
        "/api/v1/complaints": submit(
            "Complaint",
            "投诉",
            "complaints",
            {"category": "inaccurate-info", "entryId": "p1", "what": "年龄有误，应为四十岁"},
        ),
        "/api/v1/track": act(
            "track",
            "查询事项的办理进展",
            "编号与查询码放在请求体中，不进入网址。返回状态、期限、时间线和每一条给提交人的答复。",
            "TrackRequest",
            credentials,
        ),
        "/api/v1/track/add-info": act(
            "trackAddInfo",
            "补充材料",
            "任何状态都可补充；已答复、不予受理或已办结的事项因此重新办理。"
            f"附证据文件时以 {MULTIPART} 提交，JSON 放在 submission 部分。",
            "AddInfoRequest",
            {**credentials, "text": "补充：同行的还有两人"},
        ),
        "/api/v1/track/contest": act(
            "trackContest",
            "对答复提出异议",
            "已答复、不予受理或已办结的事项可提出异议，事项重新办理，单位须重新答复；"
            "其他状态返回 409。",
            "ContestRequest",
            {**credentials, "reason": "并未整改，酒店仍接待其入住"},
        ),
    }


CASEWORK_SCHEMAS = {
    "Submission": SUBMISSION,
    "Receipt": RECEIPT,
    "TrackRequest": TRACK_REQUEST,
    "AddInfoRequest": ADD_INFO_REQUEST,
    "ContestRequest": CONTEST_REQUEST,
    "Ticket": TICKET,
    "CaseCategory": CASE_CATEGORY,
    "CaseCategories": CASE_CATEGORIES,
}


# --- The document ---------------------------------------------------------------------------


def _curl(*lines: str) -> list[dict[str, str]]:
    return [{"lang": "Shell", "label": "curl", "source": " \\\n  ".join(lines)}]


def build_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with this deployment's limits in the descriptions."""
    item = {
        "type": "object",
        "description": "一个公开的条目：全国平台的字段名，加上 id、status、partyType、validUntil",
        "required": list(ITEM_PROPERTIES),
        "properties": copy.deepcopy(ITEM_PROPERTIES),
    }
    detail = copy.deepcopy(item)
    detail["description"] = "一个公开的条目及其公布、更正记录"
    detail["required"].append("history")
    detail["properties"]["history"] = {
        "type": "array",
        "items": _ref("HistoryEvent"),
        "description": "公布与更正记录，按生效时间排列",
    }
    search_page = {
        "type": "object",
        "required": ["total", "page", "perPage", "items"],
        "properties": {
            "total": {"type": "integer", "minimum": 0, "description": "符合条件的条目总数"},
            "page": {"type": "integer", "minimum": 1, "description": "页码"},
            "perPage": {"type": "integer", "minimum": 1, "description": "每页条数"},
            "items": {"type": "array", "items": _ref("Entry"), "description": "本页的条目"},
        },
    }
    rate = (
        f"频率限制：每个客户端地址对 /api/ 下所有接口的请求合计{rate_text(settings.rate_limit_api)}"
        f"（网页另计，{rate_text(settings.rate_limit_pages)}）；超过时返回 429 和 Retry-After。"
        "/healthz 不限。"
    )
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "失信被执行人名单查询 JSON 接口",
            "version": API_VERSION,
            "summary": "查询公开的失信被执行人条目，法院报送名单，查看移除合规情况",
            "description": (
                "免费、无需注册。只返回公开中的条目；已屏蔽、删除、撤销或有效期届满的条目不会出现，"
                "按编号查询时返回 410 且不含任何数据。身份证号码只以打码形式返回。"
                '错误统一为 {"error": {"code", "message"}}。' + rate
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/", "description": "本站"}],
        "tags": [
            {"name": "查询", "description": "公开条目的检索与详情"},
            {"name": "报送", "description": "法院以令牌报送公布、更正与移除"},
            {"name": "投诉与举报", "description": "提交举报、投诉，凭编号与查询码查询办理进展"},
            {"name": "运行", "description": "合规报告、健康检查与本文档"},
        ],
        "paths": {
            "/api/v1/entries": {
                "get": {
                    "operationId": "searchEntries",
                    "tags": ["查询"],
                    "summary": "检索公开的条目",
                    "description": (
                        "所有参数均可选，可任意组合（同时给出时须全部满足）；"
                        "证件号码与案号精确匹配，姓名可部分匹配，繁简、全半角均可。"
                    ),
                    "parameters": _search_parameters(),
                    "responses": {
                        "200": {
                            "description": "一页结果",
                            "content": {
                                JSON: {
                                    "schema": _ref("SearchPage"),
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
                        **_common("400", "429", "500"),
                    },
                    "x-codeSamples": _curl(
                        f"curl -G '{EXAMPLE_BASE}/api/v1/entries'",
                        "--data-urlencode 'q=张伟'",
                        "--data-urlencode 'region=北京'",
                        "--data-urlencode 'perPage=10'",
                    ),
                }
            },
            "/api/v1/search": {
                "post": {
                    "operationId": "searchEntriesPosted",
                    "tags": ["查询"],
                    "summary": "以 JSON 请求体检索公开的条目（证件号码不进入网址）",
                    "description": (
                        "与 GET /api/v1/entries 相同的参数与结果，"
                        "参数放在 JSON 对象中（值为文本或整数）。"
                        "按身份证号码检索时请用此接口：网址会留在代理和服务器日志、浏览历史中。"
                        "响应不被缓存（Cache-Control: no-store）。"
                    ),
                    "requestBody": {
                        "required": False,
                        "content": {JSON: {"schema": _search_body_schema()}},
                    },
                    "responses": {
                        "200": {
                            "description": "一页结果",
                            "content": {JSON: {"schema": _ref("SearchPage")}},
                        },
                        **_common("400", "413", "429", "500"),
                    },
                    "x-codeSamples": _curl(
                        f"curl -X POST '{EXAMPLE_BASE}/api/v1/search'",
                        "-H 'Content-Type: application/json'",
                        '-d \'{"cardNum": "<18 位身份证号码>"}\'',
                    ),
                }
            },
            "/api/v1/entries/{id}": {
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
                                    "schema": _ref("EntryDetail"),
                                    "example": {**EXAMPLE_PERSON, "history": EXAMPLE_HISTORY},
                                }
                            },
                        },
                        **_common("404", "410", "429", "500"),
                    },
                    "x-codeSamples": _curl(f"curl '{EXAMPLE_BASE}/api/v1/entries/zw'"),
                }
            },
            "/api/v1/ingest": {
                "post": {
                    "operationId": "ingest",
                    "tags": ["报送"],
                    "summary": "报送一批公布、更正、屏蔽、删除或撤销",
                    "description": (
                        "JSON Lines（每行一个事件，见 IngestLine）或 CSV（仅公布，表头为字段名）。"
                        "application/jsonl、application/json、text/plain 按 JSON Lines 处理。"
                        "坏行被拒绝并给出行号与原因，其余各行照常生效；重复提交同一批次不改变任何数据。"
                        "法院的令牌只能报送本院的条目。"
                        f"请求体上限 {_size(settings.ingest_max_bytes)}。"
                    ),
                    "security": [{"ingestToken": []}],
                    "parameters": [
                        {
                            "name": "X-Filename",
                            "in": "header",
                            "required": False,
                            "description": "原始文件名，记入批次",
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            NDJSON: {
                                "schema": {"type": "string", "description": "每行一个 IngestLine"},
                                "example": EXAMPLE_NDJSON,
                            },
                            CSV: {
                                "schema": {
                                    "type": "string",
                                    "description": "UTF-8（可带 BOM）或 GB 18030；首行为字段名",
                                },
                                "example": EXAMPLE_CSV,
                            },
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "已处理；rejects 列出被拒绝的行",
                            "content": {
                                JSON: {"schema": _ref("IngestReport"), "example": EXAMPLE_INGEST}
                            },
                        },
                        "422": {
                            "description": "所有行都被拒绝",
                            "content": {
                                JSON: {
                                    "schema": _ref("IngestReport"),
                                    "example": EXAMPLE_INGEST_ALL_REJECTED,
                                }
                            },
                        },
                        **_common("401", "413", "415", "429", "500"),
                    },
                    "x-codeSamples": _curl(
                        f"curl -X POST '{EXAMPLE_BASE}/api/v1/ingest'",
                        "-H 'Authorization: Bearer <令牌>'",
                        f"-H 'Content-Type: {NDJSON}'",
                        "-H 'X-Filename: batch-2026-11-20.jsonl'",
                        "--data-binary @batch-2026-11-20.jsonl",
                    ),
                }
            },
            **_casework_paths(settings),
            "/api/v1/compliance": {
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
                                    "schema": _ref("ComplianceReport"),
                                    "examples": {
                                        "public": {
                                            "summary": "公开（无令牌）",
                                            "value": _compliance_example(public=True),
                                        },
                                        "unit": {
                                            "summary": "附单位令牌",
                                            "value": _compliance_example(public=False),
                                        },
                                    },
                                }
                            },
                        },
                        **_common("429", "500"),
                    },
                    "x-codeSamples": _curl(f"curl '{EXAMPLE_BASE}/api/v1/compliance'"),
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapiDocument",
                    "tags": ["运行"],
                    "summary": "本文档（OpenAPI 3.1）",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 文档",
                            "content": {JSON: {"schema": {"type": "object"}}},
                        },
                        **_common("429"),
                    },
                    "x-codeSamples": _curl(f"curl '{EXAMPLE_BASE}/api/v1/openapi.json'"),
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "tags": ["运行"],
                    "summary": "健康检查（不限频率）",
                    "responses": {
                        "200": {
                            "description": "数据库与索引均可达",
                            "content": {
                                JSON: {"schema": _ref("Health"), "example": EXAMPLE_HEALTH}
                            },
                        },
                        "503": {
                            "description": "数据库或索引不可达",
                            "content": {JSON: {"schema": _ref("Health")}},
                        },
                        **_common("500"),
                    },
                    "x-codeSamples": _curl(f"curl '{EXAMPLE_BASE}/healthz'"),
                }
            },
        },
        "components": {
            "schemas": {
                "Entry": item,
                "EntryDetail": detail,
                "HistoryEvent": copy.deepcopy(HISTORY_EVENT),
                "SearchPage": search_page,
                "IngestLine": copy.deepcopy(INGEST_LINE),
                "IngestReport": copy.deepcopy(INGEST_REPORT),
                "Reject": copy.deepcopy(REJECT_SCHEMA),
                "ComplianceReport": copy.deepcopy(COMPLIANCE_REPORT),
                "ComplianceProblem": copy.deepcopy(COMPLIANCE_PROBLEM),
                "Health": copy.deepcopy(HEALTH),
                "Error": copy.deepcopy(ERROR_SCHEMA),
                **copy.deepcopy(CASEWORK_SCHEMAS),
            },
            "responses": {**_responses(settings), **_casework_responses(settings)},
            "securitySchemes": {
                "ingestToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "单位的报送令牌（shixin token add 生成）：Authorization: Bearer <令牌>"
                    ),
                }
            },
        },
    }


def _size(limit: int) -> str:
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


def document_for_app(app: Any) -> dict[str, Any]:
    """The app's document, built once per app (from ``app.settings``)."""
    doc = getattr(app.state, "openapi_document", None)
    if doc is None:
        doc = app.state.openapi_document = build_document(app.settings)
    return doc


def document_for(request: Request) -> dict[str, Any]:
    return document_for_app(request.app)


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document_for(request))


# --- The human page (templates/api.html) ----------------------------------------------------


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` (one level at a time, until there is none)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _json(value: Any, *, indent: bool = False) -> str:
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(value, option=option).decode()


def _type_text(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    names = [k for k in kinds if k != "null"]
    text = " | ".join(names) or ("enum" if "enum" in schema or "const" in schema else "any")
    if schema.get("format"):
        text += f" ({schema['format']})"
    if "null" in kinds:
        text += "，可为 null"
    return text


def _limits_text(schema: dict[str, Any]) -> str:
    parts = []
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
    if values:
        parts.append("取值：" + "、".join(str(v) for v in values if v is not None))
    if "minimum" in schema and "maximum" in schema:
        parts.append(f"{schema['minimum']}–{schema['maximum']}")
    elif "minimum" in schema:
        parts.append(f"≥ {schema['minimum']}")
    elif "maximum" in schema:
        parts.append(f"≤ {schema['maximum']}")
    if "maxLength" in schema:
        parts.append(f"最多 {schema['maxLength']} 字")
    if "default" in schema:
        default = schema["default"]
        parts.append(f"默认 {default if isinstance(default, str) else _json(default)}")
    return "；".join(parts)


def schema_rows(
    doc: dict[str, Any], schema: Any, prefix: str = "", depth: int = 0
) -> list[dict[str, str]]:
    """The fields of an object schema as table rows, nested ones as ``a.b`` / ``a[].b``."""
    schema = resolve(doc, schema)
    rows: list[dict[str, str]] = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(doc, prop)
        path = f"{prefix}{name}"
        rows.append(
            {
                "name": path,
                "type": _type_text(prop),
                "required": "是" if name in required else "",
                "limits": _limits_text(prop),
                "description": prop.get("description", ""),
            }
        )
        if depth < 3:
            if prop.get("properties"):
                rows += schema_rows(doc, prop, f"{path}.", depth + 1)
            items = resolve(doc, prop.get("items"))
            if isinstance(items, dict) and items.get("properties"):
                rows[-1]["type"] = "array"
                rows += schema_rows(doc, items, f"{path}[].", depth + 1)
    return rows


def page_context(request: Request) -> dict[str, Any]:
    """What templates/api.html shows, all taken from the document."""
    doc = document_for(request)
    settings = request.app.settings
    endpoints = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            responses = []
            example = None
            for status, response in op["responses"].items():
                response = resolve(doc, response)
                content = response.get("content", {}).get(JSON, {})
                schema = content.get("schema")
                ref = schema.get("$ref", "").rsplit("/", 1)[-1] if schema else ""
                responses.append(
                    {"status": status, "description": response["description"], "schema": ref}
                )
                if status in ("200", "201") and example is None:
                    example = content.get("example")
                    if example is None and content.get("examples"):
                        example = next(iter(content["examples"].values()))["value"]
            body = op.get("requestBody", {}).get("content", {})
            endpoints.append(
                {
                    "anchor": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "auth": any(s for s in op.get("security", [])),
                    "auth_optional": {} in op.get("security", []),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": {"query": "查询", "path": "路径", "header": "请求头"}[p["in"]],
                            "type": _type_text(p["schema"]),
                            "limits": _limits_text(p["schema"]),
                            "required": p.get("required", False),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body_types": list(body),
                    "body_is_ingest": NDJSON in body,
                    # Fields of a JSON request body (the casework endpoints); not the
                    # search body, whose fields are the parameters listed above.
                    "body_rows": schema_rows(doc, body[JSON]["schema"])
                    if JSON in body and "$ref" in body[JSON]["schema"]
                    else [],
                    "responses": responses,
                    "samples": [s["source"] for s in op.get("x-codeSamples", [])],
                    "example": _json(example, indent=True) if example and path != OWN_PATH else "",
                }
            )
    shown = ["SearchPage", "Entry", "EntryDetail", "HistoryEvent", "IngestReport", "Reject"]
    shown += ["ComplianceReport", "ComplianceProblem", "Health"]
    shown += ["Receipt", "Ticket", "CaseCategories", "CaseCategory", "Error"]
    schemas = [
        {
            "name": name,
            "description": doc["components"]["schemas"][name].get("description", ""),
            "rows": schema_rows(doc, _ref(name)),
        }
        for name in shown
    ]
    lines = [
        {
            "op": variant["title"],
            "description": variant.get("description", ""),
            "rows": schema_rows(doc, variant),
        }
        for variant in doc["components"]["schemas"]["IngestLine"]["oneOf"]
    ]
    errors = [
        {"code": code, "status": status or "404、405 等", "meaning": meaning}
        for code, (status, meaning) in ERROR_CODES.items()
    ]
    return {
        "doc": doc,
        "endpoints": endpoints,
        "schemas": schemas,
        "ingest_lines": lines,
        "errors": errors,
        "example_base": EXAMPLE_BASE,
        "limits": {
            "api": rate_text(settings.rate_limit_api),
            "pages": rate_text(settings.rate_limit_pages),
            "forms": rate_text(settings.rate_limit_forms),
            "unproven": rate_text(settings.rate_limit_unproven),
            "enabled": settings.rate_limit_enabled,
            "ingest": _size(settings.ingest_max_bytes),
        },
    }


async def api_page(request: Request) -> Response:
    return request.app.state.templates.TemplateResponse(request, "api.html", page_context(request))
