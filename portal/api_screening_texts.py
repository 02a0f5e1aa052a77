"""What the screening API (portal/api_screenings.py) and its OpenAPI description
(portal/openapi_screenings.py) share: the limits and the texts of its own errors. A module
of its own, as the document cannot import the routes (they import the document)."""

from __future__ import annotations

API_ROWS = 10_000  # rows a screening, as a unit's upload
API_FILES = 20  # screenings a key may start a day
ROW_FIELDS = ("name", "cardNum", "ref")
PATH = "/api/v1/screenings"
NEEDS_KEY = {
    "zh": "批量筛查接口需要 API 密钥（在 /api/keys 申请，以 Authorization: Bearer 或 X-API-Key "
    "发送）；不带密钥时可在 /screening 网页上传小名单，或用 POST /api/v1/match 一次比对 100 个",
    "en": "Screenings through the API need an API key (ask for one at /api/keys; send it as "
    "Authorization: Bearer or X-API-Key); without one, upload a short list at /screening or "
    "match 100 names a request with POST /api/v1/match",
}


UNSUPPORTED = (
    "请以 multipart/form-data 上传文件（字段 file），或以 application/json 提交 rows",
    "Send a file as multipart/form-data (field file), or rows as application/json",
)
