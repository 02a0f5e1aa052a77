"""Checking a webhook on the receiving side: copy this file into your receiver.

Every POST we send carries ``Shixin-Signature: t=<unix seconds>,v1=<hex>``, where ``v1`` is
HMAC-SHA256 under your endpoint's secret (``whsec_…``, shown once when you registered it)
over the timestamp, a full stop and the raw request body, byte for byte as received:
``f"{t}.".encode() + body``. Check it before you parse the body:

    from verify import SignatureError, verify

    try:
        verify(SECRET, raw_body, request.headers["Shixin-Signature"])
    except SignatureError:
        return 400

A signature older or newer than ``TOLERANCE`` seconds (5 minutes) is refused, so a request
someone recorded cannot be replayed later; within the window, drop a ``Shixin-Delivery`` id
you have already processed (a retry after a lost answer repeats it). Only the standard
library is used.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE = 300  # seconds either side of the receiver's clock


class SignatureError(ValueError):
    """The request is not one we signed just now: refuse it."""


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE,
) -> int:
    """The signed timestamp, if ``header`` signs ``body`` under ``secret`` within the
    window; SignatureError otherwise."""
    timestamp, signatures = _parse(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("timestamp outside the replay window")
    expected = expected_signature(secret, timestamp, body)
    # Several v1 values may come while a secret is being replaced: one match is enough.
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise SignatureError("signature does not match")
    return timestamp


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed Shixin-Signature header")
    return timestamp, signatures
