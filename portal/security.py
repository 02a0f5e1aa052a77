"""Security headers on every response, a size limit on form posts, and cookie defaults.

A pure ASGI middleware (no ``BaseHTTPMiddleware``): it runs on every request, so it only
appends precomputed header pairs to the response start and counts request body bytes.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings
from portal.responses import is_api_path

# Everything (scripts, styles, images, fonts, fetches) comes from this site; no inline code.
CSP = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# Not "no-referrer": with it browsers send "Origin: null" on same-site form posts, which
# defeats origin checks against CSRF. This policy still gives other sites only our origin,
# never an entry's URL.
REFERRER_POLICY = "strict-origin-when-cross-origin"
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
)
HSTS = "max-age=31536000"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Forms that carry files (evidence: portal/casework_pages.py; a list to screen:
# portal/screening_pages.py): capped by upload_max_bytes.
UPLOAD_PATHS = frozenset(
    {"/reports/new", "/complaints/new", "/track/add-info", "/screening", "/unit/screening"}
)


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", REFERRER_POLICY),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if https:
        headers.append(("strict-transport-security", HSTS))
    return [(name.encode(), value.encode()) for name, value in headers]


def cookie_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Response.set_cookie``: no script access, not sent on
    cross-site posts, and only over TLS when the site is served over https."""
    return {"httponly": True, "samesite": "lax", "secure": settings.https, "path": "/"}


class FormTooLarge(HTTPException):
    """A form post over ``SHIXIN_FORM_MAX_BYTES``; rendered as 413.html by the app."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail="提交内容过大")
        self.limit = limit

    @property
    def limit_text(self) -> str:
        return f"{self.limit / 2**20:.1f} MB" if self.limit >= 2**20 else f"{self.limit // 1024} KB"


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.form_max_bytes = settings.form_max_bytes
        self.upload_max_bytes = settings.upload_max_bytes
        self.plain = security_headers(settings.https)
        self.tls = security_headers(True)
        self.names = {name for name, _ in self.tls}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.tls if scope.get("scheme") == "https" else self.plain

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # A response that set its own policy (say, a stricter CSP) keeps it.
                present = {name.lower() for name, _ in headers} & self.names
                headers.extend(pair for pair in extra if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        # The ingest API limits its own (much larger) body; everything else is a form.
        if scope["method"] in BODY_METHODS and not is_api_path(scope["path"]):
            uploads = scope["path"] in UPLOAD_PATHS
            limit = self.upload_max_bytes if uploads else self.form_max_bytes
            receive = _limited(receive, scope, limit)
        await self.app(scope, receive, send_with_headers)


def _limited(receive: Receive, scope: Scope, limit: int) -> Receive:
    """Raise FormTooLarge from inside the endpoint (so the app's handler answers 413) as
    soon as the declared or the received size passes the limit."""
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    too_big = (
        declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit
    )
    received = 0

    async def receive_limited() -> Message:
        nonlocal received
        if too_big:
            raise FormTooLarge(limit)
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise FormTooLarge(limit)
        return message

    return receive_limited
