"""A portal on demo data says so in every response: ``X-Shixin-Demo: 1``.

The pages show a banner (templates/base.html); the header marks everything else too, JSON
API answers above all, without changing their bodies (whose schemas clients rely on).
Only a demo portal has this middleware at all.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Shixin-Demo"
_PAIR = (HEADER.lower().encode(), b"1")


class DemoMarker:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), _PAIR]
            await send(message)

        await self.app(scope, receive, send_marked)
