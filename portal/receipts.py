"""The receipt of a submission, carried from the form's POST to GET /receipt in a cookie.

Post/Redirect/Get: the form answers 303 to /receipt, so a refresh shows the receipt again
instead of filing a second ticket. The access code must reach that page without ever being
in an address or a log, and it is stored nowhere on the server (only its hash is), so it
travels in a short-lived cookie: signed with ``SHIXIN_SECRET_KEY`` (a forged one is
ignored), HttpOnly, ``SameSite=Strict``, sent only to /receipt, gone after ``MAX_AGE``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "shixin_receipt"
PATH = "/receipt"
MAX_AGE = 30 * 60


@dataclass(frozen=True, slots=True)
class ReceiptCookie:
    kind: str
    number: str
    code: str
    telegram_token: str | None = None


def _secret(request: Request) -> bytes:
    return request.app.state.settings.secret_key.reveal().encode()


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, b"receipt:" + payload.encode(), hashlib.sha256).hexdigest()


def attach(request: Request, response: Response, receipt: ReceiptCookie) -> None:
    data = {
        "k": receipt.kind,
        "n": receipt.number,
        "c": receipt.code,
        "t": receipt.telegram_token,
        "e": int(time.time()) + MAX_AGE,
    }
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        f"{payload}.{_sign(_secret(request), payload)}",
        max_age=MAX_AGE,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=settings.https or request.url.scheme == "https",
    )


def read(request: Request) -> ReceiptCookie | None:
    """This browser's receipt, if it has a genuine one that has not expired."""
    payload, _, signature = request.cookies.get(COOKIE, "").partition(".")
    if not payload or not hmac.compare_digest(
        signature.encode(), _sign(_secret(request), payload).encode()
    ):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if int(data["e"]) < time.time():
            return None
        return ReceiptCookie(str(data["k"]), str(data["n"]), str(data["c"]), data.get("t"))
    except (ValueError, KeyError, TypeError):
        return None
