"""The units' back office under /unit/: login, the queue, a ticket and its actions.

Every page but the login form needs a session (portal/sessions.py) and otherwise redirects
to the login. What a unit may see and do is decided by CaseService: another unit's ticket is
NotFound, answered with the same 404 page as an id that does not exist; an id no row could
have (0, 2^63 or more: portal/ids.py) matches no route and gets that 404 too. Every action is a
form post with a CSRF token, answered by a redirect back to the ticket (so reloading does
not repeat it); a refused action shows the ticket again with the error and the text typed.
Back office pages are never cached (``Cache-Control: no-store``).

Evidence files are served only here, to a unit that may see the ticket, as downloads
(``Content-Disposition: attachment``) of the type their content was found to be, in a
sandbox and never sniffed: a file that is also valid HTML cannot run as a page of this site.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

import portal.ids  # noqa: F401  (registers the {name:id} path convertor)
from casework.accounts import Actor
from casework.errors import InvalidInput, InvalidTransition, LoginFailed, NotFound
from casework.evidence import size_text
from casework.notice_texts import KIND_NAMES
from casework.service import CaseService
from casework.sign_in import SignIn
from casework.text_limits import MAX_TEXT
from casework.ticket_views import TicketView
from casework.tickets import STATE_NAMES, TRANSITIONS, State
from portal import sessions
from portal.casework_pages import ACTION_NAMES, DEADLINE_NAMES, public_entry
from portal.csrf import CsrfError, checked_form
from portal.render import forbidden, render

LOGIN_PATH = "/unit/login"
QUEUE_PATH = "/unit/"
ADMIN_HOME = "/unit/admin/"  # an administrator has no queue (portal/admin_pages.py)
DUE_SOON = timedelta(days=1)
# What each action form sends, beyond the token.
ACTION_FIELDS = {
    "accept": ("message",),
    "transfer": ("to_unit", "reason", "note"),
    "decline": ("reason", "note"),
    "reply": ("message", "upheld", "note"),
    "correction": ("message",),
    "close": ("message",),
    "note": ("text",),
}
DONE = {
    "accept": "已受理。",
    "transfer": "已转办。",
    "decline": "已不予受理，理由已告知提交人。",
    "reply": "答复已发出。",
    "correction": "已记录更正完成。",
    "close": "已办结。",
    "note": "内部备注已保存。",
}


def _cases(request: Request) -> CaseService:
    return request.app.state.cases


def _to_login() -> Response:
    return RedirectResponse(LOGIN_PATH, status_code=303)


def _not_found(request: Request) -> Response:
    return render(request, "404.html", status_code=404, private=True)


# --- login and logout ---------------------------------------------------------------------


def _home(actor: Actor) -> str:
    return ADMIN_HOME if actor.is_admin else QUEUE_PATH


async def login_form(request: Request) -> Response:
    actor = await sessions.current_actor(request)
    if actor is not None:
        return RedirectResponse(_home(actor), status_code=303)
    return render(request, "casework/login.html", {"login": "", "error": None}, private=True)


async def login_submit(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    name = form.get("login")
    password = form.get("password")
    name = name.strip()[:100] if isinstance(name, str) else ""
    password = password[:1000] if isinstance(password, str) else ""
    try:
        actor = await to_thread.run_sync(SignIn(_cases(request)).login, name, password)
    except LoginFailed as exc:
        # One message for a wrong password and an unknown name; the lockout message is the
        # same for both too. The password is never written back.
        context = {"login": name, "error": exc.detail, "locked": exc.locked}
        return render(request, "casework/login.html", context, status_code=401, private=True)
    response = RedirectResponse(_home(actor), status_code=303)
    await sessions.begin(request, response, actor)
    return response


async def logout(request: Request) -> Response:
    try:
        await checked_form(request)
    except CsrfError:
        return forbidden(request)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    await sessions.end(request, response)
    return response


# --- the queue ----------------------------------------------------------------------------

STATE_FILTERS = {
    "open": "待办（未答复）",
    "all": "全部",
    **{s.value: n for s, n in STATE_NAMES.items()},
}


async def queue(request: Request) -> Response:
    actor = await sessions.current_actor(request)
    if actor is None:
        return _to_login()
    cases = _cases(request)
    state = request.query_params.get("state", "open")
    if state not in STATE_FILTERS:
        state = "open"
    overdue_only = request.query_params.get("overdue") == "1"
    states = None if state == "open" else set(State) if state == "all" else {State(state)}
    tickets = await to_thread.run_sync(cases.queue, actor, states)
    escalated = await to_thread.run_sync(cases.escalated, actor)
    if overdue_only:
        tickets = [t for t in tickets if any(d.overdue for d in t.deadlines)]
    now = cases.now()
    context = {
        **_common(request, actor),
        "rows": [(t, _badge(t, now)) for t in tickets],
        "escalated": [(t, _badge(t, now)) for t in escalated],
        "state": state,
        "overdue_only": overdue_only,
        "state_filters": STATE_FILTERS,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "casework/queue.html", context, private=True)


def _badge(ticket: TicketView, now: Any) -> dict[str, Any] | None:
    """The ticket's most pressing open deadline of its current unit, for the queue."""
    mine = [d for d in ticket.deadlines if d.unit_code == ticket.unit_code] or ticket.deadlines
    if not mine:
        return None
    d = min(mine, key=lambda d: d.due_at)
    if d.overdue:
        level, text = "overdue", "已超期"
    elif d.due_at - now <= DUE_SOON:
        level, text = "soon", "即将到期"
    else:
        level, text = "ok", "期限内"
    return {"level": level, "text": text, "kind": DEADLINE_NAMES[d.kind], "due_at": d.due_at}


# --- one ticket ---------------------------------------------------------------------------


async def ticket_page(request: Request) -> Response:
    actor = await sessions.current_actor(request)
    if actor is None:
        return _to_login()
    done = DONE.get(request.query_params.get("done", ""))
    return await _ticket(request, actor, request.path_params["ticket_id"], done=done)


async def ticket_action(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    actor = await sessions.current_actor(request)
    if actor is None:
        return _to_login()
    ticket_id: int = request.path_params["ticket_id"]
    action: str = request.path_params["action"]
    if action not in ACTION_FIELDS:
        return _not_found(request)
    typed = _typed(form, ACTION_FIELDS[action])
    try:
        await to_thread.run_sync(_perform, _cases(request), actor, ticket_id, action, typed)
    except NotFound:
        return _not_found(request)
    except (InvalidInput, InvalidTransition) as exc:
        extra = {"error": exc.detail, "error_action": action, "typed": typed}
        return await _ticket(request, actor, ticket_id, status_code=exc.status, **extra)
    if action == "transfer":  # the ticket is the other unit's now: this one may not open it
        return RedirectResponse(f"{QUEUE_PATH}?done=transfer", status_code=303)
    return RedirectResponse(f"/unit/tickets/{ticket_id}?done={action}", status_code=303)


def _typed(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) else ""
    return out


def _perform(
    cases: CaseService, actor: Actor, ticket_id: int, action: str, typed: dict[str, str]
) -> TicketView:
    def opt(name: str) -> str | None:
        return typed.get(name) or None

    if action == "accept":
        return cases.accept(actor, ticket_id, opt("message"))
    if action == "transfer":
        return cases.transfer(actor, ticket_id, typed["to_unit"], typed["reason"], opt("note"))
    if action == "decline":
        return cases.decline(actor, ticket_id, typed["reason"], opt("note"))
    if action == "reply":
        upheld = {"yes": True, "no": False}.get(typed["upheld"])
        return cases.reply(actor, ticket_id, typed["message"], upheld=upheld, note=opt("note"))
    if action == "correction":
        return cases.record_correction(actor, ticket_id, typed["message"])
    if action == "close":
        return cases.close(actor, ticket_id, opt("message"))
    return cases.note(actor, ticket_id, typed["text"])


async def _ticket(
    request: Request, actor: Actor, ticket_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    cases = _cases(request)
    try:
        ticket = await to_thread.run_sync(cases.ticket, actor, ticket_id)
    except NotFound:
        return _not_found(request)
    entry = await public_entry(request, ticket.entry_id) if ticket.entry_id else None
    own = ticket.unit_code == actor.unit_code
    category = cases.routing.category(ticket.category)
    measure = cases.routing.category(ticket.measure) if ticket.measure else None
    state = State(ticket.state)
    allowed = {a for a in ACTION_FIELDS if own and state in TRANSITIONS[a][0]}
    if not any(d.kind == "correct" for d in ticket.deadlines):
        allowed.discard("correction")
    context = {
        **_common(request, actor),
        "ticket": ticket,
        "evidence_link": True,
        "size_text": size_text,
        "entry": entry,
        "measure_name": measure.name if measure else ticket.measure,
        "own": own,
        "allowed": allowed,
        "transfer_units": [
            (u.code, u.name) for u in cases.routing.units.values() if u.code != ticket.unit_code
        ],
        "upheld_applies": category is not None and category.deadlines.correct is not None,
        "done": None,
        "error": None,
        "error_action": None,
        "typed": {},
        **extra,
    }
    return render(request, "casework/ticket.html", context, status_code=status_code, private=True)


async def evidence_file(request: Request) -> Response:
    actor = await sessions.current_actor(request)
    if actor is None:
        return _to_login()
    ticket_id: int = request.path_params["ticket_id"]
    evidence_id: int = request.path_params["evidence_id"]
    try:
        view, path = await to_thread.run_sync(
            _cases(request).evidence_file, actor, ticket_id, evidence_id
        )
    except NotFound:
        return _not_found(request)
    extension = {"image/jpeg": "jpg", "application/pdf": "pdf"}.get(
        view.media_type, view.media_type.rpartition("/")[2]
    )
    # RFC 6266/5987: a plain ASCII name for old clients, the submitter's name (percent-
    # encoded, so no quote or line break of it reaches the header) for the rest.
    disposition = (
        f'attachment; filename="evidence-{view.id}.{extension}"; '
        f"filename*=UTF-8''{quote(view.filename, safe='')}"
    )
    return FileResponse(
        path,
        media_type=view.media_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )


def _common(request: Request, actor: Actor) -> dict[str, Any]:
    cases = _cases(request)
    unit = cases.routing.unit(actor.unit_code)

    def unit_label(code: str | None) -> str:
        known = cases.routing.unit(code) if code else None
        return known.name if known else code or ""

    return {
        "actor": actor,
        "unit_name": unit.name if unit else actor.unit_code,
        "unit_label": unit_label,
        "state_names": {s.value: name for s, name in STATE_NAMES.items()},
        "action_names": ACTION_NAMES,
        "deadline_names": DEADLINE_NAMES,
        "kind_names": KIND_NAMES,
        "max_text": MAX_TEXT,
    }


routes = [
    Route("/unit/login", login_form, methods=["GET"]),
    Route("/unit/login", login_submit, methods=["POST"]),
    Route("/unit/logout", logout, methods=["POST"]),
    Route("/unit/", queue, methods=["GET"]),
    Route("/unit/tickets/{ticket_id:id}", ticket_page, methods=["GET"]),
    Route(
        "/unit/tickets/{ticket_id:id}/evidence/{evidence_id:id}",
        evidence_file,
        methods=["GET"],
    ),
    Route("/unit/tickets/{ticket_id:id}/{action:str}", ticket_action, methods=["POST"]),
]
