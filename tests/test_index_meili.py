"""MeiliIndex against a stand-in for Meilisearch's HTTP API, plus a few live-server checks.

No Meilisearch server can run here, so a small HTTP server takes its place: it records every
request the real client sends and answers the routes MeiliIndex uses the way Meilisearch does.
What needs the engine itself (phrase matching, ranking, filter parsing) runs against a live
server in tests/test_index_contract.py and in the ``meili`` tests at the end of this file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import meilisearch
import pytest

from search_index.index.meili import DATE_ORDER, MeiliIndex, MeiliTaskFailed, place_key, quote
from search_index.normalize import name_tokens, normalize_name
from search_index.types import IndexDoc, PartyType, SearchQuery, Sort

MEILI_URL = os.environ.get("SHIXIN_TEST_MEILI_URL")
MEILI_KEY = os.environ.get("SHIXIN_TEST_MEILI_KEY")
KEY_ALPHABET = re.compile(r"[A-Za-z0-9_-]{1,511}")
FULL_ID = "342301196405123224"


# -- the stand-in server ---------------------------------------------------------------------


@dataclasses.dataclass
class Recorded:
    method: str
    path: str
    body: Any
    raw: bytes


def read_literal(text: str) -> tuple[str, str]:
    """Read a double-quoted filter literal the way Meilisearch does (filter-parser value.rs):
    the literal ends at the first quote not escaped by a backslash; ``\\"`` is unescaped first,
    then the remaining backslash escapes. Returns (value, text after the literal)."""
    assert text.startswith('"'), text
    i = 1
    while text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    raw = text[1:i].replace('\\"', '"')
    return re.sub(r"\\(.)", r"\1", raw), text[i + 1 :]


def literals(filter_text: str) -> list[str]:
    values, rest = [], filter_text
    while '"' in rest:
        value, rest = read_literal(rest[rest.index('"') :])
        values.append(value)
    return values


class FakeMeili:
    """The routes MeiliIndex calls, with Meilisearch's response shapes. Tasks finish at once;
    ``fail`` maps a task type to the error object Meilisearch would put on the failed task.
    Matching is the engine's job: ``matches`` says which documents a search body finds, in
    order (every document of the index unless a test says otherwise); paging and counting are
    done here. ``indexes`` holds each index's documents by key; ``documents`` is the index
    the tests' backend uses, ``entries``. Creating an index that exists, or deleting or
    swapping one that does not, fails its task as Meilisearch does."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Recorded] = []
        self.indexes: dict[str, dict[str, dict[str, Any]]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.fail: dict[str, dict[str, str]] = {}
        self.matches: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None
        self.lock = threading.Lock()  # requests arrive on several threads

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        return self.indexes.setdefault("entries", {})

    def sent(self, method: str, suffix: str) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.method == method and urlsplit(r.path).path.endswith(suffix)
        ]

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            return self._handle(method, urlsplit(path).path.strip("/").split("/"), body)

    def _handle(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if parts == ["health"]:
            return 200, {"status": "available"}
        if parts[0] == "tasks":
            return 200, self.tasks[int(parts[1])]
        if parts == ["multi-search"]:
            results = [self.search(query["indexUid"], query) for query in body["queries"]]
            return 200, {"results": results}
        if parts == ["indexes"]:
            return self.enqueue("indexCreation", lambda: self.create(body["uid"]), body["uid"])
        if parts == ["swap-indexes"]:
            return self.enqueue("indexSwap", lambda: self.swap(body), None)
        uid = parts[1]
        route = (method, *parts[2:])
        if route == ("DELETE",):
            return self.enqueue("indexDeletion", lambda: self.drop(uid), uid)
        documents = self.indexes.setdefault(uid, {})  # adding documents creates the index
        if route == ("PATCH", "settings"):
            return self.enqueue("settingsUpdate", lambda: None, uid)
        if route == ("POST", "documents"):
            return self.enqueue("documentAdditionOrUpdate", lambda: self.add(uid, body), uid)
        if route == ("DELETE", "documents"):
            return self.enqueue("documentDeletion", documents.clear, uid)
        if route == ("POST", "documents", "delete"):
            return self.enqueue("documentDeletion", lambda: self.remove(uid, body["filter"]), uid)
        if route == ("POST", "documents", "fetch"):
            return 200, self.fetch(uid, body)
        if route[:2] == ("GET", "documents"):
            return self.one_document(uid, parts[3])
        if route == ("POST", "search"):
            return 200, self.search(uid, body)
        if route == ("GET", "stats"):
            stats = {"numberOfDocuments": len(documents), "isIndexing": False}
            return 200, {**stats, "fieldDistribution": {}}
        return 404, {"message": f"no route {method} /{'/'.join(parts)}", "code": "not_found"}

    def enqueue(
        self, task_type: str, apply: Callable[[], dict[str, str] | None], index: str | None
    ) -> tuple[int, Any]:
        """A finished task; ``apply`` makes the change, or returns the error it fails with."""
        uid = len(self.tasks)
        error = self.fail.get(task_type)
        if error is None:
            error = apply()
        at = "2024-01-01T00:00:00.000000Z"
        info = {"indexUid": index, "type": task_type, "enqueuedAt": at}
        status = "failed" if error else "succeeded"
        self.tasks[uid] = {**info, "uid": uid, "status": status, "error": error, "finishedAt": at}
        return 202, {**info, "taskUid": uid, "status": "enqueued"}

    def create(self, uid: str) -> dict[str, str] | None:
        if uid in self.indexes:
            return {"message": f"Index `{uid}` already exists.", "code": "index_already_exists"}
        self.indexes[uid] = {}
        return None

    def drop(self, uid: str) -> dict[str, str] | None:
        if self.indexes.pop(uid, None) is None:
            return {"message": f"Index `{uid}` not found.", "code": "index_not_found"}
        return None

    def swap(self, pairs: list[dict[str, list[str]]]) -> dict[str, str] | None:
        for pair in pairs:
            missing = [uid for uid in pair["indexes"] if uid not in self.indexes]
            if missing:
                return {"message": f"Index `{missing[0]}` not found.", "code": "index_not_found"}
        for pair in pairs:
            a, b = pair["indexes"]
            self.indexes[a], self.indexes[b] = self.indexes[b], self.indexes[a]
        return None

    def add(self, uid: str, documents: list[dict[str, Any]]) -> None:
        self.indexes[uid].update({document["id"]: document for document in documents})

    def remove(self, uid: str, filter_text: str) -> None:
        assert filter_text.startswith("id IN ["), filter_text
        for key in literals(filter_text):
            self.indexes[uid].pop(key, None)

    def fetch(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        documents = list(self.indexes.get(uid, {}).values())
        if "filter" in body:
            keys = set(literals(body["filter"]))
            documents = [d for d in documents if d["id"] in keys]
        offset, limit = body.get("offset", 0), body.get("limit", 20)
        fields = body.get("fields")
        results = [
            {k: v for k, v in d.items() if fields is None or k in fields}
            for d in documents[offset : offset + limit]
        ]
        return {"results": results, "offset": offset, "limit": limit, "total": len(documents)}

    def one_document(self, uid: str, key: str) -> tuple[int, Any]:
        if key in self.indexes[uid]:
            return 200, self.indexes[uid][key]
        error = {"message": f"Document `{key}` not found.", "code": "document_not_found"}
        return 404, {**error, "type": "invalid_request", "link": "https://docs.meilisearch.com"}

    def search(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        documents = self.indexes.get(uid, {})
        if "facets" in body:
            distribution: dict[str, dict[str, int]] = {}
            for attribute in body["facets"]:
                counts = distribution.setdefault(attribute, {})
                for document in documents.values():
                    counts[document[attribute]] = counts.get(document[attribute], 0) + 1
            return {"hits": [], "facetDistribution": distribution, "estimatedTotalHits": 0}
        hits = self.matches(body) if self.matches else list(documents.values())
        if "hitsPerPage" in body:
            size, page = body["hitsPerPage"], body["page"]
            window = hits[(page - 1) * size : page * size]
            return {"hits": window, "totalHits": len(hits), "page": page, "hitsPerPage": size}
        offset, limit = body.get("offset", 0), body.get("limit", 20)
        window = hits[offset : offset + limit]
        return {"hits": window, "estimatedTotalHits": len(hits), "offset": offset, "limit": limit}


def handler_for(fake: FakeMeili) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw) if raw else None
            fake.requests.append(Recorded(self.command, self.path, body, raw))
            status, payload = fake.handle(self.command, self.path, body)
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeMeili]:
    fake = FakeMeili()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def backend(fake: FakeMeili) -> MeiliIndex:
    return MeiliIndex(fake.url, "test-key", "entries")


def person(entry_id: str = "1001", **changes: Any) -> IndexDoc:
    doc = IndexDoc(
        id=entry_id,
        seq=7,
        status="published",
        party_type=PartyType.PERSON.value,
        name="张伟",
        name_norm=normalize_name("张伟"),
        case_code="(2019)京0105执12345号",
        court_name="北京市朝阳区人民法院",
        area_name="北京",
        publish_date=date(2019, 7, 13),
        reg_date=date(2019, 7, 9),
        valid_until=date(2021, 7, 13),
        severity="high",
        card_display="3423011964****3224",
        card_key="key:ab-cd-ef",
        fields={"sexy": "男", "age": 55, "performance": "全部未履行"},
    )
    return dataclasses.replace(doc, **changes)


def searches(fake: FakeMeili) -> list[dict[str, Any]]:
    """Every search body sent, multi-search queries included, facet reads excluded."""
    bodies = [r.body for r in fake.sent("POST", "/search")]
    bodies += [query for r in fake.sent("POST", "/multi-search") for query in r.body["queries"]]
    return [body for body in bodies if "facets" not in body]


def q_name(text: str, **kw: Any) -> SearchQuery:
    """A query for ``text`` as a name, normalized as ``build_query`` does."""
    return SearchQuery(name_tokens=tuple(name_tokens(text)), **kw)


# -- filters and requests ----------------------------------------------------------------------


def test_quote_escapes_backslash_before_quote() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    for value in ['"', "\\", '\\"', 'x\\" OR id EXISTS', "end\\"]:
        assert read_literal(quote(value)) == (value, "")


def test_hostile_values_stay_inside_their_filter_literals(
    backend: MeiliIndex, fake: FakeMeili
) -> None:
    hostile = 'X"\\ OR party_type = "org'
    backend.search(q_name(hostile, name_exact=True, case_code=hostile, card_display=hostile))
    (body,) = searches(fake)
    case_filter, card_filter, name_filter = body["filter"]
    assert read_literal(case_filter.removeprefix("case_code = ")) == (hostile, "")
    inner = card_filter.removeprefix("(card_display = ").removesuffix(")")
    assert read_literal(inner) == (hostile, "")
    # Names are matched on their letters and digits: quote and backslash never reach the filter.
    assert name_filter == 'name_key = "XORPARTYTYPEORG"'


def test_relevance_runs_exact_starts_and_contains_tiers(
    backend: MeiliIndex, fake: FakeMeili
) -> None:
    backend.search(q_name("張 偉", party_type=PartyType.ORG))
    (request,) = fake.sent("POST", "/multi-search")
    assert [(q["q"], q["filter"]) for q in request.body["queries"]] == [
        ("", ['party_type = "org"', 'name_key = "张伟"']),
        ('"namestart 张 伟"', ['party_type = "org"', 'NOT name_key = "张伟"']),
        ('-"namestart 张 伟" "张 伟"', ['party_type = "org"']),
    ]
    for query in request.body["queries"]:
        assert query["indexUid"] == "entries"
        assert query["sort"] == DATE_ORDER
        assert query["matchingStrategy"] == "all"
        assert query.get("locales") == (["cmn"] if query["q"] else None)


def test_date_order_and_exact_names_are_one_query(backend: MeiliIndex, fake: FakeMeili) -> None:
    backend.search(q_name("张伟", sort=Sort.PUBLISH_DATE, page=2, per_page=10))
    backend.search(q_name("张伟", name_exact=True))
    dated, exact = searches(fake)
    assert (dated["q"], dated["page"], dated["hitsPerPage"]) == ('"张 伟"', 2, 10)
    assert dated["sort"] == DATE_ORDER
    assert (exact["q"], exact["filter"]) == ("", ['name_key = "张伟"'])
    assert not fake.sent("POST", "/multi-search")


def test_representatives_are_looked_up_in_one_request_by_their_normalized_name(
    backend: MeiliIndex, fake: FakeMeili
) -> None:
    company = person(
        "o1", party_type=PartyType.ORG.value, name="甲公司", fields={"businessEntity": "張 偉"}
    )
    backend.upsert([company, person("p1", fields={"businessEntity": "张伟"})])
    sent = fake.indexes["entries"]
    assert sent["o1"]["representative_key"] == "张伟"
    assert sent["p1"]["representative_key"] is None  # a person represents no organization

    def matches(body: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = literals(body["filter"][0])[0]
        return [d for d in sent.values() if d["representative_key"] == wanted]

    fake.matches = matches
    found = backend.represented_by(["张伟", "李四", "张伟"], 11)
    (request,) = fake.sent("POST", "/multi-search")
    assert [(q["filter"], q["limit"]) for q in request.body["queries"]] == [
        (['representative_key = "张伟"'], 11),
        (['representative_key = "李四"'], 11),
    ]
    assert all(q["sort"] == DATE_ORDER for q in request.body["queries"])
    assert {name: [item["id"] for item in items] for name, items in found.items()} == {
        "张伟": ["o1"]
    }
    backend.search(SearchQuery(representative="张伟", party_type=PartyType.ORG))
    (plain,) = fake.sent("POST", "/search")
    assert plain.body["filter"] == ['party_type = "org"', 'representative_key = "张伟"']


def test_pages_run_across_tiers(backend: MeiliIndex, fake: FakeMeili) -> None:
    backend.upsert([person(str(n)) for n in range(12)])
    stored = list(fake.documents.values())
    by_tier = {"exact": stored[:3], "starts": stored[3:7], "contains": stored[7:]}

    def matches(body: dict[str, Any]) -> list[dict[str, Any]]:
        if not body["q"]:
            return by_tier["exact"]
        return by_tier["contains" if body["q"].startswith("-") else "starts"]

    fake.matches = matches
    first = backend.search(q_name("张伟", per_page=5))
    assert (first.total, [doc.id for doc in first.items]) == (12, ["0", "1", "2", "3", "4"])
    assert len(fake.sent("POST", "/multi-search")) == 1  # counts and first pages together

    second = backend.search(q_name("张伟", page=2, per_page=5))
    assert (second.total, [doc.id for doc in second.items]) == (12, ["5", "6", "7", "8", "9"])
    last = backend.search(q_name("张伟", page=3, per_page=5))
    assert [doc.id for doc in last.items] == ["10", "11"]
    beyond = backend.search(q_name("张伟", page=4, per_page=5))
    assert (beyond.total, beyond.items) == (12, [])


def test_nothing_to_match_sends_no_search(backend: MeiliIndex, fake: FakeMeili) -> None:
    backend.upsert([person()])
    for query in (q_name("（·）"), SearchQuery(court=place_key("·")), SearchQuery(region="海南")):
        page = backend.search(query)
        assert (page.total, page.items) == (0, [])
    assert searches(fake) == []


def test_filters_without_a_name(backend: MeiliIndex, fake: FakeMeili) -> None:
    backend.search(
        SearchQuery(
            card_key="k1",
            card_display="3423011964****3224",
            party_type=PartyType.PERSON,
            published_from=date(2019, 1, 1),
            published_to=date(2019, 12, 31),
        )
    )
    (body,) = searches(fake)
    assert body["q"] == ""
    assert body["sort"] == DATE_ORDER
    assert body["filter"] == [
        'party_type = "person"',
        '(card_key = "k1" OR card_display = "3423011964****3224")',
        "publish_date >= 20190101",
        "publish_date <= 20191231",
    ]


def test_court_and_region_match_any_part_of_the_place(backend: MeiliIndex, fake: FakeMeili) -> None:
    backend.upsert(
        [
            person("1", court_name="北京市朝阳区人民法院", area_name="北京"),
            person("2", court_name="北京市海淀区人民法院", area_name="北京"),
            person(
                "3", court_name="新疆生产建设兵团第八师中级人民法院（石河子）", area_name="兵团"
            ),
        ]
    )
    backend.search(SearchQuery(court=place_key("朝阳"), region=place_key("北京")))
    # punctuation counts for nothing, as in SQLite
    backend.search(SearchQuery(court=place_key("法院(石河子")))
    backend.search(SearchQuery(court="人民法院"))
    assert [body["filter"] for body in searches(fake)] == [
        ['court_key IN ["北京市朝阳区人民法院"]', 'area_key IN ["北京"]'],
        ['court_key IN ["新疆生产建设兵团第八师中级人民法院石河子"]'],
        ["court_key EXISTS"],
    ]

    facet_reads = len(fake.sent("POST", "/search")) - len(searches(fake))
    page = backend.search(SearchQuery(court="广州"))
    assert (page.total, page.items) == (0, [])
    assert len(fake.sent("POST", "/search")) - len(searches(fake)) == facet_reads  # cached

    backend.upsert([person("4", court_name="广州市天河区人民法院", area_name="广东")])
    backend.search(SearchQuery(court="广州"))
    assert searches(fake)[-1]["filter"] == ['court_key IN ["广州市天河区人民法院"]']


def test_search_returns_the_documents_as_upserted(backend: MeiliIndex) -> None:
    docs = [person("1"), person("2", reg_date=None, valid_until=None, card_display=None)]
    backend.upsert(docs)
    page = backend.search(SearchQuery())
    assert page.total == 2
    assert page.items == docs


# -- documents ---------------------------------------------------------------------------------


def test_documents_sent_never_hold_a_full_id_number(backend: MeiliIndex, fake: FakeMeili) -> None:
    careless = person(fields={"sexy": "男", "cardNum": FULL_ID, "duty": "偿还借款"})
    backend.upsert([careless])
    (request,) = fake.sent("POST", "/documents")
    assert FULL_ID.encode() not in request.raw
    (document,) = request.body
    assert document["card_display"] == "3423011964****3224"
    assert document["fields"] == {"sexy": "男", "duty": "偿还借款"}

    with pytest.raises(ValueError, match="unmasked ID number"):
        backend.upsert([person("2"), person("3", card_display=FULL_ID)])
    assert len(fake.sent("POST", "/documents")) == 1  # nothing of the batch was sent


def test_organization_credit_codes_are_not_taken_for_id_numbers(
    backend: MeiliIndex, fake: FakeMeili
) -> None:
    org = person(party_type=PartyType.ORG.value, name="某某公司", card_display="911100001012345678")
    backend.upsert([org])
    assert fake.sent("POST", "/documents")[0].body[0]["card_display"] == "911100001012345678"


def test_ids_outside_the_key_alphabet_round_trip(backend: MeiliIndex, fake: FakeMeili) -> None:
    ids = ["京(2019)执/12 号", "_leading", "a_b", "12345", "x" * 600]
    backend.upsert([person(entry_id, seq=n) for n, entry_id in enumerate(ids)])

    sent = fake.sent("POST", "/documents")[0].body
    assert all(KEY_ALPHABET.fullmatch(document["id"]) for document in sent)
    assert [document["entry_id"] for document in sent] == ids
    assert len({document["id"] for document in sent}) == len(ids)
    assert {"12345", "a_b"} <= {document["id"] for document in sent}  # plain ids stay readable

    assert [doc.id for doc in map(backend.get, ids) if doc] == ids
    assert backend.present([*ids, "missing/1"]) == set(ids)
    assert list(backend.iter_seqs()) == sorted((entry_id, n) for n, entry_id in enumerate(ids))

    backend.delete([ids[0], "missing/1"])
    assert backend.get(ids[0]) is None
    assert backend.present(ids) == set(ids[1:])
    assert backend.count() == len(ids) - 1


# -- tasks and settings ------------------------------------------------------------------------


def test_failed_task_raises_with_meilisearchs_message(backend: MeiliIndex, fake: FakeMeili) -> None:
    fake.fail["documentAdditionOrUpdate"] = {
        "message": "The `id` field contains an invalid value.",
        "code": "invalid_document_id",
        "type": "invalid_request",
        "link": "https://docs.meilisearch.com/errors#invalid_document_id",
    }
    with pytest.raises(MeiliTaskFailed, match="contains an invalid value") as caught:
        backend.upsert([person()])
    assert caught.value.code == "invalid_document_id"


def test_failed_setup_raises_and_is_retried(backend: MeiliIndex, fake: FakeMeili) -> None:
    exists = {"message": "Index `entries` already exists.", "code": "index_already_exists"}
    fake.fail["indexCreation"] = exists
    fake.fail["settingsUpdate"] = {
        "message": "Invalid value type at `.pagination`",
        "code": "invalid_settings_pagination",
    }
    with pytest.raises(MeiliTaskFailed, match="pagination"):
        backend.count()

    del fake.fail["settingsUpdate"]
    assert backend.count() == 0
    backend.count()
    assert len(fake.sent("PATCH", "/settings")) == 2  # once failed, once applied, then never


def test_settings_search_names_only_without_typos(backend: MeiliIndex, fake: FakeMeili) -> None:
    backend.ensure_settings()
    (create,) = fake.sent("POST", "/indexes")
    assert create.body == {"uid": "entries", "primaryKey": "id"}
    (patch,) = fake.sent("PATCH", "/indexes/entries/settings")
    settings = patch.body
    assert settings["searchableAttributes"] == ["name_chars"]
    assert settings["typoTolerance"]["enabled"] is False
    assert {"name_chars", "name_key", "case_code", "card_key", "card_display", "id"} <= set(
        settings["typoTolerance"]["disableOnAttributes"]
    )
    assert settings["localizedAttributes"] == [
        {"attributePatterns": ["name_chars"], "locales": ["cmn"]}
    ]
    assert settings["pagination"]["maxTotalHits"] >= 10_000_000
    assert settings["rankingRules"][0] == "sort"
    assert settings["stopWords"] == [] and settings["synonyms"] == {}
    filterable = set(settings["filterableAttributes"])
    assert {"party_type", "case_code", "card_key", "card_display", "name_key"} <= filterable
    assert {"publish_date", "court_key", "area_key", "id"} <= filterable
    assert {"publish_date", "entry_id"} <= set(settings["sortableAttributes"])


def test_healthy_reports_an_unreachable_server(fake: FakeMeili) -> None:
    assert MeiliIndex(fake.url, None, "entries").healthy()
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert not MeiliIndex(f"http://127.0.0.1:{port}", None, "entries", timeout=2).healthy()


# -- rebuilds ----------------------------------------------------------------------------------


def test_rebuild_fills_an_index_aside_and_swaps_it_in(backend: MeiliIndex, fake: FakeMeili) -> None:
    """A rebuild fills ``entries_rebuild`` while ``entries`` serves, swaps the two in one task
    and deletes the old documents under the rebuild name."""
    backend.upsert([person("old")])
    built = backend.begin_rebuild()
    assert built.index_name == "entries_rebuild"
    built.upsert([person("new1"), person("new2")])
    assert backend.search(SearchQuery()).total == 1  # the live index is untouched meanwhile
    assert backend.present(["old", "new1"]) == {"old"}
    backend.swap_in(built)
    assert backend.search(SearchQuery()).total == 2
    assert backend.present(["old", "new1", "new2"]) == {"new1", "new2"}
    assert set(fake.indexes) == {"entries"}
    (swap,) = fake.sent("POST", "/swap-indexes")
    assert swap.body == [{"indexes": ["entries", "entries_rebuild"]}]
    assert fake.sent("DELETE", "/indexes/entries_rebuild")
    patches = fake.sent("PATCH", "/settings")
    assert {r.path for r in patches} == {
        "/indexes/entries/settings",
        "/indexes/entries_rebuild/settings",
    }
    assert patches[-1].body == patches[0].body  # the new index has the same settings


def test_rebuild_first_removes_a_rebuild_index_left_by_a_crash(
    backend: MeiliIndex, fake: FakeMeili
) -> None:
    fake.indexes["entries_rebuild"] = {"stale": {"id": "stale"}}
    built = backend.begin_rebuild()
    assert fake.indexes["entries_rebuild"] == {}
    backend.abandon_rebuild(built)
    assert set(fake.indexes) == {"entries"}


def test_a_failed_swap_leaves_the_live_index_serving(backend: MeiliIndex, fake: FakeMeili) -> None:
    backend.upsert([person("old")])
    built = backend.begin_rebuild()
    built.upsert([person("new")])
    fake.fail["indexSwap"] = {"message": "Index `entries` not found.", "code": "index_not_found"}
    with pytest.raises(MeiliTaskFailed, match="not found"):
        backend.swap_in(built)
    assert backend.present(["old", "new"]) == {"old"}


def test_syncer_rebuild_on_meilisearch(fake: FakeMeili, tmp_path: Any) -> None:
    """``shixin reindex`` on Meilisearch: the public set, swapped in, and no index left over;
    a removal that arrives while the new index is filled is in neither afterwards."""
    from support import ingest, make_settings, removal
    from support import person as line

    from search_index.service import ListService

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3")
    service = ListService(settings, index=MeiliIndex(fake.url, None, "entries"))
    try:
        ingest(service, *(line(f"p{i}", iname=f"张{i}") for i in range(10)))
        built_upsert = MeiliIndex.upsert

        def upsert_then_shield(index: MeiliIndex, docs: Any) -> None:
            built_upsert(index, docs)
            if index.index_name == "entries_rebuild" and "p3" in fake.documents:
                ingest(service, removal("shield", "p3"))  # reaches the live index

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(MeiliIndex, "upsert", upsert_then_shield)
            result = service.rebuild_index()
        assert set(fake.indexes) == {"entries"}
        assert sorted(fake.documents) == [f"p{i}" for i in range(10) if i != 3]
        assert result.upserted == 9
        assert service.syncer.lag() == 0
        assert service.compliance().pending == 0
    finally:
        service.close()


# -- against a live server ---------------------------------------------------------------------

needs_meili = pytest.mark.skipif(
    not MEILI_URL, reason="set SHIXIN_TEST_MEILI_URL to run the Meilisearch contract tests"
)


@pytest.fixture
def live_backend() -> Iterator[MeiliIndex]:
    assert MEILI_URL
    name = f"shixin_test_{uuid.uuid4().hex}"
    yield MeiliIndex(MEILI_URL, MEILI_KEY, name)
    client = meilisearch.Client(MEILI_URL, MEILI_KEY)
    client.wait_for_task(client.delete_index(name).task_uid)


@pytest.mark.meili
@needs_meili
def test_live_hostile_values_and_unsafe_id_round_trip(live_backend: MeiliIndex) -> None:
    name, case_code = 'A"B\\C有限公司', '(2019)京"01\\执1号" OR party_type = "person'
    org = person(
        "京(2019)执/12 号",
        party_type="org",
        name=name,
        name_norm=normalize_name(name),
        case_code=case_code,
        card_display="911100001012345678",
    )
    live_backend.upsert([org, person("2")])

    assert live_backend.get(org.id) == org
    exact = live_backend.search(q_name(name, name_exact=True))
    assert [doc.id for doc in exact.items] == [org.id]
    by_case = live_backend.search(SearchQuery(case_code=case_code))
    assert [doc.id for doc in by_case.items] == [org.id]
    assert [doc.id for doc in live_backend.search(q_name("C有限")).items] == [org.id]
    live_backend.delete([org.id])
    assert live_backend.present([org.id, "2"]) == {"2"}


@pytest.mark.meili
@needs_meili
def test_live_names_never_fuzzy_and_exact_first(live_backend: MeiliIndex) -> None:
    names = {"1": "李张伟", "2": "张纬", "3": "张伟伟", "4": "张伟"}
    live_backend.upsert([person(i, name=n, name_norm=normalize_name(n)) for i, n in names.items()])
    page = live_backend.search(q_name("张伟"))
    assert page.total == 3
    assert [doc.id for doc in page.items] == ["4", "3", "1"]  # exact, starts with, contains


@pytest.mark.meili
@needs_meili
def test_live_court_filter_matches_part_of_the_name(live_backend: MeiliIndex) -> None:
    live_backend.upsert(
        [
            person("1", court_name="北京市朝阳区人民法院"),
            person("2", court_name="北京市海淀区人民法院"),
        ]
    )
    page = live_backend.search(q_name("张伟", court=place_key("朝阳区")))
    assert [doc.id for doc in page.items] == ["1"]
