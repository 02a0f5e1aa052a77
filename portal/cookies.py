"""Cookie attributes for the pages' own cookies (CSRF, language)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from portal.security import cookie_options


def options(request: Request) -> dict[str, Any]:
    """The site's cookie policy, and Secure whenever this request itself came over TLS."""
    chosen = cookie_options(request.app.state.settings)
    chosen["secure"] = chosen["secure"] or request.url.scheme == "https"
    return chosen
