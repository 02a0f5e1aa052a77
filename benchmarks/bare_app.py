"""The baseline: a bare Starlette JSON endpoint, measured beside ours in the same run."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ITEM = {
    "id": "x",
    "iname": "张伟",
    "caseCode": "(2023)京0105执1234号",
    "courtName": "北京市朝阳区人民法院",
}


async def entries(request: Request) -> JSONResponse:
    return JSONResponse({"total": 20, "items": [ITEM] * 20})


app = Starlette(routes=[Route("/api/v1/entries", entries)])
