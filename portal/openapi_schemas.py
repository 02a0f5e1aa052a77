"""The schemas of the list API's part of the OpenAPI document (``#/components/schemas``).

Each takes its names, limits and descriptions from the code that produces or reads it:
``search_index.types.IndexDoc.to_api`` (the item), ``search_index.service`` (entry history,
health), ``search_index.events`` and ``search_index.ingest`` (ingest lines and reports),
``search_index.compliance`` (the compliance report). :func:`list_schemas` gives them all,
by name; :mod:`portal.openapi` adds the error schema and the casework schemas.
"""

from __future__ import annotations

import copy
from typing import Any

from portal.openapi_base import DATE, NOT_BLANK, STR, TIME, nullable, ref
from portal.translations import FIELD_LABELS
from screening import matching, queries
from search_index import events

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

_RELATED_ORGANIZATION = {
    "type": "object",
    "required": [
        "id",
        "iname",
        "caseCode",
        "courtName",
        "publishDate",
        "businessEntity",
        "url",
        "pageUrl",
    ],
    "properties": {
        name: copy.deepcopy(ITEM_PROPERTIES[name])
        for name in ("id", "iname", "caseCode", "courtName", "publishDate", "businessEntity")
    }
    | {
        "url": {"type": "string", "description": "该组织条目的 API 地址"},
        "pageUrl": {"type": "string", "description": "该组织条目的网页地址"},
    },
}

# search_index.related and portal.related: a name match, never proof of the same person.
RELATED_ORGANIZATIONS = {
    "type": "object",
    "description": (
        "法定代表人或负责人与该自然人同名的公开失信企业（法人或其他组织）。仅姓名相同"
        "（繁简、全半角统一后完全一致），不能证明是同一人。只出现在自然人条目上，且只在"
        "至少有一个这样的组织时出现；已屏蔽、撤销、删除或有效期届满的组织从不列出"
    ),
    "required": ["basis", "name", "items", "more", "moreUrl"],
    "properties": {
        "basis": {
            "type": "string",
            "enum": ["sameName"],
            "description": "关联依据：sameName（仅姓名相同）",
        },
        "name": {"type": "string", "description": "该自然人的姓名（按公布原文）"},
        "items": {
            "type": "array",
            "items": _RELATED_ORGANIZATION,
            "minItems": 1,
            "maxItems": 10,
            "description": "最多 10 个组织，按发布日期从新到旧",
        },
        "more": {"type": "boolean", "description": "是否还有更多（见 moreUrl）"},
        "moreUrl": {
            "type": "string",
            "description": "列出全部这些组织的搜索（GET /api/v1/entries?representative=…）",
        },
    },
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

INDEX_REPLICA = {
    "type": "object",
    "description": "一个索引副本：每台主机自己的内嵌索引（Meilisearch 为共用的一个）",
    "required": ["name", "state", "lag", "seenAt"],
    "properties": {
        "name": {"type": "string", "description": "副本名（SHIXIN_INDEX_REPLICA；默认 main）"},
        "state": {
            "type": "string",
            "enum": ["live", "catching_up", "silent"],
            "description": (
                "live：在线，移除须经它确认；catching_up：加入或恢复后正在追赶，追上前不计入；"
                "silent：超过 SHIXIN_INDEX_REPLICA_TIMEOUT 秒未报告，不再计入"
            ),
        },
        "lag": {**_COUNT, "description": "该副本尚未应用的变更数"},
        "seenAt": {**TIME, "description": "最近一次报告的时间（北京时间）"},
    },
}
_REPLICAS = {
    "type": "array",
    "items": ref("IndexReplica"),
    "description": "各索引副本，按名称排列",
}
_REPLICA_WARNINGS = {
    "type": "array",
    "items": {"type": "string"},
    "description": "有多个副本时：每个失联或正在追赶的副本一条中文警告",
}

COMPLIANCE_REPORT = {
    "type": "object",
    "required": [
        "generatedAt",
        "removals",
        "latencySeconds",
        "problems",
        "problemsTruncated",
        "replicas",
        "slowestReplica",
        "warnings",
    ],
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
        "replicas": _REPLICAS,
        "slowestReplica": {
            "anyOf": [ref("IndexReplica"), {"type": "null"}],
            "description": "落后最多的在线副本：移除要等它确认；没有在线副本时为 null",
        },
        "warnings": _REPLICA_WARNINGS,
    },
}

HEALTH = {
    "type": "object",
    "required": [
        "store",
        "index",
        "indexBackend",
        "indexLag",
        "indexReplica",
        "replicas",
        "warnings",
        "checkedAt",
        "ok",
    ],
    "properties": {
        "store": {"type": "string", "enum": ["ok", "unreachable"], "description": "数据库"},
        "index": {"type": "string", "enum": ["ok", "unreachable"], "description": "搜索索引"},
        "indexBackend": {"type": "string", "enum": ["sqlite", "meili"], "description": "索引类型"},
        "indexLag": {
            **nullable({"type": "integer", "minimum": 0}),
            "description": "本机索引尚未应用的变更数；数据库不可达时为 null",
        },
        "indexReplica": {"type": "string", "description": "本机的索引副本名"},
        "replicas": {**_REPLICAS, "description": "各索引副本；数据库不可达时为空"},
        "warnings": _REPLICA_WARNINGS,
        "checkedAt": {**TIME, "description": "检查时间（北京时间）"},
        "ok": {
            "type": "boolean",
            "description": "数据库与索引均可达，且（有多个副本时）本机副本在线",
        },
    },
}


# --- Entries and pages of them (built per document) -----------------------------------------


def entry_schema() -> dict[str, Any]:
    """``Entry``: one public item as ``to_api()`` gives it."""
    return {
        "type": "object",
        "description": "一个公开的条目：全国平台的字段名，加上 id、status、partyType、validUntil",
        "required": list(ITEM_PROPERTIES),
        "properties": {
            **copy.deepcopy(ITEM_PROPERTIES),
            "relatedOrganizations": ref("RelatedOrganizations"),
        },
    }


def entry_detail_schema() -> dict[str, Any]:
    """``EntryDetail``: an entry with its history."""
    detail = entry_schema()
    detail["description"] = "一个公开的条目及其公布、更正记录"
    detail["required"].append("history")
    detail["properties"]["history"] = {
        "type": "array",
        "items": ref("HistoryEvent"),
        "description": "公布与更正记录，按生效时间排列",
    }
    return detail


def search_page_schema() -> dict[str, Any]:
    """``SearchPage``: one page of search results."""
    return {
        "type": "object",
        "required": ["total", "page", "perPage", "items"],
        "properties": {
            "total": {"type": "integer", "minimum": 0, "description": "符合条件的条目总数"},
            "page": {"type": "integer", "minimum": 1, "description": "页码"},
            "perPage": {"type": "integer", "minimum": 1, "description": "每页条数"},
            "items": {"type": "array", "items": ref("Entry"), "description": "本页的条目"},
        },
    }


# --- Matching many names (screening) ---------------------------------------------------------


def match_request_schema(identifier_pattern: str) -> dict[str, Any]:
    """``MatchRequest``: what ``POST /api/v1/match`` reads (portal/api_match.py refuses any
    other field and any other JSON type). ``identifier_pattern`` is the search's cardNum
    pattern; a blank identifier means none."""
    blank_or_identifier = identifier_pattern[:-2] + "|)$"  # "^sep(?:a|b)$" -> "^sep(?:a|b|)$"
    query = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": queries.MAX_NAME,
                "pattern": NOT_BLANK,
                "description": ("姓名或名称，繁简、全半角、空格均可；须含文字或数字（否则 422）"),
                "examples": ["张伟", "張偉"],
            },
            "cardNum": {
                "type": ["string", "null"],
                "maxLength": queries.MAX_NAME,
                "pattern": blank_or_identifier,
                "description": (
                    "可选：完整或打码的身份证号码、统一社会信用代码或组织机构代码，"
                    "写法同检索的 cardNum；空或 null 表示不给。校验码等有误时返回 422。"
                    "完整的身份证号码只用于按密钥散列比对，响应中只返回打码形式"
                ),
            },
            "ref": {
                "type": ["string", "null"],
                "maxLength": queries.MAX_REF,
                "description": (
                    "可选：调用方自己的编号（如表格的行号），原样返回"
                    "（其中形似身份证号码的部分打码）"
                ),
                "examples": ["row-17"],
            },
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["queries"],
        "properties": {
            "queries": {
                "type": "array",
                "minItems": 1,
                "maxItems": queries.MAX_QUERIES,
                "items": query,
                "description": f"1–{queries.MAX_QUERIES} 个查询",
            }
        },
    }


MATCH = {
    "type": "object",
    "required": ["kind", "maskedIdentifier", "entry"],
    "properties": {
        "kind": {
            "type": "string",
            "enum": [kind.value for kind in matching.MatchKind],
            "description": (
                "如何匹配：identifier（证件号码完全一致，从不模糊比对）、"
                "name（姓名或名称规范化后完全一致）、partial（条目的姓名或名称包含所查的）"
            ),
        },
        "maskedIdentifier": {
            "type": "boolean",
            "description": (
                "true：证件号码只能以打码形式比对（法院以打码形式公布，或查询的号码是打码的），"
                "姓名也完全一致；同一打码形式可能属于他人（同年出生），请核对"
            ),
        },
        "entry": ref("Entry"),
    },
}

MATCH_RESULT = {
    "type": "object",
    "required": ["ref", "name", "cardNum", "best", "matches", "more"],
    "properties": {
        "ref": {**nullable(STR), "description": "查询的 ref（形似身份证号码的部分已打码）"},
        "name": {**STR, "description": "所查的姓名或名称（去掉首尾空白）"},
        "cardNum": {
            **nullable(STR),
            "description": "所查的证件号码：身份证号码只返回打码形式；未给出时为 null",
        },
        "best": {
            "type": ["string", "null"],
            "enum": [*(kind.value for kind in matching.MatchKind), None],
            "description": "最强的匹配方式；没有匹配时为 null",
        },
        "matches": {
            "type": "array",
            "maxItems": matching.MAX_MATCHES,
            "items": ref("Match"),
            "description": (
                f"匹配的公开条目，先 identifier、再 name、再 partial，"
                f"最多 {matching.MAX_MATCHES} 个；已移除和不宜公开的条目从不出现"
            ),
        },
        "more": {
            "type": "boolean",
            "description": "还有更多按姓名匹配的条目未列出（请加上证件号码缩小范围）",
        },
    },
}

MATCH_RESPONSE = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": ref("MatchResult"),
            "description": "每个查询一个结果，顺序与请求相同",
        }
    },
}


def list_schemas() -> dict[str, dict[str, Any]]:
    """The list API's schemas by component name (fresh copies, the document may be changed)."""
    return {
        "Entry": entry_schema(),
        "EntryDetail": entry_detail_schema(),
        "HistoryEvent": copy.deepcopy(HISTORY_EVENT),
        "RelatedOrganizations": copy.deepcopy(RELATED_ORGANIZATIONS),
        "SearchPage": search_page_schema(),
        "IngestLine": copy.deepcopy(INGEST_LINE),
        "IngestReport": copy.deepcopy(INGEST_REPORT),
        "Reject": copy.deepcopy(REJECT_SCHEMA),
        "Warning": copy.deepcopy(WARNING_SCHEMA),
        "ComplianceReport": copy.deepcopy(COMPLIANCE_REPORT),
        "ComplianceProblem": copy.deepcopy(COMPLIANCE_PROBLEM),
        "Health": copy.deepcopy(HEALTH),
        "IndexReplica": copy.deepcopy(INDEX_REPLICA),
        "MatchResponse": copy.deepcopy(MATCH_RESPONSE),
        "MatchResult": copy.deepcopy(MATCH_RESULT),
        "Match": copy.deepcopy(MATCH),
        **republisher_schemas(),
    }


# --- For media and republishers (portal/api_exports.py) -------------------------------------

_TIME = {"type": "string", "format": "date-time"}
CHANGE_EVENT = {
    "type": "object",
    "description": (
        "一项变更。published、corrected：条目的当前公开内容（与 /api/v1/entries 相同）；"
        "removed：只有条目编号、移除时间与转载者的删除期限，不含任何个人信息"
    ),
    "required": ["type", "id"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "enum": ["published", "corrected", "removed"]},
        "id": {"type": "string", "description": "条目编号"},
        "entry": {"$ref": "#/components/schemas/Entry"},
        "removedAt": {**_TIME, "description": "移除生效时间（北京时间）"},
        "mustDeleteBy": {
            **_TIME,
            "description": (
                "转载者须在此前删除：移除生效后第 3 个工作日结束时（北京时间，按国务院节假日安排）"
            ),
        },
    },
}
CHANGES_PAGE = {
    "type": "object",
    "required": ["events", "next", "more"],
    "additionalProperties": False,
    "properties": {
        "events": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ChangeEvent"},
            "description": "按变更顺序；每个条目只以其最新状态出现一次",
        },
        "next": {"type": "string", "description": "下次请求的 since；没有新变更时与本次相同"},
        "more": {"type": "boolean", "description": "是否还有更多变更等待读取"},
    },
}


def republisher_schemas() -> dict[str, dict[str, Any]]:
    return {"ChangeEvent": copy.deepcopy(CHANGE_EVENT), "ChangesPage": copy.deepcopy(CHANGES_PAGE)}
