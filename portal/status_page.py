"""/status: a debtor checks whether and when their entry was removed.

The three identifiers come by POST (with a CSRF token), never in an address. A mismatch
renders exactly the page a case that does not exist renders; the identifier is never echoed.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.csrf import CsrfError, checked_form
from portal.render import forbidden, render
from search_index.service import ListService
from search_index.status import StatusInputError

FIELDS = ("caseCode", "name", "cardNum")


async def status_form(request: Request) -> Response:
    return render(request, "status.html", _context({}))


async def status_lookup(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    typed = {name: str(form.get(name) or "") for name in FIELDS}
    service: ListService = request.app.state.service
    try:
        found = await to_thread.run_sync(
            service.debtor_status, typed["caseCode"], typed["name"], typed["cardNum"]
        )
    except StatusInputError as exc:
        context = _context(typed, error=exc.message, error_field=exc.field)
        return render(request, "status.html", context, status_code=400, private=True)
    # A mismatch keeps what was typed for correcting; an answer needs it no more.
    context = _context({} if found else typed, searched=True, found=found)
    return render(request, "status.html", context, private=True)


def _context(typed: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        # Refill case number and name; the identifier is never written back into the page.
        "typed": {k: v.strip() for k, v in typed.items() if k != "cardNum"},
        "searched": False,
        "found": [],
        "error": None,
        "error_field": None,
        **extra,
    }


routes = [
    Route("/status", status_form, methods=["GET"]),
    Route("/status", status_lookup, methods=["POST"]),
]
