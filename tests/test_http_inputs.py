"""Odd but harmless requests get the ordinary 4xx, never a 500 (issue 12, §3), on SQLite and
PostgreSQL: an id no row could have (0, 2^63 and more, a leading zero, a non-ASCII digit) in
any back-office address or query is a 404 like an unknown id; a page number out of range is
the search's 400; and an unsupported method (TRACE, OPTIONS, ...) on any route is a 405 whose
``Allow`` names every method that address answers."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from casework_site import CaseSite, case_site, post
from starlette.routing import BaseRoute, Mount, Route

from portal.ids import MAX_ID, parse_id

BIG = str(2**63)  # one more than the largest row id: SQLite raised OverflowError on it
# Ids no row can have, as they may be typed into an address.
IMPOSSIBLE = [BIG, str(2**64), "9" * 19, "1" + "0" * 40, "9" * 5000, "0", "00", "01"]
# Budgets no test here comes near: every address is asked many times.
UNLIMITED = {f"SHIXIN_RATE_LIMIT_{k}": "100000/minute" for k in ("PAGES", "API", "FORMS")}


@pytest.fixture(name="cs")
def cs_fixture(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    with case_site(tmp_path, database_url, **UNLIMITED) as site:
        yield site


def test_an_id_is_1_to_2_63_minus_1_in_ascii_digits_without_a_leading_zero() -> None:
    for good in ("1", "9", "10", "999999999999999999", "1000000000000000000", str(MAX_ID)):
        assert parse_id(good) == int(good)
    for bad in (*IMPOSSIBLE, None, "", "-1", "+1", " 1", "1 ", "1e3", "0x1", "²", "١٢", "１"):
        assert parse_id(bad) is None, bad
    rnd = random.Random(12)
    for _ in range(20000):
        n = rnd.choice(
            [
                rnd.randint(1, 2**65),
                rnd.randint(MAX_ID - 10**4, MAX_ID + 10**4),
                rnd.randint(1, 10 ** rnd.randint(1, 20)),
            ]
        )
        assert (parse_id(str(n)) == n) is (n <= MAX_ID), n


def test_impossible_ticket_and_evidence_ids_are_the_404_of_an_unknown_id(cs: CaseSite) -> None:
    ticket = cs.ticket_id(cs.submit().number)
    tourism = cs.login("tourism")
    unknown = str(MAX_ID)  # a possible id no row has: the store is asked, and says no
    missing_path = f"/unit/tickets/{unknown}"
    missing = tourism.get(missing_path)
    assert missing.status_code == 404
    page = missing.text.replace(missing_path, "PATH")
    for bad in [unknown, *IMPOSSIBLE]:
        paths = [
            f"/unit/tickets/{bad}",
            f"/unit/tickets/{bad}/evidence/1",
            f"/unit/tickets/{ticket}/evidence/{bad}",
            f"/unit/tickets/{bad}/evidence/{bad}",
        ]
        for path in paths:
            response = tourism.get(path)
            assert response.status_code == 404, path
            assert response.headers["cache-control"] == "no-store", path
            if len(path) < 200:  # the page names its own address (the language switch)
                assert response.text.replace(path, "PATH") == page, path
        for action in ("accept", "note", "no-such-action"):
            path = f"/unit/tickets/{bad}/{action}"
            response = post(tourism, path, {"message": "x", "text": "x"}, f"/unit/tickets/{ticket}")
            assert response.status_code == 404, path
    assert tourism.get(f"/unit/tickets/{ticket}").status_code == 200


def test_impossible_routing_version_ids_are_a_404(cs: CaseSite) -> None:
    admin = cs.login("admin", name="平台管理员", admin=True)  # type: ignore[arg-type]
    assert admin.get("/unit/admin/routing.yaml").status_code == 200
    for bad in [str(MAX_ID), *IMPOSSIBLE, "-1", "1e3", "%C2%B2", "%D9%A1", "%EF%BC%91", ""]:
        response = admin.get(f"/unit/admin/routing.yaml?id={bad}")
        assert response.status_code == 404, bad


def test_page_numbers_out_of_range_are_the_search_s_400(cs: CaseSite) -> None:
    for name in ("page", "perPage"):
        for bad in (BIG, "9" * 5000, "0", "-1", "1e3", "²"):
            html = cs.client.get(f"/?q=张伟&{name}={bad}")
            assert html.status_code == 400, (name, bad)
            api = cs.client.get(f"/api/v1/entries?q=张伟&{name}={bad}")
            assert api.status_code == 400 and api.json()["error"]["field"] == name, (name, bad)
        posted = cs.client.post("/api/v1/search", json={"q": "张伟", name: 2**63})
        assert posted.status_code == 400 and posted.json()["error"]["field"] == name


# --- methods ------------------------------------------------------------------------------

SAMPLE = {"id": "1", "int": "1", "str": "p1", "path": "app.css"}
PARAM = re.compile(r"{\w+:(\w+)}")


def _addresses(routes: list[BaseRoute], prefix: str = "") -> dict[str, set[str]]:
    """Every route's address, with sample path parameters, and the methods declared for it
    (None for a plain ASGI app under a Mount)."""
    out: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, Mount) and route.routes:
            for path, methods in _addresses(route.routes, prefix + route.path).items():
                out.setdefault(path, set()).update(methods)
        elif isinstance(route, Mount):  # StaticFiles
            out.setdefault(f"{prefix}{route.path}/app.css", set()).update({"GET", "HEAD"})
        else:
            assert isinstance(route, Route) and route.methods, route
            path = PARAM.sub(lambda m: SAMPLE[m.group(1)], prefix + route.path)
            out.setdefault(path, set()).update(route.methods)
    return out


def test_an_unsupported_method_is_a_405_naming_every_allowed_method(cs: CaseSite) -> None:
    addresses = _addresses(cs.site.app.routes)
    assert len(addresses) > 30 and "/track" in addresses and "/static/app.css" in addresses
    for path, methods in addresses.items():
        for method in ("TRACE", "OPTIONS", "PROPFIND"):
            response = cs.client.request(method, path, follow_redirects=False)
            assert response.status_code == 405, (method, path)
            assert response.headers.get("allow") == ", ".join(sorted(methods)), (method, path)
        # And Allow tells the truth: every method it names is answered (whatever the answer).
        for method in methods:
            response = cs.client.request(method, path, follow_redirects=False)
            assert response.status_code != 405, (method, path)


def test_the_api_s_405_is_its_json_error_with_allow(cs: CaseSite) -> None:
    response = cs.client.request("TRACE", "/api/v1/entries")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "http_error"
    response = cs.client.delete("/api/v1/search")
    assert response.status_code == 405 and response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/nowhere", f"/unit/tickets/{BIG}", "/unit/tickets/0/accept"])
def test_an_unknown_address_is_a_404_whatever_the_method(cs: CaseSite, path: str) -> None:
    for method in ("GET", "TRACE", "POST"):
        response = cs.client.request(method, path, follow_redirects=False)
        assert response.status_code == 404 and "allow" not in response.headers, (method, path)


@pytest.mark.parametrize("path", ["/api/v1/ingest", "/api/v1/reports", "/track"])
def test_a_content_length_of_non_ascii_digits_is_no_500(cs: CaseSite, path: str) -> None:
    # Header values arrive as Latin-1, where "²" is a digit to str.isdigit() but not to int().
    import anyio

    answers: list[int] = []

    async def call() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/json"),
                (b"content-length", "²".encode("latin-1")),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                answers.append(int(message["status"]))  # type: ignore[call-overload]

        await cs.site.app(scope, receive, send)

    # A thread of its own: an earlier test may leave an event loop set on this one.
    worker = threading.Thread(target=anyio.run, args=(call,))
    worker.start()
    worker.join(30)
    assert answers and answers[0] < 500, answers


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/complaints"])
@pytest.mark.parametrize("body", [{}, {"category": "x"}, {"what": "有人仍在乘坐飞机"}])
def test_a_submission_missing_its_required_fields_is_a_422(
    cs: CaseSite, path: str, body: dict[str, str]
) -> None:
    answer = cs.client.post(path, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] in ("category", "what")
