"""HTML pages: the plain search page and the entry page (the portal issue builds on these)."""

from __future__ import annotations

from urllib.parse import urlencode

from anyio import to_thread
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from search_index.query import PARAMS, QueryError
from search_index.service import EntryGone, EntryNotFound, ListService

SEARCH_FIELDS = ("q", "cardNum", "caseCode", "court", "region", "partyType")


def _service(request: Request) -> ListService:
    return request.app.state.service


async def search_page(request: Request) -> Response:
    params = request.query_params
    asked = any(params.get(name) for name in SEARCH_FIELDS)
    context = {
        "params": params,
        "page": None,
        "error": None,
        "asked": asked,
        "help": PARAMS,
        "prev_url": None,
        "next_url": None,
    }
    status = 200
    if asked:
        try:
            page = await to_thread.run_sync(_service(request).search, params)
            context["page"] = page
            if page.page > 1:
                context["prev_url"] = _page_url(params, page.page - 1)
            if page.page * page.per_page < page.total:
                context["next_url"] = _page_url(params, page.page + 1)
        except QueryError as exc:
            context["error"] = exc.message
            status = 400
    return request.app.state.templates.TemplateResponse(
        request, "search.html", context, status_code=status
    )


def _page_url(params: QueryParams, page: int) -> str:
    kept = [(k, v) for k, v in params.multi_items() if k != "page" and v]
    return "/?" + urlencode([*kept, ("page", str(page))])


async def entry_page(request: Request) -> Response:
    templates = request.app.state.templates
    try:
        view = await to_thread.run_sync(_service(request).entry, request.path_params["entry_id"])
    except EntryNotFound:
        return templates.TemplateResponse(request, "404.html", {}, status_code=404)
    except EntryGone:
        return templates.TemplateResponse(request, "410.html", {}, status_code=410)
    return templates.TemplateResponse(request, "entry.html", {"entry": view.to_api()})


routes = [
    Route("/", search_page, methods=["GET"]),
    Route("/entries/{entry_id:str}", entry_page, methods=["GET"]),
]
