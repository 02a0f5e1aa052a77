"""The administrator's back office under /unit/admin/: units and accounts, and the routing
file. Every admin page says when the list was last imported and how far the index lags;
the home page adds the last day's imports as a chart (portal/import_chart.py).

Login is the units' login (/unit/login); only an account with role ``admin`` gets these
pages: anyone not logged in is sent to the login, any other account gets the 403 page, for
every page and every post. Every post carries the CSRF token and is written to the audit
trail (casework/admin_audit.py) by the casework function that makes the change. The pages
reach units, accounts, the audit trail and the routing files through the administrator's
desk (casework/admin_desk.py) only.

A password (generated, or typed by the administrator) is shown once, on the page that
answers the post; it is never put in a URL, and these pages are never cached. An installed
routing file is in force at once in this worker and within ROUTING_CHECK_SECONDS in the
others (portal/app.py).
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casework import accounts, routing_store
from casework.accounts import Actor
from casework.admin_desk import AdminDesk
from casework.errors import CaseworkError
from casework.routing import COURT_PREFIX, DEFAULT_FILE, RoutingError, chinese_error
from casework.service import CaseService
from portal import sessions
from portal.csrf import CsrfError, checked_form
from portal.ids import parse_id
from portal.import_chart import Freshness, freshness
from portal.render import forbidden, render

HOME = "/unit/admin/"
ROUTING = "/unit/admin/routing"
ROUTING_CHECK_SECONDS = 10.0  # how often every worker looks for a newly installed file
ACCOUNT_ACTIONS = ("reset", "disable", "enable", "unlock")
UNIT_ACTIONS = ("disable", "enable", "email")
DONE = {
    "disable": "已停用，其登录会话已全部结束。",
    "enable": "已启用。",
    "unlock": "已解除登录锁定。",
    "email": "通知邮箱已更新。",
}


def _cases(request: Request) -> CaseService:
    return request.app.state.cases


def _desk(request: Request) -> AdminDesk:
    return AdminDesk(_cases(request))


async def _admin(request: Request) -> Actor | Response:
    """The logged-in administrator, or the response for anyone else."""
    actor = await sessions.current_actor(request)
    if actor is None:
        return RedirectResponse("/unit/login", status_code=303)
    if not actor.is_admin:
        return forbidden(request)
    return actor


async def _admin_post(request: Request, max_files: int = 0) -> tuple[Actor, FormData] | Response:
    try:
        form = await checked_form(request, max_files=max_files)
    except CsrfError:
        return forbidden(request)
    actor = await _admin(request)
    if isinstance(actor, Response):
        return actor
    return actor, form


def _field(form: FormData, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


# --- units and accounts -------------------------------------------------------------------


async def home(request: Request) -> Response:
    actor = await _admin(request)
    if isinstance(actor, Response):
        return actor
    done = DONE.get(request.query_params.get("done", ""))
    return await _home(request, actor, done=done)


async def _home(
    request: Request, actor: Actor, *, status_code: int = 200, **extra: Any
) -> Response:
    cases = _cases(request)
    desk = AdminDesk(cases)
    unit_list = await to_thread.run_sync(desk.list_units)
    users = await to_thread.run_sync(desk.list_users)
    locked = await to_thread.run_sync(desk.lock_state, [u.login for u in users])
    audit = await to_thread.run_sync(desk.recent_audit)
    fresh = await list_freshness(request)
    with_account = {u.code for u in unit_list}
    context = {
        **_common(request, actor),
        "units": unit_list,
        "users": users,
        "locked": locked,
        "audit": audit,
        "freshness": fresh,
        "free_units": [
            (u.code, u.name) for u in cases.routing.units.values() if u.code not in with_account
        ],
        "min_password": accounts.MIN_PASSWORD,
        "done": None,
        "error": None,
        "error_form": None,
        "typed": {},
        "secret": None,
        **extra,
    }
    return render(
        request, "casework/admin_home.html", context, status_code=status_code, private=True
    )


async def list_freshness(request: Request) -> Freshness:
    """The last import, the index lag and the last day's imports, as every admin page shows
    them (the home page with its chart)."""
    activity = await to_thread.run_sync(request.app.state.service.import_activity)
    return freshness(activity, request.app.state.settings.sync_interval_seconds)


def _common(request: Request, actor: Actor) -> dict[str, Any]:
    unit = _cases(request).routing.unit(actor.unit_code)
    return {"actor": actor, "unit_name": unit.name if unit else actor.unit_code}


async def add_unit(request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    actor, form = got
    typed = {k: _field(form, k) for k in ("unit", "court_name", "login", "email")}
    password = _field(form, "password")
    desk = _desk(request)
    code = typed["unit"] or (COURT_PREFIX + typed["court_name"] if typed["court_name"] else "")

    def run() -> tuple[str, str]:
        if not code:
            raise CaseworkError("请选择路由文件中的单位，或填写法院全称")
        if typed["unit"] and typed["court_name"]:
            raise CaseworkError("请只选择单位或只填写法院名称，不要同时填写")
        return desk.add_unit(
            code,
            login=typed["login"] or None,
            email=typed["email"] or None,
            password=password or None,
            by=actor.login,
        )

    try:
        login, password = await to_thread.run_sync(run)
    except CaseworkError as exc:
        return await _refused(request, actor, "unit", exc, typed)
    secret = {"what": f"单位 {code} 的账户已创建", "login": login, "password": password}
    return await _home(request, actor, secret=secret)


async def add_staff(request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    actor, form = got
    typed = {k: _field(form, k) for k in ("staff_unit", "staff_login", "display_name")}
    password = _field(form, "password")
    desk = _desk(request)

    def run() -> str:
        return desk.add_staff(
            typed["staff_unit"],
            typed["staff_login"],
            typed["display_name"],
            password=password or None,
            by=actor.login,
        )

    try:
        password = await to_thread.run_sync(run)
    except CaseworkError as exc:
        return await _refused(request, actor, "staff", exc, typed)
    login = typed["staff_login"]
    secret = {"what": f"工作人员 {login} 已添加", "login": login, "password": password}
    return await _home(request, actor, secret=secret)


async def account_action(request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    actor, form = got
    action = request.path_params["action"]
    if action not in ACCOUNT_ACTIONS:
        return render(request, "404.html", status_code=404, private=True)
    login = _field(form, "login", 100)
    desk = _desk(request)

    def run() -> str | None:
        if action == "disable" and login == actor.login:
            raise CaseworkError("不能停用自己正在使用的账户")
        if action == "reset":
            return desk.reset_password(login, by=actor.login)
        if action == "unlock":
            desk.unlock(login, by=actor.login)
            return None
        desk.set_user_disabled(login, action == "disable", by=actor.login)
        return None

    try:
        password = await to_thread.run_sync(run)
    except CaseworkError as exc:
        return await _refused(request, actor, "account", exc, {"login": login})
    if action == "reset":
        what = f"{login} 的密码已重置，该用户的所有登录会话已结束"
        if login == actor.login:
            what += "（包括您当前的会话，请用新密码重新登录）"
        secret = {"what": what, "login": login, "password": password}
        return await _home(request, actor, secret=secret)
    return RedirectResponse(f"{HOME}?done={action}", status_code=303)


async def unit_action(request: Request) -> Response:
    got = await _admin_post(request)
    if isinstance(got, Response):
        return got
    actor, form = got
    action = request.path_params["action"]
    if action not in UNIT_ACTIONS:
        return render(request, "404.html", status_code=404, private=True)
    code = _field(form, "code", 200)
    email = _field(form, "email", 300)
    desk = _desk(request)

    def run() -> None:
        if action == "email":
            desk.set_unit_email(code, email or None, by=actor.login)
            return
        if action == "disable" and code == actor.unit_code:
            raise CaseworkError("不能停用自己所在的单位")
        desk.set_unit_disabled(code, action == "disable", by=actor.login)

    try:
        await to_thread.run_sync(run)
    except CaseworkError as exc:
        return await _refused(request, actor, "unit-" + code, exc, {"email": email})
    return RedirectResponse(f"{HOME}?done={action}", status_code=303)


async def _refused(
    request: Request, actor: Actor, form: str, exc: CaseworkError, typed: dict[str, str]
) -> Response:
    status = 404 if exc.status == 404 else 422
    extra = {"error": exc.detail, "error_form": form, "typed": typed}
    return await _home(request, actor, status_code=status, **extra)


# --- the routing file ---------------------------------------------------------------------


async def routing_page(request: Request) -> Response:
    actor = await _admin(request)
    if isinstance(actor, Response):
        return actor
    done = request.query_params.get("done") == "installed"
    return await _routing(request, actor, done=done)


async def _routing(
    request: Request, actor: Actor, *, status_code: int = 200, **extra: Any
) -> Response:
    cases = _cases(request)
    routing = cases.routing
    history = await to_thread.run_sync(AdminDesk(cases).routing_history)
    if routing.installed is not None:
        source = "installed"
    elif routing.origin == DEFAULT_FILE:
        source = "packaged"
    else:
        source = "file"
    context = {
        **_common(request, actor),
        "routing": routing,
        "source": source,
        "history": history,
        "freshness": await list_freshness(request),
        "max_kb": routing_store.MAX_BYTES // 1024,
        "done": False,
        "errors": [],
        **extra,
    }
    return render(
        request, "casework/admin_routing.html", context, status_code=status_code, private=True
    )


async def routing_download(request: Request) -> Response:
    actor = await _admin(request)
    if isinstance(actor, Response):
        return actor
    cases = _cases(request)
    desk = AdminDesk(cases)
    row_id = request.query_params.get("id")
    if row_id is None:
        text = await to_thread.run_sync(desk.routing_text)
        version = cases.routing.version
    else:
        found = await to_thread.run_sync(_row, desk, row_id)
        if found is None:
            return render(request, "404.html", status_code=404, private=True)
        version, text = found
    name = "routing-" + "".join(c if c.isalnum() or c in ".-_" else "_" for c in version)
    return Response(
        text,
        media_type="text/yaml; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.yaml"',
            "Cache-Control": "no-store",
        },
    )


def _row(desk: AdminDesk, row_id: str) -> tuple[str, str] | None:
    number = parse_id(row_id)
    return None if number is None else desk.routing_version_text(number)


async def routing_install(request: Request) -> Response:
    got = await _admin_post(request, max_files=1)
    if isinstance(got, Response):
        return got
    actor, form = got
    upload = form.get("file")
    desk = _desk(request)
    try:
        named = isinstance(upload, UploadFile) and bool(upload.filename)
        data = await upload.read(routing_store.MAX_BYTES + 1) if named else b""  # type: ignore[union-attr]
    finally:
        await form.close()  # the spooled temporary file
    if not named:
        return await _routing(request, actor, status_code=422, errors=["请选择要上传的路由文件"])

    base = request.app.state.settings.routing_file

    def run() -> None:  # in force in this worker at once; in the others at their next check
        desk.install_routing(data, by=actor.login, base=base)

    try:
        await to_thread.run_sync(run)
    except RoutingError as exc:
        return await _routing(request, actor, status_code=422, errors=[chinese_error(exc)])
    return RedirectResponse(f"{ROUTING}?done=installed", status_code=303)


routes = [
    Route("/unit/admin/", home, methods=["GET"]),
    Route("/unit/admin/units", add_unit, methods=["POST"]),
    Route("/unit/admin/staff", add_staff, methods=["POST"]),
    Route("/unit/admin/accounts/{action:str}", account_action, methods=["POST"]),
    Route("/unit/admin/units/{action:str}", unit_action, methods=["POST"]),
    Route("/unit/admin/routing", routing_page, methods=["GET"]),
    Route("/unit/admin/routing", routing_install, methods=["POST"]),
    Route("/unit/admin/routing.yaml", routing_download, methods=["GET"]),
]
