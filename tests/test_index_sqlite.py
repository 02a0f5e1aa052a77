"""SqliteFtsIndex specifics: what is in the file, reopening, hostile query text, threads, and
the paging machinery checked against a brute-force reference."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest

from search_index.identifiers import id_check_char, keyed_hash, mask_id_number
from search_index.index.sqlite import SqliteFtsIndex, backend, schema
from search_index.index.sqlite.tokens import doc_name_tokens
from search_index.normalize import name_tokens, normalize_name, normalize_place
from search_index.types import IndexDoc, PartyType, SearchQuery, Sort

HASH_KEY = "sqlite-test-key"
COURTS = ("北京市朝阳区人民法院", "北京市海淀区人民法院", "上海市浦东新区人民法院")
AREAS = {"北京市朝阳区人民法院": "北京", "北京市海淀区人民法院": "北京"}


def full_id(serial: int) -> str:
    first17 = f"11010519800101{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def make_doc(
    entry_id: str,
    name: str,
    *,
    party_type: str = PartyType.PERSON,
    court: str = COURTS[0],
    published: date = date(2021, 3, 1),
    card: str | None = None,
    case_number: int = 1,
    seq: int = 1,
) -> IndexDoc:
    """An index document; ``card`` is the full identifier, of which only the masked form
    (persons) and the keyed hash are kept, as ``entries.doc_from_row`` does."""
    display = key = None
    if card is not None:
        display = mask_id_number(card) if party_type == PartyType.PERSON else card
        key = keyed_hash(HASH_KEY, card)
    return IndexDoc(
        id=entry_id,
        seq=seq,
        status="published",
        party_type=party_type,
        name=name,
        name_norm=normalize_name(name),
        case_code=f"(2020)京0105执{case_number}号",
        court_name=court,
        area_name=AREAS.get(court, "上海"),
        publish_date=published,
        card_display=display,
        card_key=key,
        fields={"duty": "偿还借款本金及利息"},
    )


def q_name(text: str, **kw: object) -> SearchQuery:
    return SearchQuery(name_tokens=tuple(name_tokens(text)), **kw)  # type: ignore[arg-type]


def place(text: str) -> str:
    """A court or area as ``build_query`` normalizes it."""
    return "".join(name_tokens(normalize_place(text)))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "index.sqlite3"


@pytest.fixture
def index(path: Path) -> Iterator[SqliteFtsIndex]:
    idx = SqliteFtsIndex(path)
    try:
        yield idx
    finally:
        idx.close()


def all_ids(idx: SqliteFtsIndex, query: SearchQuery) -> set[str]:
    page = idx.search(dataclasses.replace(query, per_page=1000))
    assert page.total == len(page.items)
    return {doc.id for doc in page.items}


# -- privacy -----------------------------------------------------------------------------------


def test_file_holds_no_full_id_number(path: Path) -> None:
    cards = [full_id(i) for i in range(20)]
    idx = SqliteFtsIndex(path)
    try:
        idx.upsert([make_doc(f"p{i}", f"张{i}", card=c) for i, c in enumerate(cards)])
        idx.upsert([make_doc("p0", "李四", card=cards[0])])  # replaced rows go too
        idx.delete(["p1"])
        assert all_ids(idx, SearchQuery(card_key=keyed_hash(HASH_KEY, cards[2]))) == {"p2"}
        assert all_ids(idx, SearchQuery(card_display=mask_id_number(cards[3]))) == {"p3"}
        files = {p: p.read_bytes() for p in path.parent.glob(path.name + "*")}  # db, -wal
    finally:
        idx.close()
    files[path] = path.read_bytes()  # after the final checkpoint too
    for name, data in files.items():
        for card in cards:
            assert card.encode() not in data, f"{card} in {name.name}"
    assert mask_id_number(cards[3]).encode() in files[path]  # what is shown stays


def test_refuses_a_person_document_with_a_full_id_number(index: SqliteFtsIndex) -> None:
    doc = make_doc("p", "张三")
    doc.card_display = full_id(1)
    with pytest.raises(ValueError, match="full ID number"):
        index.upsert([doc])
    assert index.count() == 0
    org = make_doc("o", "某公司", party_type=PartyType.ORG, card="911101051234567890")
    index.upsert([org])  # an all-digit credit code is public
    assert index.get("o") == org


# -- persistence and schema --------------------------------------------------------------------


def test_persists_across_reopen(path: Path) -> None:
    first = SqliteFtsIndex(path)
    try:
        first.upsert([make_doc("a", "张伟", court=COURTS[1]), make_doc("b", "李强", seq=5)])
    finally:
        first.close()
    second = SqliteFtsIndex(path)
    try:
        assert second.count() == 2
        assert second.get("a") == make_doc("a", "张伟", court=COURTS[1])
        assert all_ids(second, SearchQuery(court="海淀")) == {"a"}
        second.upsert([make_doc("c", "张强", court=COURTS[1])])  # place ids are reused
        assert all_ids(second, SearchQuery(court="海淀")) == {"a", "c"}
        assert list(second.iter_seqs()) == [("a", 1), ("b", 5), ("c", 1)]
    finally:
        second.close()


def test_a_file_of_another_layout_is_replaced_by_a_fresh_index(path: Path) -> None:
    old = SqliteFtsIndex(path)
    assert old.fresh
    old.upsert([make_doc("a", "张伟")])
    old.close()
    current = SqliteFtsIndex(path)  # a file of this layout is kept
    assert not current.fresh and current.present(["a"]) == {"a"}
    current.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    index = SqliteFtsIndex(path)
    try:
        assert index.fresh and index.present(["a"]) == set()
    finally:
        index.close()


def test_each_document_has_one_body_its_api_json(index: SqliteFtsIndex, path: Path) -> None:
    """The API JSON is the only stored body: the documents come back whole from it, and what
    only the index needs (seq, name_norm, card key) is kept beside it, never inside it."""
    person = make_doc("p", "張 偉", card=full_id(7), seq=7)  # name_norm differs from name
    person.reg_date, person.valid_until, person.severity = (
        date(2020, 5, 6),
        date(2026, 1, 1),
        "严重",
    )
    person.fields = {"sexy": "男", "age": 41, "duty": "偿还借款", "unperformPart": "全部"}
    org = make_doc("o", "某某公司", party_type=PartyType.ORG, card="91110105MA01234567", seq=3)
    odd_key = make_doc("k", "王五", seq=2)
    odd_key.card_key = "Not Hex: 键"  # any text stays exact
    bare = make_doc("b", "赵六", court=COURTS[2], seq=9)
    bare.fields, bare.area_name = {}, ""
    docs = [person, org, odd_key, bare]
    index.upsert(docs)
    for doc in docs:
        assert index.get(doc.id) == doc
    page = index.search(SearchQuery(per_page=10))
    assert sorted(page.items, key=lambda d: d.id) == sorted(docs, key=lambda d: d.id)
    conn = sqlite3.connect(path)
    try:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(docs)")]
        rows = dict(conn.execute("SELECT id, api FROM docs").fetchall())
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert "body" not in columns and "body_formats" not in tables
    for doc in docs:
        assert rows[doc.id] == api_of(doc)
        stored = orjson.loads(rows[doc.id])
        assert not {"seq", "name_norm", "nameNorm", "card_key", "cardKey"} & stored.keys()
        assert doc.card_key.encode() not in rows[doc.id] if doc.card_key else True


def test_doc_tokens_agree_with_name_tokens() -> None:
    for name in [
        "張偉",
        "ＡＢＣ１２３公司",
        "阿不都·热合曼",
        "乾隆",
        "O'Brien 约翰",
        "（北京）有限公司",
    ]:
        doc = make_doc("x", name)
        assert doc_name_tokens(doc) == name_tokens(name)


# -- hostile query text ------------------------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    "*",
    "张*",
    "OR",
    "张 OR 李",
    "NEAR(",
    "NEAR(张 李)",
    "-",
    "-张",
    "^张",
    '张"伟',
    "name:张",
    "{name tags}:张",
    "(张",
    "张)",
    "AND NOT",
    "any",
    "tags:any",
    "\x00",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_query_syntax_cannot_be_injected(index: SqliteFtsIndex, text: str) -> None:
    index.upsert(
        [
            make_doc("zw", "张伟"),
            make_doc("li", "李张"),
            make_doc("or", "OR贸易有限公司", party_type=PartyType.ORG),
            make_doc("near", "NEAR公司", party_type=PartyType.ORG),
            make_doc("and", "ANDNOT公司", party_type=PartyType.ORG),
        ]
    )
    tokens = name_tokens(text)
    expected = {
        doc.id
        for doc in (index.get(i) for i in ("zw", "li", "or", "near", "and"))
        if doc is not None and tokens and "".join(tokens) in "".join(name_tokens(doc.name))
    }
    for query in (
        q_name(text),
        q_name(text, name_exact=True),
        q_name(text, sort=Sort.PUBLISH_DATE),
    ):
        found = all_ids(index, query)
        assert found <= expected
        if not query.name_exact:
            assert found == expected
    for query in (
        SearchQuery(court=place(text)),
        SearchQuery(region=place(text)),
        SearchQuery(case_code=text),
        SearchQuery(card_key=text),
        SearchQuery(card_display=text),
    ):
        index.search(query)  # must not raise; what it finds is checked by the contract tests


def test_tag_tokens_are_not_names(index: SqliteFtsIndex) -> None:
    index.upsert([make_doc("a", "张伟"), make_doc("b", "ANY公司", party_type=PartyType.ORG)])
    assert all_ids(index, q_name("any")) == {"b"}  # not every document
    assert all_ids(index, q_name("tperson")) == set()
    assert all_ids(index, q_name("x")) == set()


# -- threads -----------------------------------------------------------------------------------


def test_reads_proceed_while_another_thread_writes(index: SqliteFtsIndex) -> None:
    index.upsert([make_doc("seed", "张伟")])
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for batch in range(30):
                index.upsert(
                    [make_doc(f"w{batch}-{i}", "张伟" + str(i), seq=batch) for i in range(50)]
                )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    totals = []
    while not done.is_set() or len(totals) < 3:
        page = index.search(q_name("张伟", per_page=7))
        assert len(page.items) == min(7, page.total)
        assert page.total % 50 == 1  # a snapshot: never half a batch
        totals.append(page.total)
    writer.join()
    assert not errors
    assert totals == sorted(totals)
    assert index.search(q_name("张伟")).total == 1 + 30 * 50


def test_close_stops_background_work(path: Path) -> None:
    idx = SqliteFtsIndex(path)
    idx.upsert([make_doc(f"d{i}", "张伟") for i in range(2500)])  # several chunks
    idx.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("sqlite-fts")]
    with pytest.raises(RuntimeError, match="closed"):
        idx.count()
    idx.close()  # twice is fine


# -- paging against a brute-force reference ----------------------------------------------------

POOL = "张王李伟明华强"


def random_docs(rng: random.Random, n: int) -> list[IndexDoc]:
    days = [date(2021, 1, 1) + timedelta(days=d) for d in (0, 1, 2, 5, 30)]
    docs = []
    for i in range(n):
        name = "".join(rng.choice(POOL) for _ in range(rng.choice((1, 2, 2, 3, 4))))
        party = rng.choice((PartyType.PERSON, PartyType.PERSON, PartyType.ORG))
        docs.append(
            make_doc(
                f"r{rng.randrange(10**6):06d}-{i}",
                name,
                party_type=party,
                court=rng.choice(COURTS),
                published=rng.choice(days),
                card=full_id(rng.randrange(40)) if party == PartyType.PERSON else None,
                case_number=rng.randrange(50),
                seq=i,
            )
        )
    return docs


def reference(docs: list[IndexDoc], q: SearchQuery) -> list[str]:
    """The contract, spelled out slowly."""
    wanted = "".join(name_tokens(q.name)) if q.name else ""

    def tier(doc: IndexDoc) -> int | None:
        have = "".join(name_tokens(doc.name))
        if not wanted:
            return 0
        if have == wanted:
            return 0
        if q.name_exact:
            return None
        if have.startswith(wanted):
            return 1
        return 2 if wanted in have else None

    hits = []
    for doc in docs:
        t = tier(doc)
        if t is None:
            continue
        if q.court and place(q.court) not in place(doc.court_name):
            continue
        if q.region and place(q.region) not in place(doc.area_name):
            continue
        if q.party_type and doc.party_type != q.party_type:
            continue
        if q.published_from and doc.publish_date < q.published_from:
            continue
        if q.published_to and doc.publish_date > q.published_to:
            continue
        if q.case_code and doc.case_code != q.case_code:
            continue
        if (q.card_key or q.card_display) and not (
            (q.card_key and doc.card_key == q.card_key)
            or (q.card_display and doc.card_display == q.card_display)
        ):
            continue
        rank = t if q.sort is Sort.RELEVANCE else 0
        hits.append((rank, -doc.publish_date.toordinal(), doc.id))
    return [entry_id for *_, entry_id in sorted(hits)]


def random_query(rng: random.Random) -> SearchQuery:
    q = SearchQuery(sort=rng.choice((Sort.RELEVANCE, Sort.PUBLISH_DATE)))
    if rng.random() < 0.8:
        q.name_tokens = tuple(rng.choice(POOL) for _ in range(rng.choice((1, 1, 2, 3))))
        q.name_exact = rng.random() < 0.15
    if rng.random() < 0.2:
        q.court = rng.choice(("朝阳", "北京", "法院", "浦东新区"))
    if rng.random() < 0.2:
        q.region = rng.choice(("北京", "上海"))
    if rng.random() < 0.2:
        q.party_type = rng.choice((PartyType.PERSON, PartyType.ORG))
    if rng.random() < 0.2:
        q.published_from = date(2021, 1, rng.choice((1, 2, 3)))
    if rng.random() < 0.2:
        q.published_to = date(2021, 1, rng.choice((1, 2, 6)))
    if rng.random() < 0.1:
        q.case_code = f"(2020)京0105执{rng.randrange(50)}号"
    if rng.random() < 0.1:
        card = full_id(rng.randrange(40))
        q.card_key = keyed_hash(HASH_KEY, card) if rng.random() < 0.5 else None
        q.card_display = mask_id_number(card) if rng.random() < 0.5 else None
    return q


def check_all_pages(idx: SqliteFtsIndex, docs: list[IndexDoc], q: SearchQuery, size: int) -> None:
    expected = reference(docs, q)
    got: list[str] = []
    for page in range(1, len(expected) // size + 3):
        result = idx.search(dataclasses.replace(q, page=page, per_page=size))
        assert result.total == len(expected), q
        got += [doc.id for doc in result.items]
    assert got == expected, q


def rename(doc: IndexDoc, name: str) -> IndexDoc:
    return dataclasses.replace(doc, name=name, name_norm=normalize_name(name), seq=doc.seq + 1)


# (SMALL_RESULT, PAIR_SAMPLE, CANDIDATES): each way of answering a name query on its own.
PATHS = {
    "as-is": (backend.SMALL_RESULT, backend.PAIR_SAMPLE, backend.CANDIDATES),
    "all-tiered": (0, 0, 0),
    "small-result": (backend.SMALL_RESULT, 0, 0),
    "few-candidates": (0, backend.PAIR_SAMPLE, 3),
}


@pytest.mark.parametrize("path_limits", PATHS.values(), ids=PATHS.keys())
def test_pages_match_the_reference(
    index: SqliteFtsIndex, monkeypatch: pytest.MonkeyPatch, path_limits: tuple[int, int, int]
) -> None:
    for name, value in zip(("SMALL_RESULT", "PAIR_SAMPLE", "CANDIDATES"), path_limits, strict=True):
        monkeypatch.setattr(backend, name, value)
    rng = random.Random(20240601)
    docs = random_docs(rng, 400)
    index.upsert(docs[:250])
    index.upsert(docs[250:])
    # rewrite and delete some, so that FTS deletes are exercised too
    changed = [rename(d, d.name[::-1] + "强") for d in docs[:60]]
    index.upsert(changed)
    index.delete([d.id for d in docs[60:90]])
    current = changed + docs[90:]
    for _ in range(150):
        check_all_pages(index, current, random_query(rng), rng.choice((1, 3, 7, 50)))


def test_pages_match_after_optimize(index: SqliteFtsIndex) -> None:
    rng = random.Random(7)
    docs = random_docs(rng, 120)
    for start in range(0, 120, 10):
        index.upsert(docs[start : start + 10])
    index.optimize()
    for _ in range(30):
        check_all_pages(index, docs, random_query(rng), rng.choice((2, 5)))


def test_identifier_tokens_stay_exact(index: SqliteFtsIndex) -> None:
    code = "91110105MA0000000X"
    index.upsert(
        [
            make_doc("o", "甲公司", party_type=PartyType.ORG, card=code, case_number=1),
            make_doc("p", "张三", card=full_id(9), case_number=12),
        ]
    )
    assert all_ids(index, SearchQuery(card_display=code)) == {"o"}
    assert all_ids(index, SearchQuery(card_display=code.lower())) == set()
    assert all_ids(index, SearchQuery(card_display=mask_id_number(full_id(9)))) == {"p"}
    assert (
        all_ids(index, SearchQuery(card_display=mask_id_number(full_id(9)).replace("*", "")))
        == set()
    )
    assert all_ids(index, SearchQuery(card_key=keyed_hash(HASH_KEY, code).upper())) == set()
    assert all_ids(index, SearchQuery(case_code="(2020)京0105执1号")) == {"o"}
    assert all_ids(index, SearchQuery(case_code="(2020)京0105执12号")) == {"p"}
    for near in ["2020京0105执1号", "(2020)京0105执1", "（2020）京0105执1号", "(2020)京0105执"]:
        assert all_ids(index, SearchQuery(case_code=near)) == set()


def test_small_results_rank_exactly_like_the_tiered_sql_path(
    index: SqliteFtsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Name queries with few matches are ranked in Python; the order and the pages must be
    the ones the tiered SQL path gives (exact, then starts-with, then contains; newest
    first; ties by id)."""
    rng = random.Random(5)
    names = ["张伟", "张伟民", "李张伟", "张伟", "王张伟丽", "张伟科技有限公司", "张", "伟张"]
    docs = [
        make_doc(
            f"d{i:03d}",
            rng.choice(names),
            party_type=PartyType.ORG if i % 7 == 0 else PartyType.PERSON,
            published=date(2020, 1, 1) + timedelta(days=rng.randrange(40)),
        )
        for i in range(120)
    ]
    index.upsert(docs)
    queries = [q_name("张伟", per_page=7, page=page) for page in (1, 2, 5, 18)] + [
        q_name("伟", per_page=20),
        q_name("张伟科技", per_page=5),
        q_name("张", per_page=50),
    ]
    monkeypatch.setattr(backend, "PAIR_SAMPLE", 0)  # not by rare pairs
    fast = [index.search(q) for q in queries]
    monkeypatch.setattr(backend, "SMALL_RESULT", 0)  # force the tiered SQL path
    slow = [index.search(q) for q in queries]
    for got, want in zip(fast, slow, strict=True):
        assert got.total == want.total
        assert [d.id for d in got.items] == [d.id for d in want.items]
    assert fast[0].items[0].name == "张伟"  # exact names first


def test_counts_through_many_matching_courts(index: SqliteFtsIndex) -> None:
    """A court query matching dozens of courts is counted court by court."""
    rng = random.Random(3)
    courts = [f"第{i}中级人民法院" for i in range(1, 25)] + ["某仲裁委员会"]
    docs = [
        dataclasses.replace(doc, court_name=rng.choice(courts)) for doc in random_docs(rng, 300)
    ]
    index.upsert(docs)
    for _ in range(40):
        q = random_query(rng)
        q.court = rng.choice(("中级人民法院", "1", "人民法院"))
        check_all_pages(index, docs, q, rng.choice((3, 20)))


# -- stored API JSON and rare pairs ------------------------------------------------------------


def api_of(doc: IndexDoc) -> bytes:
    return orjson.dumps(doc.to_api())


def test_results_carry_the_api_json_of_their_documents(index: SqliteFtsIndex) -> None:
    rng = random.Random(11)
    docs = random_docs(rng, 80)
    index.upsert(docs)
    for _ in range(30):
        page = index.search(dataclasses.replace(random_query(rng), per_page=10))
        assert page.api_items is not None
        assert list(page.api_items) == [api_of(doc) for doc in page.items]
        assert all(
            orjson.loads(item)["id"] == doc.id
            for item, doc in zip(page.api_items, page.items, strict=True)
        )


def test_api_json_of_another_format_is_not_served(
    index: SqliteFtsIndex, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After ``to_api`` changes (and API_FORMAT with it), a file holding JSON of the old shape
    is discarded on open, like one of another layout: the sync refills it from the store."""
    index.upsert([make_doc("a", "张伟")])
    index.close()
    monkeypatch.setattr(schema, "API_FORMAT", schema.API_FORMAT + 1)
    monkeypatch.setattr(IndexDoc, "to_api", lambda self: {"id": self.id, "new": True})
    reopened = SqliteFtsIndex(path)
    try:
        assert reopened.fresh and reopened.count() == 0
        assert reopened.search(q_name("张伟")).api_items == []
        reopened.upsert([make_doc("a", "张伟"), make_doc("b", "张伟")])
        assert reopened.search(q_name("张伟")).api_items == [
            b'{"id":"a","new":true}',
            b'{"id":"b","new":true}',
        ]
    finally:
        reopened.close()
    again = SqliteFtsIndex(path)  # written in the current format: kept
    try:
        assert not again.fresh and again.present(["a", "b"]) == {"a", "b"}
    finally:
        again.close()


def test_stale_pair_counts_only_cost_time(index: SqliteFtsIndex) -> None:
    """Pair counts are estimates taken once; a pair that has since become common must still
    give exact results."""
    index.upsert([make_doc("a", "欧阳娜娜"), make_doc("b", "欧阳娜")])
    assert index.search(q_name("欧阳娜")).total == 2  # 欧阳 and 阳娜 counted as rare
    many = [make_doc(f"m{i:03d}", f"欧阳{chr(0x4E00 + i)}娜") for i in range(150)]
    index.upsert(many)
    page = index.search(q_name("欧阳", per_page=200))
    assert page.total == 152
    assert index.search(q_name("欧阳娜娜")).total == 1
    index.delete(["a"])
    assert index.search(q_name("欧阳娜")).total == 1
    assert index.search(q_name("欧阳娜娜")).total == 0


def test_rare_pairs_respect_every_filter(index: SqliteFtsIndex) -> None:
    docs = [
        make_doc("p1", "司马相如", court=COURTS[0], published=date(2021, 1, 1)),
        make_doc("p2", "司马相如", court=COURTS[1], published=date(2021, 2, 1)),
        make_doc("o1", "司马相如有限公司", party_type=PartyType.ORG, court=COURTS[1]),
    ]
    index.upsert(docs)
    assert all_ids(index, q_name("司马相如")) == {"p1", "p2", "o1"}
    assert all_ids(index, q_name("司马相如", party_type=PartyType.ORG)) == {"o1"}
    assert all_ids(index, q_name("司马相如", court="海淀")) == {"p2", "o1"}
    assert all_ids(index, q_name("相如", published_to=date(2021, 1, 31))) == {"p1"}
    assert all_ids(index, q_name("司马相如", name_exact=True)) == {"p1", "p2"}
    dated = index.search(q_name("司马相如", sort=Sort.PUBLISH_DATE))
    assert [d.id for d in dated.items] == ["o1", "p2", "p1"]


def test_a_full_pair_cache_is_not_walked_per_search(index: SqliteFtsIndex) -> None:
    """Looking up a name's pairs in the cache must not cost a pass over the whole cache
    (``set - dict.keys()`` does one): a long-running portal holds up to PAIR_CACHE pairs."""

    class NoWalk(dict):  # type: ignore[type-arg]
        def keys(self):  # type: ignore[no-untyped-def]
            raise AssertionError("walked the pair cache")

        def __iter__(self):  # type: ignore[no-untyped-def]
            raise AssertionError("walked the pair cache")

    index.upsert([make_doc("a", "欧阳娜娜"), make_doc("b", "司马相如")])
    index._pair_counts = NoWalk()
    assert all_ids(index, q_name("欧阳娜娜")) == {"a"}
    assert all_ids(index, q_name("司马相如")) == {"b"}
    assert set(dict.keys(index._pair_counts)) >= {"欧阳", "阳娜", "娜娜", "司马"}


def test_the_index_filled_beside_an_import_has_a_larger_page_cache(tmp_path: Path) -> None:
    """The process that fills the index beside ``shixin import`` opens it with
    ``SHIXIN_IMPORT_CACHE_MIB`` per connection; a portal's many pooled connections keep
    16 MiB each (they read through one shared mmap)."""
    from core.settings import load_settings
    from search_index.index import open_index

    settings = load_settings({"SHIXIN_DATA_DIR": str(tmp_path), "SHIXIN_IMPORT_CACHE_MIB": "48"})
    for bulk, kib in ((True, 48 * 1024), (False, 16 * 1024)):
        index = open_index(settings, bulk=bulk)
        try:
            assert isinstance(index, SqliteFtsIndex)
            with index._pool.connection() as conn:
                assert conn.execute("PRAGMA cache_size").fetchone()[0] == -kib
        finally:
            index.close()
