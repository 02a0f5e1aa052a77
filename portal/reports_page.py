"""/quarterly: the quarterly reports, and their CSV and XLSX downloads.

A report is published once its quarter's removal deadlines have all passed, and frozen
then (``search_index.reports``); its page says when. A quarter not published yet answers
404 with the date it will be. (Not under /reports: /reports/new is where a debtor who
flouts the punishment is reported.)
"""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import report_charts
from portal.i18n import lang_of, translate
from portal.render import render
from search_index.events import mask_full_ids
from search_index.quarters import QuarterError
from search_index.report_formats import FORMATS, LABELS, csv_bytes, xlsx_bytes
from search_index.reports import QuarterlyReports, QuarterReport, ReportNotPublished

SVG_TYPE = "image/svg+xml"
KEY_ECHO = 24  # characters of a malformed quarter the answer repeats
# A published report never changes: browsers and proxies may keep it a while.
CACHE_PUBLISHED = "public, max-age=3600"


async def report_list(request: Request) -> Response:
    reports: QuarterlyReports = request.app.state.reports
    published = await to_thread.run_sync(reports.published)
    upcoming, publish_at = reports.next_publication()
    context = {"reports": published, "upcoming": upcoming, "publish_at": publish_at}
    return render(request, "reports.html", context)


async def report_page(request: Request) -> Response:
    found = await _report(request)
    if isinstance(found, Response):
        return found
    lang = lang_of(request)
    charts = report_charts.quarter_charts(found, lang)
    context = {
        "report": found,
        "charts": charts,
        "labels": LABELS,
        "chart_base": f"/quarterly/{found.quarter.key}/",
    }
    response = render(request, "report.html", context)
    response.headers["Cache-Control"] = CACHE_PUBLISHED
    return response


async def report_chart(request: Request) -> Response:
    found = await _report(request)
    if isinstance(found, Response):
        return found
    charts = report_charts.quarter_charts(found, lang_of(request))
    return svg_response(request, charts, request.path_params["chart"], CACHE_PUBLISHED)


def svg_response(
    request: Request, charts: list[report_charts.Chart], name: str, cache: str
) -> Response:
    chart = report_charts.find(charts, name)
    if chart is None:
        return render(request, "404.html", status_code=404)
    svg = chart.svg()
    return Response(svg, media_type=SVG_TYPE, headers={"Cache-Control": cache, "Vary": "Cookie"})


async def report_download(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in FORMATS:
        return render(request, "404.html", status_code=404)
    found = await _report(request)
    if isinstance(found, Response):
        return found
    labels = {key: translate(lang_of(request), text) for key, text in LABELS.items()}
    body = csv_bytes(found, labels) if fmt == "csv" else xlsx_bytes(found, labels)
    headers = {
        "Content-Disposition": f'attachment; filename="shixin-{found.quarter.key}.{fmt}"',
        "Cache-Control": CACHE_PUBLISHED,
    }
    return Response(body, media_type=FORMATS[fmt], headers=headers)


async def _report(request: Request) -> QuarterReport | Response:
    reports: QuarterlyReports = request.app.state.reports
    key = request.path_params["quarter"]
    try:
        return await to_thread.run_sync(reports.report, key)
    except QuarterError:
        # Echoed, so cut short and with anything shaped like an ID number masked.
        context = {"problem": "bad_key", "key": mask_full_ids(key[:KEY_ECHO])}
    except ReportNotPublished as exc:
        context = {"problem": "not_published", "quarter": exc.quarter, "publish_at": exc.publish_at}
    context["now"] = reports.clock()
    return render(request, "report_missing.html", context, status_code=404)


routes = [
    Route("/quarterly", report_list, methods=["GET"]),
    Route("/quarterly/{quarter}.{fmt}", report_download, methods=["GET"]),
    Route("/quarterly/{quarter}/{chart}.svg", report_chart, methods=["GET"]),
    Route("/quarterly/{quarter}", report_page, methods=["GET"]),
]
