"""Watches by email on the site: the subscribe form, the confirmation link, the manage page
and the one-click unsubscribe. The work is watches.email_subscriptions.EmailWatches'.

The manage and unsubscribe addresses carry the address's token, which is the credential:
no login. Their forms still carry the CSRF field, except the unsubscribe POST, which mail
clients send by themselves (RFC 8058, ``List-Unsubscribe=One-Click``) without a cookie.
An ID number is only ever posted, never put in an address, and never refilled.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.csrf import CsrfError, checked_form
from portal.render import forbidden, render
from search_index.service import EntryGone, EntryNotFound
from watches.digest import MODES
from watches.email_subscriptions import KINDS, EmailWatches, Subscriber
from watches.service import WatchError

# The form's fields other than the kind; an ID number is never refilled.
FIELDS = ("email", "code", "name", "region", "court", "party_type")
ERRORS = {
    "bad_address": "请填写有效的电子邮箱地址",
    "bad_kind": "请选择关注的方式",
    "bad_credit_code": "统一社会信用代码格式不正确",
    "bad_id_number": "身份证号码格式不正确",
    "no_name": "请填写姓名或名称",
    "name_too_long": "姓名或名称过长",
    "bad_party_type": "当事人类型不正确",
    "not_watchable": "该条目没有可关注的统一社会信用代码或名称",
    "too_many_requests": "该邮箱已有多个待确认的申请，请先查收确认邮件",
    "too_many_watches": "该邮箱的关注已达上限",
    "bad_token": "链接无效或已使用",
    "expired_token": "链接已过期，请重新申请关注",
    "bad_mode": "请选择提醒方式",
    "bad_hour": "请选择 0 到 23 点之间的整点",
}
NOT_FOUND = "链接无效：找不到对应的邮箱"


def _watches(request: Request) -> EmailWatches:
    return request.app.state.email_watches


def _error(code: str) -> str:
    return ERRORS.get(code, "提交未成功，请检查后再试")


async def subscribe_form(request: Request) -> Response:
    params = request.query_params
    typed = {name: params.get(name, "").strip()[:200] for name in FIELDS}
    kind = params.get("kind", "")
    entry_id = params.get("entry")
    if entry_id:
        prefill = await _entry_prefill(request, entry_id)
        if prefill is None:
            return render(request, "404.html", status_code=404)
        kind = prefill.pop("kind")
        typed.update(prefill)
    return _form(request, kind if kind in KINDS else "search", typed)


async def subscribe(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    fields = {name: str(form.get(name) or "") for name in (*FIELDS, "id_number")}
    kind = str(form.get("kind") or "")
    try:
        asked = await to_thread.run_sync(
            lambda: _watches(request).request(fields["email"], kind, fields)
        )
    except WatchError as exc:
        typed = {name: fields[name].strip()[:200] for name in FIELDS}
        return _form(request, kind, typed, error=_error(exc.code), status_code=400)
    return render(request, "watch_sent.html", {"asked": asked}, private=True)


async def confirm_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        asked = await to_thread.run_sync(_watches(request).pending, token)
    except WatchError as exc:
        return _gone(request, exc.code)
    return render(request, "watch_confirm.html", {"asked": asked, "token": token}, private=True)


async def confirm(request: Request) -> Response:
    try:
        await checked_form(request)
    except CsrfError:
        return forbidden(request)
    watches = _watches(request)
    try:
        watch = await to_thread.run_sync(watches.confirm, request.path_params["token"])
    except WatchError as exc:
        return _gone(request, exc.code)
    subscriber = await to_thread.run_sync(watches.subscriber_of, watch.recipient)
    return RedirectResponse(_manage_url(subscriber, done="added"), status_code=303)


async def manage_page(request: Request) -> Response:
    subscriber = await _subscriber(request)
    if subscriber is None:
        return _not_found(request)
    watches = await to_thread.run_sync(_watches(request).watches_of, subscriber)
    context = {
        "subscriber": subscriber,
        "watches": watches,
        "modes": MODES,
        "hours": range(24),
        "done": request.query_params.get("done", ""),
    }
    return render(request, "watch_manage.html", context, private=True)


async def remove(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    subscriber = await _subscriber(request)
    if subscriber is None:
        return _not_found(request)
    watch_id = str(form.get("watch") or "")
    if watch_id.isdigit():
        await to_thread.run_sync(_watches(request).remove, subscriber, int(watch_id))
    return RedirectResponse(_manage_url(subscriber, done="removed"), status_code=303)


async def set_mode(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    subscriber = await _subscriber(request)
    if subscriber is None:
        return _not_found(request)
    mode = str(form.get("mode") or "")
    hour = str(form.get("hour") or "")
    try:
        hour_number = int(hour) if hour.isdigit() else -1
        await to_thread.run_sync(_watches(request).set_mode, subscriber, mode, hour_number)
    except WatchError as exc:
        return _gone(request, exc.code, status_code=400)
    return RedirectResponse(_manage_url(subscriber, done="mode"), status_code=303)


async def unsubscribe_page(request: Request) -> Response:
    subscriber = await _subscriber(request)
    if subscriber is None:
        return _not_found(request)
    context = {"subscriber": subscriber, "done": False}
    return render(request, "watch_unsubscribe.html", context, private=True)


async def unsubscribe(request: Request) -> Response:
    """The one-click POST (RFC 8058): the token in the address is the credential; no CSRF
    field, since a mail client posts it without the site's cookie."""
    subscriber = await _subscriber(request)
    if subscriber is None:
        return _not_found(request)
    await to_thread.run_sync(_watches(request).unsubscribe, subscriber)
    context = {"subscriber": subscriber, "done": True}
    return render(request, "watch_unsubscribe.html", context, private=True)


# --- inside ------------------------------------------------------------------------------


def _form(
    request: Request,
    kind: str,
    typed: dict[str, str],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {"kind": kind, "typed": typed, "error": error}
    return render(request, "watch_subscribe.html", context, status_code=status_code, private=True)


async def _entry_prefill(request: Request, entry_id: str) -> dict[str, str] | None:
    """The form's fields for "关注此条目": its credit code, else its name as a search."""
    service = request.app.state.service
    try:
        view = await to_thread.run_sync(service.entry, entry_id)
    except (EntryNotFound, EntryGone):
        return None
    e = view.to_api()
    return _watches(request).entry_form(e.get("iname") or "", e.get("cardNum"))


async def _subscriber(request: Request) -> Subscriber | None:
    token = request.path_params["token"]
    return await to_thread.run_sync(_watches(request).subscriber, token)


def _manage_url(subscriber: Subscriber | None, **query: str) -> str:
    if subscriber is None:
        return "/"
    return f"/watch/manage/{subscriber.token}?{urlencode(query)}"


def _gone(request: Request, code: str, *, status_code: int = 410) -> Response:
    context = {"message": _error(code)}
    return render(request, "watch_error.html", context, status_code=status_code, private=True)


def _not_found(request: Request) -> Response:
    context = {"message": NOT_FOUND}
    return render(request, "watch_error.html", context, status_code=404, private=True)


routes = [
    Route("/watch/subscribe", subscribe_form, methods=["GET"]),
    Route("/watch/subscribe", subscribe, methods=["POST"]),
    Route("/watch/confirm/{token:str}", confirm_page, methods=["GET"]),
    Route("/watch/confirm/{token:str}", confirm, methods=["POST"]),
    Route("/watch/manage/{token:str}", manage_page, methods=["GET"]),
    Route("/watch/manage/{token:str}/remove", remove, methods=["POST"]),
    Route("/watch/manage/{token:str}/mode", set_mode, methods=["POST"]),
    Route("/watch/unsubscribe/{token:str}", unsubscribe_page, methods=["GET"]),
    Route("/watch/unsubscribe/{token:str}", unsubscribe, methods=["POST"]),
]
