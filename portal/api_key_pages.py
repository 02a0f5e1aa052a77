"""Asking for an API key on the site: the form at /api/keys, the confirmation link from the
mail (then a button: a link a mail scanner opens issues nothing), the page that shows the
key once, and the owner's page (daily usage, revoke) reached by the manage link in the
issuing mail, where the owner also manages the key's webhooks (portal/webhook_pages.py).
The work is api_keys.service.ApiKeys'.

The key is shown only on the answer to the confirming POST, never cached (``no-store``),
never put in an address. Every form carries the CSRF field.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api_keys.service import CONFIRM_HOURS, MAX_REASON, ApiKeyError, ApiKeys, KeyView
from casework.admin_audit import OWNER
from casework.admin_desk import api_key_revocation
from portal.csrf import CsrfError, checked_form
from portal.render import forbidden, render

FIELDS = ("organization", "email", "purpose")
ERRORS = {
    "no_organization": "请填写机构或媒体名称",
    "bad_address": "请填写有效的电子邮箱地址",
    "no_purpose": "请简要说明用途",
    "too_long": "名称或用途过长",
    "too_many_requests": "该邮箱已有多个待确认的申请，请先查收确认邮件",
    "bad_token": "链接无效或已使用",
    "expired_token": "链接已过期，请重新申请",
}
NOT_FOUND = "链接无效：找不到对应的密钥"
# What the owner's page says after an action (``?done=``): the key's, and its webhooks'.
DONE = {
    "revoked": "密钥已吊销。",
    "webhook-disabled": "Webhook 已停用。",
    "webhook-enabled": "Webhook 已重新启用，停用以来的变更将陆续补发。",
    "webhook-deleted": "Webhook 已删除。",
}


def _keys(request: Request) -> ApiKeys:
    return request.app.state.api_keys


def _error(code: str) -> str:
    return ERRORS.get(code, "提交未成功，请检查后再试")


async def request_form(request: Request) -> Response:
    return _form(request, {name: "" for name in FIELDS})


async def ask(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    typed = {name: str(form.get(name) or "")[:2000] for name in FIELDS}
    try:
        pending = await to_thread.run_sync(
            lambda: _keys(request).request(typed["organization"], typed["email"], typed["purpose"])
        )
    except ApiKeyError as exc:
        return _form(request, typed, error=_error(exc.code), status_code=400)
    context = {"pending": pending, "hours": CONFIRM_HOURS}
    return render(request, "api_key_sent.html", context, private=True)


async def confirm_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        pending = await to_thread.run_sync(_keys(request).pending, token)
    except ApiKeyError as exc:
        return gone(request, exc.code)
    context = {"pending": pending, "token": token}
    return render(request, "api_key_confirm.html", context, private=True)


async def issue(request: Request) -> Response:
    try:
        await checked_form(request)
    except CsrfError:
        return forbidden(request)
    try:
        issued = await to_thread.run_sync(_keys(request).issue, request.path_params["token"])
    except ApiKeyError as exc:
        return gone(request, exc.code)
    return render(request, "api_key_issued.html", {"issued": issued}, private=True)


async def manage_page(request: Request) -> Response:
    key = await to_thread.run_sync(_keys(request).owned, request.path_params["token"])
    if key is None:
        return gone(request, "", message=NOT_FOUND, status_code=404)
    done = DONE.get(request.query_params.get("done") or "")
    return await manage(request, key, done=done)


async def manage(
    request: Request,
    key: KeyView,
    *,
    done: str | None = None,
    webhook_error: str | None = None,
    typed_url: str = "",
    status_code: int = 200,
) -> Response:
    """The owner's page: the key's usage and its webhooks (portal/webhook_pages.py)."""
    webhooks = await to_thread.run_sync(request.app.state.webhooks.endpoints, key.id)
    context = {
        "key": key,
        "token": request.path_params["token"],
        "done": done,
        "webhooks": webhooks,
        "webhook_error": webhook_error,
        "typed_url": typed_url,
    }
    return render(request, "api_key_manage.html", context, status_code=status_code, private=True)


async def revoke(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    token = request.path_params["token"]
    keys = _keys(request)
    key = await to_thread.run_sync(keys.owned, token)
    if key is None:
        return gone(request, "", message=NOT_FOUND, status_code=404)
    reason = " ".join(str(form.get("reason") or "").split())[:MAX_REASON]  # optional here
    audit = api_key_revocation(key.id, reason, by=OWNER)
    await to_thread.run_sync(keys.revoke, key.id, audit)
    return RedirectResponse(f"/api/keys/manage/{token}?done=revoked", status_code=303)


# --- inside ------------------------------------------------------------------------------


def _form(
    request: Request, typed: dict[str, str], *, error: str | None = None, status_code: int = 200
) -> Response:
    context: dict[str, Any] = {"typed": typed, "error": error}
    return render(request, "api_key_request.html", context, status_code=status_code, private=True)


def gone(
    request: Request, code: str, *, message: str | None = None, status_code: int = 410
) -> Response:
    context = {"message": message or _error(code)}
    return render(request, "api_key_error.html", context, status_code=status_code, private=True)


routes = [
    Route("/api/keys", request_form, methods=["GET"]),
    Route("/api/keys", ask, methods=["POST"]),
    Route("/api/keys/confirm/{token:str}", confirm_page, methods=["GET"]),
    Route("/api/keys/confirm/{token:str}", issue, methods=["POST"]),
    Route("/api/keys/manage/{token:str}", manage_page, methods=["GET"]),
    Route("/api/keys/manage/{token:str}/revoke", revoke, methods=["POST"]),
]
