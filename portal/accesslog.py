"""Structured access log: one JSON line per request on standard output.

Written straight to the stream: the logging module's record machinery costs ~15 µs a line,
seven times the write itself, on every request. Each line is one ``write`` under 4 KiB,
so lines from several workers sharing a pipe never interleave.

Query strings are never logged: a search can carry a full ID number or a debtor's name.
The line names the query parameters that were present, not their values. Bodies (the
status form) are never read here at all.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import unquote_plus

import orjson
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.clientaddr import ClientAddress
from search_index.events import mask_full_ids

MAX_PATH = 200  # an address is not a place to store a novel in our logs
UNMATCHED = "<unmatched>"


def route_template(scope: Scope, root_path: str) -> str:
    """The matched route as written (``/entries/{entry_id:str}``), to keep labels and log
    lines free of identifiers; call it after the app has handled the request."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    prefix = scope.get("root_path", "")[len(root_path) :]
    if isinstance(route, Mount):  # a mounted app (static files): its root_path is the mount
        return prefix + "/{path}"
    return prefix + getattr(route, "path", "")


def param_names(query_string: bytes) -> list[str]:
    if not query_string:
        return []
    # Only the names are decoded; values are never even looked at.
    names = {part.partition(b"=")[0] for part in query_string.split(b"&")}
    return sorted({unquote_plus(name.decode("latin-1"))[:40] for name in names if name})[:20]


def logged_path(scope: Scope) -> str:
    """The path, with the value of any secret path parameter (``{token}``: a screening job,
    an email watch's manage and unsubscribe links) replaced by its name: whoever holds the
    address holds the job or the subscription, and logs are kept and shipped. Anything shaped
    like a full ID number (someone typed one into the address) is logged masked."""
    path: str = scope["path"]
    for name, value in (scope.get("path_params") or {}).items():
        if (name == "token" or name.endswith("_token")) and isinstance(value, str) and value:
            path = path.replace(value, "{" + name + "}")
    return mask_full_ids(path)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, clients: ClientAddress, stream: TextIO | None = None) -> None:
        self.app = app
        self.clients = clients
        self.stream = stream  # None: whatever sys.stdout is at the time (tests capture it)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500  # what the client gets if the app dies before answering
        size = 0

        async def send_logged(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            line = {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "method": scope["method"],
                "path": logged_path(scope)[:MAX_PATH],
                "route": route_template(scope, root_path),
                "params": param_names(scope.get("query_string", b"")),
                "status": status,
                "ms": round((time.perf_counter() - start) * 1000, 2),
                "bytes": size,
                "client": self.clients.resolve(scope),
            }
            out = self.stream or sys.stdout
            out.write(orjson.dumps(line).decode() + "\n")
            out.flush()
