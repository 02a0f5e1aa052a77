"""Compressed responses: text the site sends (pages, JSON, CSS, JavaScript, CSV) goes out
gzip-compressed to a client that accepts it; a phone on a slow network loads a page in a
fraction of the bytes. Starlette's GZipMiddleware does the work; this module decides what
it may touch.

Never compressed:
- what is compressed already (images, archives, XLSX, PDF): no gain, only CPU;
- answers to POST and other writes, and everything under ``/unit/`` (the back office):
  these are the pages that hold a secret next to what the visitor typed (a receipt's
  access code, a status check, a session's pages), and compressing a secret beside
  attacker-chosen text lets its length leak it (the BREACH attack). The forms' CSRF token
  is masked afresh on every page for the same reason (portal/csrf.py).
"""

from __future__ import annotations

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# Smaller bodies are sent as they are: the gzip header would eat most of the gain.
MINIMUM_SIZE = 1024
# Level 6 gives nearly all of level 9's saving on HTML at a fraction of the CPU.
LEVEL = 6
ALREADY_COMPRESSED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image/heic",
    "image/*",
)
_READS = frozenset({"GET", "HEAD"})


class Compression:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(
            app,
            minimum_size=MINIMUM_SIZE,
            compresslevel=LEVEL,
            exclude_content_types=ALREADY_COMPRESSED,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and compressible(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def compressible(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return scope.get("method") in _READS and not (path == "/unit" or path.startswith("/unit/"))
