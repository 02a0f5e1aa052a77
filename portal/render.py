"""Rendering HTML pages: one place that sets the cookies a page needs and its caching."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from portal import csrf, i18n


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    private: bool = False,
) -> Response:
    """``private`` pages answer what someone posted (identifiers, a status timeline): no
    cache, proxy or back-forward store may keep them."""
    response = request.app.state.templates.TemplateResponse(
        request, name, context or {}, status_code=status_code
    )
    # The template has rendered by now, so we know whether a form issued a new cookie.
    csrf.attach_cookie(request, response)
    i18n.remember(request, response)
    if private:
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Vary", "Cookie")
    return response


def forbidden(request: Request) -> Response:
    """A post without this browser's form token: most likely a forged cross-site request,
    or a form left open past its cookie."""
    return render(request, "403.html", status_code=403, private=True)
