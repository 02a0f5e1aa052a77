"""Response helpers: fast JSON, and the one error shape of the API."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def api_error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """``{"error": {"code": ..., "message": ...}}``: a machine code and a sentence for people."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)
