"""A proof-of-work challenge (ALTCHA v2) on the complaint and report forms, against floods.

A browser with JavaScript gets a challenge from ``GET /altcha/challenge``, spends a second
or two of CPU solving it (the widget does this by itself when the form is submitted) and
posts the solution with the form, in the ``altcha`` field. A flood then costs its sender
that CPU for every submission, while people notice nothing.

Nobody is turned away for lacking JavaScript: a submission without a solution is still
taken, but only within the much smaller ``SHIXIN_RATE_LIMIT_UNPROVEN`` budget per client
address (kept in the rate-limit storage, Redis when configured, so it is shared by all
workers). A solution that does not check out (tampered, expired, signed with another key,
or used before) files nothing.

Challenges are HMAC-signed with a key derived from ``SHIXIN_SECRET_KEY`` and are stateless
until used: a solved one is recorded as spent (``CaseService.spend_proof``, the
``once_keys`` table under purpose "altcha") so that it buys one submission only; the records
go once their challenge has expired.

How a machine client (the JSON API) proves its work, with the ``altcha`` Python package::

    import base64, json, httpx
    from altcha.v2 import Challenge, Payload, solve_challenge

    challenge = Challenge.from_dict(httpx.get(f"{site}/altcha/challenge").json())
    solution = solve_challenge(challenge)  # well under a second of one core
    payload = Payload(challenge, solution).to_base64()
    httpx.post(f"{site}/api/v1/reports", json={..., "altcha": payload})

Any ALTCHA v2 solver works (altcha-lib in JavaScript, Go, PHP ...): the challenge is the
standard ``{"parameters": {...}, "signature": "..."}`` (PBKDF2/SHA-256, a 32-byte key
whose leading half is given), and the payload is base64 of
``{"challenge": <the challenge as received>, "solution": {"counter": n, "derivedKey": hex}}``.
A challenge expires ten minutes after it is issued and is good for one submission.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from altcha import v2
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casework.service import CaseService
from core.settings import Settings
from portal import ratelimit

log = logging.getLogger("shixin.altcha")

ALGORITHM = "PBKDF2/SHA-256"  # built into every browser's WebCrypto: no WebAssembly needed
LIFETIME = timedelta(minutes=10)
# The solver must try every counter from 0 up to the one drawn here (each try is one PBKDF2
# of ``altcha_cost`` iterations): a fixed amount of work within a factor of three, without
# the long tail of "find any key starting with 00".
COUNTERS = range(128, 384)
# A challenge and its solution are a few hundred bytes; anything much larger is not ours.
MAX_PAYLOAD = 4096
# Spent records outlive their challenge a little, so that workers whose clocks differ by
# less than this never forget a challenge another worker would still accept.
CLOCK_SLACK = timedelta(minutes=1)
INVALID_MESSAGE = "提交前的自动验证未通过（验证已过期或已使用）。请重新提交，验证会自动完成。"


class Proof(StrEnum):
    """What :func:`check` made of a submission's ``altcha`` value."""

    SOLVED = "solved"  # a fresh, correctly solved challenge of ours: now spent
    MISSING = "missing"  # no value: taken within the unproven budget (already charged)
    INVALID = "invalid"  # anything else: file nothing
    OFF = "off"  # SHIXIN_ALTCHA_ENABLED=0: nothing was checked

    @property
    def accepted(self) -> bool:
        return self is not Proof.INVALID


def _keys(settings: Settings) -> tuple[bytes, bytes]:
    """The challenge-signing key and the derived-key-signing key, both from the secret key
    and unusable for anything else it signs (CSRF tokens, sessions)."""
    secret = settings.secret_key.reveal().encode()

    def derive(purpose: bytes) -> bytes:
        return hmac.new(secret, b"altcha:" + purpose, hashlib.sha256).digest()

    return derive(b"challenge"), derive(b"derived-key")


def new_challenge(settings: Settings, *, now: float | None = None) -> v2.Challenge:
    """A signed challenge, valid for :data:`LIFETIME`. It costs the server one key
    derivation (to know the answer, so that checking a solution is a single HMAC)."""
    challenge_key, derived_key = _keys(settings)
    expires = int((now if now is not None else time.time()) + LIFETIME.total_seconds())
    return v2.create_challenge(
        ALGORITHM,
        settings.altcha_cost,
        counter=COUNTERS.start + secrets.randbelow(len(COUNTERS)),
        expires_at=expires,
        hmac_secret=challenge_key,
        hmac_key_secret=derived_key,
    )


async def challenge(request: Request) -> Response:
    """``GET /altcha/challenge``: a fresh challenge as JSON, never cached."""
    settings: Settings = request.app.state.settings
    if not settings.altcha_enabled:
        return JSONResponse({"error": "工作量证明未启用"}, status_code=404)
    issued = await to_thread.run_sync(new_challenge, settings)
    return JSONResponse(issued.to_dict(), headers={"Cache-Control": "no-store"})


async def check(request: Request, payload: object) -> Proof:
    """Judge the ``altcha`` value of a submission; the one check the HTML forms and the JSON
    API share. Call it once per submission, before filing anything.

    ``payload`` is the posted value as is: the form field, or the ``altcha`` member of a
    JSON body (``None`` when absent). The outcome:

    - :attr:`Proof.SOLVED`: a correctly solved challenge issued by this site, unexpired and
      never used before; it is now spent (a second submission with it is INVALID).
    - :attr:`Proof.MISSING`: no value, or an empty one (no JavaScript, or a client that
      does not solve). The unproven budget of this client address has been charged; once it
      is spent this raises ``slowapi.errors.RateLimitExceeded``, which the app answers with
      429 (the Chinese page, or the API's JSON error) and a ``Retry-After``.
    - :attr:`Proof.INVALID`: anything else (malformed, tampered, expired, signed with
      another key, wrong solution, replayed). File nothing; answer 422 with
      :data:`INVALID_MESSAGE` (the form again, or the API's validation error).
    - :attr:`Proof.OFF`: ``SHIXIN_ALTCHA_ENABLED=0``; nothing was looked at or charged.

    ``Proof.accepted`` is true for everything but INVALID.
    """
    settings: Settings = request.app.state.settings
    if not settings.altcha_enabled:
        return Proof.OFF
    if payload is None or (isinstance(payload, str) and not payload.strip()):
        ratelimit.charge(request, settings.rate_limit_unproven, ratelimit.UNPROVEN)
        return Proof.MISSING
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD:
        return Proof.INVALID
    expires = _verified(settings, payload.strip())
    if expires is None:
        return Proof.INVALID
    cases: CaseService = request.app.state.cases
    signature = v2.Payload.from_base64(payload.strip()).challenge.signature or ""
    fresh = await to_thread.run_sync(cases.spend_proof, signature, expires, CLOCK_SLACK)
    return Proof.SOLVED if fresh else Proof.INVALID


def _verified(settings: Settings, payload: str) -> datetime | None:
    """The expiry of the challenge ``payload`` solves, if it is ours and solved."""
    challenge_key, derived_key = _keys(settings)
    try:
        result = v2.verify_solution(payload, challenge_key, hmac_key_secret=derived_key)
    except Exception:  # a hostile payload must not become a 500
        log.info("altcha payload could not be checked", exc_info=True)
        return None
    if not result.verified:
        return None
    # Signed by us, so these are the values we issued.
    parameters = v2.Payload.from_base64(payload).challenge.parameters
    if not isinstance(parameters.expires_at, int) or not parameters.key_signature:
        return None
    return datetime.fromtimestamp(parameters.expires_at, UTC)


routes = [Route("/altcha/challenge", challenge, methods=["GET"])]
