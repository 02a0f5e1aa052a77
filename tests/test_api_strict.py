"""The JSON API takes what its OpenAPI document says, and refuses the rest (issue 12 §3).

- A query parameter an operation does not name is a 400 naming it and listing the known
  ones (``GET /api/v1/entries?q=王芳&id=…`` used to return every 王芳); the pages ignore extras.
- Every field of every JSON body is checked against its schema's type (``{"region": 0}``).
- An ingest body without a single line is a 400, not a batch of zero lines.
- What the schemas say of each search parameter (type, format, enum, bounds, length, pattern)
  is what the code enforces: a value the schema refuses gets a 400 naming the parameter, and
  the values at the schema's limits are taken.

The cases are derived from the app's document, so a parameter or field added later is
covered without a new test.
"""

from __future__ import annotations

import copy
import io
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import func, select
from starlette.exceptions import StarletteDeprecationWarning
from support import id_number, make_settings, person
from test_openapi import Checker

from portal import openapi
from portal.app import create_app
from portal.openapi_paths import whole_numbers_pattern
from search_index import query
from search_index.ingest import XLSX_TYPE
from search_index.tables import batches
from search_index.tokens import create_token

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

CHINESE = re.compile(r"[\u4e00-\u9fff]")
JSONL = "application/x-ndjson"
NO_LIMITS = {"SHIXIN_RATE_LIMIT_ENABLED": "0"}


class Api:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token
        self.doc = openapi.document_for_app(client.app)
        self.checker = Checker(self.doc)

    def error(self, answer: Any, path: str, method: str, status: int) -> dict[str, Any]:
        """The error of an answer, which must have this status and match the document."""
        assert answer.status_code == status, (answer.status_code, answer.text)
        error = self.checker.response(path, method, answer)["error"]
        assert CHINESE.search(error["message"]), error
        return error

    def batch_count(self) -> int:
        store = self.client.app.state.service.store  # type: ignore[attr-defined]
        with store.read() as conn:
            return int(conn.execute(select(func.count()).select_from(batches)).scalar_one())


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[Api]:
    app = create_app(make_settings(tmp_path, database_url, **NO_LIMITS), background=False)
    with TestClient(app) as client:
        token = create_token(app.state.service.store, "北京市高级人民法院信息中心", None)[0]
        yield Api(client, token)


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("strict")
    return openapi.build_document(make_settings(tmp, f"sqlite:///{tmp}/shixin.sqlite3"))


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        if path.startswith("/api/v1/"):
            for method, op in ops.items():
                yield path, method, op


def concrete(path: str) -> str:
    return path.replace("{id}", "zw")


# --- Unknown query parameters ---------------------------------------------------------------


def test_an_unknown_search_parameter_is_a_400_naming_it_and_the_known_ones(api: Api) -> None:
    full = id_number()
    answer = api.client.get("/api/v1/entries", params={"q": "王芳", "id": full})
    error = api.error(answer, "/api/v1/entries", "get", 400)
    assert (error["code"], error["field"]) == ("bad_query", "id")
    assert error["message"].startswith("未知的查询参数：id；可用的查询参数：q、exact、cardNum")
    assert all(name in error["message"] for name in query.PARAMS)
    assert full not in answer.text
    # Several at once, each named once; the documented ones are still taken.
    answer = api.client.get("/api/v1/entries?perpage=5&q=王芳&x=1&x=2")
    error = api.error(answer, "/api/v1/entries", "get", 400)
    assert error["field"] == "perpage" and "未知的查询参数：perpage、x；" in error["message"]
    ok = api.client.get("/api/v1/entries", params={"q": "王芳", "perPage": "5"})
    assert ok.status_code == 200


def test_an_id_number_as_a_parameter_name_is_not_echoed(api: Api) -> None:
    full = id_number()
    answer = api.client.get(f"/api/v1/entries?{full}")
    assert api.error(answer, "/api/v1/entries", "get", 400)["code"] == "bad_query"
    assert full not in answer.text and full[:10] + "****" in answer.text


def test_every_api_operation_refuses_a_query_parameter_it_does_not_name(
    api: Api, doc: dict[str, Any]
) -> None:
    seen = set()
    for path, method, op in operations(doc):
        known = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        answer = api.client.request(method, concrete(path) + "?bogus=1")
        error = api.error(answer, path, method, 400)
        assert (error["code"], error["field"]) == ("bad_query", "bogus"), (method, path)
        expected = f"可用的查询参数：{'、'.join(known)}" if known else "本接口不接受查询参数"
        assert error["message"] == f"未知的查询参数：bogus；{expected}", (method, path)
        seen.add((method, path))
    assert ("post", "/api/v1/ingest") in seen and ("get", "/api/v1/compliance") in seen
    assert ("post", "/api/v1/reports") in seen and ("get", "/api/v1/entries/{id}") in seen
    # HEAD is GET's.
    assert api.client.head("/api/v1/compliance?bogus=1").status_code == 400


def test_the_pages_and_healthz_still_ignore_extra_parameters(api: Api) -> None:
    for path in ("/?q=王芳&id=1&utm_source=x", "/api?x=1", "/healthz?probe=1", "/about?x=1"):
        assert api.client.get(path).status_code == 200, path


# --- JSON bodies: every field against its schema --------------------------------------------

# One value of each JSON type.
VALUES: list[Any] = [0, 7, 1.5, True, None, "x", [], ["x"], {}, {"x": 1}]


def wrong_types(schema: dict[str, Any]) -> list[Any]:
    """The values whose JSON type alone the field's schema refuses."""
    validator = Draft202012Validator({k: v for k, v in schema.items() if k == "type"})
    return [v for v in VALUES if "type" in schema and not validator.is_valid(v)]


def json_bodies(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path, body schema, a valid body) of every operation with a JSON request body."""
    for path, _method, op in operations(doc):
        media = op.get("requestBody", {}).get("content", {}).get("application/json")
        if media:
            schema = media["schema"]
            if "$ref" in schema:
                schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            yield path, schema, media.get("example", {})


def test_every_json_body_field_of_a_wrong_type_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    from casework_site import case_site
    from test_screening_api import new_key

    with case_site(tmp_path, database_url, **NO_LIMITS) as cs:
        api = Api(cs.client, "")
        key = {"X-API-Key": new_key(cs, "strict@example.org")}  # the screenings need one
        checked = []
        for path, schema, example in json_bodies(api.doc):
            assert schema["properties"], path
            for name, field in schema["properties"].items():
                for value in wrong_types(field):
                    body = {**copy.deepcopy(example), name: value}
                    answer = api.client.post(path, json=body, headers=key)
                    assert answer.status_code in (400, 422), (path, name, value, answer.text)
                    error = api.error(answer, path, "post", answer.status_code)
                    assert error["field"] == name, (path, name, value, error)
                    checked.append((path, name))
        assert ("/api/v1/search", "region") in checked and ("/api/v1/track", "code") in checked
        assert ("/api/v1/reports", "what") in checked
        assert ("/api/v1/screenings", "rows") in checked


def test_a_search_body_takes_only_its_fields_with_their_types(api: Api) -> None:
    answer = api.client.post("/api/v1/search", json={"region": 0})
    error = api.error(answer, "/api/v1/search", "post", 400)
    assert (error["code"], error["field"]) == ("bad_query", "region")
    assert error["message"] == "region 应为文本"
    answer = api.client.post("/api/v1/search", json={"q": "王芳", "id": "1"})
    error = api.error(answer, "/api/v1/search", "post", 400)
    assert error["field"] == "id" and error["message"].startswith("未知的字段：id；可用的字段：q、")
    answer = api.client.post("/api/v1/search", json={"page": 1.5})
    assert (
        api.error(answer, "/api/v1/search", "post", 400)["message"] == "page 应为整数或整数的文本"
    )
    taken = {"q": "王芳", "region": "北京", "page": 1, "perPage": "20", "exact": "true"}
    assert api.client.post("/api/v1/search", json=taken).status_code == 200


# --- Empty ingest bodies --------------------------------------------------------------------


def empty_xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["id", "caseCode", "iname", "courtName", "publishDate"])  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_ingest_body_without_a_line_is_a_400_and_records_no_batch(api: Api) -> None:
    auth = {"Authorization": f"Bearer {api.token}"}
    for content, content_type in (
        (b"", JSONL),
        (b"\n \n\r\n", JSONL),
        (b"\xef\xbb\xbf", JSONL),
        (b"", "text/csv"),
        (b"id,caseCode,iname,courtName,publishDate\n", "text/csv"),
        (empty_xlsx(), XLSX_TYPE),
    ):
        headers = {**auth, "Content-Type": content_type}
        answer = api.client.post("/api/v1/ingest", content=content, headers=headers)
        error = api.error(answer, "/api/v1/ingest", "post", 400)
        assert error["code"] == "bad_request", (content, content_type)
        assert error["message"].startswith("请求体中没有任何数据行")
    assert api.batch_count() == 0
    # A line, even a bad one, is a batch as before.
    headers = {**auth, "Content-Type": JSONL}
    bad = api.client.post("/api/v1/ingest", content=b"{oops\n", headers=headers)
    assert bad.status_code == 422 and bad.json()["lines"] == 1
    good = api.client.post("/api/v1/ingest", content=orjson.dumps(person("p1")), headers=headers)
    assert good.status_code == 200 and good.json()["accepted"] == 1
    assert api.batch_count() == 2


# --- Search parameters: the schema's limits are the code's ----------------------------------


def refused_by(schema: dict[str, Any], *, body: bool) -> list[Any]:
    """Values the schema refuses by each of its keywords (not by type: see above)."""
    out: list[Any] = []
    if "maxLength" in schema:
        out.append("a" * (schema["maxLength"] + 1))
    if "enum" in schema:
        out.append("robot")
    if "minimum" in schema:
        out += [schema["minimum"] - 1, str(schema["minimum"] - 1)]
    if "maximum" in schema:
        out += [schema["maximum"] + 1, str(schema["maximum"] + 1)]
    if "integer" in schema.get("type", ()):
        out += ["abc", "1.5"]
    if schema.get("format") == "date":
        out += ["abc", "2023-02-30", "2023-13-01"]
    if not body:  # the query string carries text only
        out = [str(v) for v in out]
    return out


def taken_by(schema: dict[str, Any], *, body: bool) -> list[Any]:
    """Values at the schema's limits, and its default and examples."""
    out: list[Any] = [*schema.get("examples", []), *schema.get("enum", [])]
    if "default" in schema:
        out.append(schema["default"])
    if "minimum" in schema:
        out += [schema["minimum"], schema["maximum"], str(schema["maximum"])]
    if schema.get("format") == "date":
        out += ["0001-01-01", "2024-02-29", "9999-12-31"]
    elif "maxLength" in schema and "enum" not in schema:
        out.append("京" * schema["maxLength"])
    if not body:
        out = [str(v) for v in out]
    return out


# What the schema cannot say: an identifier or a case number must also be a valid one.
SEMANTIC = {"cardNum", "caseCode"}


def test_each_search_parameter_is_refused_and_taken_as_its_schema_says(api: Api) -> None:
    get = {p["name"]: p["schema"] for p in api.doc["paths"]["/api/v1/entries"]["get"]["parameters"]}
    media = api.doc["paths"]["/api/v1/search"]["post"]["requestBody"]["content"]
    posted = media["application/json"]["schema"]["properties"]
    assert list(get) == list(posted) == list(query.PARAMS)
    assert get["publishedFrom"]["format"] == get["publishedTo"]["format"] == "date"
    checked = 0
    for body, schemas in ((False, get), (True, posted)):
        for name, schema in schemas.items():
            validator = Draft202012Validator(schema, format_checker=FormatChecker())
            for value in refused_by(schema, body=body):
                if not body and "integer" in schema["type"] and re.fullmatch(r"\d+", value):
                    assert not validator.is_valid(int(value)), (name, value)
                else:
                    assert not validator.is_valid(value), (name, value)
                answer = search(api, body, {name: value})
                error = api.error(answer, *_op(body), 400)
                assert (error["code"], error["field"]) == ("bad_query", name), (body, name, value)
                checked += 1
            if name in SEMANTIC:
                continue
            for value in taken_by(schema, body=body):
                if not body and "integer" in schema["type"]:
                    assert validator.is_valid(int(value)), (name, value)
                else:
                    assert validator.is_valid(value), (name, value)
                answer = search(api, body, {name: value})
                assert answer.status_code == 200, (body, name, value, answer.text)
    assert checked > 40


def search(api: Api, body: bool, params: dict[str, Any]) -> Any:
    if body:
        return api.client.post("/api/v1/search", json=params)
    return api.client.get("/api/v1/entries", params=params)


def _op(body: bool) -> tuple[str, str]:
    return ("/api/v1/search", "post") if body else ("/api/v1/entries", "get")


def test_the_date_parameters_also_take_the_lists_other_date_forms(api: Api) -> None:
    for value in ("20230101", "2023年01月01日", "２０２３-０１-０１"):
        assert api.client.get("/api/v1/entries", params={"publishedFrom": value}).status_code == 200


def test_the_whole_numbers_pattern_is_exactly_the_range() -> None:
    for high in (1, 7, 9, 10, 19, 99, 100, 101, 250, query.MAX_PAGE, 999, 1000):
        pattern = re.compile(whole_numbers_pattern(1, high))
        for n in range(2000):
            for text in (str(n), f"0{n}"):
                assert bool(pattern.fullmatch(text)) == (1 <= n <= high), (high, text)
        assert not any(pattern.search(t) for t in ("", "-1", "1.5", "+1", "abc"))
