"""What a typed search becomes (search_index/query.py): the same normalized query for the API,
the pages and the bot, whatever script, width or spacing the user typed."""

from __future__ import annotations

import pytest
from support import KEY, id_number

from search_index.identifiers import keyed_hash
from search_index.query import QueryError, build_query


def test_the_name_is_normalized_once_into_tokens() -> None:
    query = build_query({"q": " 張　偉 "}, KEY)
    assert query.name_tokens == ("张", "伟") and query.name == "张伟"


@pytest.mark.parametrize(("typed", "key"), [("朝阳 区", "朝阳区"), ("（石河子）", "石河子")])
def test_places_are_normalized_like_the_indexed_ones(typed: str, key: str) -> None:
    assert build_query({"court": typed, "region": typed}, KEY).court == key


def test_a_full_id_number_is_hashed_and_matches_masked_entries_by_its_mask() -> None:
    full = id_number("110105", "19800101", "123")
    query = build_query({"cardNum": full}, KEY)
    assert query.card_key == keyed_hash(KEY, full)
    assert query.card_masked == full[:10] + "****" + full[14:]
    assert query.card_display is None  # a full number is never matched in clear


def test_a_masked_number_is_matched_as_masked() -> None:
    query = build_query({"cardNum": "41072619780****1211"}, KEY)
    assert (query.card_key, query.card_display) == (None, "4107261978****1211")


def test_nothing_searchable_in_the_name_is_explained() -> None:
    with pytest.raises(QueryError) as caught:
        build_query({"q": "（·）"}, KEY)
    assert caught.value.field == "q"
