"""/about: who runs this site and how to reach them, what it stores about visitors, where the
list comes from and when it last changed.

The operator's details are settings (SHIXIN_OPERATOR_*, SHIXIN_PRIVACY_CONTACT): a site that
names nobody says so plainly instead of inventing a name.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.settings import Settings
from portal.render import render


@dataclass(frozen=True, slots=True)
class Operator:
    """Who runs the site, as configured; None for what is not configured."""

    name: str | None
    contact: str | None
    address: str | None
    privacy_contact: str | None

    @classmethod
    def of(cls, settings: Settings) -> Operator:
        # The default name is only a placeholder ("…（未配置）"): the page says 未配置 in the
        # visitor's language rather than showing it as if it were a name.
        name = settings.operator_name.strip()
        unset = not name or name == Settings.operator_name
        return cls(
            name=None if unset else name,
            contact=settings.operator_contact,
            address=settings.operator_address,
            privacy_contact=settings.privacy_contact or settings.operator_contact,
        )


async def about(request: Request) -> Response:
    return render(request, "about.html", {"operator": Operator.of(request.app.state.settings)})


routes = [Route("/about", about, methods=["GET"])]
