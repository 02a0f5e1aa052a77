"""The administrator's list of API keys under /unit/admin/api-keys: every key with its
organization, contact, purpose and usage (today, in total), and a button that revokes it.
Admin login and CSRF as on every back-office page (portal/admin_pages.py); never cached.
The key itself is never known here: only its first characters."""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api_keys.service import ApiKeys
from portal.admin_pages import _admin, _admin_post, _common, list_freshness
from portal.render import render

PAGE = "/unit/admin/api-keys"


def _keys(request: Request) -> ApiKeys:
    return request.app.state.api_keys


async def keys_page(request: Request) -> Response:
    actor = await _admin(request)
    if isinstance(actor, Response):
        return actor
    keys = await to_thread.run_sync(_keys(request).all)
    context = {
        **_common(request, actor),
        "keys": keys,
        "freshness": await list_freshness(request),
        "done": request.query_params.get("done") == "revoked",
    }
    return render(request, "casework/admin_api_keys.html", context, private=True)


async def revoke(request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    await to_thread.run_sync(_keys(request).revoke, request.path_params["key_id"])
    return RedirectResponse(f"{PAGE}?done=revoked", status_code=303)


routes = [
    Route(PAGE, keys_page, methods=["GET"]),
    Route(PAGE + "/{key_id:id}/revoke", revoke, methods=["POST"]),
]
