"""CSRF protection for HTML forms: a signed double-submit token, no JavaScript needed.

Each browser gets a random cookie; every form carries, in a hidden field, an HMAC of that
cookie under ``SHIXIN_SECRET_KEY``, masked afresh on every page (see ``token``). A forged
cross-site post can make the browser send the cookie but cannot read it, so it cannot
produce the matching field. Signing (rather than copying the cookie into the field) also
stops an attacker who can plant a cookie from a sibling subdomain, because they cannot
compute the signature.

Templates include the field with ``{{ csrf_field() }}``; handlers read their form with
``await checked_form(request)``, which raises :class:`CsrfError` on a bad token; pages
render with :func:`portal.render.render`, which sets the cookie when a form issued one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from portal import cookies

COOKIE = "shixin_csrf"
FIELD = "csrf_token"
COOKIE_MAX_AGE = 7 * 24 * 3600
# Forms on this site are short; a larger body is no form of ours.
MAX_FIELDS = 50
MAX_PART_SIZE = 64 * 1024


class CsrfError(Exception):
    """The form's token is missing or does not match this browser's cookie."""


def _secret(request: Request) -> bytes:
    return request.app.state.settings.secret_key.reveal().encode()


def _sign(secret: bytes, cookie: str) -> str:
    return hmac.new(secret, b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def _cookie_value(request: Request) -> str:
    """This browser's cookie value, issuing a new one (set on the response later) if none."""
    issued = getattr(request.state, "csrf_issued", None)
    if issued:
        return issued
    value = request.cookies.get(COOKIE, "")
    if len(value) != 43:  # token_urlsafe(32); anything else is not one of ours
        value = secrets.token_urlsafe(32)
        request.state.csrf_issued = value
    return value


def token(request: Request) -> str:
    """The form field's value: this browser's signature under a fresh random mask, so that
    no two pages carry the same bytes (a compressed page that also echoes what the visitor
    typed must not let an observer recover the token by its length, the BREACH attack)."""
    signature = bytes.fromhex(_sign(_secret(request), _cookie_value(request)))
    pad = secrets.token_bytes(len(signature))
    return (pad + _xor(pad, signature)).hex()


def _xor(a: bytes, b: bytes) -> bytes:
    """``a`` XOR ``b``, of one length (as integers: a page renders one per form)."""
    return (int.from_bytes(a) ^ int.from_bytes(b)).to_bytes(len(a))


def _unmask(sent: str) -> str | None:
    """The signature a field's value carries, or None when it is no value of ours."""
    try:
        raw = bytes.fromhex(sent)
    except ValueError:
        return None
    half = len(raw) // 2
    if half != hashlib.sha256().digest_size or len(raw) != 2 * half:
        return None
    return _xor(raw[:half], raw[half:]).hex()


@pass_context
def csrf_field(context: Context) -> Markup:
    """The hidden input every form includes: ``{{ csrf_field() }}``."""
    value = token(context["request"])  # hex digits only: nothing to escape
    return Markup(f'<input type="hidden" name="{FIELD}" value="{value}">')


def attach_cookie(request: Request, response: Response) -> None:
    """Send the cookie a form on this page was signed against, if it is new."""
    issued = getattr(request.state, "csrf_issued", None)
    if issued:
        response.set_cookie(
            COOKIE,
            issued,
            max_age=COOKIE_MAX_AGE,
            **cookies.options(request),
        )


async def checked_form(request: Request, max_files: int = 0) -> FormData:
    """The posted form, once its token matches this browser's cookie. Only the intake forms
    take files (``max_files``); their size is capped by the body limit of portal/security.py
    (Starlette's part size applies to text fields only)."""
    form = await request.form(
        max_files=max_files, max_fields=MAX_FIELDS, max_part_size=MAX_PART_SIZE
    )
    if not _token_matches(request, form.get(FIELD)):
        await form.close()  # the files it spooled are of no use now
        raise CsrfError
    return form


def _token_matches(request: Request, sent: object) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    if not cookie or not isinstance(sent, str):
        return False
    signature = _unmask(sent)
    if signature is None:
        return False
    return hmac.compare_digest(signature.encode(), _sign(_secret(request), cookie).encode())
