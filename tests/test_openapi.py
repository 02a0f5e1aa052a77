"""The API's OpenAPI document (``GET /api/v1/openapi.json``) and its page (``GET /api``).

The document must be valid OpenAPI 3.1, cover exactly the app's API routes, and describe
what the app really answers: real responses of the test app are validated against the
documented schemas, made strict (no undocumented field) for the check.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import Mount, Route
from support import (
    correction,
    credit_code,
    id_number,
    instant_days_ago,
    make_settings,
    org,
    person,
    removal,
)

from core.settings import Settings
from portal import api_page, openapi, openapi_base
from portal.app import create_app
from search_index import query
from search_index.dates import CST
from search_index.identifiers import is_valid_id_number
from search_index.tokens import create_token
from search_index.types import CASE_FIELDS, IndexDoc

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from httpx import Response

ROOT = Path(__file__).resolve().parent.parent
BASE = "urn:shixin:openapi"
JSONL = "application/x-ndjson"
ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])")


def sqlite_settings(tmp_path: Path, **env: str) -> Settings:
    return make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3", **env)


def document(tmp_path: Path, **env: str) -> dict[str, Any]:
    return openapi.build_document(sqlite_settings(tmp_path, **env))


# --- Strict validation against the document -------------------------------------------------


def strict(node: Any) -> Any:
    """The document with ``additionalProperties: false`` on every object schema that lists
    its properties: a field the app sends but the document does not name fails the check."""
    if isinstance(node, dict):
        out = {k: strict(v) for k, v in node.items()}
        lists = isinstance(node.get("properties"), dict) and "additionalProperties" not in node
        if lists and (not node.get("type") or "object" in node["type"]):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strict(v) for v in node]
    return node


class Checker:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        resource = Resource(contents=strict(doc), specification=DRAFT202012)
        self.registry = Registry().with_resource(BASE, resource)

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        if "$ref" in schema:
            schema = {"$ref": BASE + schema["$ref"]}
        return Draft202012Validator(
            strict(schema), registry=self.registry, format_checker=FormatChecker()
        )

    def check(self, schema: dict[str, Any], value: Any) -> None:
        errors = sorted(self.validator(schema).iter_errors(value), key=lambda e: e.path)
        assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]

    def response_schema(self, path: str, method: str, status: int) -> dict[str, Any]:
        responses = self.doc["paths"][path][method]["responses"]
        assert str(status) in responses, f"{method.upper()} {path}: {status} not documented"
        response = api_page.resolve(self.doc, responses[str(status)])
        return response["content"]["application/json"]["schema"]

    def response(self, path: str, method: str, answer: Response) -> Any:
        """Check a real response against its documented schema; its JSON body."""
        assert answer.headers["content-type"].startswith("application/json"), answer.text
        body = answer.json()
        self.check(self.response_schema(path, method, answer.status_code), body)
        return body


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return document(tmp_path_factory.mktemp("openapi"))


@pytest.fixture(scope="module")
def checker(doc: dict[str, Any]) -> Checker:
    return Checker(doc)


# --- The document ---------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1.")
    validate_openapi(doc, cls=OpenAPIV31SpecValidator)  # raises on any violation
    # Served as JSON: nothing in it that JSON cannot carry.
    assert orjson.loads(orjson.dumps(doc)) == doc


def _route_key(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_api_route_is_documented_and_nothing_else(
    doc: dict[str, Any], tmp_path: Path
) -> None:
    app = create_app(sqlite_settings(tmp_path), background=False)
    served: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str = "") -> None:
        for route in routes:
            if isinstance(route, Route):
                path = prefix + route.path
                if path.startswith("/api/v1/") or path == "/healthz":
                    for method in route.methods or ():
                        if method != "HEAD":
                            served.add((method.lower(), _route_key(path)))
            elif isinstance(route, Mount):
                walk(getattr(route, "routes", []), prefix + route.path)

    walk(app.routes)
    documented = {
        (method, _route_key(path))
        for path, operations in doc["paths"].items()
        for method in operations
    }
    assert served, "no API routes found"
    assert sorted(served - documented) == [], "routes missing from the document"
    assert sorted(documented - served) == [], "documented routes the app does not serve"


def test_search_parameters_are_the_ones_the_query_reads(doc: dict[str, Any]) -> None:
    params = {p["name"]: p for p in doc["paths"]["/api/v1/entries"]["get"]["parameters"]}
    assert list(params) == list(query.PARAMS)
    for name, text in query.PARAMS.items():
        assert params[name]["description"].startswith(text)
        assert params[name]["in"] == "query" and "type" in params[name]["schema"]
    assert params["perPage"]["schema"]["maximum"] == query.MAX_PER_PAGE
    assert params["page"]["schema"]["maximum"] == query.MAX_PAGE
    assert params["q"]["schema"]["maxLength"] == query.MAX_TEXT


def test_the_item_schema_names_every_field_to_api_emits(doc: dict[str, Any]) -> None:
    item = IndexDoc(
        id="x",
        seq=1,
        status="published",
        party_type="person",
        name="张伟",
        name_norm="张伟",
        case_code="(2023)京0105执1号",
        court_name="北京市朝阳区人民法院",
        area_name="北京",
        publish_date=date(2023, 3, 20),
    ).to_api()
    schema = doc["components"]["schemas"]["Entry"]
    # The API adds one optional property to persons: their namesakes among representatives.
    assert list(schema["properties"]) == [*item, "relatedOrganizations"]
    assert set(schema["required"]) == set(item)
    assert set(CASE_FIELDS) <= set(schema["properties"])
    # Whatever to_api may leave empty is nullable.
    for name, value in item.items():
        if value is None:
            assert "null" in schema["properties"][name]["type"], name


def test_every_error_code_the_app_sends_is_documented(doc: dict[str, Any]) -> None:
    codes = set()
    modules = ("api.py", "app.py", "ratelimit.py", "casework_api.py", "api_key_auth.py")
    for module in (*modules, "api_screenings.py"):
        source = (ROOT / "portal" / module).read_text(encoding="utf-8")
        codes |= set(re.findall(r'api_error\(\s*\w+,\s*"([a-z_]+)"', source))
    codes.add(query.QueryError("q", "").code)  # api_error(400, exc.code, …)
    assert codes >= {"bad_query", "not_found", "removed", "rate_limited", "server_error"}
    assert codes >= {"invalid", "conflict", "forbidden", "bad_request"}
    documented = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert sorted(codes - set(documented["code"]["enum"])) == []


def test_the_examples_in_the_document_match_its_schemas(
    doc: dict[str, Any], checker: Checker
) -> None:
    checked = 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for response in op["responses"].values():
                media = api_page.resolve(doc, response).get("content", {}).get("application/json")
                if not media:
                    continue
                examples = [media["example"]] if "example" in media else []
                examples += [e["value"] for e in media.get("examples", {}).values()]
                for example in examples:
                    checker.check(media["schema"], example)
                    checked += 1
            body = op.get("requestBody", {}).get("content", {})
            if "example" in body.get("application/json", {}):  # what a client sends
                checker.check(
                    body["application/json"]["schema"], body["application/json"]["example"]
                )
                checked += 1
            if JSONL in body:
                for line in body[JSONL]["example"].splitlines():
                    checker.check({"$ref": "#/components/schemas/IngestLine"}, orjson.loads(line))
                    checked += 1
            assert op.get("x-codeSamples"), f"{method} {path}: no curl example"
    assert checked > 15
    assert not [m for m in ID_SHAPED.findall(orjson.dumps(doc).decode()) if is_valid_id_number(m)]


def test_the_document_states_this_sites_limits(tmp_path: Path) -> None:
    limits = {"SHIXIN_RATE_LIMIT_API": "30/minute", "SHIXIN_INGEST_MAX_BYTES": str(2 * 2**20)}
    doc = document(tmp_path, **limits)
    assert "每分钟 30 次" in doc["info"]["description"]
    assert "每分钟 30 次" in doc["components"]["responses"]["RateLimited"]["description"]
    assert "2.0 MB" in doc["paths"]["/api/v1/ingest"]["post"]["description"]
    assert openapi_base.rate_text("10 per 2 hours;100/day") == "每2小时 10 次，每天 100 次"
    assert openapi_base.rate_text("odd") == "odd"


# --- Real responses -------------------------------------------------------------------------


def jsonl(*lines: Any) -> bytes:
    return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"


@pytest.fixture
def http(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    app = create_app(settings, background=False)
    with TestClient(app) as client:
        token = create_token(app.state.service.store, "北京市高级人民法院信息中心", None)[0]
        yield client, token


@pytest.mark.clock
def test_real_responses_match_the_document(http: tuple[TestClient, str], checker: Checker) -> None:
    client, token = http
    auth = {"Authorization": f"Bearer {token}", "Content-Type": JSONL}
    ingest = "/api/v1/ingest"
    gone = person("gone", iname="赵移除", cardNum=id_number(), caseCode="(2020)京0105执7号")
    lines = [
        person("zw", cardNum=id_number()),
        org("abc", cardNum=credit_code()),
        gone,
        {"op": "publish", "id": "bad", "iname": "无案号"},
    ]
    summary = checker.response(
        ingest, "post", client.post(ingest, content=jsonl(*lines), headers=auth)
    )
    assert (summary["accepted"], summary["rejected"]) == (3, 1)
    now = datetime.now(CST).isoformat(timespec="seconds")
    late = removal("shield", "gone", instant_days_ago(30))  # arrived past its deadline
    fix = correction("zw", now, performance="部分未履行")
    answer = client.post(ingest, content=jsonl(fix, late), headers=auth)
    assert answer.status_code == 200
    checker.response(ingest, "post", answer)

    # Search: a person and an organization, every field; an empty page.
    for params in ({"q": "张伟"}, {"partyType": "org"}, {"q": "没有这个人"}):
        answer = client.get("/api/v1/entries", params=params)
        assert answer.status_code == 200
        checker.response("/api/v1/entries", "get", answer)
    assert client.get("/api/v1/entries", params={"q": "张伟"}).json()["total"] == 1

    # One entry with its history; unknown; removed.
    entry = "/api/v1/entries/{id}"
    body = checker.response(entry, "get", client.get("/api/v1/entries/zw"))
    assert [h["op"] for h in body["history"]] == ["publish", "correct"]
    answer = client.get("/api/v1/entries/nope")
    assert answer.status_code == 404
    assert checker.response(entry, "get", answer)["error"]["code"] == "not_found"
    answer = client.get("/api/v1/entries/gone")
    assert answer.status_code == 410
    assert checker.response(entry, "get", answer) == {
        "error": {
            "code": "removed",
            "message": "该条目已依法屏蔽、删除、撤销或有效期届满，不再公开",
        }
    }

    # Bad parameters.
    for params in ({"perPage": "500"}, {"publishedFrom": "abc"}, {"partyType": "robot"}):
        answer = client.get("/api/v1/entries", params=params)
        assert answer.status_code == 400
        error = checker.response("/api/v1/entries", "get", answer)["error"]
        assert error["field"] == next(iter(params))

    # Ingest errors.
    for headers, content, status in (
        ({"Content-Type": JSONL}, jsonl(person("x1")), 401),
        ({**auth, "Authorization": "Bearer wrong"}, jsonl(person("x1")), 401),
        ({**auth, "Content-Type": "application/xml"}, b"<x/>", 415),
        (auth, b"{oops\n", 422),
    ):
        answer = client.post(ingest, content=content, headers=headers)
        assert answer.status_code == status, answer.text
        checker.response(ingest, "post", answer)
    csv = (
        "id,caseCode,iname,cardNum,courtName,areaName,partyTypeName,publishDate\n"
        f"c1,(2024)沪0115执78号,上海某某贸易有限公司,{credit_code()},上海市浦东新区人民法院,"
        "上海,法人或其他组织,2024-05-06\n"
    )
    answer = client.post(ingest, content=csv.encode(), headers={**auth, "Content-Type": "text/csv"})
    assert checker.response(ingest, "post", answer)["accepted"] == 1

    # Compliance: public, and with a unit's token (which names the entry).
    public = checker.response("/api/v1/compliance", "get", client.get("/api/v1/compliance"))
    assert public["problems"] and all("entryId" not in p for p in public["problems"])
    answer = client.get("/api/v1/compliance", headers={"Authorization": f"Bearer {token}"})
    unit = checker.response("/api/v1/compliance", "get", answer)
    assert [p["entryId"] for p in unit["problems"]] == ["gone"]

    checker.response("/healthz", "get", client.get("/healthz"))
    served = checker.response("/api/v1/openapi.json", "get", client.get("/api/v1/openapi.json"))
    assert served == orjson.loads(orjson.dumps(checker.doc))


def test_too_large_and_rate_limited_answers_match_the_document(tmp_path: Path) -> None:
    settings = sqlite_settings(
        tmp_path, SHIXIN_INGEST_MAX_BYTES="100", SHIXIN_RATE_LIMIT_API="3/minute"
    )
    app = create_app(settings, background=False)
    with TestClient(app) as client:
        checker = Checker(openapi.document_for_app(app))
        token = create_token(app.state.service.store, "北京市高级人民法院信息中心", None)[0]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": JSONL}
        answer = client.post("/api/v1/ingest", content=b"x" * 200, headers=headers)
        assert answer.status_code == 413
        checker.response("/api/v1/ingest", "post", answer)
        statuses = [client.get("/api/v1/entries").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        answer = client.get("/api/v1/entries")
        error = checker.response("/api/v1/entries", "get", answer)["error"]
        assert int(answer.headers["retry-after"]) == error["retryAfter"]
        page = client.get("/api").text  # a page: its own budget
        assert "每分钟 3 次" in page


# --- The page -------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(sqlite_settings(tmp_path), background=False)
    with TestClient(app) as client:
        yield client


def test_the_api_page_shows_every_endpoint_field_and_error(
    site: TestClient, doc: dict[str, Any]
) -> None:
    answer = site.get("/api")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert 'lang="zh-CN"' in html and "<script" not in html
    for path, operations in doc["paths"].items():
        for method in operations:
            assert f"<code>{method.upper()} {path}</code>" in html, path
    for name in query.PARAMS:
        assert f"<code>{name}</code>" in html, name
    for name in doc["components"]["schemas"]["Entry"]["properties"]:
        assert f"<code>items[].{name}</code>" in html, name
    assert "<code>history[].effectiveAt</code>" in html
    for code in doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"][
        "enum"
    ]:
        assert f"<code>{code}</code>" in html, code
    for words in ("curl", "Retry-After", "每分钟 60 次", "429", "410", "Authorization"):
        assert words in html, words
    assert 'href="/api/v1/openapi.json"' in html
    # Linked from every page's footer.
    assert 'href="/api"' in site.get("/").text


def test_the_api_page_escapes_what_the_document_says(site: TestClient) -> None:
    html = site.get("/api").text
    # The curl examples carry quotes and angle brackets: shown as text, not markup.
    assert "-H &#39;Authorization: Bearer &lt;令牌&gt;&#39;" in html
    evil = "<script>alert(1)</script>"
    app = site.app
    doc = copy.deepcopy(openapi.document_for_app(app))  # type: ignore[arg-type]
    doc["paths"]["/api/v1/entries"]["get"]["summary"] = evil
    doc["paths"]["/api/v1/entries"]["get"]["parameters"][0]["description"] = evil
    doc["components"]["schemas"]["Entry"]["properties"]["iname"]["description"] = evil
    app.state.openapi_document = doc  # type: ignore[attr-defined]
    html = site.get("/api").text
    assert evil not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3


# --- Complaints and reports (portal/casework_api.py) ----------------------------------------


def test_casework_responses_match_the_document(tmp_path: Path, database_url: str) -> None:
    from casework_site import case_site
    from test_casework_api import REPORT, png

    with case_site(tmp_path, database_url, SHIXIN_FORM_MAX_BYTES="2048") as cs:
        client = cs.client
        checker = Checker(openapi.document_for_app(cs.site.app))
        body = checker.response(
            "/api/v1/casework/categories", "get", client.get("/api/v1/casework/categories")
        )
        assert body["complaints"] and body["areas"]

        checker.check({"$ref": "#/components/schemas/Submission"}, REPORT)
        answer = client.post(
            "/api/v1/reports",
            data={"submission": orjson.dumps(REPORT).decode()},
            files=[("evidence", ("酒店.png", png(), "image/png"))],
        )
        assert answer.status_code == 201
        receipt = checker.response("/api/v1/reports", "post", answer)
        complaint = {"category": "inaccurate-info", "entryId": "p1", "what": "年龄有误"}
        answer = client.post("/api/v1/complaints", json=complaint)
        assert answer.status_code == 201
        checker.response("/api/v1/complaints", "post", answer)

        credentials = {"number": receipt["number"], "code": receipt["accessCode"]}
        ticket = checker.response(
            "/api/v1/track", "post", client.post("/api/v1/track", json=credentials)
        )
        assert ticket["evidence"][0]["filename"] == "酒店.png"
        answer = client.post("/api/v1/track/add-info", json={**credentials, "text": "补充"})
        checker.response("/api/v1/track/add-info", "post", answer)
        answer = client.post("/api/v1/track/contest", json={**credentials, "reason": "不服"})
        assert answer.status_code == 409
        checker.response("/api/v1/track/contest", "post", answer)

        # Every documented error, from the real app.
        errors = [
            ("/api/v1/reports", {"json": {**REPORT, "email": "x"}}, 422),
            ("/api/v1/reports", {"json": {**REPORT, "what": "很" * 1000}}, 413),
            (
                "/api/v1/reports",
                {"content": b"[]", "headers": {"content-type": "application/json"}},
                400,
            ),
            ("/api/v1/reports", {"content": b"x", "headers": {"content-type": "text/plain"}}, 415),
            (
                "/api/v1/reports",
                {"json": REPORT, "headers": {"origin": "https://evil.example"}},
                403,
            ),
            ("/api/v1/track", {"json": {**credentials, "code": "wrong"}}, 404),
            ("/api/v1/track/contest", {"json": {**credentials, "text": ""}}, 422),
        ]
        for path, kwargs, status in errors:
            answer = client.post(path, **kwargs)
            assert answer.status_code == status, (path, answer.text)
            checker.response(path, "post", answer)


def test_the_api_page_shows_the_casework_request_fields(site: TestClient) -> None:
    html = site.get("/api").text
    for name in ("entryId", "debtorName", "altcha", "accessCode", "timeline[].message"):
        assert f"<code>{name}</code>" in html, name
    assert "-F &#39;evidence=@" in html  # the multipart curl example
    assert html.count("每行的格式见") == 1  # only the ingest body is JSON Lines
