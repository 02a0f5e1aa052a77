"""What every IndexBackend must do, run against each backend.

``sqlite`` always runs. ``meili`` needs a Meilisearch server: set SHIXIN_TEST_MEILI_URL (and
SHIXIN_TEST_MEILI_KEY if the server has a master key); each test gets its own index.

Queries are built the way ``search_index.query.build_query`` builds them: names and places as
their name tokens joined, identifiers hashed or canonical.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import uuid
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from search_index.identifiers import id_check_char, keyed_hash, mask_id_number
from search_index.normalize import (
    name_tokens,
    normalize_case_code,
    normalize_name,
    normalize_place,
)
from search_index.types import IndexBackend, IndexDoc, PartyType, SearchQuery, Sort

HASH_KEY = "contract-test-key"
FULL_ID_RE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")

BJ_CHAOYANG = "北京市朝阳区人民法院"
BJ_HAIDIAN = "北京市海淀区人民法院"
SH_PUDONG = "上海市浦东新区人民法院"


# -- test data ---------------------------------------------------------------------------------


def full_id(serial: int, birth: str = "19800101", region: str = "110105") -> str:
    first17 = f"{region}{birth}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def make_doc(
    entry_id: str,
    name: str,
    *,
    party_type: PartyType = PartyType.PERSON,
    court: str = BJ_CHAOYANG,
    area: str = "北京",
    published: date = date(2021, 3, 1),
    case_number: int | None = None,
    card: str | None = None,
    seq: int = 1,
) -> IndexDoc:
    """An index document as ``entries.doc_from_row`` makes it. ``card`` is the full ID number
    (persons) or credit code (organizations); only its masked form and hash are kept."""
    number = case_number if case_number is not None else zlib.crc32(entry_id.encode()) % 100000
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
        case_code=normalize_case_code(f"(2020)京0105执{number}号"),
        court_name=court,
        area_name=area,
        publish_date=published,
        reg_date=date(2020, 12, 1),
        valid_until=date(2023, 3, 1),
        severity="一般",
        card_display=display,
        card_key=key,
        fields={"sexy": "男", "age": 40, "duty": "偿还借款本金及利息", "performance": "全部未履行"},
    )


def q_name(text: str, **kw: Any) -> SearchQuery:
    return SearchQuery(name_tokens=tuple(name_tokens(text)), **kw)


def place(text: str) -> str:
    return "".join(name_tokens(normalize_place(text)))


def ids(index: IndexBackend, query: SearchQuery) -> list[str]:
    return [doc.id for doc in index.search(query).items]


def id_set(index: IndexBackend, query: SearchQuery) -> set[str]:
    page = index.search(dataclasses.replace(query, per_page=100))
    assert page.total == len(page.items)
    return {doc.id for doc in page.items}


# -- the backends ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "meili"])
def index_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexBackend]:
    if request.param == "sqlite":
        from search_index.index.sqlite import SqliteFtsIndex

        index: IndexBackend = SqliteFtsIndex(tmp_path / "index.sqlite3")
        try:
            yield index
        finally:
            index.close()
        return
    url = os.environ.get("SHIXIN_TEST_MEILI_URL")
    if not url:
        pytest.skip("set SHIXIN_TEST_MEILI_URL to run the Meilisearch contract tests")
    from search_index.index.meili import MeiliIndex

    key = os.environ.get("SHIXIN_TEST_MEILI_KEY") or None
    index = MeiliIndex(url, key, f"shixin_test_{uuid.uuid4().hex[:12]}")
    try:
        yield index
    finally:
        index.clear()
        index.close()


# -- names -------------------------------------------------------------------------------------


def test_name_matches_any_contiguous_part(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("a", "张伟明"),
            make_doc("b", "李张伟"),
            make_doc("c", "王伟"),
            make_doc("d", "张明伟"),
        ]
    )
    assert id_set(index_backend, q_name("张")) == {"a", "b", "d"}
    assert id_set(index_backend, q_name("伟")) == {"a", "b", "c", "d"}
    assert id_set(index_backend, q_name("张伟")) == {"a", "b"}
    assert id_set(index_backend, q_name("张伟明")) == {"a"}
    assert id_set(index_backend, q_name("伟张")) == set()  # characters out of order
    assert id_set(index_backend, q_name("赵")) == set()


def test_traditional_and_simplified_find_each_other(index_backend: IndexBackend) -> None:
    index_backend.upsert([make_doc("simp", "张伟"), make_doc("trad", "劉德華")])
    assert id_set(index_backend, q_name("張偉")) == {"simp"}
    assert id_set(index_backend, q_name("刘德华")) == {"trad"}
    assert id_set(index_backend, q_name("德華")) == {"trad"}


def test_full_width_and_half_width_find_each_other(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("half", "ABC贸易有限公司", party_type=PartyType.ORG),
            make_doc("full", "ＸＹＺ１２３科技有限公司", party_type=PartyType.ORG),
        ]
    )
    assert id_set(index_backend, q_name("ＡＢＣ贸易")) == {"half"}
    assert id_set(index_backend, q_name("abc")) == {"half"}
    assert id_set(index_backend, q_name("xyz123科技")) == {"full"}
    assert id_set(index_backend, q_name("有限公司")) == {"half", "full"}


def test_names_with_middle_dots(index_backend: IndexBackend) -> None:
    index_backend.upsert([make_doc("u", "阿不都·热合曼"), make_doc("v", "买买提•吐尔逊")])
    assert id_set(index_backend, q_name("阿不都热合曼")) == {"u"}
    assert id_set(index_backend, q_name("阿不都・热合曼")) == {"u"}
    assert id_set(index_backend, q_name("热合曼")) == {"u"}
    assert id_set(index_backend, q_name("买买提·吐尔逊")) == {"v"}
    assert id_set(index_backend, q_name("都热")) == {"u"}  # the dot does not separate words


def test_exact_name(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("a", "张伟"),
            make_doc("b", "张伟明"),
            make_doc("c", "李张伟"),
            make_doc("d", "張偉"),
        ]
    )
    assert id_set(index_backend, q_name("张伟", name_exact=True)) == {"a", "d"}
    assert id_set(index_backend, q_name("张", name_exact=True)) == set()
    assert id_set(index_backend, q_name("张伟明", name_exact=True)) == {"b"}


# -- identifiers and case numbers --------------------------------------------------------------


def test_case_number_matches_exactly(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("a", "张三", case_number=1234),
            make_doc("b", "李四", case_number=12345),
            make_doc("c", "王五", case_number=1235),
        ]
    )
    code = normalize_case_code("（2020）京0105执1234号")
    assert id_set(index_backend, SearchQuery(case_code=code)) == {"a"}
    assert id_set(index_backend, SearchQuery(case_code="(2020)京0105执123号")) == set()
    assert id_set(index_backend, SearchQuery(case_code="(2020)京0105执1234")) == set()


def test_card_key_and_display_match_exactly(index_backend: IndexBackend) -> None:
    card_a, card_b = full_id(1), full_id(2)
    index_backend.upsert(
        [
            make_doc("a", "张三", card=card_a),
            make_doc("b", "李四", card=card_b),
            make_doc("o", "某某公司", party_type=PartyType.ORG, card="91110105MA0000000X"),
        ]
    )
    key_a = keyed_hash(HASH_KEY, card_a)
    assert id_set(index_backend, SearchQuery(card_key=key_a)) == {"a"}
    one_off = key_a[:-1] + ("0" if key_a[-1] != "0" else "1")
    assert id_set(index_backend, SearchQuery(card_key=one_off)) == set()
    assert id_set(index_backend, SearchQuery(card_key=key_a[:-1])) == set()

    masked_a = mask_id_number(card_a)
    assert id_set(index_backend, SearchQuery(card_display=masked_a)) == {"a"}
    one_off_masked = masked_a[:-1] + ("0" if masked_a[-1] != "0" else "1")
    assert id_set(index_backend, SearchQuery(card_display=one_off_masked)) == set()
    assert id_set(index_backend, SearchQuery(card_display="91110105MA0000000X")) == {"o"}
    assert id_set(index_backend, SearchQuery(card_display="91110105MA0000000")) == set()


def test_card_key_or_display(index_backend: IndexBackend) -> None:
    code = "91110105MA0000000X"
    index_backend.upsert(
        [
            make_doc("by_key", "甲公司", party_type=PartyType.ORG, card=code),
            make_doc("other", "乙公司", party_type=PartyType.ORG, card="91110105MA0000001X"),
        ]
    )
    query = SearchQuery(card_key=keyed_hash(HASH_KEY, code), card_display="no-such-display")
    assert id_set(index_backend, query) == {"by_key"}
    query = SearchQuery(card_key="0" * 32, card_display=code)
    assert id_set(index_backend, query) == {"by_key"}
    query = SearchQuery(card_key="0" * 32, card_display="no-such-display")
    assert id_set(index_backend, query) == set()


# -- filters -----------------------------------------------------------------------------------


def test_court_and_region_filters(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("cy", "张三", court=BJ_CHAOYANG, area="北京"),
            make_doc("hd", "张四", court=BJ_HAIDIAN, area="北京"),
            make_doc("pd", "张五", court=SH_PUDONG, area="上海"),
        ]
    )
    assert id_set(index_backend, SearchQuery(court=place("朝阳"))) == {"cy"}
    assert id_set(index_backend, SearchQuery(court=place("北京市"))) == {"cy", "hd"}
    assert id_set(index_backend, SearchQuery(court=place("人民法院"))) == {"cy", "hd", "pd"}
    assert id_set(index_backend, SearchQuery(court=place("朝阳法院"))) == set()
    assert id_set(index_backend, SearchQuery(region=place("上海"))) == {"pd"}
    assert id_set(index_backend, SearchQuery(region=place("北京"))) == {"cy", "hd"}
    assert id_set(index_backend, SearchQuery(region=place("广东"))) == set()
    both = q_name("张", court=place("海淀"), region=place("北京"))
    assert id_set(index_backend, both) == {"hd"}
    assert id_set(index_backend, q_name("张五", region=place("北京"))) == set()


def test_party_type_filter(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("p", "张三"),
            make_doc("o", "张三贸易有限公司", party_type=PartyType.ORG),
        ]
    )
    assert id_set(index_backend, q_name("张三", party_type=PartyType.PERSON)) == {"p"}
    assert id_set(index_backend, q_name("张三", party_type=PartyType.ORG)) == {"o"}
    assert id_set(index_backend, SearchQuery(party_type=PartyType.ORG)) == {"o"}


def test_publish_date_range_is_inclusive(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("d1", "张一", published=date(2021, 1, 1)),
            make_doc("d2", "张二", published=date(2021, 1, 2)),
            make_doc("d3", "张三", published=date(2021, 1, 3)),
            make_doc("d4", "张四", published=date(2021, 1, 4)),
        ]
    )
    start, end = date(2021, 1, 2), date(2021, 1, 3)
    query = SearchQuery(published_from=start, published_to=end)
    assert id_set(index_backend, query) == {"d2", "d3"}
    assert id_set(index_backend, SearchQuery(published_from=end)) == {"d3", "d4"}
    assert id_set(index_backend, SearchQuery(published_to=start)) == {"d1", "d2"}
    assert id_set(index_backend, q_name("张三", published_from=start, published_to=end)) == {"d3"}
    assert id_set(index_backend, SearchQuery(published_from=end, published_to=start)) == set()


def test_all_filters_are_anded(index_backend: IndexBackend) -> None:
    card = full_id(7)
    index_backend.upsert(
        [
            make_doc("hit", "张伟", card=card, case_number=77, published=date(2021, 5, 5)),
            make_doc("late", "张伟", card=card, case_number=78, published=date(2022, 5, 5)),
            make_doc("shanghai", "张伟", court=SH_PUDONG, area="上海", case_number=79),
        ]
    )
    query = q_name(
        "张伟",
        card_key=keyed_hash(HASH_KEY, card),
        court=place("朝阳"),
        region=place("北京"),
        party_type=PartyType.PERSON,
        published_to=date(2021, 12, 31),
    )
    assert id_set(index_backend, query) == {"hit"}
    query.case_code = normalize_case_code("(2020)京0105执78号")
    assert id_set(index_backend, query) == set()


# -- order and paging --------------------------------------------------------------------------


def test_relevance_order(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("inner-new", "李张伟", published=date(2022, 1, 1)),
            make_doc("prefix-old", "张伟明", published=date(2020, 1, 1)),
            make_doc("exact-old", "张伟", published=date(2019, 1, 1)),
            make_doc("prefix-new-b", "张伟强", published=date(2021, 1, 1)),
            make_doc("prefix-new-a", "张伟华", published=date(2021, 1, 1)),
            make_doc("exact-new", "张伟", published=date(2021, 6, 1)),
            make_doc("inner-old", "王张伟", published=date(2018, 1, 1)),
        ]
    )
    assert ids(index_backend, q_name("张伟")) == [
        "exact-new",
        "exact-old",
        "prefix-new-a",  # same day as prefix-new-b: the id decides
        "prefix-new-b",
        "prefix-old",
        "inner-new",
        "inner-old",
    ]


def test_publish_date_order(index_backend: IndexBackend) -> None:
    index_backend.upsert(
        [
            make_doc("b", "张伟", published=date(2021, 1, 1)),
            make_doc("c", "李张伟", published=date(2022, 1, 1)),
            make_doc("a", "张伟明", published=date(2021, 1, 1)),
            make_doc("d", "王五", published=date(2023, 1, 1)),
        ]
    )
    assert ids(index_backend, q_name("张伟", sort=Sort.PUBLISH_DATE)) == ["c", "a", "b"]
    assert ids(index_backend, SearchQuery(sort=Sort.PUBLISH_DATE)) == ["d", "c", "a", "b"]
    # without a name, relevance is the publish date too
    assert ids(index_backend, SearchQuery()) == ["d", "c", "a", "b"]


def test_paging_and_total(index_backend: IndexBackend) -> None:
    docs = [
        make_doc(f"e{i:02d}", "张" + "伟明华"[i % 3], published=date(2021, 1, 1 + i % 4))
        for i in range(25)
    ]
    index_backend.upsert(docs)
    expected = sorted(docs, key=lambda d: (-d.publish_date.toordinal(), d.id))
    for sort in (Sort.RELEVANCE, Sort.PUBLISH_DATE):
        seen: list[str] = []
        for page in (1, 2, 3):
            result = index_backend.search(q_name("张", sort=sort, page=page, per_page=10))
            assert result.total == 25
            assert (result.page, result.per_page) == (page, 10)
            assert len(result.items) == (10 if page < 3 else 5)
            seen += [doc.id for doc in result.items]
        assert seen == [d.id for d in expected]
        beyond = index_backend.search(q_name("张", sort=sort, page=4, per_page=10))
        assert beyond.total == 25 and beyond.items == []


def test_no_criteria_returns_everything_newest_first(index_backend: IndexBackend) -> None:
    docs = [make_doc(f"n{i}", f"名{i}", published=date(2020, 1 + i, 1)) for i in range(5)]
    index_backend.upsert(docs)
    page = index_backend.search(SearchQuery(per_page=3))
    assert page.total == 5
    assert [d.id for d in page.items] == ["n4", "n3", "n2"]
    assert ids(index_backend, SearchQuery(page=2, per_page=3)) == ["n1", "n0"]


# -- writes ------------------------------------------------------------------------------------


def test_get_returns_the_document(index_backend: IndexBackend) -> None:
    doc = make_doc("g", "阿不都·热合曼", card=full_id(3))
    index_backend.upsert([doc])
    assert index_backend.get("g") == doc
    assert index_backend.get("missing") is None
    found = index_backend.search(q_name("热合曼")).items[0]
    assert found == doc
    assert isinstance(found.publish_date, date)


def test_upsert_replaces(index_backend: IndexBackend) -> None:
    index_backend.upsert([make_doc("r", "张伟", seq=1), make_doc("s", "王五", seq=2)])
    changed = make_doc("r", "李强", seq=3, court=SH_PUDONG, area="上海", case_number=999)
    index_backend.upsert([changed])
    assert index_backend.count() == 2
    assert id_set(index_backend, q_name("张伟")) == set()
    assert id_set(index_backend, q_name("李强")) == {"r"}
    assert id_set(index_backend, SearchQuery(region=place("北京"))) == {"s"}
    code = normalize_case_code("(2020)京0105执999号")
    assert id_set(index_backend, SearchQuery(case_code=code)) == {"r"}
    assert index_backend.get("r") == changed
    assert dict(index_backend.iter_seqs()) == {"r": 3, "s": 2}


def test_upsert_batch_repeating_an_id_keeps_the_last(index_backend: IndexBackend) -> None:
    index_backend.upsert([make_doc("x", "张伟", seq=1), make_doc("x", "李强", seq=2)])
    assert index_backend.count() == 1
    assert id_set(index_backend, q_name("李强")) == {"x"}
    assert id_set(index_backend, q_name("张伟")) == set()


def test_delete_removes_everywhere(index_backend: IndexBackend) -> None:
    card = full_id(5)
    index_backend.upsert([make_doc("k", "张伟", card=card), make_doc("d", "张伟", card=card)])
    index_backend.delete(["d", "never-indexed"])
    assert index_backend.get("d") is None
    assert index_backend.present(["k", "d", "never-indexed"]) == {"k"}
    assert id_set(index_backend, q_name("张伟")) == {"k"}
    assert id_set(index_backend, SearchQuery(card_key=keyed_hash(HASH_KEY, card))) == {"k"}
    assert index_backend.count() == 1
    index_backend.delete([])


def test_iter_seqs_ordered_by_id(index_backend: IndexBackend) -> None:
    names = ["b", "a", "c10", "c9", "A"]
    index_backend.upsert([make_doc(n, "张伟", seq=i + 1) for i, n in enumerate(names)])
    assert list(index_backend.iter_seqs()) == [("A", 5), ("a", 2), ("b", 1), ("c10", 3), ("c9", 4)]


def test_count_clear_healthy(index_backend: IndexBackend) -> None:
    assert index_backend.healthy()
    assert index_backend.count() == 0
    index_backend.upsert([make_doc(f"c{i}", "张伟") for i in range(3)])
    assert index_backend.count() == 3
    index_backend.clear()
    assert index_backend.count() == 0
    assert index_backend.search(q_name("张伟")).total == 0
    assert list(index_backend.iter_seqs()) == []
    index_backend.upsert([make_doc("again", "张伟")])
    assert id_set(index_backend, q_name("张伟")) == {"again"}


def test_a_rebuilt_index_is_swapped_in_whole(index_backend: IndexBackend) -> None:
    """What ``shixin reindex`` relies on: the live index serves its old contents while a new
    one is filled beside it, then the new contents at once, and a court or area first seen in
    the new one is found."""
    index_backend.upsert([make_doc("old", "张伟"), make_doc("gone", "张伟")])
    built = index_backend.begin_rebuild()
    try:
        built.upsert([make_doc(f"n{i}", "张伟") for i in range(3)])
        built.upsert([make_doc("sh", "张伟", court="上海市浦东新区人民法院", area="上海")])
        assert id_set(index_backend, q_name("张伟")) == {"old", "gone"}
        assert built.present(["old", "n0"]) == {"n0"}
    except BaseException:
        index_backend.abandon_rebuild(built)
        raise
    index_backend.swap_in(built)
    assert id_set(index_backend, q_name("张伟")) == {"n0", "n1", "n2", "sh"}
    assert index_backend.count() == 4
    assert index_backend.present(["old", "gone", "n1"]) == {"n1"}
    assert id_set(index_backend, q_name("张伟", court=place("浦东"))) == {"sh"}
    index_backend.upsert([make_doc("after", "张伟")])  # the swapped-in index takes writes
    index_backend.delete(["n0"])
    assert id_set(index_backend, q_name("张伟")) == {"n1", "n2", "sh", "after"}


def test_documents_never_hold_a_full_id_number(index_backend: IndexBackend) -> None:
    cards = [full_id(i, birth=f"19{60 + i}0{1 + i % 9}1{i % 9}") for i in range(5)]
    docs = [make_doc(f"p{i}", f"张{i}", card=card) for i, card in enumerate(cards)]
    docs.append(make_doc("o", "某公司", party_type=PartyType.ORG, card="91110105MA0000000X"))
    index_backend.upsert(docs)
    stored = [index_backend.get(doc.id) for doc in docs]
    stored += index_backend.search(SearchQuery(per_page=100)).items
    text = json.dumps([dataclasses.asdict(doc) for doc in stored if doc is not None], default=str)
    text += json.dumps([doc.to_api() for doc in stored if doc is not None])
    for card in cards:
        assert card not in text
    assert FULL_ID_RE.findall(text) == []


# -- legal representatives ---------------------------------------------------------------------


def org_doc(entry_id: str, name: str, representative: str | None, **kw: Any) -> IndexDoc:
    doc = make_doc(entry_id, name, party_type=PartyType.ORG, **kw)
    doc.fields = {"duty": "偿还货款", "performance": "全部未履行"}
    if representative is not None:
        doc.fields["businessEntity"] = representative
    return doc


def test_organizations_are_found_by_their_representatives_exact_name(
    index_backend: IndexBackend,
) -> None:
    index_backend.upsert(
        [
            org_doc("o1", "北京甲公司", "張偉", published=date(2021, 1, 1)),
            org_doc("o2", "北京乙公司", "张伟", published=date(2022, 1, 1)),
            org_doc("o3", "北京丙公司", "张伟明"),
            org_doc("o4", "北京丁公司", None),
            make_doc("p1", "张伟"),  # a person is nobody's representative
        ]
    )
    key = "".join(name_tokens("张伟"))
    found = index_backend.represented_by([key, "无此人", key], 10)
    assert list(found) == [key]
    assert [item["id"] for item in found[key]] == ["o2", "o1"]  # newest first
    assert found[key][0]["businessEntity"] == "张伟"  # each as its public JSON
    assert found[key][0] == index_backend.get("o2").to_api()
    assert [item["id"] for item in index_backend.represented_by([key], 1)[key]] == ["o2"]
    assert id_set(index_backend, SearchQuery(representative=key)) == {"o1", "o2"}
    assert id_set(index_backend, SearchQuery(representative=key, court=place("海淀"))) == set()
    assert id_set(index_backend, SearchQuery(representative="")) == set()
    index_backend.delete(["o2"])
    assert [item["id"] for item in index_backend.represented_by([key], 10)[key]] == ["o1"]
