"""The JSON API for complaints and reports over HTTP: /api/v1/reports, /api/v1/complaints,
/api/v1/track (+ /add-info, /contest) and /api/v1/casework/categories.

The real app on SQLite and PostgreSQL (tests/casework_site.py): tickets filed by API land in
the routed unit's queue and on the HTML /track page exactly like tickets filed on the site.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from casework_site import CaseSite, case_site, cs_fixture, post  # noqa: F401  (fixture)
from site_support import running
from support import make_settings, person
from test_casework_pages import assert_inert
from test_casework_support import HOSTILE_TEXT

from casework.accounts import Actor, login
from casework.tickets import State

REPORT = {"category": "consumption.hotel", "entryId": "p1", "what": "入住五星级酒店"}


def png() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def file_ticket(cs: CaseSite, path: str = "/api/v1/reports", **fields: Any) -> dict[str, Any]:
    answer = cs.client.post(path, json={**REPORT, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def unit_actor(cs: CaseSite, code: str) -> Actor:
    name, password = cs.unit(code)
    return login(cs.cases.store, name, password)


def tracked(cs: CaseSite, number: str, code: str) -> Any:
    return cs.client.post("/api/v1/track", json={"number": number, "code": code})


def test_a_report_filed_by_api_reaches_the_unit_and_is_tracked(cs: CaseSite) -> None:
    answer = cs.client.post(
        "/api/v1/reports",
        json={**REPORT, "when": "2026年9月28日", "where": "某大酒店", "email": "a@example.com"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert "set-cookie" not in answer.headers
    receipt = answer.json()
    assert receipt["number"].startswith("JB-") and len(receipt["accessCode"]) == 14
    assert receipt["unit"] == {"code": "tourism", "name": "旅游局"}
    assert receipt["track"] == "/track" and receipt["acceptDue"].endswith("+08:00")

    # The routed unit sees it in its queue, with the contact the public view never shows.
    queue = cs.cases.queue(unit_actor(cs, "tourism"))
    assert [t.number for t in queue] == [receipt["number"]]
    assert queue[0].contact_email == "a@example.com" and queue[0].debtor_name == "张伟"

    view = tracked(cs, receipt["number"], receipt["accessCode"])
    assert view.status_code == 200 and view.headers["cache-control"] == "no-store"
    ticket = view.json()
    assert ticket["state"] == "received" and ticket["stateName"] == "已收到"
    assert ticket["what"] == "入住五星级酒店" and ticket["where"] == "某大酒店"
    assert ticket["debtorName"] == "张伟" and ticket["courtName"] == "北京市朝阳区人民法院"
    assert ticket["timeline"][0]["message"].startswith("已收到，交由旅游局办理")
    assert [d["kind"] for d in ticket["deadlines"]] == ["accept"]
    assert "a@example.com" not in view.text and "accessCode" not in ticket
    assert (ticket["canAddInfo"], ticket["canContest"]) == (True, False)

    # The same ticket on the site's /track page; lower case without dashes works too.
    page = cs.track(receipt["number"], receipt["accessCode"])
    assert page.status_code == 200 and "入住五星级酒店" in page.text
    again = tracked(cs, receipt["number"].lower(), receipt["accessCode"].replace("-", "").lower())
    assert again.status_code == 200


def test_complaints_route_to_the_court_or_the_measure_unit(cs: CaseSite) -> None:
    court = file_ticket(cs, "/api/v1/complaints", category="inaccurate-info", what="年龄有误")
    assert court["number"].startswith("TS-")
    assert court["unit"]["name"] == "北京市朝阳区人民法院"
    unit = file_ticket(
        cs,
        "/api/v1/complaints",
        category="measure-objection",
        measure="consumption.hotel",
        what="措施有误",
    )
    assert unit["unit"]["name"] == "旅游局"
    # Credit repair is about a removed entry: naming one is right for a complaint.
    repair = file_ticket(
        cs,
        "/api/v1/complaints",
        category="credit-repair",
        entryId="p2",
        measure="consumption.hotel",
        what="已履行，申请信用修复",
    )
    assert repair["unit"]["name"] == "旅游局"
    # A debtor not on the site.
    named = file_ticket(cs, entryId=None, debtorName="王某某贸易有限公司")
    assert named["unit"]["code"] == "tourism"


def test_a_wrong_code_and_an_unknown_number_get_the_same_404(cs: CaseSite) -> None:
    receipt = file_ticket(cs)
    wrong = tracked(cs, receipt["number"], "AAAA-BBBB-CCCC")
    unknown = tracked(cs, "JB-2026-000000", receipt["accessCode"])
    empty = cs.client.post("/api/v1/track", json={})
    assert wrong.status_code == unknown.status_code == empty.status_code == 404
    assert wrong.content == unknown.content == empty.content
    assert wrong.json()["error"]["code"] == "not_found"
    assert "入住五星级酒店" not in wrong.text
    for path, body in (
        ("/api/v1/track/add-info", {"text": "补充"}),
        ("/api/v1/track/contest", {"reason": "不服"}),
    ):
        answer = cs.client.post(path, json={"number": receipt["number"], "code": "X", **body})
        assert answer.status_code == 404 and answer.content == wrong.content
    # Nothing was added by the refused calls.
    timeline = tracked(cs, receipt["number"], receipt["accessCode"]).json()["timeline"]
    assert [t["action"] for t in timeline] == ["submit"]


def test_add_info_and_contest_move_the_ticket_as_on_the_site(cs: CaseSite) -> None:
    receipt = file_ticket(cs)
    credentials = {"number": receipt["number"], "code": receipt["accessCode"]}

    early = cs.client.post("/api/v1/track/contest", json={**credentials, "reason": "不服"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "conflict"
    assert "不能进行此操作" in early.json()["error"]["message"]

    added = cs.client.post("/api/v1/track/add-info", json={**credentials, "text": "同行还有两人"})
    assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
    assert added.json()["timeline"][-1]["message"] == "同行还有两人"
    assert added.json()["state"] == "received"
    empty = cs.client.post("/api/v1/track/add-info", json={**credentials, "text": " "})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "text"

    tourism = unit_actor(cs, "tourism")
    ticket_id = cs.ticket_id(receipt["number"])
    cs.cases.accept(tourism, ticket_id)
    cs.cases.reply(tourism, ticket_id, "经核查，已责令整改", note="内部：张科长经办")
    replied = tracked(cs, **credentials).json()
    assert replied["state"] == "replied" and replied["canContest"] is True
    assert replied["timeline"][-1]["message"] == "经核查，已责令整改"
    assert "张科长" not in orjson.dumps(replied).decode()  # internal notes stay internal

    contested = cs.client.post("/api/v1/track/contest", json={**credentials, "text": "并未整改"})
    assert contested.status_code == 200
    assert contested.json()["state"] == "reopened"
    assert [d["kind"] for d in contested.json()["deadlines"]] == ["reply"]
    assert cs.cases.track(receipt["number"], receipt["accessCode"]).state == State.REOPENED
    assert "并未整改" in cs.track(receipt["number"], receipt["accessCode"]).text
    again = cs.client.post("/api/v1/track/contest", json={**credentials, "reason": "仍未整改"})
    assert again.status_code == 409  # reopened already: nothing to contest
    missing = cs.client.post("/api/v1/track/contest", json={**credentials, "reason": ""})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "reason"


def test_validation_errors_name_the_field(cs: CaseSite) -> None:
    cases = [
        ({"category": "nope"}, "category"),
        ({"what": ""}, "what"),
        ({"what": "x" * 5001}, "what"),
        ({"email": "not-an-address"}, "email"),
        ({"entryId": None}, "debtorName"),
        ({"entryId": "secret"}, "entryId"),  # never public
        ({"entryId": "p2"}, "entryId"),  # removed: no report about it
        ({"entryId": "nope"}, "entryId"),
        ({"unit": "education"}, "unit"),
        ({"measure": "consumption.hotel"}, "measure"),
        ({"what": 5}, "what"),
        ({"entry_id": "p1"}, "entry_id"),  # snake case is not a field of this API
    ]
    for fields, field in cases:
        answer = cs.client.post("/api/v1/reports", json={**REPORT, **fields})
        assert answer.status_code == 422, (fields, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "invalid" and error["field"] == field, (fields, error)
        assert any("\u4e00" <= c <= "\u9fff" for c in error["message"]), error
    needs_measure = cs.client.post(
        "/api/v1/complaints", json={"category": "measure-objection", "entryId": "p1", "what": "x"}
    )
    assert needs_measure.json()["error"]["field"] == "measure"
    not_yet_removed = cs.client.post(
        "/api/v1/complaints",
        json={"category": "credit-repair", "entryId": "p1", "measure": "consumption.hotel"}
        | {"what": "x"},
    )
    assert not_yet_removed.json()["error"]["field"] == "entryId"
    for body in (b"[1, 2]", b"{oops"):
        answer = cs.client.post(
            "/api/v1/reports", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
    tourism = unit_actor(cs, "tourism")
    assert cs.cases.queue(tourism) == []


def test_hostile_text_comes_back_as_data_and_is_inert_on_track(cs: CaseSite) -> None:
    receipt = file_ticket(
        cs,
        entryId=None,
        debtorName=HOSTILE_TEXT[:200],
        what=HOSTILE_TEXT,
        when=HOSTILE_TEXT[:200],
        where=HOSTILE_TEXT[:200],
    )
    answer = tracked(cs, receipt["number"], receipt["accessCode"])
    assert answer.headers["content-type"] == "application/json"
    ticket = answer.json()
    assert ticket["what"] == HOSTILE_TEXT  # exactly as typed: escaping is the reader's job
    assert ticket["debtorName"] == HOSTILE_TEXT[:200]
    assert_inert(cs.track(receipt["number"], receipt["accessCode"]).text)


def test_only_json_or_multipart_is_read(cs: CaseSite) -> None:
    for path in ("/api/v1/reports", "/api/v1/track", "/api/v1/track/contest"):
        answer = cs.client.post(path, content=b"category=x", headers={"content-type": "text/plain"})
        assert answer.status_code == 415, path
        assert answer.json()["error"]["code"] == "unsupported_media_type"
        form = cs.client.post(path, data={"category": "consumption.hotel"})  # urlencoded
        assert form.status_code == 415, path
    # Only a submission takes files.
    contest = cs.client.post("/api/v1/track/contest", files={"evidence": ("a.png", png())})
    assert contest.status_code == 415


def test_a_browser_post_from_another_site_is_refused(cs: CaseSite) -> None:
    for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}):
        answer = cs.client.post(
            "/api/v1/reports", data={"submission": orjson.dumps(REPORT).decode()}, headers=headers
        )
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert cs.cases.queue(unit_actor(cs, "tourism")) == []
    # Our own pages (and apps, which send no Origin) are served.
    same = cs.client.post("/api/v1/reports", json=REPORT, headers={"origin": "http://testserver"})
    assert same.status_code == 201


def test_evidence_files_come_as_multipart(cs: CaseSite) -> None:
    image = png()
    answer = cs.client.post(
        "/api/v1/reports",
        data={"submission": orjson.dumps(REPORT).decode()},
        files=[("evidence", ("酒店门口.png", image, "image/png"))],
    )
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    ticket = tracked(cs, receipt["number"], receipt["accessCode"]).json()
    assert [(f["filename"], f["mediaType"], f["size"]) for f in ticket["evidence"]] == [
        ("酒店门口.png", "image/png", len(image))
    ]
    # The unit gets the very bytes.
    tourism = unit_actor(cs, "tourism")
    ticket_id = cs.ticket_id(receipt["number"])
    view = cs.cases.ticket(tourism, ticket_id)
    _meta, path = cs.cases.evidence_file(tourism, ticket_id, view.evidence[0].id)
    assert Path(path).read_bytes() == image

    # More information with a file, on the same ticket.
    credentials = {"number": receipt["number"], "code": receipt["accessCode"]}
    more = cs.client.post(
        "/api/v1/track/add-info",
        data={"submission": orjson.dumps(credentials).decode()},
        files=[("evidence", ("发票.png", image, "image/png"))],
    )
    assert more.status_code == 200, more.text
    assert [f["filename"] for f in more.json()["evidence"]] == ["酒店门口.png", "发票.png"]

    # A page disguised as a picture is refused, and nothing is filed.
    before = len(cs.cases.queue(tourism))
    disguised = cs.client.post(
        "/api/v1/reports",
        data={"submission": orjson.dumps(REPORT).decode()},
        files=[("evidence", ("photo.png", b"<html><script>alert(1)</script>", "image/png"))],
    )
    assert disguised.status_code == 422
    error = disguised.json()["error"]
    assert error["field"] == "evidence" and "photo.png" in error["message"]
    many = cs.client.post(
        "/api/v1/reports",
        data={"submission": orjson.dumps(REPORT).decode()},
        files=[("evidence", (f"{n}.png", image, "image/png")) for n in range(6)],
    )
    assert many.status_code == 422 and "最多上传5个文件" in many.json()["error"]["message"]
    broken = cs.client.post(
        "/api/v1/reports", content=b"--x\r\n", headers={"content-type": "multipart/form-data"}
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "bad_request"
    missing = cs.client.post("/api/v1/reports", files=[("evidence", ("a.png", image))])
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "submission"
    assert len(cs.cases.queue(tourism)) == before


def test_oversized_bodies_get_413(tmp_path: Path, database_url: str) -> None:
    limits = {"SHIXIN_FORM_MAX_BYTES": "2048", "SHIXIN_UPLOAD_MAX_BYTES": "4096"}
    with case_site(tmp_path, database_url, **limits) as cs:
        big = cs.client.post("/api/v1/reports", json={**REPORT, "what": "很" * 1000})
        assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
        assert "2.0 KB" in big.json()["error"]["message"]
        # Within the JSON limit, but the files make the request too large.
        upload = cs.client.post(
            "/api/v1/reports",
            data={"submission": orjson.dumps(REPORT).decode()},
            files=[("evidence", ("big.png", png() + b"\x00" * 5000, "image/png"))],
        )
        assert upload.status_code == 413 and "4.0 KB" in upload.json()["error"]["message"]
        assert cs.cases.queue(unit_actor(cs, "tourism")) == []


def test_api_filings_draw_on_the_forms_budget(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, SHIXIN_RATE_LIMIT_FORMS="2/minute")
    with running(settings) as site:
        site.publish(person("p1"))
        cs = CaseSite(site)
        assert cs.client.post("/api/v1/reports", json=REPORT).status_code == 201
        page = post(
            cs.client,
            "/reports/new",
            {"category": "consumption.hotel", "entry_id": "p1", "what": "又见到了"},
            "/reports/new",
        )
        assert page.status_code in (200, 303), page.text
        refused = cs.client.post("/api/v1/reports", json=REPORT)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        # Reading the categories is not a form post: the API budget only.
        assert cs.client.get("/api/v1/casework/categories").status_code == 200


def test_the_categories_are_what_a_form_needs(cs: CaseSite) -> None:
    answer = cs.client.get("/api/v1/casework/categories")
    assert answer.status_code == 200
    body = answer.json()
    routing = cs.cases.routing
    assert body["routingVersion"] == routing.version
    assert [a["code"] for a in body["areas"]] == list(routing.areas)
    hotel = next(
        c for a in body["areas"] for c in a["categories"] if c["code"] == "consumption.hotel"
    )
    assert hotel["units"][0] == {"code": "tourism", "name": "旅游局"}
    assert hotel["receivingUnit"] == "tourism" and hotel["deadlines"]["accept"].endswith("日")
    complaints = {c["code"]: c for c in body["complaints"]}
    assert set(complaints) == {c.code for c in routing.complaints()}
    assert complaints["measure-objection"]["needsMeasure"] is True
    assert complaints["credit-repair"]["requiresEntryStatus"] == [
        "deleted",
        "expired",
        "revoked",
        "shielded",
    ]
    assert len(body["measures"]) == len(routing.reports())


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/track"])
def test_the_api_sets_no_cookie_and_needs_none(cs: CaseSite, path: str) -> None:
    fresh = cs.browser()  # no cookies at all
    answer = fresh.post(path, json=REPORT if path.endswith("reports") else {})
    assert answer.status_code in (201, 404)
    assert "set-cookie" not in answer.headers


def test_the_proof_of_work_is_checked_like_on_the_form(tmp_path: Path, database_url: str) -> None:
    from altcha.v2 import Challenge, Payload, solve_challenge

    env = {"SHIXIN_ALTCHA_COST": "10", "SHIXIN_RATE_LIMIT_UNPROVEN": "1/hour"}
    with case_site(tmp_path, database_url, **env) as cs:
        challenge = Challenge.from_dict(cs.client.get("/altcha/challenge").json())
        solution = solve_challenge(challenge)
        assert solution is not None
        payload = Payload(challenge, solution).to_base64()
        assert (
            cs.client.post("/api/v1/reports", json={**REPORT, "altcha": payload}).status_code == 201
        )
        replayed = cs.client.post("/api/v1/reports", json={**REPORT, "altcha": payload})
        assert replayed.status_code == 422 and replayed.json()["error"]["field"] == "altcha"
        tampered = cs.client.post("/api/v1/reports", json={**REPORT, "altcha": payload[:-8]})
        assert tampered.status_code == 422
        # Without a proof: within the small unproven budget only; a typo does not count.
        typo = cs.client.post("/api/v1/reports", json={**REPORT, "email": "not-an-address"})
        assert typo.status_code == 422 and typo.json()["error"]["field"] == "email"
        assert cs.client.post("/api/v1/reports", json=REPORT).status_code == 201
        over = cs.client.post("/api/v1/reports", json=REPORT)
        assert over.status_code == 429 and "altcha" in over.json()["error"]["message"]
        assert len(cs.cases.queue(unit_actor(cs, "tourism"))) == 2
