"""A key's webhooks on its owner's page (/api/keys/manage/<token>, portal/api_key_pages.py):
register an HTTPS endpoint (its signing secret is shown once, on the answer to that POST,
never cached), disable, enable again, delete. The manage link is the owner's credential
here as for the key itself; every form carries the CSRF field. The work is
webhooks.endpoints.Webhooks'.
"""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.api_key_pages import NOT_FOUND, gone, manage
from portal.csrf import CsrfError, checked_form
from portal.render import forbidden, render
from webhooks.endpoints import WebhookError, Webhooks

MAX_TYPED = 2100  # a little over the longest address taken, so "too long" can be said
ERRORS = {
    "bad_url": "请填写完整的网址，例如 https://example.cn/shixin-webhook",
    "too_long": "网址过长",
    "not_https": "只接受 https:// 开头的地址",
    "private_address": "该地址指向内网、本机或保留地址，不能接收推送",
    "unresolvable": "无法解析该地址的域名",
    "duplicate": "该地址已经登记过",
    "too_many": "每个密钥最多登记 5 个 webhook 地址",
    "revoked_key": "密钥已吊销，不能再使用 webhook",
}


def _webhooks(request: Request) -> Webhooks:
    return request.app.state.webhooks


async def register(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    key = await to_thread.run_sync(request.app.state.api_keys.owned, request.path_params["token"])
    if key is None:
        return gone(request, "", message=NOT_FOUND, status_code=404)
    url = str(form.get("url") or "")[:MAX_TYPED]
    try:
        registered = await to_thread.run_sync(_webhooks(request).register, key.id, url)
    except WebhookError as exc:
        message = ERRORS.get(exc.code, "登记未成功，请检查后再试")
        return await manage(request, key, webhook_error=message, typed_url=url, status_code=400)
    context = {"registered": registered, "token": request.path_params["token"]}
    return render(request, "webhook_created.html", context, private=True)


async def disable(request: Request) -> Response:
    return await _act(request, "disable", "webhook-disabled")


async def enable(request: Request) -> Response:
    return await _act(request, "enable", "webhook-enabled")


async def delete(request: Request) -> Response:
    return await _act(request, "delete", "webhook-deleted")


async def _act(request: Request, action: str, done: str) -> Response:
    try:
        await checked_form(request)
    except CsrfError:
        return forbidden(request)
    token = request.path_params["token"]
    key = await to_thread.run_sync(request.app.state.api_keys.owned, token)
    if key is None:
        return gone(request, "", message=NOT_FOUND, status_code=404)
    act = getattr(_webhooks(request), action)
    try:
        await to_thread.run_sync(act, key.id, request.path_params["endpoint"])
    except WebhookError as exc:
        if exc.code == "not_found":
            return gone(request, "", message="找不到该 webhook", status_code=404)
        return await manage(request, key, webhook_error=ERRORS[exc.code], status_code=400)
    return RedirectResponse(f"/api/keys/manage/{token}?done={done}", status_code=303)


_BASE = "/api/keys/manage/{token:str}/webhooks"
routes = [
    Route(_BASE, register, methods=["POST"]),
    Route(_BASE + "/{endpoint:int}/disable", disable, methods=["POST"]),
    Route(_BASE + "/{endpoint:int}/enable", enable, methods=["POST"]),
    Route(_BASE + "/{endpoint:int}/delete", delete, methods=["POST"]),
]
