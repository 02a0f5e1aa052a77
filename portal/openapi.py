"""The OpenAPI 3.1 document of the JSON API, and the human page rendered from it.

``GET /api/v1/openapi.json`` serves :func:`build_document`; ``GET /api`` renders the same
document as a page in Chinese (templates/api.html). The schemas live here, beside the code
that produces the responses, and take their names, limits and descriptions from it:
``search_index.query`` (search parameters), ``search_index.types.IndexDoc.to_api`` (item
fields), ``search_index.service`` (entry history, health), ``search_index.compliance`` and
``search_index.ingest`` (report shapes), ``portal.ratelimit`` (429). tests/test_openapi.py
checks the document against the app's routes and real responses, so when one of those
changes, this module has to change with it.

This module holds the search, entry, ingest, compliance and health parts, assembles the
document and renders the page; the complaints-and-reports part is in
:mod:`portal.openapi_casework`, and what both share (media types, schema helpers, error codes
and responses, text helpers) in :mod:`portal.openapi_base`. Other modules import only from
here.

The examples are real responses of the test app (times and batch ids as they came out).
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from core.settings import Settings
from portal.openapi_base import (
    CSV,
    DATE,
    ERROR_CODES,
    ERROR_SCHEMA,
    EXAMPLE_BASE,
    JSON,
    NDJSON,
    STR,
    TIME,
    common_responses,
    curl,
    error_responses,
    json_text,
    nullable,
    rate_text,
    ref,
    size_text,
)
from portal.openapi_casework import CASEWORK_SCHEMAS, casework_paths, casework_responses
from portal.responses import JSONResponse
from portal.translations import FIELD_LABELS
from search_index import events, query
from search_index.ingest import XLSX_TYPE

# The entry points; rate_text comes from openapi_base and is offered here too.
__all__ = [
    "api_page",
    "build_document",
    "document_for",
    "document_for_app",
    "openapi_json",
    "page_context",
    "rate_text",
    "resolve",
    "schema_rows",
]

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
OWN_PATH = "/api/v1/openapi.json"


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
    "caseCode": _field("caseCode", STR, "规范形式"),
    "iname": _field("iname", STR, "按公布原文（可能为繁体）"),
    "cardNum": _field(
        "cardNum",
        nullable(STR),
        "自然人为打码的身份证号码（绝不返回完整号码），法人或其他组织为统一社会信用代码"
        "（法院以打码形式报送的保持打码）或组织机构代码（XXXXXXXX-X）；未公布时为 null",
    ),
    "courtName": _field("courtName", STR),
    "areaName": _field("areaName", STR, "未公布时为空字符串"),
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
    "regDate": _field("regDate", nullable(DATE)),
    "publishDate": _field("publishDate", DATE),
    "validUntil": _field("validUntil", nullable(DATE), "名单有效期届满日；未给出时为 null"),
    "severity": _field("severity", nullable(STR)),
    "sexy": _field("sexy", nullable({"type": "string", "enum": ["男", "女"]}), "仅自然人"),
    "age": _field(
        "age", nullable({"type": "integer", "minimum": events.MIN_AGE, "maximum": 130}), "仅自然人"
    ),
    "businessEntity": _field("businessEntity", nullable(STR), "仅法人或其他组织"),
    "gistId": _field("gistId", nullable(STR)),
    "gistUnit": _field("gistUnit", nullable(STR)),
    "duty": _field("duty", nullable(STR)),
    "performance": _field("performance", nullable(STR)),
    "performedPart": _field("performedPart", nullable(STR)),
    "unperformPart": _field("unperformPart", nullable(STR)),
    "disruptTypeName": _field("disruptTypeName", nullable(STR)),
}

HISTORY_EVENT = {
    "type": "object",
    "description": "公布或更正的一次记录：何时生效、更正了哪些字段（不含旧值）",
    "required": ["op", "effectiveAt", "fields"],
    "properties": {
        "op": {"type": "string", "enum": ["publish", "correct"], "description": "公布或更正"},
        "effectiveAt": {**TIME, "description": "生效时间（北京时间）"},
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
    "warnings": 1,
    "warnedLines": 1,
    "synced": True,
    "indexLag": 0,
    "rejects": [
        {
            "line": 4,
            "code": "missing_field",
            "field": "caseCode",
            "message": "缺少必填字段 caseCode",
            "raw": '{"op":"publish","id":"bad","iname":"x"}',
        }
    ],
    "warningList": [
        {
            "line": 2,
            "field": "sexy",
            "code": "bad_sex",
            "message": "性别 sexy 应为“男”“女”“男性”或“女性”；已忽略该字段，该行其余内容照常导入",
            "value": "未知",
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
    "warnings": 0,
    "warnedLines": 0,
    "synced": True,
    "indexLag": 0,
    "rejects": [
        {
            "line": 1,
            "code": "bad_json",
            "field": None,
            "message": "这一行不是有效的 JSON：unexpected character, expected a string key",
            "raw": "",
        }
    ],
    "warningList": [],
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
        "field": {**nullable(STR), "description": "出错的字段"},
        "message": {"type": "string", "description": "给报送人员看的中文说明"},
        "raw": {
            "type": "string",
            "description": "该行原文（截断；完整身份证号码已打码）",
        },
    },
}

WARNING_SCHEMA = {
    "type": "object",
    "description": (
        "一行已被接受，但其中一个可选字段无法使用：该字段已被忽略（过长的案情文字则被截断），"
        "该行其余内容照常生效"
    ),
    "required": ["line", "field", "code", "message", "value"],
    "properties": {
        "line": {"type": "integer", "minimum": 1, "description": "行号（CSV 为文件中的行号）"},
        "field": {"type": "string", "description": "被忽略或截断的字段"},
        "code": {
            "type": "string",
            "description": (
                "原因代码，如 bad_sex、bad_age、bad_date、too_long、"
                "unrecognized_identifier、truncated"
            ),
        },
        "message": {"type": "string", "description": "给报送人员看的中文说明：问题和处理方式"},
        "value": {
            "type": "string",
            "description": "收到的值（截断；完整身份证号码已打码）",
        },
    },
}

INGEST_REPORT = {
    "type": "object",
    "description": "本批次的汇总、被拒绝的行和带警告的行；其余各行照常生效",
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
        "warnings",
        "warnedLines",
        "synced",
        "indexLag",
        "rejects",
        "warningList",
    ],
    "properties": {
        "batch": {"type": "string", "description": "批次编号"},
        "source": {"type": "string", "description": "来源：api:<令牌所属单位>"},
        "file": {**nullable(STR), "description": "请求头 X-Filename 给出的文件名"},
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
        "warnings": {
            "type": "integer",
            "minimum": 0,
            "description": "警告条数：被忽略或截断的可选字段（这些行已生效）",
        },
        "warnedLines": {"type": "integer", "minimum": 0, "description": "带警告的行数"},
        "synced": {
            "type": "boolean",
            "description": (
                "应答时索引是否已应用本批次的全部变更（屏蔽、删除、撤销已从搜索结果中消失）。"
                "false：另一进程的同步在等待时间内未结束；各行已入库，下一轮同步（约每秒一次）"
                "会补上，重复提交不改变任何数据"
            ),
        },
        "indexLag": {
            "type": "integer",
            "minimum": 0,
            "description": "应答时索引尚未应用的变更数（含其他批次的）",
        },
        "rejects": {"type": "array", "items": ref("Reject"), "description": "被拒绝的行"},
        "warningList": {
            "type": "array",
            "items": ref("Warning"),
            "description": "各条警告（行已生效，只是个别字段被忽略或截断）",
        },
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
    "caseCode": _field(
        "caseCode",
        {"type": "string", "maxLength": events.MAX_CASE_CODE},
        "各种括号、全角半角均可；旧式如（2014）并执字第00085号、2015年丰执字第08996号",
    ),
    "iname": _field("iname", {"type": "string", "maxLength": events.MAX_NAME}),
    "cardNum": _field(
        "cardNum",
        STR,
        "自然人：18 位或 15 位身份证号码（校验码须正确）或打码形式（10+4+4、11+4+4）；"
        "组织：统一社会信用代码（完整或打码）或组织机构代码（带不带连字符均可）；"
        "无法识别的号码被忽略并给出警告（类型仍可判断时）",
    ),
    "courtName": _field("courtName", {"type": "string", "maxLength": events.MAX_NAME}),
    "areaName": _field("areaName", {"type": "string", "maxLength": events.MAX_NAME}),
    "partyTypeName": _field(
        "partyTypeName",
        {"type": ["string", "integer"]},
        "自然人或法人或其他组织，或全国平台的代码 0（自然人）、1（法人或其他组织）；"
        "缺省时按证件号码推断",
    ),
    "publishDate": _field("publishDate", {"type": ["string", "integer"]}),
    "regDate": _field("regDate", {"type": ["string", "integer"]}),
    "validUntil": _field("validUntil", {"type": ["string", "integer"]}),
    "severity": _field(
        "severity", {"type": "string"}, f"超过 {events.MAX_SEVERITY} 字时被忽略并给出警告"
    ),
    "sexy": _field(
        "sexy",
        {"type": "string"},
        "男、女、男性或女性；暂无、无、null 或空为未给出；其他值被忽略并给出警告",
    ),
    "age": _field(
        "age",
        {"type": ["integer", "string"]},
        f"整数或文本，可带“岁”；小于 {events.MIN_AGE} 的自然人行被拒绝；"
        "法人或其他组织的年龄（全国平台写作“0”）被忽略；无法读取时被忽略并给出警告",
    ),
    "businessEntity": _field("businessEntity", STR),
    "gistId": _field("gistId", STR),
    "gistUnit": _field("gistUnit", STR),
    "duty": _field("duty", STR),
    "performance": _field("performance", STR),
    "performedPart": _field("performedPart", STR),
    "unperformPart": _field("unperformPart", STR),
    "disruptTypeName": _field("disruptTypeName", STR),
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
        "reason": {**nullable(STR), "description": "法院给出的理由（仅凭单位令牌查询时提供）"},
        "kind": {
            "type": "string",
            "enum": ["shielded", "deleted", "revoked", "expired"],
            "description": "屏蔽、删除、撤销或有效期届满",
        },
        "effectiveAt": {**TIME, "description": "移除的生效时间"},
        "receivedAt": {**TIME, "description": "本站收到的时间"},
        "deadline": {**TIME, "description": "法定期限：生效后第三个工作日结束"},
        "removedAt": {**nullable(TIME), "description": "确认已从索引移除的时间；未完成为 null"},
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
        "generatedAt": {**TIME, "description": "生成时间（北京时间）"},
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
                "median": {**nullable({"type": "number"}), "description": "中位数"},
                "max": {**nullable({"type": "number"}), "description": "最长"},
            },
        },
        "problems": {
            "type": "array",
            "items": ref("ComplianceProblem"),
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
            **nullable({"type": "integer", "minimum": 0}),
            "description": "索引尚未应用的变更数；数据库不可达时为 null",
        },
        "checkedAt": {**TIME, "description": "检查时间（北京时间）"},
        "ok": {"type": "boolean", "description": "数据库与索引均可达"},
    },
}


# --- The document ---------------------------------------------------------------------------


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
        "items": ref("HistoryEvent"),
        "description": "公布与更正记录，按生效时间排列",
    }
    search_page = {
        "type": "object",
        "required": ["total", "page", "perPage", "items"],
        "properties": {
            "total": {"type": "integer", "minimum": 0, "description": "符合条件的条目总数"},
            "page": {"type": "integer", "minimum": 1, "description": "页码"},
            "perPage": {"type": "integer", "minimum": 1, "description": "每页条数"},
            "items": {"type": "array", "items": ref("Entry"), "description": "本页的条目"},
        },
    }
    rate = (
        f"频率限制：每个客户端地址对 /api/ 下所有接口的请求合计{rate_text(settings.rate_limit_api)}"
        f"（网页另计，{rate_text(settings.rate_limit_pages)}）；超过时返回 429 和 Retry-After。"
        "/healthz 不限。"
    )
    # A demo portal marks every response (portal/demo.py); only its document says so.
    demo = (
        "本站运行在演示数据上：其中的人员和案件均为虚构，每个响应都带响应头 X-Shixin-Demo: 1。"
        if settings.demo
        else ""
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
                '错误统一为 {"error": {"code", "message"}}。' + rate + demo
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
                                    "schema": ref("EntryDetail"),
                                    "example": {**EXAMPLE_PERSON, "history": EXAMPLE_HISTORY},
                                }
                            },
                        },
                        **common_responses("404", "410", "429", "500"),
                    },
                    "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/api/v1/entries/zw'"),
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
                        }
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
                            "content": {
                                JSON: {"schema": ref("IngestReport"), "example": EXAMPLE_INGEST}
                            },
                        },
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
                    ),
                }
            },
            **casework_paths(settings),
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
                                    "schema": ref("ComplianceReport"),
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
                        **common_responses("429", "500"),
                    },
                    "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/api/v1/compliance'"),
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
                        **common_responses("429"),
                    },
                    "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/api/v1/openapi.json'"),
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
                            "content": {JSON: {"schema": ref("Health"), "example": EXAMPLE_HEALTH}},
                        },
                        "503": {
                            "description": "数据库或索引不可达",
                            "content": {JSON: {"schema": ref("Health")}},
                        },
                        **common_responses("500"),
                    },
                    "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/healthz'"),
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
                "Warning": copy.deepcopy(WARNING_SCHEMA),
                "ComplianceReport": copy.deepcopy(COMPLIANCE_REPORT),
                "ComplianceProblem": copy.deepcopy(COMPLIANCE_PROBLEM),
                "Health": copy.deepcopy(HEALTH),
                "Error": copy.deepcopy(ERROR_SCHEMA),
                **copy.deepcopy(CASEWORK_SCHEMAS),
            },
            "responses": {**error_responses(settings), **casework_responses(settings)},
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


def document_for_app(app: Any) -> dict[str, Any]:
    """The app's document, built once per app (from ``app.state.settings``)."""
    doc = getattr(app.state, "openapi_document", None)
    if doc is None:
        doc = app.state.openapi_document = build_document(app.state.settings)
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
        parts.append(f"默认 {default if isinstance(default, str) else json_text(default)}")
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
    settings = request.app.state.settings
    endpoints = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            responses = []
            example = None
            for status, response in op["responses"].items():
                response = resolve(doc, response)
                content = response.get("content", {}).get(JSON, {})
                schema = content.get("schema")
                name = schema.get("$ref", "").rsplit("/", 1)[-1] if schema else ""
                responses.append(
                    {"status": status, "description": response["description"], "schema": name}
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
                    "example": json_text(example, indent=True)
                    if example and path != OWN_PATH
                    else "",
                }
            )
    shown = ["SearchPage", "Entry", "EntryDetail", "HistoryEvent", "IngestReport", "Reject"]
    shown += ["Warning"]
    shown += ["ComplianceReport", "ComplianceProblem", "Health"]
    shown += ["Receipt", "Ticket", "CaseCategories", "CaseCategory", "Error"]
    schemas = [
        {
            "name": name,
            "description": doc["components"]["schemas"][name].get("description", ""),
            "rows": schema_rows(doc, ref(name)),
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
            "ingest": size_text(settings.ingest_max_bytes),
        },
    }


async def api_page(request: Request) -> Response:
    return request.app.state.templates.TemplateResponse(request, "api.html", page_context(request))
