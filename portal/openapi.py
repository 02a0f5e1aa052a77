"""The OpenAPI 3.1 document of the JSON API (``GET /api/v1/openapi.json``), assembled.

:func:`build_document` puts the pieces together, each from the module that holds it:

- :mod:`portal.openapi_base`: media types, schema helpers, error codes and responses, text
- :mod:`portal.openapi_schemas`: the list's schemas (entries, ingest, compliance, health)
- :mod:`portal.openapi_paths`: the list API's paths (search, entries, ingest, operations)
- :mod:`portal.openapi_examples`: real responses of the test app, used as examples
- :mod:`portal.openapi_casework`: the complaints-and-reports part (schemas, responses, paths)
- :mod:`portal.openapi_keys`: the optional API keys (security schemes, the 401 of a bad key)
- :mod:`portal.openapi_screenings`: screenings by API key (paths, the job's schemas)

The ``/api`` page renders the same document for people (:mod:`portal.api_page`).
The schemas take their names, limits and descriptions from the code that produces the
responses; tests/test_openapi.py checks the document against the app's routes and real
responses, so when one of those changes, the document has to change with it.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from core.settings import Settings
from portal.openapi_base import ERROR_SCHEMA, error_responses, rate_text
from portal.openapi_casework import CASEWORK_SCHEMAS, casework_paths, casework_responses
from portal.openapi_ingest_jobs import job_schemas
from portal.openapi_keys import SECURITY, key_responses, key_schemes, with_key_responses
from portal.openapi_paths import ingest_paths, operation_paths, republisher_paths, search_paths
from portal.openapi_schemas import list_schemas
from portal.openapi_screenings import screening_paths, screening_schemas
from portal.responses import JSONResponse

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"


def build_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with this deployment's limits in the descriptions."""
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": _info(settings),
        "servers": [{"url": "/", "description": "本站"}],
        "tags": _tags(),
        "paths": with_key_responses(_paths(settings)),
        "components": _components(settings),
        "security": SECURITY,  # an API key is optional everywhere (portal/openapi_keys.py)
    }


def _info(settings: Settings) -> dict[str, Any]:
    """Title and description, with the rate limits in force and, on a demo, that it is one."""
    rate = (
        f"频率限制：每个客户端地址对 /api/ 下所有接口的请求合计{rate_text(settings.rate_limit_api)}"
        f"（网页另计，{rate_text(settings.rate_limit_pages)}）；超过时返回 429 和 Retry-After。"
        "/healthz 不限。"
        "带 API 密钥（在 /api/keys 申请）的请求按密钥计算，"
        f"{rate_text(settings.rate_limit_api_keyed)}。"
    )
    # A demo portal marks every response (portal/demo.py); only its document says so.
    demo = (
        "本站运行在演示数据上：其中的人员和案件均为虚构，每个响应都带响应头 X-Shixin-Demo: 1。"
        if settings.demo
        else ""
    )
    return {
        "title": "失信被执行人名单查询 JSON 接口",
        "version": API_VERSION,
        "summary": "查询公开的失信被执行人条目，法院报送名单，查看移除合规情况",
        "description": (
            "免费、无需注册。只返回公开中的条目；已屏蔽、删除、撤销或有效期届满的条目不会出现，"
            "按编号查询时返回 410 且不含任何数据。身份证号码只以打码形式返回。"
            '错误统一为 {"error": {"code", "message"}}。' + rate + demo
        ),
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    }


def _tags() -> list[dict[str, str]]:
    return [
        {"name": "查询", "description": "公开条目的检索与详情"},
        {"name": "报送", "description": "法院以令牌报送公布、更正与移除"},
        {"name": "投诉与举报", "description": "提交举报、投诉，凭编号与查询码查询办理进展"},
        {"name": "转载", "description": "导出、变更流与每日快照：供媒体与转载者保持名单准确"},
        {"name": "运行", "description": "合规报告、健康检查与本文档"},
    ]


def _paths(settings: Settings) -> dict[str, Any]:
    """Every path, in the order of the tags (the /api page lists them so)."""
    return {
        **search_paths(),
        **screening_paths(settings),
        **ingest_paths(settings),
        **casework_paths(settings),
        **republisher_paths(),
        **operation_paths(),
    }


def _components(settings: Settings) -> dict[str, Any]:
    return {
        "schemas": {
            **list_schemas(),
            **job_schemas(),
            **screening_schemas(),
            "Error": copy.deepcopy(ERROR_SCHEMA),
            **copy.deepcopy(CASEWORK_SCHEMAS),
        },
        "responses": {
            **error_responses(settings),
            **casework_responses(settings),
            **key_responses(),
        },
        "securitySchemes": {
            "ingestToken": {
                "type": "http",
                "scheme": "bearer",
                "description": (
                    "单位的报送令牌（shixin token add 生成）：Authorization: Bearer <令牌>"
                ),
            },
            **key_schemes(settings),
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
