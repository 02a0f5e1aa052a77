"""Screenings by API key in the OpenAPI document (portal/api_screenings.py): the three
paths, the job's schema and the request's, with examples; the 401 here is the one of a
missing key as well as of a bad one."""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from portal.api_key_auth import MESSAGES
from portal.api_screening_texts import API_FILES, API_ROWS, NEEDS_KEY, ROW_FIELDS, UNSUPPORTED
from portal.openapi_base import (
    EXAMPLE_BASE,
    JSON,
    MULTIPART,
    STR,
    TIME,
    UNKNOWN_QUERY_EXAMPLE,
    common_responses,
    curl,
    error_example,
    error_response,
    nullable,
    ref,
    size_text,
)
from screening import queries

TAG = "查询"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXAMPLE_ID = "Jx3k9WQ2mZ8rTQ1vC4yLhN0pA7sBd5eF"
EXAMPLE_JOB = {
    "id": EXAMPLE_ID,
    "status": "done",
    "filename": "供应商名单.xlsx",
    "total": 3,
    "done": 3,
    "createdAt": "2026-12-02T09:00:00+00:00",
    "finishedAt": "2026-12-02T09:00:04+00:00",
    "expiresAt": "2026-12-03T09:00:00+00:00",
    "summary": {"identifier": 1, "none": 1, "error": 1},
    "problems": [{"row": 4, "code": "bad_id_checksum", "message": "身份证号码校验位不对"}],
    "links": {
        "self": f"/api/v1/screenings/{EXAMPLE_ID}",
        "csv": f"/api/v1/screenings/{EXAMPLE_ID}/result.csv",
        "xlsx": f"/api/v1/screenings/{EXAMPLE_ID}/result.xlsx",
    },
}
EXAMPLE_ROWS = {
    "rows": [
        {"name": "北京阿克米贸易有限公司", "ref": "供应商-1"},
        {"name": "张伟", "ref": "供应商-2"},
    ]
}


def screening_schemas() -> dict[str, Any]:
    text = {"type": "string", "maxLength": queries.MAX_NAME}
    row = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {**text, "description": "姓名或名称（必填；为空的行记为无法核对）"},
            "cardNum": nullable(
                {**text, "description": "身份证号码、统一社会信用代码或组织机构代码"}
            ),
            "ref": nullable({"type": "string", "description": "调用方自己的编号，写入结果文件"}),
        },
        "required": ["name"],
    }
    assert set(row["properties"]) == set(ROW_FIELDS)
    counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    return {
        "ScreeningRows": {
            "type": "object",
            "additionalProperties": False,
            "required": ["rows"],
            "properties": {
                "rows": {"type": "array", "minItems": 1, "maxItems": API_ROWS, "items": row}
            },
        },
        "ScreeningJob": {
            "type": "object",
            "additionalProperties": False,
            "required": list(EXAMPLE_JOB),
            "properties": {
                "id": {**STR, "description": "任务编号：只有提交它的密钥能看到"},
                "status": {"type": "string", "enum": ["running", "done"]},
                "filename": STR,
                "total": {"type": "integer", "minimum": 1, "description": "要核对的行数"},
                "done": {"type": "integer", "minimum": 0, "description": "已核对的行数"},
                "createdAt": TIME,
                "finishedAt": nullable(TIME),
                "expiresAt": {**TIME, "description": "此后任务、名单与结果文件一并删除"},
                "summary": nullable(
                    {
                        **counts,
                        "description": "完成后按最佳匹配统计的行数：identifier、name、partial、"
                        "none（未匹配）、error（无法核对）",
                    }
                ),
                "problems": {
                    "type": "array",
                    "description": "完成后列出无法核对的行（行号：文件按表格行号，rows 从 1 数起）",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["row", "code", "message"],
                        "properties": {
                            "row": {"type": "integer", "minimum": 1},
                            "code": STR,
                            "message": STR,
                        },
                    },
                },
                "links": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["self", "csv", "xlsx"],
                    "properties": {
                        "self": STR,
                        "csv": nullable(STR),
                        "xlsx": nullable(STR),
                    },
                },
            },
        },
    }


def screening_paths(settings: Settings) -> dict[str, Any]:
    base = "/api/v1/screenings"
    return {
        base: _create(settings),
        base + "/{id}": _status(),
        base + "/{id}/result.{format}": _result(),
    }


def _key_required() -> dict[str, Any]:
    return {
        **error_response(
            "没有带 API 密钥，或密钥无效、已被吊销",
            keyRequired=error_example("api_key_required", NEEDS_KEY["zh"]),
            invalidApiKey=error_example("invalid_api_key", MESSAGES["zh"]),
        ),
    }


def _not_found() -> dict[str, Any]:
    return error_response(
        "没有这个任务，已过保留期，或不是这个密钥提交的",
        notFound=error_example("not_found", "没有这个筛查任务（或不属于这个密钥）"),
    )


def _id_parameter() -> dict[str, Any]:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": STR,
        "description": "提交时返回的任务编号",
    }


def _create(settings: Settings) -> dict[str, Any]:
    size = size_text(settings.upload_max_bytes)
    return {
        "post": {
            "operationId": "createScreening",
            "tags": [TAG],
            "summary": f"提交一份最多 {API_ROWS} 行的名单批量筛查（需 API 密钥）",
            "description": (
                "以 multipart/form-data 上传 CSV（UTF-8、带 BOM 的 UTF-8 或 GB 18030）或 XLSX 文件"
                "（字段 file，第一行为列名，与 /screening 网页相同），或以 JSON 提交 rows。"
                "立即返回 202 与任务；后台逐批核对，每行的比对方式与 POST /api/v1/match 相同。"
                "无法核对的行（姓名为空、证件号码无效）不使整份名单失败，完成后在 problems 中列出。"
                f"需要 API 密钥（在 /api/keys 申请）；每个密钥每天最多提交 {API_FILES} 份名单；"
                f"请求体最大 {size}。任务、名单与结果文件在保留期"
                f"（{settings.screening_retention_hours} 小时）后删除。"
                "响应不被缓存（Cache-Control: no-store）。"
            ),
            "security": [{"apiKey": []}, {"apiKeyHeader": []}],
            "requestBody": {
                "required": True,
                "content": {
                    JSON: {"schema": ref("ScreeningRows"), "example": EXAMPLE_ROWS},
                    MULTIPART: {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {
                                    "type": "string",
                                    "contentMediaType": "application/octet-stream",
                                    "description": "CSV 或 XLSX 文件",
                                }
                            },
                        }
                    },
                },
            },
            "responses": {
                "202": {
                    "description": "任务已受理，Location 为任务地址",
                    "headers": {"Location": {"schema": STR, "description": "任务的地址"}},
                    "content": {
                        JSON: {
                            "schema": ref("ScreeningJob"),
                            "example": {
                                **EXAMPLE_JOB,
                                "status": "running",
                                "done": 0,
                                "finishedAt": None,
                                "summary": None,
                                "problems": [],
                                "links": {**EXAMPLE_JOB["links"], "csv": None, "xlsx": None},
                            },
                        }
                    },
                },
                "400": error_response(
                    "请求体的形式不对，或网址带有查询参数",
                    unknownField=error_example(
                        "bad_request",
                        "未知的字段：id；可用的字段：name、cardNum、ref",
                        field="rows[0].id",
                    ),
                    unknownQuery=UNKNOWN_QUERY_EXAMPLE,
                ),
                "401": _key_required(),
                "413": error_response(
                    f"请求体超过上限（{size}）",
                    tooLarge=error_example("too_large", f"提交内容过大（上限 {size}）"),
                ),
                "415": error_response(
                    "内容类型不是 multipart/form-data 或 application/json",
                    unsupported=error_example("unsupported_media_type", UNSUPPORTED[0]),
                ),
                "422": error_response(
                    "文件无法筛查（类型不对、编码无法识别、没有姓名列、没有行或行数过多），"
                    "或 rows 为空、超过上限",
                    noNameColumn=error_example(
                        "invalid",
                        "找不到姓名或名称一列：请在第一行写列名，如“姓名/名称”“证件号码”“备注”"
                        "（或 name、id、ref）",
                        field="file",
                    ),
                ),
                "429": error_response(
                    "这个密钥今天的筛查次数已用完，或请求过于频繁",
                    quota=error_example(
                        "quota_exceeded",
                        f"这个密钥今天的筛查次数已用完（每天 {API_FILES} 次），请明天再试",
                    ),
                ),
                **common_responses("500"),
            },
            "x-codeSamples": curl(
                f"curl -X POST '{EXAMPLE_BASE}/api/v1/screenings'",
                "-H 'Authorization: Bearer sx_…'",
                "-F 'file=@供应商名单.xlsx'",
            ),
        }
    }


def _status() -> dict[str, Any]:
    return {
        "get": {
            "operationId": "getScreening",
            "tags": [TAG],
            "summary": "筛查任务的进度与结果概要（需提交它的 API 密钥）",
            "description": (
                "status 为 running 时 done 给出已核对的行数，稍后再取；为 done 时 summary 按最佳"
                "匹配统计行数，problems 列出无法核对的行，links 给出结果文件。"
                "其他密钥或不带密钥时看不到这个任务。"
            ),
            "security": [{"apiKey": []}, {"apiKeyHeader": []}],
            "parameters": [_id_parameter()],
            "responses": {
                "200": {
                    "description": "任务",
                    "content": {JSON: {"schema": ref("ScreeningJob"), "example": EXAMPLE_JOB}},
                },
                "401": _key_required(),
                "404": _not_found(),
                **common_responses("400", "429", "500"),
            },
            "x-codeSamples": curl(
                f"curl '{EXAMPLE_BASE}/api/v1/screenings/{EXAMPLE_ID}'",
                "-H 'Authorization: Bearer sx_…'",
            ),
        }
    }


def _result() -> dict[str, Any]:
    return {
        "get": {
            "operationId": "getScreeningResult",
            "tags": [TAG],
            "summary": "筛查结果文件：CSV（UTF-8，带 BOM）或 XLSX",
            "description": (
                "上传的各行按原顺序，附匹配结果、匹配条目的案号、执行法院与链接；"
                "身份证号码只以打码形式出现。Accept-Language 以英语为先时表头为英文。"
                "任务尚未完成时返回 409。"
            ),
            "security": [{"apiKey": []}, {"apiKeyHeader": []}],
            "parameters": [
                _id_parameter(),
                {
                    "name": "format",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["csv", "xlsx"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "结果文件",
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "401": _key_required(),
                "404": _not_found(),
                "409": error_response(
                    "任务尚未完成",
                    running=error_example(
                        "conflict", "筛查尚未完成（已核对 200/10000 行），请稍后再取"
                    ),
                ),
                **common_responses("400", "429", "500"),
            },
            "x-codeSamples": curl(
                f"curl -O -J '{EXAMPLE_BASE}/api/v1/screenings/{EXAMPLE_ID}/result.xlsx'",
                "-H 'Authorization: Bearer sx_…'",
            ),
        }
    }
