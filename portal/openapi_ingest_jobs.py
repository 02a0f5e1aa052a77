"""The OpenAPI part of long batches in the background (portal/api_ingest_jobs.py): the
``Prefer`` header and the 202 of ``POST /api/v1/ingest``, the job's schema and its status
path."""

from __future__ import annotations

import copy
from typing import Any

from core.settings import Settings
from portal.openapi_base import (
    EXAMPLE_BASE,
    JSON,
    TIME,
    common_responses,
    curl,
    nullable,
    ref,
    size_text,
)
from portal.openapi_examples import EXAMPLE_INGEST

EXAMPLE_JOB_ID = "5f0c8e6b2d7a4e1f9b3c6a8d0e2f4b71"
EXAMPLE_STATUS_URL = f"/api/v1/ingest/jobs/{EXAMPLE_JOB_ID}"

JOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "后台报送任务的进度；完成后 result 为同步报送的应答",
    "required": [
        "job",
        "status",
        "statusUrl",
        "totalLines",
        "linesApplied",
        "indexLag",
        "receivedAt",
        "startedAt",
        "finishedAt",
        "result",
        "error",
    ],
    "properties": {
        "job": {"type": "string", "description": "任务编号，也是批次编号（result.batch）"},
        "status": {
            "type": "string",
            "enum": ["queued", "running", "done", "failed"],
            "description": (
                "queued 等待处理（重启后也从这里继续），running 处理中，done 已完成，"
                "failed 多次处理失败、已停止（见 error；请重新报送整批）"
            ),
        },
        "statusUrl": {"type": "string", "description": "本任务的进度地址"},
        "totalLines": {"type": "integer", "minimum": 1, "description": "本批次的行数"},
        "linesApplied": {"type": "integer", "minimum": 0, "description": "已入库的行数"},
        "indexLag": {
            **nullable({"type": "integer", "minimum": 0}),
            "description": "检索索引尚未同步的变更数（0 表示已同步）",
        },
        "receivedAt": {**TIME, "description": "收到并保存批次的时间（北京时间）"},
        "startedAt": {**nullable(TIME), "description": "开始处理的时间"},
        "finishedAt": {**nullable(TIME), "description": "完成的时间"},
        "result": {
            "oneOf": [{"type": "null"}, ref("IngestReport")],
            "description": "完成前为 null；完成后与同步报送的应答相同",
        },
        "error": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "enum": ["ingest_failed"]},
                        "message": {"type": "string"},
                    },
                },
            ],
            "description": "status 为 failed 时说明原因，否则为 null",
        },
    },
}

_QUEUED = {
    "job": EXAMPLE_JOB_ID,
    "status": "queued",
    "statusUrl": EXAMPLE_STATUS_URL,
    "totalLines": 120000,
    "linesApplied": 0,
    "indexLag": 0,
    "receivedAt": "2026-11-20T10:00:00+08:00",
    "startedAt": None,
    "finishedAt": None,
    "result": None,
    "error": None,
}
_RUNNING = {
    **_QUEUED,
    "status": "running",
    "linesApplied": 45000,
    "indexLag": 5000,
    "startedAt": "2026-11-20T10:00:01+08:00",
}
_DONE = {
    **_RUNNING,
    "status": "done",
    "totalLines": 4,
    "linesApplied": 4,
    "indexLag": 0,
    "finishedAt": "2026-11-20T10:00:02+08:00",
    "result": {**EXAMPLE_INGEST, "batch": EXAMPLE_JOB_ID},
}


def job_schemas() -> dict[str, Any]:
    return {"IngestJob": copy.deepcopy(JOB_SCHEMA)}


def prefer_parameter(settings: Settings) -> dict[str, Any]:
    return {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "description": (
            f"respond-async（RFC 7240）：请求体不小于 {size_text(settings.ingest_async_min_bytes)}"
            " 时在后台处理，先保存批次再返回 202 和进度地址；较小的批次照常同步处理"
            "（应答不带 Preference-Applied）"
        ),
        "schema": {"type": "string"},
        "example": "respond-async",
    }


def accepted_response() -> dict[str, Any]:
    """The 202 of ``POST /api/v1/ingest`` with ``Prefer: respond-async``."""
    url = {"description": "进度地址", "schema": {"type": "string"}}
    return {
        "description": (
            "批次已保存（重启也不会丢失），将在后台处理；按 Location 查询进度，"
            "完成后其中的 result 即同步报送的应答"
        ),
        "headers": {
            "Location": url,
            "Content-Location": url,
            "Preference-Applied": {
                "description": "respond-async",
                "schema": {"type": "string", "const": "respond-async"},
            },
            "Retry-After": {
                "description": "建议的查询间隔（秒）",
                "schema": {"type": "integer", "minimum": 1},
            },
        },
        "content": {JSON: {"schema": ref("IngestJob"), "example": _QUEUED}},
    }


def job_paths() -> dict[str, Any]:
    return {
        "/api/v1/ingest/jobs/{id}": {
            "get": {
                "operationId": "ingestJob",
                "tags": ["报送"],
                "summary": "后台报送任务的进度与结果",
                "description": (
                    "只有提交该批次的令牌能查看；其他令牌得到 404，与不存在的任务相同。"
                    "未完成时带 Retry-After。完成的任务保留 7 天。"
                ),
                "security": [{"ingestToken": []}],
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": "任务编号（202 应答的 job）",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "任务的进度；status 为 done 时 result 为报送结果",
                        "content": {
                            JSON: {
                                "schema": ref("IngestJob"),
                                "examples": {
                                    "running": {"summary": "处理中", "value": _RUNNING},
                                    "done": {"summary": "已完成", "value": _DONE},
                                },
                            }
                        },
                    },
                    "404": {
                        "description": "没有这个任务，或它不是用这个令牌提交的",
                        "content": {
                            JSON: {
                                "schema": ref("Error"),
                                "example": {
                                    "error": {
                                        "code": "not_found",
                                        "message": "没有这个报送任务（或它不是用这个令牌提交的）",
                                    }
                                },
                            }
                        },
                    },
                    **common_responses("400", "401", "429", "500"),
                },
                "x-codeSamples": curl(
                    f"curl '{EXAMPLE_BASE}{EXAMPLE_STATUS_URL}'",
                    "-H 'Authorization: Bearer <令牌>'",
                ),
            }
        }
    }
