"""The public HTML pages: search, entries, and (from their own modules) /status and /stats.

Searches by name, case number, court or region are GET, so they can be bookmarked and
paged; the results' sort order, view (cards or a compact list) and page are in the address
too. A full ID number must not travel in an address (server logs, history, Referer), so
it is searched through a POST form; its results come back in that one response, without
paging links, and the number is only ever shown masked.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n, related, search_form, search_threads, stats_page, status_page
from portal.csrf import CsrfError, checked_form
from portal.render import forbidden, render
from portal.responses import search_page_items
from search_index.query import MAX_PAGE, MAX_PER_PAGE, QueryError
from search_index.service import EntryGone, EntryNotFound, ListService
from search_index.types import SearchPage

# What the identifier form may send on; everything else in it is ignored.
ID_FORM_FIELDS = ("cardNum", "q", "partyType")
# Ids that quoting leaves as they are (most: court code, year, serial).
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.~/-]*")
# The class of a severity badge.
SEVERITY_LEVELS = {"一般": "low", "较重": "mid", "严重": "high"}


def _service(request: Request) -> ListService:
    return request.app.state.service


async def search_page(request: Request) -> Response:
    params = request.query_params
    if not search_form.asked(params):
        return render(request, "search.html", _context(params))
    private = search_form.is_private_identifier(params.get("cardNum") or "")
    if private:
        # Someone put a full ID number in the address: answer, but like the form would.
        params = _without_paging(params)
    return await _results(request, params, private=private)


async def search_by_identifier(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    params = {k: str(form.get(k) or "").strip() for k in ID_FORM_FIELDS}
    if not params["cardNum"]:
        context = _context({}, id_error="请输入身份证号码、统一社会信用代码或组织机构代码")
        return render(request, "search.html", context, status_code=400)
    if not search_form.is_private_identifier(params["cardNum"]):
        # Codes of organizations and masked numbers are public: give them a proper address.
        return RedirectResponse(search_form.page_url(params, 1), status_code=303)
    return await _results(request, _without_paging(params), private=True)


async def _results(request: Request, params: Any, *, private: bool) -> Response:
    context = _context(params, private=private)
    status = 200
    service, lang = _service(request), i18n.lang_of(request)

    def run() -> dict[str, Any]:
        # One trip to a worker thread for the search and the related lookup: on a busy
        # worker each hop costs about as much as the lookup.
        page: SearchPage = service.search(params)
        results = _shown(page, lang)
        found = {"page": page, "results": results}
        if params.get("partyType") != "org":  # an organization's own results have no namesakes
            shown = related.lookup(service, [e for e, *_ in results])
            found["related"] = [related.for_page(r) for r in shown]
        return found

    try:
        context.update(await to_thread.run_sync(run, limiter=search_threads.limiter(request)))
    except QueryError as exc:
        context["error"] = exc.message
        context["error_field"] = exc.field
        status = 400
    else:
        if not private:  # links could not carry the ID number: one page, no controls
            context.update(_controls(params, context["page"]))
    return render(request, "search.html", context, status_code=status, private=private)


async def _related(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = await to_thread.run_sync(related.lookup, _service(request), items)
    return [related.for_page(r) for r in found]


def _controls(params: Any, page: SearchPage) -> dict[str, Any]:
    """The links around a results page: sort order, view, page numbers, previous and next."""
    last = search_form.last_page(page.total, page.per_page, MAX_PAGE)
    before = min(page.page - 1, last)  # past the end, "previous" is the last page
    return {
        "sorts": search_form.choices(params, "sort"),
        "views": search_form.choices(params, "view"),
        "pages": search_form.page_links(params, page.page, last) if last > 1 else [],
        "prev_url": search_form.page_url(params, before) if before >= 1 else None,
        "next_url": search_form.page_url(params, page.page + 1) if page.page < last else None,
    }


def _shown(page: SearchPage, lang: str) -> list[tuple[dict[str, Any], str, str, str]]:
    """(API JSON, address, party type in ``lang``, severity class) of each result: what
    templates/_result.html shows, worked out here once instead of by a call per item."""
    return [
        (
            e,
            _address(e["id"]),
            i18n.translate(lang, e["partyTypeName"]),
            SEVERITY_LEVELS.get(e["severity"], "other"),
        )
        for e in search_page_items(page)
    ]


def _address(entry_id: str) -> str:
    """The entry's id in its address, quoted like Jinja's ``urlencode`` filter would."""
    return entry_id if _PLAIN_ID.fullmatch(entry_id) else quote(entry_id, safe="/")


def _without_paging(params: Any) -> dict[str, str]:
    """A search by ID number in one response: the most results a page may hold."""
    kept = {k: str(v) for k, v in params.items() if k not in ("page", "perPage")}
    return {**kept, "perPage": str(MAX_PER_PAGE)}


def _context(params: Any, **extra: Any) -> dict[str, Any]:
    private = extra.get("private", False)
    # The GET form is refilled from the address; never with a full ID number. Every field
    # the form shows is there ("" if not given), so the template reads them without calls.
    refill = dict.fromkeys((*search_form.CRITERIA, *search_form.LISTING), "")
    refill.update((k, v) for k, v in params.items() if not (private and k == "cardNum"))
    return {
        "params": refill,
        "asked": search_form.asked(params),
        "criteria": search_form.criteria(params),
        "page": None,
        "error": None,
        "error_field": None,
        "id_error": None,
        "private": False,
        "prev_url": None,
        "next_url": None,
        "sorts": [],
        "views": [],
        "pages": [],
        "view": search_form.view_of(params),
        "results": [],
        "related": [],
        **extra,
    }


async def entry_page(request: Request) -> Response:
    try:
        view = await to_thread.run_sync(_service(request).entry, request.path_params["entry_id"])
    except EntryNotFound:
        return render(request, "404.html", status_code=404)
    except EntryGone:
        return render(request, "410.html", status_code=410)
    entry = view.to_api()
    context = {"entry": entry, "related": await _related(request, [entry])}
    return render(request, "entry.html", context)


routes = [
    Route("/", search_page, methods=["GET"]),
    Route("/search", search_by_identifier, methods=["POST"]),
    Route("/entries/{entry_id:str}", entry_page, methods=["GET"]),
    *status_page.routes,
    *stats_page.routes,
]
