"""The API keys in the OpenAPI document: the two ways to send one (``Authorization: Bearer
sx_…`` and ``X-API-Key``), that sending one is optional everywhere under /api/ (``{}``
first: anonymous is fine), and the 401 of an unknown or revoked key
(portal/api_key_auth.py) on every operation that can meet it."""

from __future__ import annotations

import copy
from typing import Any

from core.settings import Settings
from portal.api_key_auth import MESSAGES
from portal.openapi_base import error_example, error_response, rate_text

INVALID = "InvalidApiKey"
SECURITY = [{}, {"apiKey": []}, {"apiKeyHeader": []}]


def key_schemes(settings: Settings) -> dict[str, Any]:
    what = (
        "在 /api/keys 自助申请的 API 密钥（sx_ 开头）。可选：带密钥的请求按密钥计算频率限制，"
        f"为{rate_text(settings.rate_limit_api_keyed)}；不带密钥时按客户端地址，"
        f"为{rate_text(settings.rate_limit_api)}。无效或已吊销的密钥返回 401。"
    )
    schemes = {
        "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "sx_…"},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    return {name: {**scheme, "description": what} for name, scheme in schemes.items()}


def key_responses() -> dict[str, Any]:
    return {
        INVALID: {
            **error_response(
                "API 密钥无效或已被吊销（不带密钥的请求不会得到这个回答）",
                invalidApiKey=error_example("invalid_api_key", MESSAGES["zh"]),
            ),
            "headers": {
                "WWW-Authenticate": {
                    "description": 'Bearer realm="api", error="invalid_token"',
                    "schema": {"type": "string"},
                }
            },
        }
    }


def with_key_responses(paths: dict[str, Any]) -> dict[str, Any]:
    """The paths, each /api/ operation with the 401 of a bad key (unless it documents a 401
    of its own, as the ingest API does); other paths (/healthz) take no key."""
    out = copy.deepcopy(paths)
    for path, operations in out.items():
        for operation in operations.values():
            if not path.startswith("/api/"):
                operation["security"] = [{}]
                continue
            operation["responses"].setdefault("401", {"$ref": f"#/components/responses/{INVALID}"})
    return out
