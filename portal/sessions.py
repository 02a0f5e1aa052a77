"""The back office's login session: a cookie holding the token of casework.accounts.

The cookie (``shixin_unit``) is HttpOnly, SameSite=Lax and Secure under https (the site's
cookie policy, portal/cookies.py), is sent only to ``/unit/`` pages, and lives as long as
the browser session; the server ends the session after 30 idle minutes or 12 hours, at
logout, or when the password is reset (only a hash of the token is stored).
"""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response

from casework.accounts import Actor
from casework.sign_in import SignIn
from portal import cookies

COOKIE = "shixin_unit"
PATH = "/unit"


def _sign_in(request: Request) -> SignIn:
    return SignIn(request.app.state.cases)


async def current_actor(request: Request) -> Actor | None:
    """Who is logged in on this request, or None."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    return await to_thread.run_sync(_sign_in(request).session_actor, token)


async def begin(request: Request, response: Response, actor: Actor) -> None:
    token = await to_thread.run_sync(_sign_in(request).start_session, actor)
    options = {**cookies.options(request), "path": PATH}
    response.set_cookie(COOKIE, token, **options)


async def end(request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE, "")
    if token:
        await to_thread.run_sync(_sign_in(request).end_session, token)
    options = cookies.options(request)
    response.delete_cookie(
        COOKIE,
        path=PATH,
        secure=options["secure"],
        httponly=options["httponly"],
        samesite=options["samesite"],
    )
