"""The ``/api`` page: the OpenAPI document rendered for people, in Chinese (templates/api.html).

Everything it shows is taken from the document (:func:`portal.openapi.document_for`): the
endpoints with their parameters, request fields, responses, curl samples and examples; the
schemas as tables of fields; the ingest line variants; the error codes; the rate limits.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from portal.openapi import document_for
from portal.openapi_base import (
    ERROR_CODES,
    EXAMPLE_BASE,
    JSON,
    NDJSON,
    json_text,
    rate_text,
    ref,
    size_text,
)
from portal.openapi_paths import OWN_PATH


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
