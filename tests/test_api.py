"""The portal over HTTP: JSON API, search page, entry pages, ingest, compliance and health.

Every test builds the real app (``create_app(settings, background=False)``) on the
parametrized store (SQLite and PostgreSQL) with the embedded FTS index, runs its lifespan
through ``TestClient`` and seeds data through ``POST /api/v1/ingest`` the way a court does.
Assertions are about what a user of the portal sees: status codes, JSON fields, HTML text.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
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
from portal.app import create_app
from search_index.dates import CST, parse_instant
from search_index.identifiers import is_valid_id_number
from search_index.service import ListService
from search_index.tokens import create_token, revoke_token

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx still works (warnings are errors).
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from httpx import Response

# --- Test data ------------------------------------------------------------------------------

# Fixed serials, so that the one-digit-off variant below is a checksum error (not by chance a
# valid credit code) and masked forms of different people never coincide.
ID_ZHANG = id_number("110105", "19800101", "123")
ID_ZHANG_MING = id_number("110108", "19750615", "234")
ID_LI = id_number("440106", "19900220", "345")
ID_UNKNOWN = id_number("110105", "19800101", "456")  # valid, never published
CODE_ABC = credit_code("MA000001")
CODE_XYZ = credit_code("MA000002")

COURT_CHAOYANG = "北京市朝阳区人民法院"
COURT_PUDONG = "上海市浦东新区人民法院"

JSONL = "application/x-ndjson"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])")


def masked(full: str) -> str:
    """The public form of an ID number, as the national platform shows it."""
    return full[:10] + "****" + full[14:]


def full_ids_in(text: str) -> list[str]:
    """Valid resident ID numbers written out in full anywhere in ``text``."""
    return [m for m in ID_SHAPED.findall(text) if is_valid_id_number(m)]


def one_digit_off(full: str) -> str:
    """The ID number with its 17th digit changed: a typo the check character catches."""
    return full[:16] + str((int(full[16]) + 1) % 10) + full[17]


def now_cst_iso(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(CST) + delta).isoformat(timespec="seconds")


def search_set() -> list[dict[str, Any]]:
    """Five public entries that the search tests look for in many ways."""
    return [
        person(
            "zw",
            iname="张伟",
            cardNum=ID_ZHANG,
            caseCode="(2023)京0105执1234号",
            courtName=COURT_CHAOYANG,
            areaName="北京",
            publishDate="2023年03月20日",
            performance="部分未履行",
            performedPart="已支付二万元",
            unperformPart="八万元",
        ),
        person(
            "zwm",
            iname="張偉明",  # published in traditional script
            cardNum=ID_ZHANG_MING,
            caseCode="(2022)京0108执55号",
            courtName="北京市海淀区人民法院",
            areaName="北京",
            publishDate="2022-06-01",
            validUntil="2099-06-01",
        ),
        person(
            "lw",
            iname="李伟",
            cardNum=ID_LI,
            caseCode="(2024)粤0106执9号",
            courtName="广州市天河区人民法院",
            areaName="广东",
            publishDate="2024-01-10",
            regDate="20231201",
        ),
        org(
            "abc",
            iname="ＡＢＣ科技有限公司",  # full-width Latin letters
            cardNum=CODE_ABC,
            caseCode="(2024)沪0115执77号",
            courtName=COURT_PUDONG,
            areaName="上海",
            publishDate="2024-05-06",
        ),
        org(
            "xyz",
            iname="xyz贸易有限公司",  # half-width, lower case
            cardNum=CODE_XYZ,
            caseCode="(2021)沪0115执3号",
            courtName=COURT_PUDONG,
            areaName="上海",
            publishDate="2021-09-30",
            validUntil="2099-09-30",
        ),
    ]


# --- The running portal ---------------------------------------------------------------------


@dataclass
class Portal:
    """The app with its lifespan running, a test client and a regional ingest token."""

    app: Starlette
    client: TestClient
    token: str

    @property
    def service(self) -> ListService:
        return self.app.state.service

    def token_for(self, unit: str, court_scope: str | None) -> str:
        return create_token(self.service.store, unit, court_scope)[0]

    # Ingest

    def post_ingest(
        self,
        body: bytes | Iterable[bytes],
        *,
        content_type: str | None = JSONL,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = dict(headers or {})
        sent.setdefault("Authorization", f"Bearer {token or self.token}")
        if content_type is not None:
            sent["Content-Type"] = content_type
        return self.client.post("/api/v1/ingest", content=body, headers=sent)

    def send(self, *lines: Any, token: str | None = None) -> Response:
        return self.post_ingest(jsonl(*lines), token=token)

    def publish(self, *lines: Any, token: str | None = None) -> dict[str, Any]:
        """Send lines that must all be accepted; the ingest summary."""
        response = self.send(*lines, token=token)
        assert response.status_code == 200, response.text
        summary = response.json()
        assert summary["rejected"] == 0, summary["rejects"]
        return summary

    # Reading

    def search(self, **params: Any) -> dict[str, Any]:
        response = self.client.get("/api/v1/entries", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def ids(self, **params: Any) -> list[str]:
        return [item["id"] for item in self.search(**params)["items"]]

    def search_error(self, **params: Any) -> dict[str, Any]:
        response = self.client.get("/api/v1/entries", params=params)
        assert response.status_code == 400, response.text
        error = error_of(response)
        assert "field" in error, error
        return error

    def entry(self, entry_id: str) -> Response:
        return self.client.get(f"/api/v1/entries/{entry_id}")

    def page(self, **params: Any) -> Response:
        return self.client.get("/", params=params)

    def compliance(self, token: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = self.client.get("/api/v1/compliance", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


def jsonl(*lines: Any) -> bytes:
    return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"


def error_of(response: Response) -> dict[str, Any]:
    """The API's one error shape, checked: a machine code and a Chinese message."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message"} <= set(error), error
    assert CHINESE.search(error["message"]), error
    return error


@contextmanager
def running(settings: Settings) -> Iterator[Portal]:
    app = create_app(settings, background=False)
    with TestClient(app) as client:
        token = create_token(app.state.service.store, "北京市高级人民法院信息中心", None)[0]
        yield Portal(app, client, token)


@pytest.fixture
def portal(settings: Settings) -> Iterator[Portal]:
    with running(settings) as p:
        yield p


@pytest.fixture
def seeded(portal: Portal) -> Portal:
    portal.publish(*search_set())
    return portal


# --- GET /api/v1/entries --------------------------------------------------------------------

ITEM_FIELDS = {
    "caseCode",
    "iname",
    "cardNum",
    "courtName",
    "areaName",
    "partyTypeName",
    "gistId",
    "gistUnit",
    "regDate",
    "duty",
    "performance",
    "performedPart",
    "unperformPart",
    "disruptTypeName",
    "publishDate",
    "sexy",
    "age",
    "businessEntity",
    "id",
    "status",
    "validUntil",
    "severity",
}


def test_search_item_has_every_public_field(seeded: Portal) -> None:
    result = seeded.search(q="张伟", exact="true")
    assert (result["total"], result["page"], result["perPage"]) == (1, 1, 20)
    item = result["items"][0]
    assert set(item) >= ITEM_FIELDS
    assert item["id"] == "zw"
    assert item["status"] == "published"
    assert item["iname"] == "张伟"
    assert item["caseCode"] == "(2023)京0105执1234号"
    assert item["cardNum"] == masked(ID_ZHANG)
    assert item["courtName"] == COURT_CHAOYANG
    assert item["areaName"] == "北京"
    assert item["partyTypeName"] == "自然人"
    assert item["publishDate"] == "2023-03-20"
    assert item["validUntil"] == "2099-03-20"
    assert item["severity"] == "一般"
    assert item["regDate"] == "2023-01-15"
    assert (item["sexy"], item["age"]) == ("男", 43)
    assert (item["performance"], item["performedPart"]) == ("部分未履行", "已支付二万元")
    assert item["unperformPart"] == "八万元"
    assert item["gistId"] == "(2022)京0105民初5678号"
    assert item["gistUnit"] == COURT_CHAOYANG
    assert item["duty"] == "支付货款人民币十万元"
    assert item["disruptTypeName"] == "有履行能力而拒不履行生效法律文书确定义务"

    company = seeded.search(cardNum=CODE_ABC)["items"][0]
    assert company["partyTypeName"] == "法人或其他组织"
    assert company["businessEntity"] == "李四"
    assert company["cardNum"] == CODE_ABC  # organization codes are public as they are


def test_search_json_is_the_items_own_json(seeded: Portal) -> None:
    """The page is assembled from each item's stored JSON: byte for byte what encoding the
    documents would give."""
    for params in ({"q": "张伟"}, {"q": "伟", "perPage": "1", "page": "2"}, {"q": "王"}, {}):
        response = seeded.client.get("/api/v1/entries", params=params)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        page = seeded.service.search(params)
        expected = {
            "total": page.total,
            "page": page.page,
            "perPage": page.per_page,
            "items": [doc.to_api() for doc in page.items],
        }
        assert response.content == orjson.dumps(expected), params


def test_search_by_name_ignores_script_and_width(seeded: Portal) -> None:
    for query in ("张伟", "張偉", "张 伟", "張　偉"):
        assert set(seeded.ids(q=query)) == {"zw", "zwm"}, query
    for query in ("abc科技", "ＡＢＣ科技", "Abc科技有限公司", "ａｂｃ"):
        assert seeded.ids(q=query) == ["abc"], query
    for query in ("XYZ贸易", "ｘｙｚ贸易", "xyz"):
        assert seeded.ids(q=query) == ["xyz"], query


def test_search_by_part_of_a_name(seeded: Portal) -> None:
    assert set(seeded.ids(q="伟")) == {"zw", "zwm", "lw"}
    assert set(seeded.ids(q="偉")) == {"zw", "zwm", "lw"}
    assert seeded.ids(q="伟明") == ["zwm"]
    assert seeded.ids(q="科技") == ["abc"]
    assert seeded.search(q="王")["total"] == 0


def test_exact_name_and_relevance_order(seeded: Portal) -> None:
    assert seeded.ids(q="張偉", exact="true") == ["zw"]
    assert seeded.ids(q="张伟明", exact="1") == ["zwm"]
    assert seeded.ids(q="伟明", exact="true") == []
    # Relevance: the exact name first even though the longer name was published earlier.
    assert seeded.ids(q="张伟") == ["zw", "zwm"]
    # Without exact, a name that merely contains the query still counts.
    assert seeded.search(q="张伟")["total"] == 2


def test_search_by_full_id_number_shows_only_the_masked_form(seeded: Portal) -> None:
    response = seeded.client.get("/api/v1/entries", params={"cardNum": ID_ZHANG})
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == ["zw"]
    assert response.json()["items"][0]["cardNum"] == masked(ID_ZHANG)
    assert ID_ZHANG not in response.text
    # Spaces and full-width digits are the same number.
    spaced = f"{ID_ZHANG[:6]} {ID_ZHANG[6:14]} {ID_ZHANG[14:]}"
    full_width = ID_ZHANG.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    assert seeded.ids(cardNum=spaced) == seeded.ids(cardNum=full_width) == ["zw"]


def test_search_by_masked_id_and_credit_code(seeded: Portal) -> None:
    assert seeded.ids(cardNum=masked(ID_ZHANG)) == ["zw"]
    assert seeded.ids(cardNum=masked(ID_LI)) == ["lw"]
    assert seeded.ids(cardNum=CODE_ABC) == ["abc"]
    assert seeded.ids(cardNum=CODE_XYZ.lower()) == ["xyz"]


def test_mistyped_id_number_is_a_400_and_another_valid_id_finds_nothing(seeded: Portal) -> None:
    error = seeded.search_error(cardNum=one_digit_off(ID_ZHANG))
    assert error["field"] == "cardNum"
    assert error["code"] == "bad_query"
    assert "校验位" in error["message"]
    assert one_digit_off(ID_ZHANG) not in error["message"]

    result = seeded.search(cardNum=ID_UNKNOWN)
    assert (result["total"], result["items"]) == (0, [])


# One case number as courts, clerks and IMEs write it.
CASE_CODE_WRITINGS = [
    "(2023)京0105执1234号",
    "（2023）京0105执1234号",
    "〔2023〕京0105执1234号",
    "【2023】京0105执1234号",
    " ( 2023 ) 京0105 执 1234 号 ",
    "（２０２３）京０１０５执１２３４号",
    "(2023)京0105执1234",
]


def test_search_by_case_code_in_any_writing(seeded: Portal) -> None:
    for case_code in CASE_CODE_WRITINGS:
        assert seeded.ids(caseCode=case_code) == ["zw"], case_code
    assert seeded.ids(caseCode="(2023)京0105执123号") == []
    assert seeded.ids(caseCode="(2023)京0105执1234号", q="李伟") == []
    assert seeded.ids(caseCode="(2023)京0105执1234号", q="张伟") == ["zw"]


def test_court_region_and_party_type_filters(seeded: Portal) -> None:
    assert set(seeded.ids(court="朝阳")) == {"zw"}
    assert set(seeded.ids(court="北京市")) == {"zw", "zwm"}
    assert set(seeded.ids(court="浦东新区人民法院")) == {"abc", "xyz"}
    assert set(seeded.ids(region="北京")) == {"zw", "zwm"}
    assert set(seeded.ids(region="广")) == {"lw"}
    assert set(seeded.ids(partyType="org")) == {"abc", "xyz"}
    assert set(seeded.ids(partyType="person")) == {"zw", "zwm", "lw"}
    assert set(seeded.ids(q="伟", region="北京")) == {"zw", "zwm"}
    assert seeded.ids(q="伟", court="天河") == ["lw"]
    assert seeded.ids(q="张伟", partyType="org") == []


def test_publish_date_range_is_inclusive(seeded: Portal) -> None:
    assert set(seeded.ids(publishedFrom="2023-03-20")) == {"zw", "lw", "abc"}
    assert set(seeded.ids(publishedTo="2022-06-01")) == {"zwm", "xyz"}
    assert set(seeded.ids(publishedFrom="2022-06-01", publishedTo="2023年03月20日")) == {
        "zw",
        "zwm",
    }
    assert seeded.ids(publishedFrom="20240506", publishedTo="20240506") == ["abc"]


def test_sort_by_publish_date_newest_first(seeded: Portal) -> None:
    assert seeded.ids(sort="publish_date") == ["abc", "lw", "zw", "zwm", "xyz"]
    assert seeded.ids(q="伟", sort="publish_date") == ["lw", "zw", "zwm"]


def test_paging(seeded: Portal) -> None:
    seen: list[str] = []
    for number in (1, 2, 3):
        result = seeded.search(sort="publish_date", perPage=2, page=number)
        assert (result["total"], result["page"], result["perPage"]) == (5, number, 2)
        seen += [item["id"] for item in result["items"]]
    assert seen == ["abc", "lw", "zw", "zwm", "xyz"]
    beyond = seeded.search(perPage=2, page=4)
    assert (beyond["total"], beyond["items"]) == (5, [])


# Parameters a user can get wrong, and the field the error names.
BAD_PARAMETERS: list[tuple[dict[str, str], str]] = [
    ({"perPage": "1000"}, "perPage"),
    ({"perPage": "0"}, "perPage"),
    ({"page": "0"}, "page"),
    ({"page": "abc"}, "page"),
    ({"partyType": "x"}, "partyType"),
    ({"publishedFrom": "2019-13-01"}, "publishedFrom"),
    ({"publishedTo": "昨天"}, "publishedTo"),
    ({"publishedFrom": "2024-01-01", "publishedTo": "2023-01-01"}, "publishedFrom"),
    ({"sort": "name"}, "sort"),
    ({"q": "!!!"}, "q"),
    ({"q": "张" * 201}, "q"),
    ({"cardNum": "12345"}, "cardNum"),
    ({"caseCode": "12345"}, "caseCode"),
    ({"caseCode": "京0105执1234号"}, "caseCode"),
]


def test_bad_parameters_are_400_with_the_error_shape(portal: Portal) -> None:
    for params, field in BAD_PARAMETERS:
        error = portal.search_error(**params)
        assert (error["field"], error["code"]) == (field, "bad_query"), params
    assert "案号" in portal.search_error(caseCode="京0105执1234号")["message"]
    assert "1 到 100" in portal.search_error(perPage="1000")["message"]


# --- GET /api/v1/entries/{id} ---------------------------------------------------------------


def test_entry_returns_fields_and_history(portal: Portal) -> None:
    portal.publish(person("p1", cardNum=ID_ZHANG))
    response = portal.entry("p1")
    assert response.status_code == 200
    entry = response.json()
    assert set(entry) >= ITEM_FIELDS
    assert (entry["id"], entry["iname"], entry["cardNum"]) == ("p1", "张伟", masked(ID_ZHANG))
    assert [h["op"] for h in entry["history"]] == ["publish"]

    portal.publish(
        correction("p1", "2026-11-20T10:00:00+08:00", iname="张卫", duty="支付货款人民币五万元")
    )
    entry = portal.entry("p1").json()
    assert entry["status"] == "corrected"
    assert (entry["iname"], entry["duty"]) == ("张卫", "支付货款人民币五万元")
    assert [h["op"] for h in entry["history"]] == ["publish", "correct"]
    fix = entry["history"][1]
    assert sorted(fix["fields"]) == ["duty", "iname"]
    assert datetime.fromisoformat(fix["effectiveAt"]) == datetime(2026, 11, 20, 10, tzinfo=CST)
    # The history names what changed, never the old values.
    assert "张伟" not in orjson.dumps(entry["history"]).decode()
    # Search follows the correction at once.
    assert portal.ids(q="张卫") == ["p1"]
    assert portal.ids(q="张伟", exact="true") == []


def test_unknown_and_never_public_entries_are_the_same_404(portal: Portal) -> None:
    portal.publish(person("secret", iname="王秘密", cardNum=ID_LI, disclose=False))
    unknown, secret = portal.entry("no-such-entry"), portal.entry("secret")
    assert unknown.status_code == secret.status_code == 404
    assert unknown.content == secret.content
    assert error_of(secret)["code"] == "not_found"


# Entries that leave the list by a removal line: (op, id, name, case number, ID serial).
REMOVALS = [
    ("shield", "s1", "赵屏蔽", "(2023)京0105执2001号", "501"),
    ("delete", "d1", "钱删除", "(2023)京0105执2002号", "502"),
    ("revoke", "r1", "孙撤销", "(2023)京0105执2003号", "503"),
]
EXPIRED = ("e1", "李期满", "(2019)京0105执2004号", "504")
NEVER_PUBLIC = ("n1", "周不公开", "(2023)京0105执2005号", "505")


def publish_and_remove_all(portal: Portal) -> dict[str, tuple[str, str, str]]:
    """Shielded, deleted, revoked and expired entries plus a never-public one, all published
    through the API first; (name, case number, masked ID) by entry id."""
    gone: dict[str, tuple[str, str, str]] = {}
    lines: list[dict[str, Any]] = []
    for entry_id, name, case, serial in [r[1:] for r in REMOVALS] + [EXPIRED, NEVER_PUBLIC]:
        full = id_number("110105", "19800101", serial)
        line = person(entry_id, iname=name, caseCode=case, cardNum=full)
        if entry_id == EXPIRED[0]:
            line.update(publishDate="2019-07-13", validUntil="2021-07-12")
        if entry_id == NEVER_PUBLIC[0]:
            line["disclose"] = False
        lines.append(line)
        gone[entry_id] = (name, case, masked(full))
    portal.publish(*lines)
    portal.publish(*(removal(op, entry_id, now_cst_iso()) for op, entry_id, *_ in REMOVALS))
    assert portal.service.expire() == 0  # the import already recorded the expiry
    return gone


def test_removed_entries_are_410_without_any_of_their_data(portal: Portal) -> None:
    gone = publish_and_remove_all(portal)
    for entry_id, (name, case, card) in gone.items():
        response = portal.entry(entry_id)
        expected = 404 if entry_id == NEVER_PUBLIC[0] else 410
        assert response.status_code == expected, entry_id
        error = error_of(response)
        assert error["code"] == ("not_found" if expected == 404 else "removed")
        for secret in (name, case, card, card[:10]):
            assert secret not in response.text, (entry_id, secret)
    gone_bodies = {portal.entry(entry_id).content for entry_id in gone} - {
        portal.entry(NEVER_PUBLIC[0]).content
    }
    assert len(gone_bodies) == 1  # shielded, deleted, revoked, expired: one and the same answer


# --- Removed and never-public entries on every channel -------------------------------------


def test_removed_and_never_public_entries_appear_nowhere(portal: Portal) -> None:
    portal.publish(person("kept", iname="吴保留", cardNum=ID_ZHANG))
    gone = publish_and_remove_all(portal)
    bodies: list[str] = []  # every response that must not mention a removed entry
    for entry_id, (name, case, card) in gone.items():
        for params in (
            {"q": name},
            {"q": name[0]},
            {"q": name, "exact": "true"},
            {"caseCode": case},
            {"cardNum": card},
        ):
            api = portal.client.get("/api/v1/entries", params=params)
            assert api.status_code == 200
            assert (api.json()["total"], api.json()["items"]) == (0, []), params
            bodies.append(api.text)
            # The search page echoes what was asked, so only its result list is checked here.
            page = portal.page(**params)
            assert page.status_code == 200
            assert "没有找到符合条件的公开条目" in page.text, params
            assert f"/entries/{entry_id}" not in page.text
        api, html = portal.entry(entry_id), portal.client.get(f"/entries/{entry_id}")
        assert api.status_code == html.status_code == (404 if entry_id == NEVER_PUBLIC[0] else 410)
        assert "text/html" in html.headers["content-type"]
        bodies += [api.text, html.text]
    # Listings whose query names no removed entry: the whole list, a court, a region.
    for params in (
        {"perPage": "100"},
        {"court": "朝阳"},
        {"region": "北京", "sort": "publish_date"},
    ):
        api = portal.client.get("/api/v1/entries", params=params)
        assert [item["id"] for item in api.json()["items"]] == ["kept"], params
        bodies.append(api.text)
    for params in ({"court": "朝阳"}, {"region": "北京"}, {"q": "保留"}):
        page = portal.page(**params)
        assert "共 1 条" in page.text and "/entries/kept" in page.text, params
        bodies.append(page.text)
    for name, case, card in gone.values():
        for body in bodies:
            assert name not in body and case not in body and card not in body


def test_expired_entry_leaves_the_list_when_expiry_runs(portal: Portal) -> None:
    today = datetime.now(CST).date()
    portal.publish(
        person(
            "old", iname="郑期满", cardNum=ID_LI, publishDate="2019-07-13", validUntil=str(today)
        )
    )
    assert portal.search(q="郑期满")["total"] == 1  # listed until the end of today
    assert portal.service.expire(today=today + timedelta(days=1)) == 1
    assert portal.search(q="郑期满")["total"] == 0
    assert portal.entry("old").status_code == 410
    assert portal.client.get("/entries/old").status_code == 410
    report = portal.compliance()["removals"]
    assert (report["total"], report["confirmed"]) == (1, 1)


def test_entry_imported_after_its_listing_period_is_never_served(portal: Portal) -> None:
    portal.publish(
        person(
            "old", iname="郑期满", cardNum=ID_LI, publishDate="2019-07-13", validUntil="2021-07-12"
        )
    )
    assert portal.search(q="郑期满")["total"] == 0


def test_removal_of_a_never_public_entry_keeps_it_404(portal: Portal) -> None:
    portal.publish(person("secret", iname="王秘密", cardNum=ID_LI, disclose=False))
    portal.publish(
        removal("shield", "secret", now_cst_iso()), removal("delete", "ghost", now_cst_iso())
    )
    unknown = portal.entry("no-such-entry")
    answers = {entry_id: portal.entry(entry_id) for entry_id in ("secret", "ghost")}
    assert {k: (r.status_code, r.content) for k, r in answers.items()} == {
        k: (unknown.status_code, unknown.content) for k in answers
    }


# --- No full ID number in any response ------------------------------------------------------


def test_no_full_id_number_in_any_response(portal: Portal) -> None:
    ids = {"zw": ID_ZHANG, "zwm": ID_ZHANG_MING, "lw": ID_LI}
    lines = [line for line in search_set() if line["id"] in ids]
    ingest = portal.post_ingest(jsonl(*lines))
    assert ingest.status_code == 200
    portal.publish(correction("zw", now_cst_iso(), cardNum=ID_ZHANG, age=44))
    portal.publish(removal("shield", "lw", now_cst_iso()))
    client = portal.client
    responses = [
        ingest,
        client.get("/"),
        client.get("/", params={"q": "张伟"}),
        client.get("/", params={"q": "伟", "perPage": "1"}),
        client.get("/", params={"court": "北京"}),
        client.get("/api/v1/entries"),
        client.get("/api/v1/entries", params={"q": "伟"}),
        client.get("/api/v1/entries", params={"cardNum": masked(ID_ZHANG)}),
        client.get("/api/v1/entries", params={"region": "北京", "sort": "publish_date"}),
        client.get("/api/v1/compliance"),
        client.get("/healthz"),
        *(client.get(f"/api/v1/entries/{entry_id}") for entry_id in ids),
        *(client.get(f"/entries/{entry_id}") for entry_id in ids),
    ]
    assert full_ids_in(f'"cardNum":"{ID_ZHANG}"') == [ID_ZHANG]  # the check itself works
    for response in responses:
        assert response.status_code in (200, 410), response.url
        for full in ids.values():
            assert full not in response.text, response.url
        assert full_ids_in(response.text) == [], response.url
    # The masked forms are what people see instead.
    page = client.get("/", params={"q": "张伟"}).text
    assert masked(ID_ZHANG) in page and masked(ID_ZHANG_MING) in page
    assert masked(ID_ZHANG) in client.get("/entries/zw").text
    assert masked(ID_ZHANG) in client.get("/api/v1/entries/zw").text
    # Asking with the full number finds the entry without echoing it in JSON.
    by_full = client.get("/api/v1/entries", params={"cardNum": ID_ZHANG_MING})
    assert masked(ID_ZHANG_MING) in by_full.text and ID_ZHANG_MING not in by_full.text


def test_ingest_rejects_do_not_echo_full_id_numbers(portal: Portal) -> None:
    response = portal.send(
        person("minor", cardNum=ID_ZHANG, age=16),  # (a junk sex word is only a warning now)
        person("other-court", cardNum=ID_LI, courtName=COURT_PUDONG),
        token=portal.token_for("朝阳法院", COURT_CHAOYANG),
    )
    assert response.status_code == 422
    assert response.json()["rejected"] == 2
    assert ID_ZHANG not in response.text and ID_LI not in response.text


# --- POST /api/v1/ingest --------------------------------------------------------------------


def test_ingest_needs_a_valid_unrevoked_token(portal: Portal) -> None:
    body = jsonl(person("p1"))
    revoked_token, info = create_token(portal.service.store, "旧令牌", None)
    assert revoke_token(portal.service.store, info.id)
    attempts = {
        "missing": portal.client.post("/api/v1/ingest", content=body),
        "wrong": portal.post_ingest(body, token="shx_" + "A" * 43),
        "not ours": portal.post_ingest(body, token="abc"),
        "basic": portal.post_ingest(body, headers={"Authorization": f"Basic {portal.token}"}),
        "revoked": portal.post_ingest(body, token=revoked_token),
    }
    for name, response in attempts.items():
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer", name
        error = error_of(response)
        assert error["code"] == "unauthorized"
        assert "令牌" in error["message"]
    assert portal.search()["total"] == 0
    assert portal.entry("p1").status_code == 404


def test_ingest_jsonl_reports_accepted_duplicates_and_rejects(portal: Portal) -> None:
    body = b"\n".join(
        [
            orjson.dumps(person("p1", cardNum=ID_ZHANG)),
            b"",
            b"{not json",
            orjson.dumps(org("o1", cardNum=CODE_ABC)),
            orjson.dumps(person("minor", cardNum=ID_LI, age=16)),
            orjson.dumps(person("p2", iname="李伟", cardNum=ID_LI, caseCode="京执1号")),
            orjson.dumps({"op": "rename", "id": "p1"}),
        ]
    )
    response = portal.post_ingest(body, headers={"X-Filename": "court-2026-11.jsonl"})
    assert response.status_code == 200
    summary = response.json()
    assert summary["accepted"] == 2
    assert summary["duplicates"] == 0
    assert summary["rejected"] == 4
    assert summary["lines"] == 6  # the blank line is not counted
    assert summary["file"] == "court-2026-11.jsonl"
    rejects = {r["line"]: r for r in summary["rejects"]}
    assert {line: r["code"] for line, r in rejects.items()} == {
        3: "bad_json",
        5: "minor",
        6: "bad_case_code",
        7: "unknown_op",
    }
    for reject in rejects.values():
        assert CHINESE.search(reject["message"]), reject
    assert rejects[6]["field"] == "caseCode"
    assert set(portal.ids()) == {"p1", "o1"}

    again = portal.post_ingest(body)
    assert again.status_code == 200
    second = again.json()
    assert (second["accepted"], second["duplicates"], second["rejected"]) == (0, 2, 4)
    assert second["applied"] == 0
    assert set(portal.ids()) == {"p1", "o1"}
    assert [h["op"] for h in portal.entry("p1").json()["history"]] == ["publish"]


def test_ingest_json_content_type_and_no_content_type_are_json_lines(portal: Portal) -> None:
    for entry_id, content_type in (("a1", "application/json"), ("a2", None)):
        response = portal.post_ingest(jsonl(person(entry_id)), content_type=content_type)
        assert response.status_code == 200, content_type
        assert response.json()["accepted"] == 1
    assert set(portal.ids()) == {"a1", "a2"}


CSV_HEADER = (
    "id,iname,cardNum,caseCode,courtName,areaName,partyTypeName,sexy,age,publishDate,validUntil"
)


def test_ingest_csv_with_bom_publishes(portal: Portal) -> None:
    rows = [
        CSV_HEADER,
        f"c1,陈小明,{ID_ZHANG},（2024）京0105执88号,{COURT_CHAOYANG},北京,自然人,男,44,2024年02月01日,2099-12-31",
        f"c2,北京某某餐饮有限公司,{CODE_XYZ},(2024)京0105执89号,{COURT_CHAOYANG},北京,法人或其他组织,,,20240202,",
        f"c3,未成年,{ID_LI},(2024)京0105执90号,{COURT_CHAOYANG},北京,自然人,男,12,2024-02-03,",
    ]
    body = "\ufeff" + "\r\n".join(rows) + "\r\n"
    response = portal.post_ingest(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["accepted"], summary["rejected"]) == (2, 1)
    assert summary["rejects"][0]["line"] == 4
    assert summary["rejects"][0]["code"] == "minor"
    person_item = portal.search(q="陈小明")["items"][0]
    assert person_item["id"] == "c1"
    assert person_item["cardNum"] == masked(ID_ZHANG)
    assert person_item["publishDate"] == "2024-02-01"
    assert person_item["caseCode"] == "(2024)京0105执88号"
    assert portal.ids(cardNum=CODE_XYZ) == ["c2"]


def test_ingest_unsupported_content_type_is_415(portal: Portal) -> None:
    response = portal.post_ingest(b"<entries/>", content_type="application/xml")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    # Refused before the body is read: even one over the size limit gets 415, not 413.
    big = b"x" * (portal.service.settings.ingest_max_bytes + 1)
    assert portal.post_ingest(big, content_type="application/xml").status_code == 415


@pytest.fixture
def small_portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with running(make_settings(tmp_path, database_url, SHIXIN_INGEST_MAX_BYTES="2000")) as p:
        yield p


def big_body() -> bytes:
    lines = [person(f"big{n}", iname=f"大批量{n}号", cardNum=id_number()) for n in range(10)]
    body = jsonl(*lines)
    assert len(body) > 2000
    return body


def test_ingest_over_the_size_limit_is_413_and_applies_nothing(small_portal: Portal) -> None:
    body = big_body()
    declared = small_portal.post_ingest(body)
    chunks = [body[i : i + 500] for i in range(0, len(body), 500)]
    streamed = small_portal.post_ingest(iter(chunks))  # chunked: no Content-Length
    for response in (declared, streamed):
        assert response.status_code == 413
        assert error_of(response)["code"] == "too_large"
    assert small_portal.search(q="大批量")["total"] == 0
    assert small_portal.entry("big0").status_code == 404
    # A body under the limit still goes through.
    assert small_portal.publish(person("small"))["accepted"] == 1


def test_ingest_413_message_states_the_real_limit(small_portal: Portal) -> None:
    response = small_portal.post_ingest(big_body())
    assert "0 MB" not in error_of(response)["message"]


def test_court_token_is_limited_to_its_court(portal: Portal) -> None:
    portal.publish(org("sh", cardNum=CODE_ABC, courtName=COURT_PUDONG))
    chaoyang = portal.token_for("北京市朝阳区人民法院执行局", COURT_CHAOYANG)
    response = portal.send(
        person("own", cardNum=ID_ZHANG, courtName=COURT_CHAOYANG),
        org("other", cardNum=CODE_XYZ, courtName=COURT_PUDONG),
        removal("shield", "sh", now_cst_iso()),
        token=chaoyang,
    )
    assert response.status_code == 200
    summary = response.json()
    assert (summary["accepted"], summary["rejected"]) == (1, 2)
    rejects = {r["line"]: r for r in summary["rejects"]}
    assert set(rejects) == {2, 3}
    for reject in rejects.values():
        assert reject["code"] == "out_of_scope"
        assert CHINESE.search(reject["message"])
    assert set(portal.ids()) == {"sh", "own"}
    assert portal.entry("sh").status_code == 200
    # Its own court's entry it may remove.
    portal.publish(removal("shield", "own", now_cst_iso()), token=chaoyang)
    assert portal.entry("own").status_code == 410


def test_court_token_cannot_take_over_another_courts_entry(portal: Portal) -> None:
    portal.publish(org("sh", cardNum=CODE_ABC, courtName=COURT_PUDONG))
    chaoyang = portal.token_for("北京市朝阳区人民法院执行局", COURT_CHAOYANG)
    attempts = [
        # Re-publish the Pudong entry under its own court, as not fit for publication ...
        org("sh", cardNum=CODE_ABC, courtName=COURT_CHAOYANG, disclose=False),
        # ... or correct its court, after which a removal passes the scope check too.
        correction("sh", now_cst_iso(), courtName=COURT_CHAOYANG),
        removal("shield", "sh", now_cst_iso(timedelta(seconds=1))),
    ]
    codes = []
    for line in attempts:
        codes += [r["code"] for r in portal.send(line, token=chaoyang).json()["rejects"]]
    entry = portal.entry("sh")
    assert (entry.status_code, codes) == (200, ["out_of_scope"] * 3)
    assert entry.json()["courtName"] == COURT_PUDONG


def test_ingest_with_only_bad_lines_is_422(portal: Portal) -> None:
    response = portal.post_ingest(b'{"op": "publish"}\n[1, 2]\nnot json\n')
    assert response.status_code == 422
    summary = response.json()
    assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (0, 0, 3)
    assert [r["line"] for r in summary["rejects"]] == [1, 2, 3]
    assert [r["code"] for r in summary["rejects"]] == ["bad_id", "not_an_object", "bad_json"]
    assert portal.search()["total"] == 0


# --- Removal through the API, and GET /api/v1/compliance ----------------------------------


@pytest.mark.clock
def test_revoke_takes_effect_at_once_and_is_reported(portal: Portal) -> None:
    portal.publish(person("p1", cardNum=ID_ZHANG), person("p2", iname="张伟明", cardNum=ID_LI))
    assert set(portal.ids(q="张伟")) == {"p1", "p2"}
    received = datetime.now(CST)
    portal.publish(removal("revoke", "p1", now_cst_iso(), reason="错误纳入，依法撤销"))
    assert portal.ids(q="张伟") == ["p2"]
    assert portal.ids(cardNum=ID_ZHANG) == []
    assert portal.entry("p1").status_code == 410
    assert portal.client.get("/entries/p1").status_code == 410

    report = portal.compliance()
    counts = report["removals"]
    assert counts == {
        "total": 1,
        "confirmed": 1,
        "onTime": 1,
        "late": 0,
        "pending": 0,
        "overdue": 0,
        "arrivedLate": 0,
    }
    assert report["problems"] == []
    assert 0 <= report["latencySeconds"]["median"] < 60
    generated = datetime.fromisoformat(report["generatedAt"])
    assert abs(generated - received) < timedelta(minutes=1)


@pytest.mark.clock
def test_removal_that_arrives_after_its_deadline_is_flagged(portal: Portal) -> None:
    portal.publish(person("p1", cardNum=ID_ZHANG))
    # A month ago: its three working days ran out before it reached us.
    effective = instant_days_ago(30)
    portal.publish(removal("shield", "p1", effective))
    assert portal.search(q="张伟")["total"] == 0
    report = portal.compliance()
    assert report["removals"]["total"] == report["removals"]["confirmed"] == 1
    assert report["removals"]["arrivedLate"] == 1
    [item] = report["problems"]
    # The public report never says which entry was removed, nor the court's reason.
    assert "entryId" not in item and "reason" not in item and "p1" not in str(report)
    assert isinstance(item["removal"], int)
    assert item["kind"] == "shielded"
    assert item["arrivedLate"] is True
    [unit_view] = portal.compliance(token=portal.token)["problems"]
    assert unit_view["entryId"] == "p1" and unit_view["reason"] == "被执行人已履行义务"
    assert portal.compliance(token="shx_wrong")["problems"][0].keys() == item.keys()
    assert report["removals"]["late"] == 0  # the sender's lateness is not ours
    # A court's token sees the details of its own court's removals only.
    court = person("p1")["courtName"]
    own = portal.compliance(token=portal.token_for("本院", court))["problems"][0]
    assert own["entryId"] == "p1"
    other = portal.compliance(token=portal.token_for("他院", "北京市海淀区人民法院"))
    assert other["problems"][0].keys() == item.keys()
    assert datetime.fromisoformat(item["effectiveAt"]) == parse_instant(effective)
    deadline = portal.service.calendar.removal_deadline(parse_instant(effective))
    assert item["deadline"] == deadline.isoformat(timespec="seconds")
    removed_at = datetime.fromisoformat(item["removedAt"])
    assert abs(removed_at - datetime.now(CST)) < timedelta(minutes=1)


# --- The search page / ----------------------------------------------------------------------


def test_search_page_form_has_labels(portal: Portal) -> None:
    response = portal.page()
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    html = response.text
    for field in ("q", "cardNum", "caseCode", "court", "region", "partyType"):
        assert f'<label for="{field}">' in html, field
        assert f'id="{field}" name="{field}"' in html, field
    assert 'role="search"' in html
    assert "没有找到" not in html


def test_search_page_lists_entries_with_masked_id(seeded: Portal) -> None:
    response = seeded.page(q="张伟")
    assert response.status_code == 200
    html = response.text
    assert "共 2 条" in html
    assert "张伟" in html and "張偉明" in html
    assert masked(ID_ZHANG) in html
    assert '<a href="/entries/zw">' in html
    assert ID_ZHANG not in html
    assert "(2023)京0105执1234号" in html


def test_search_page_without_match_says_what_was_searched(seeded: Portal) -> None:
    response = seeded.page(q="王五", court="朝阳")
    assert response.status_code == 200
    html = response.text
    assert "没有找到符合条件的公开条目" in html
    assert "「王五」" in html and "「朝阳」" in html
    assert "可以检查" in html and "错别字" in html


def test_search_page_shows_the_error_for_bad_input(seeded: Portal) -> None:
    response = seeded.page(caseCode="京0105执")
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "案号格式不正确" in response.text
    assert 'role="alert"' in response.text
    assert 'value="京0105执"' in response.text  # the form keeps what was typed


def test_search_page_escapes_hostile_input(seeded: Portal) -> None:
    hostile = "<script>alert(1)</script>"
    for params in ({"q": hostile}, {"court": hostile}, {"q": '"><img src=x onerror=alert(1)>'}):
        response = seeded.page(**params)
        assert response.status_code == 200
        assert "<script>alert" not in response.text
        assert "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in seeded.page(q=hostile).text
    # Names come from courts' files: they are escaped on every page too.
    seeded.publish(org("x1", iname=f"{hostile}有限公司", cardNum=credit_code()))
    for html in (seeded.page(q="有限公司").text, seeded.client.get("/entries/x1").text):
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    bad = seeded.page(caseCode=hostile)
    assert bad.status_code == 400 and "<script>alert" not in bad.text


def test_search_page_paging_links_keep_the_other_parameters(seeded: Portal) -> None:
    first = seeded.page(q="伟", region="北京", perPage="1")
    assert first.status_code == 200
    assert "共 2 条，第 1 页" in first.text
    links = re.findall(r'<a href="([^"]+)" rel="(prev|next)">', first.text)
    assert [rel for _, rel in links] == ["next"]
    href = links[0][0].replace("&amp;", "&")
    second = seeded.client.get(href)
    assert second.status_code == 200
    assert "共 2 条，第 2 页" in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert seeded.client.get(href).text.count("<li><h2>") == 1
    query = parse_qs(urlsplit(href).query)
    assert query == {"q": ["伟"], "region": ["北京"], "perPage": ["1"], "page": ["2"]}


# --- GET /entries/{id} ----------------------------------------------------------------------


def test_entry_page_shows_the_entry_and_its_corrections(portal: Portal) -> None:
    portal.publish(person("p1", cardNum=ID_ZHANG))
    portal.publish(correction("p1", "2026-11-20T10:00:00+08:00", duty="支付货款人民币五万元"))
    response = portal.client.get("/entries/p1")
    assert response.status_code == 200
    html = response.text
    assert "<h1>张伟</h1>" in html
    assert masked(ID_ZHANG) in html
    assert "支付货款人民币五万元" in html
    assert "有效期至" in html and "2099-03-20" in html
    assert "更正记录" in html and "2026-11-20 更正了：duty" in html


def test_entry_page_dates_corrections_in_beijing_time(portal: Portal) -> None:
    portal.publish(person("p1", cardNum=ID_ZHANG))
    portal.publish(correction("p1", "2026-11-20T07:30:00+08:00", duty="支付货款人民币五万元"))
    assert "2026-11-20 更正了" in portal.client.get("/entries/p1").text


def test_entry_page_unknown_is_404_page(portal: Portal) -> None:
    response = portal.client.get("/entries/nobody")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "没有找到" in response.text


# --- /healthz and unknown addresses ---------------------------------------------------------


def test_healthz(portal: Portal) -> None:
    response = portal.client.get("/healthz")
    assert response.status_code == 200
    health = response.json()
    assert health["ok"] is True
    assert (health["store"], health["index"]) == ("ok", "ok")
    assert health["indexLag"] == 0


def test_unknown_api_address_is_a_json_404(portal: Portal) -> None:
    response = portal.client.get("/api/v1/nope")
    assert response.status_code == 404
    assert error_of(response)["code"] == "http_error"
    wrong_method = portal.client.delete("/api/v1/entries")
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["code"] == "http_error"


def test_unknown_page_is_the_404_page(portal: Portal) -> None:
    response = portal.client.get("/no/such/page")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "没有这个页面或条目" in response.text


def test_search_by_posted_json_keeps_the_id_number_out_of_the_url(seeded: Portal) -> None:
    """The same results as GET, for clients that must not put an ID number into a URL."""
    got = seeded.client.get("/api/v1/entries", params={"cardNum": ID_ZHANG})
    posted = seeded.client.post("/api/v1/search", json={"cardNum": ID_ZHANG})
    assert posted.status_code == 200 and posted.content == got.content
    assert posted.json()["total"] >= 1
    assert posted.headers["cache-control"] == "no-store"
    paged = seeded.client.post("/api/v1/search", json={"q": "张伟", "perPage": 1, "page": "2"})
    assert paged.json()["page"] == 2 and paged.json()["perPage"] == 1
    for bad in (b"[1, 2]", b"{not json", b'{"q": ["a"]}', b'{"exact": true}'):
        response = seeded.client.post(
            "/api/v1/search", content=bad, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400 and error_of(response)["code"] == "bad_query"
    invalid = seeded.client.post("/api/v1/search", json={"cardNum": "110105198001011230"})
    assert invalid.status_code == 400 and error_of(invalid)["field"] == "cardNum"
    assert ID_ZHANG not in invalid.text
