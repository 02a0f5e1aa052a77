"""The complaints-and-reports part of the OpenAPI document (portal/casework_api.py).

Schemas, examples, error responses and paths of ``/api/v1/casework/categories``,
``/api/v1/reports``, ``/api/v1/complaints`` and ``/api/v1/track...``; :mod:`portal.openapi`
puts them into the document. Limits come from ``casework.text_limits`` and ``portal.altcha``,
routes and states from ``casework.routing`` and ``casework.tickets``.

The examples are real responses of the test app (times and numbers as they came out).
"""

from __future__ import annotations

from typing import Any

from casework import text_limits
from casework.routing import ENTRY_COURT, MEASURE_UNIT
from casework.tickets import State
from core.settings import Settings
from portal import altcha, casework_pages
from portal.openapi_base import (
    EXAMPLE_BASE,
    JSON,
    MULTIPART,
    NOT_BLANK,
    STR,
    TIME,
    UNKNOWN_QUERY_EXAMPLE,
    common_responses,
    curl,
    error_example,
    error_response,
    json_text,
    nullable,
    rate_text,
    ref,
    size_text,
)

# --- Schemas (casework.service, casework.tickets, casework.routing) -------------------------

_TEXT_FIELD = {"type": ["string", "null"], "maxLength": text_limits.MAX_SHORT}
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
        "pattern": NOT_BLANK,
        "maxLength": text_limits.MAX_TEXT,
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
    # Who it is about: a listed entry or a name (intake._check).
    # (The branches only add to the fields above: any other field is the object's concern.)
    "anyOf": [
        {
            "required": [name],
            "properties": {name: {"pattern": NOT_BLANK}},
            "additionalProperties": True,
        }
        for name in ("entryId", "debtorName")
    ],
    "additionalProperties": False,
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
    "additionalProperties": False,
    "properties": _CREDENTIALS,
}
ADD_INFO_REQUEST = {
    "type": "object",
    "description": "补充材料",
    "required": ["number", "code", "text"],
    "additionalProperties": False,
    "properties": {
        **_CREDENTIALS,
        "text": {
            "type": "string",
            "pattern": NOT_BLANK,
            "maxLength": text_limits.MAX_TEXT,
            "description": (
                "补充的内容；以 multipart/form-data 附有证据文件时，submission 中可不填"
            ),
        },
    },
}
CONTEST_REQUEST = {
    "type": "object",
    "description": "对答复、不予受理或办结提出异议",
    "required": ["number", "code"],
    # The reason, as "reason" or else as "text"; when both come, "reason" is read.
    "anyOf": [{"required": ["reason"]}, {"required": ["text"], "not": {"required": ["reason"]}}],
    "additionalProperties": False,
    "properties": {
        **_CREDENTIALS,
        "reason": {
            "type": "string",
            "pattern": NOT_BLANK,
            "maxLength": text_limits.MAX_TEXT,
            "description": "异议理由（也可用 text 字段）",
        },
        "text": {
            "type": "string",
            "pattern": NOT_BLANK,
            "maxLength": text_limits.MAX_TEXT,
            "description": "同 reason（未给出 reason 时）",
        },
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
        "acceptDue": {**TIME, "description": "受理期限（北京时间）"},
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
        "measure": {**nullable(STR), "description": "所涉惩戒措施的代码"},
        "state": {"type": "string", "enum": _STATES, "description": "状态"},
        "stateName": {"type": "string", "description": "状态（中文）"},
        "unit": {**_UNIT_REF, "description": "当前办理单位"},
        "entryId": {**nullable(STR), "description": "名单条目编号"},
        "debtorName": {**nullable(STR), "description": "被执行人姓名或名称"},
        "courtName": {**nullable(STR), "description": "执行法院（条目给出时）"},
        "what": {"type": "string", "description": "事情经过（按提交原文，展示时请转义）"},
        "when": {**nullable(STR), "description": "时间"},
        "where": {**nullable(STR), "description": "地点"},
        "receivedAt": {**TIME, "description": "收到时间（北京时间）"},
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
                    "dueAt": {**TIME, "description": "届满时间（北京时间）"},
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
                    "at": {**TIME, "description": "时间（北京时间）"},
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
                        **nullable({"type": "string", "enum": _STATES}),
                        "description": "此后的状态",
                    },
                    "stateName": {**nullable(STR), "description": "此后的状态（中文）"},
                    "unitCode": {**nullable(STR), "description": "相关单位"},
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
                    "uploadedAt": {**TIME, "description": "上传时间（北京时间）"},
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
        "receivingUnit": {**nullable(STR), "description": "默认的办理单位代码"},
        "needsMeasure": {"type": "boolean", "description": "提交时须给出 measure"},
        "deadlines": {
            "type": "object",
            "required": ["accept", "reply", "correct"],
            "properties": {
                "accept": {"type": "string", "description": "受理期限"},
                "reply": {"type": "string", "description": "答复期限"},
                "correct": {**nullable(STR), "description": "理由成立时的更正期限"},
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
                        "items": ref("CaseCategory"),
                        "description": "举报类别",
                    },
                },
            },
        },
        "complaints": {"type": "array", "items": ref("CaseCategory"), "description": "投诉类型"},
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

# --- Examples: real responses of the test app -----------------------------------------------

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
    "basis": "市北区《意见》二、(六)1",
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
            "note": (
                "失信名单被依法屏蔽、撤销的，惩戒单位应当及时解除惩戒措施（市北区《意见》四、(二)5）。"
            ),
            "requiresEntryStatus": ["deleted", "expired", "revoked", "shielded"],
        }
    ],
    "measures": [{"code": "consumption.hotel", "name": EXAMPLE_CASE_CATEGORY["name"]}],
}


# --- Errors and paths -----------------------------------------------------------------------


def casework_responses(settings: Settings) -> dict[str, Any]:
    """The casework error responses, added to ``#/components/responses``."""
    json_size = size_text(settings.form_max_bytes)
    upload_size = size_text(settings.upload_max_bytes)
    return {
        "BadBody": error_response(
            "请求体不是 JSON 对象，或网址带有查询参数（本接口不接受查询参数）",
            badJson=error_example("bad_request", "请求体不是有效的 JSON"),
            unknownQuery=UNKNOWN_QUERY_EXAMPLE,
        ),
        "CrossSite": error_response(
            "浏览器从其他网站的页面发起的提交（请求头 Origin 或 Sec-Fetch-Site 表明）",
            crossSite=error_example("forbidden", "不接受其他网站的页面发起的提交"),
        ),
        "TicketNotFound": error_response(
            "没有这个事项或查询码不正确（两者回答相同）",
            notFound=error_example("not_found", casework_pages.NOT_FOUND),
        ),
        "Conflict": error_response(
            "事项当前的状态不允许此操作",
            conflict=error_example("conflict", "当前状态（已收到）不能进行此操作"),
        ),
        "Invalid": error_response(
            "提交的内容有误；field 指出是哪一个字段",
            email=error_example("invalid", "电子邮箱格式不正确", field="email"),
            entry=error_example("invalid", "未找到该条目，或该条目已不再公开", field="entryId"),
            evidence=error_example(
                "invalid",
                "文件“photo.jpg”不是 JPEG、PNG、WebP、HEIC 图片或 PDF 文件"
                "（按文件内容判断，与文件名无关）",
                field="evidence",
            ),
        ),
        "TooLargeSubmission": error_response(
            f"提交内容超过上限（JSON {json_size}；附证据文件时整个请求 {upload_size}）",
            tooLarge=error_example("too_large", f"提交内容过大（上限 {json_size}）"),
        ),
        "UnsupportedSubmission": error_response(
            "内容类型不受支持",
            unsupported=error_example("unsupported_media_type", f"请以 {JSON} 或 {MULTIPART} 提交"),
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
    return {**refs, **common_responses(*(s for s in statuses if s not in names))}


def _multipart(json_schema: str, description: str) -> dict[str, Any]:
    return {
        "schema": {
            "type": "object",
            "required": ["submission"],
            "properties": {
                "submission": {
                    **ref(json_schema),
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


def casework_paths(settings: Settings) -> dict[str, Any]:
    """The casework paths, with this deployment's limits in the descriptions."""
    files = (
        f"证据文件（每个一部分，最多 {settings.evidence_max_files} 个，每个不超过 "
        f"{size_text(settings.evidence_max_file_bytes)}）：JPEG、PNG、WebP、HEIC 图片或 PDF，"
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
            "content": {JSON: {"schema": ref("Receipt"), "example": EXAMPLE_RECEIPT}},
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
                        JSON: {"schema": ref("Submission"), "example": example},
                        MULTIPART: _multipart("Submission", files),
                    },
                },
                "responses": submit_responses,
                "x-codeSamples": curl(
                    f"curl -X POST '{EXAMPLE_BASE}/api/v1/{path}'",
                    "-H 'Content-Type: application/json'",
                    f"-d '{json_text(example)}'",
                )
                + curl(
                    f"curl -X POST '{EXAMPLE_BASE}/api/v1/{path}'",
                    f"-F 'submission={json_text(example)};type={JSON}'",
                    "-F 'evidence=@酒店门口.jpg'",
                ),
            }
        }

    ticket = {
        "description": "事项的当前情况（Cache-Control: no-store）",
        "content": {JSON: {"schema": ref("Ticket"), "example": EXAMPLE_TICKET}},
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
        content: dict[str, Any] = {JSON: {"schema": ref(schema), "example": body}}
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
                "x-codeSamples": curl(
                    f"curl -X POST '{EXAMPLE_BASE}/api/v1/{operation_paths[operation]}'",
                    "-H 'Content-Type: application/json'",
                    f"-d '{json_text(body)}'",
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
                                "schema": ref("CaseCategories"),
                                "example": EXAMPLE_CASE_CATEGORIES,
                            }
                        },
                    },
                    **common_responses("400", "429", "500"),
                },
                "x-codeSamples": curl(f"curl '{EXAMPLE_BASE}/api/v1/casework/categories'"),
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


# Added to ``#/components/schemas``.
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
