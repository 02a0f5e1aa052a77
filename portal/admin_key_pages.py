"""The administrator's list of API keys under /unit/admin/api-keys: every key with its
organization, contact, purpose and usage (today, in total), a button that revokes it with
a reason, and for a revoked key who revoked it (an administrator or the owner), when and
why, from the audit trail (casework/admin_audit.py). Admin login and CSRF as on every
back-office page (portal/admin_pages.py); never cached. The key itself is never known here:
only its first characters."""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api_keys.service import MAX_REASON, ApiKeys
from casework.accounts import Actor
from casework.admin_desk import api_key_revocation
from portal.admin_pages import _admin, _admin_post, _common, _desk, _field, list_freshness
from portal.render import render

PAGE = "/unit/admin/api-keys"


def _keys(request: Request) -> ApiKeys:
    return request.app.state.api_keys


NO_REASON = "请填写吊销原因：它记入管理记录，日后可查为何吊销"


async def keys_page(request: Request) -> Response:
    actor = await _admin(request)
    if isinstance(actor, Response):
        return actor
    return await _page(request, actor, done=request.query_params.get("done") == "revoked")


async def revoke(request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    actor, form = got
    key_id = request.path_params["key_id"]
    reason = " ".join(_field(form, "reason", MAX_REASON).split())
    if not reason:
        return await _page(request, actor, error=NO_REASON, error_key=key_id, status_code=400)
    audit = api_key_revocation(key_id, reason, by=actor.login)
    await to_thread.run_sync(_keys(request).revoke, key_id, audit)
    return RedirectResponse(f"{PAGE}?done=revoked", status_code=303)


async def _page(
    request: Request,
    actor: Actor,
    *,
    done: bool = False,
    error: str | None = None,
    error_key: int | None = None,
    status_code: int = 200,
) -> Response:
    keys = await to_thread.run_sync(_keys(request).all)
    revoked = [k.id for k in keys if k.revoked_at is not None]
    records = await to_thread.run_sync(_desk(request).api_key_revocations, revoked)
    context = {
        **_common(request, actor),
        "keys": keys,
        "records": records,
        "freshness": await list_freshness(request),
        "done": done,
        "error": error,
        "error_key": error_key,
        "max_reason": MAX_REASON,
    }
    return render(
        request, "casework/admin_api_keys.html", context, status_code=status_code, private=True
    )


routes = [
    Route(PAGE, keys_page, methods=["GET"]),
    Route(PAGE + "/{key_id:id}/revoke", revoke, methods=["POST"]),
]
