"""The JSON API takes the query parameters its OpenAPI document names, and no others.

A parameter the document does not name is refused (400 ``bad_query``) instead of ignored:
a caller who sends ``GET /api/v1/entries?q=王芳&id=…`` believes the search was narrowed by
``id`` and would get every 王芳. The answer names the unknown parameters and lists the known
ones. The known ones are read from the app's own document (:func:`portal.openapi.document_for`,
built from the same definitions it publishes), so what the document says and what the code
takes cannot drift apart.

Only the JSON API (``/api/v1/...``) is strict; the HTML pages ignore what they do not know
(a ``?utm_source=`` on a shared link, an old bookmark), and so does ``/healthz``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal.openapi import document_for_app
from portal.responses import api_error, shown_name, unknown_names_message

STRICT_PREFIX = "/api/v1/"

Endpoint = Callable[[Request], Awaitable[Response]]


def route_key(path: str) -> str:
    """A path with ``{}`` for each path parameter: ``/api/v1/entries/{entry_id:str}`` (the
    route) and ``/api/v1/entries/{id}`` (the document) are the same key."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def query_parameters(doc: dict[str, Any]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(method, :func:`route_key` of the path) -> the names of the operation's query
    parameters, in the document's order."""
    return {
        (method, route_key(path)): tuple(
            p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
        )
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
    }


def known_parameters(app: Any, method: str, key: str) -> tuple[str, ...]:
    """The query parameters the app's document names for this operation (none for an
    operation it does not list: every API route is listed, tests/test_openapi.py checks)."""
    known = getattr(app.state, "api_query_parameters", None)
    if known is None:
        known = app.state.api_query_parameters = query_parameters(document_for_app(app))
    method = "get" if method == "HEAD" else method.lower()
    return known.get((method, key), ())


def unknown_query(request: Request, key: str) -> Response | None:
    """The 400 answer if the request has a query parameter its operation does not name."""
    if not request.scope.get("query_string"):
        return None
    known = known_parameters(request.app, request.method, key)
    unknown = list(dict.fromkeys(n for n in request.query_params if n not in known))
    if not unknown:
        return None
    message = unknown_names_message("查询参数", unknown, known)
    return api_error(400, "bad_query", message, field=shown_name(unknown[0]))


def refusing_unknown_query(path: str, endpoint: Endpoint) -> Endpoint:
    """``endpoint``, answering 400 first when the query has a parameter its operation
    does not name. The wrapper keeps the endpoint's name: the rate limits are filed by it."""
    key = route_key(path)

    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        refusal = unknown_query(request, key)
        if refusal is not None:
            return refusal
        return await endpoint(request)

    return checked


def strict_query(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The routes, those of the JSON API (``/api/v1/...``) refusing unknown parameters."""
    out: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and route.path.startswith(STRICT_PREFIX):
            route = Route(
                route.path,
                refusing_unknown_query(route.path, route.endpoint),
                methods=sorted(route.methods - {"HEAD"}) if route.methods else None,
                name=route.name,
                include_in_schema=route.include_in_schema,
            )
        out.append(route)
    return out


# The API's dates are "format: date" in its document: an empty one is refused there, while
# the site's form, which sends every field, takes an empty date as no condition.
DATES = ("publishedFrom", "publishedTo")


def empty_date(params: Any) -> Response | None:
    """A 400 naming the first date parameter sent empty, or None."""
    for name in DATES:
        if name in params and not str(params[name]).strip():
            message = f"{name} 不能为空：请给出日期，或不传此参数"
            return api_error(400, "bad_query", message, field=name)
    return None
