"""``POST /api/v1/match``: many names at once, each match saying how it matched.

The real app on the parametrized store, data sent through ``POST /api/v1/ingest`` as a court
sends it (tests/test_api.py's portal). What is asserted is what a caller of the API sees:
which entries come back for each query, of which kind, and the errors of bad requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import credit_code, id_number, make_settings, namesakes, org, person, removal
from test_api import (
    CODE_ABC,
    ID_LI,
    ID_ZHANG,
    ID_ZHANG_MING,
    Portal,
    error_of,
    full_ids_in,
    masked,
    one_digit_off,
    running,
    search_set,
)
from test_identifier_forms import MASKED_CREDIT, ORG8, ORG_CODE, _same_mask
from test_openapi import Checker

from core.settings import Settings
from portal import openapi

MATCH = "/api/v1/match"


def match(portal: Portal, *queries: dict[str, Any], **headers: str) -> list[dict[str, Any]]:
    response = portal.client.post(MATCH, json={"queries": list(queries)}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()["results"]


def kinds(result: dict[str, Any]) -> dict[str, str]:
    """Entry id -> how it matched."""
    return {m["entry"]["id"]: m["kind"] for m in result["matches"]}


def refused(portal: Portal, body: Any, status: int, **headers: str) -> dict[str, Any]:
    response = portal.client.post(MATCH, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()["error"]


@pytest.fixture
def portal(settings: Settings) -> Iterator[Portal]:
    with running(settings) as p:
        yield p


@pytest.fixture
def seeded(portal: Portal) -> Portal:
    portal.publish(*search_set())
    return portal


# --- Persons ---------------------------------------------------------------------------------


def test_a_person_is_matched_by_id_number_then_by_name_then_partly(seeded: Portal) -> None:
    namesake = person("zw2", iname="张伟", cardNum=id_number(), caseCode="(2023)京0105执77号")
    seeded.publish(namesake)
    [result] = match(seeded, {"name": "张伟", "cardNum": ID_ZHANG, "ref": "r1"})
    assert result["best"] == "identifier"
    assert [(m["entry"]["id"], m["kind"]) for m in result["matches"]] == [
        ("zw", "identifier"),  # the number on file is the one asked for
        ("zw2", "name"),  # another 张伟: only the name matches, and it says so
        ("zwm", "partial"),  # 張偉明 contains 张伟
    ]
    assert result["matches"][0]["maskedIdentifier"] is False
    assert (result["ref"], result["cardNum"]) == ("r1", masked(ID_ZHANG))


def test_an_id_number_alone_does_not_make_a_name_match(seeded: Portal) -> None:
    # 李伟's number with another name: the entry matches by its number, not by the name.
    [result] = match(seeded, {"name": "王五", "cardNum": ID_LI})
    assert kinds(result) == {"lw": "identifier"}


@pytest.mark.parametrize("written", ["張偉", "张伟", "張 偉", "张\u3000伟"])
def test_names_match_in_either_script_and_any_spacing(seeded: Portal, written: str) -> None:
    [result] = match(seeded, {"name": written})
    assert kinds(result) == {"zw": "name", "zwm": "partial"}


def test_a_name_published_in_traditional_script_matches_a_simplified_query(
    seeded: Portal,
) -> None:
    [result] = match(seeded, {"name": "张伟明", "cardNum": ID_ZHANG_MING})
    assert kinds(result) == {"zwm": "identifier"}
    [result] = match(seeded, {"name": "张伟明"})
    assert kinds(result) == {"zwm": "name"}


def test_an_id_number_restricts_the_name_matches_to_persons(seeded: Portal) -> None:
    seeded.publish(org("zwco", iname="张伟建材有限公司", cardNum=credit_code()))
    [with_id, without] = match(seeded, {"name": "张伟", "cardNum": ID_ZHANG}, {"name": "张伟"})
    assert "zwco" not in kinds(with_id)
    assert kinds(without)["zwco"] == "partial"


def test_no_match_is_an_empty_list(seeded: Portal) -> None:
    [result] = match(seeded, {"name": "没有这个人", "cardNum": id_number()})
    assert (result["matches"], result["best"], result["more"]) == ([], None, False)


def test_many_namesakes_are_cut_and_say_there_are_more(portal: Portal) -> None:
    portal.publish(*namesakes(25))
    [result] = match(portal, {"name": "张伟"})
    assert len(result["matches"]) == 20 and result["more"] is True
    assert {m["kind"] for m in result["matches"]} == {"partial"}


def test_results_come_in_the_order_of_the_queries(seeded: Portal) -> None:
    queries = [{"name": "李伟", "ref": "a"}, {"name": "没有", "ref": "b"}, {"name": "张伟"}]
    results = match(seeded, *queries)
    assert [r["ref"] for r in results] == ["a", "b", None]
    assert [r["best"] for r in results] == ["name", None, "name"]


# --- Organizations ---------------------------------------------------------------------------


def test_an_organization_is_matched_by_credit_code_and_by_name(seeded: Portal) -> None:
    [by_code, by_name, partly] = match(
        seeded,
        {"name": "ABC科技有限公司", "cardNum": CODE_ABC.lower()},
        {"name": "abc科技有限公司"},  # published in full-width capitals: ＡＢＣ
        {"name": "ABC科技"},
    )
    assert kinds(by_code) == {"abc": "identifier"}
    assert by_code["cardNum"] == CODE_ABC
    assert kinds(by_name) == {"abc": "name"}
    assert kinds(partly) == {"abc": "partial"}


def test_an_organization_published_in_traditional_script(portal: Portal) -> None:
    portal.publish(org("o1", iname="廣州市某某電子有限公司", cardNum=credit_code()))
    [exact, part] = match(portal, {"name": "广州市某某电子有限公司"}, {"name": "某某电子"})
    assert kinds(exact) == {"o1": "name"}
    assert kinds(part) == {"o1": "partial"}


# --- Every identifier form ------------------------------------------------------------------


@pytest.mark.parametrize("written", [ORG_CODE, f"{ORG8}-{ORG_CODE[8]}", f"{ORG8}－{ORG_CODE[8]}"])
def test_organization_codes_with_or_without_hyphen(portal: Portal, written: str) -> None:
    portal.publish(org("o1", iname="某某商贸公司", cardNum=f"{ORG8}-{ORG_CODE[8]}"))
    [result] = match(portal, {"name": "另一个名字", "cardNum": written})
    assert kinds(result) == {"o1": "identifier"}
    assert result["cardNum"] == f"{ORG8}-{ORG_CODE[8]}"


@pytest.mark.parametrize("written", ["110105491231002", "11010519491231002X", "11010519491231002x"])
def test_a_15_digit_id_number_and_its_18_digit_form(portal: Portal, written: str) -> None:
    portal.publish(person("p1", iname="王老汉", cardNum="110105491231002", age="70"))
    [result] = match(portal, {"name": "王某", "cardNum": written})
    assert kinds(result) == {"p1": "identifier"}
    assert result["cardNum"] == "1101051949****002X"


def test_a_full_id_number_matches_an_entry_published_masked_only_with_the_same_name(
    portal: Portal,
) -> None:
    debtor = id_number("410726", "19780315", "121")
    portal.publish(
        person("same", iname="赵六", cardNum=masked(debtor)),
        person("other", iname="钱七", cardNum=masked(debtor), caseCode="(2023)京0105执98号"),
    )
    [zhao, qian_by_name, stranger] = match(
        portal,
        {"name": "赵六", "cardNum": debtor},
        {"name": "钱七", "cardNum": _same_mask(debtor)},
        {"name": "孙八", "cardNum": debtor},
    )
    assert kinds(zhao) == {"same": "identifier"}
    assert zhao["matches"][0]["maskedIdentifier"] is True
    # Sharing a mask is no proof: with the name it is, flagged; without it, nothing.
    assert kinds(qian_by_name) == {"other": "identifier"}
    assert stranger["matches"] == []


def test_a_masked_query_matches_by_mask_and_exact_name_only(seeded: Portal) -> None:
    [by_mask, wrong_name] = match(
        seeded,
        {"name": "张伟", "cardNum": masked(ID_ZHANG)},
        {"name": "李四", "cardNum": masked(ID_ZHANG)},
    )
    assert kinds(by_mask) == {"zw": "identifier", "zwm": "partial"}
    assert by_mask["matches"][0]["maskedIdentifier"] is True
    assert by_mask["cardNum"] == masked(ID_ZHANG)
    assert wrong_name["matches"] == []


def test_an_older_masked_id_number(portal: Portal) -> None:
    portal.publish(person("p1", iname="周九", cardNum="41072619780****1211", age="45"))
    for written in ("41072619780****1211", "4107261978****1211"):
        [result] = match(portal, {"name": "周九", "cardNum": written})
        assert kinds(result) == {"p1": "identifier"}
        assert result["cardNum"] == "4107261978****1211"


def test_a_masked_credit_code_and_a_full_code_with_the_same_mask(portal: Portal) -> None:
    full = "91350100M000100Y43"
    portal.publish(
        org("m1", iname="福州某某公司", cardNum=MASKED_CREDIT, partyTypeName="1"),
        org("m2", iname="福建某某公司", cardNum=full[:10] + "****" + full[14:]),
    )
    [masked_query, full_query] = match(
        portal,
        {"name": "福州某某公司", "cardNum": MASKED_CREDIT.lower()},
        {"name": "福建某某公司", "cardNum": full},
    )
    assert kinds(masked_query) == {"m1": "identifier"}
    assert kinds(full_query) == {"m2": "identifier"}
    assert full_query["matches"][0]["maskedIdentifier"] is True


# --- Never a removed or non-public entry ----------------------------------------------------


@pytest.mark.parametrize("op", ["shield", "delete", "revoke"])
def test_removed_entries_are_never_matched(seeded: Portal, op: str) -> None:
    seeded.publish(removal(op, "zw"), removal(op, "abc"))
    [person_result, org_result] = match(
        seeded,
        {"name": "张伟", "cardNum": ID_ZHANG},
        {"name": "ＡＢＣ科技有限公司", "cardNum": CODE_ABC},
    )
    assert kinds(person_result) == {"zwm": "partial"}
    assert org_result["matches"] == []


def test_expired_and_never_public_entries_are_never_matched(portal: Portal) -> None:
    hidden = id_number()
    portal.publish(
        person("old", iname="吴十", cardNum=id_number(), validUntil="2020-01-01",
               publishDate="2019-01-01"),
        person("secret", iname="郑十一", cardNum=hidden, disclose=False,
               caseCode="(2023)京0105执5号"),
    )  # fmt: skip
    results = match(portal, {"name": "吴十"}, {"name": "郑十一", "cardNum": hidden})
    assert [r["matches"] for r in results] == [[], []]


# --- Full ID numbers are never echoed -------------------------------------------------------


def test_a_full_id_number_is_never_in_the_answer(seeded: Portal) -> None:
    response = seeded.client.post(
        MATCH,
        json={
            "queries": [
                {"name": "张伟", "cardNum": ID_ZHANG, "ref": f"申请人 {ID_LI}"},
                {"name": f"张伟{ID_ZHANG_MING}", "cardNum": id_number()},
            ]
        },
    )
    assert response.status_code == 200
    assert full_ids_in(response.text) == []
    first, second = response.json()["results"]
    assert first["cardNum"] == masked(ID_ZHANG)
    assert first["ref"] == f"申请人 {masked(ID_LI)}"
    assert second["name"] == f"张伟{masked(ID_ZHANG_MING)}"


def test_an_invalid_id_number_is_refused_without_being_echoed(seeded: Portal) -> None:
    typo = one_digit_off(ID_ZHANG)
    response = seeded.client.post(
        MATCH, json={"queries": [{"name": "张伟"}, {"name": "张伟", "cardNum": typo}]}
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["field"] == "queries[1].cardNum"
    assert "校验位" in error["message"]
    assert typo not in response.text and ID_ZHANG not in response.text


# --- Limits and bad input --------------------------------------------------------------------


def test_a_hundred_queries_are_answered_and_more_are_refused(seeded: Portal) -> None:
    hundred = [{"name": "张伟", "ref": str(n)} for n in range(100)]
    assert len(match(seeded, *hundred)) == 100
    error = refused(seeded, {"queries": [*hundred, {"name": "李伟"}]}, 422)
    assert (error["code"], error["field"]) == ("invalid", "queries")
    assert "100" in error["message"] and "101" in error["message"]


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"queries": []}, 422, "queries", "没有查询"),
        ({"queries": [{"name": "  "}]}, 422, "queries[0].name", "不能为空"),
        ({"queries": [{"name": "！？"}]}, 422, "queries[0].name", "文字或数字"),
        ({"queries": [{"name": "张" * 201}]}, 422, "queries[0].name", "过长"),
        ({"queries": [{"name": "张伟", "ref": "x" * 101}]}, 422, "queries[0].ref", "过长"),
        (
            {"queries": [{"name": "张伟", "cardNum": "12345"}]},
            422,
            "queries[0].cardNum",
            "无法识别",
        ),
        ({"queries": [{"name": "张伟", "id": "1"}]}, 400, "queries[0].id", "未知的字段"),
        ({"queries": [], "limit": 5}, 400, "limit", "未知的字段"),
        ({"queries": [{"name": 1}]}, 400, "queries[0].name", "应为文本"),
        ({"queries": [{"cardNum": CODE_ABC}]}, 400, "queries[0].name", "必填"),
        ({"queries": [{"name": "张伟", "cardNum": 110105}]}, 400, "queries[0].cardNum", "文本"),
        ({"queries": [{"name": "张伟", "ref": 7}]}, 400, "queries[0].ref", "文本"),
        ({"queries": ["张伟"]}, 400, "queries[0]", "JSON 对象"),
        ({"queries": {"name": "张伟"}}, 400, "queries", "数组"),
        ({}, 400, "queries", "数组"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    portal: Portal, body: Any, status: int, field: str, words: str
) -> None:
    response = portal.client.post(MATCH, json=body)
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] == ("bad_request" if status == 400 else "invalid")
    assert error["field"] == field
    assert words in error["message"]


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'"queries"'])
def test_a_body_that_is_not_a_json_object_is_refused(portal: Portal, content: bytes) -> None:
    response = portal.client.post(MATCH, content=content)
    assert response.status_code == 400
    assert "JSON 对象" in error_of(response)["message"]


def test_an_oversized_body_and_query_parameters_are_refused(portal: Portal) -> None:
    response = portal.client.post(MATCH, content=b" " * (300 * 1024))
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    response = portal.client.post(f"{MATCH}?lang=en", json={"queries": [{"name": "张伟"}]})
    assert response.status_code == 400
    assert error_of(response)["field"] == "lang"


def test_errors_are_in_english_when_the_client_prefers_english(portal: Portal) -> None:
    english = {"Accept-Language": "en-GB,en;q=0.9,zh-CN;q=0.5"}
    error = refused(portal, {"queries": [{"name": "张伟", "cardNum": "12345"}]}, 422, **english)
    assert error["field"] == "queries[0].cardNum"
    assert "not an identifier" in error["message"]
    error = refused(portal, {"queries": [{"name": "x", "who": 1}]}, 400, **english)
    assert error["message"].startswith("Unknown field: who")
    chinese_first = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    error = refused(portal, {"queries": []}, 422, **chinese_first)
    assert error["message"] == "queries 中没有查询"


# --- The rate limit and the document --------------------------------------------------------


def test_a_hundred_queries_cost_twenty_five_searches_of_the_api_budget(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3", SHIXIN_RATE_LIMIT_API="30/minute"
    )
    hundred = {"queries": [{"name": "张伟"}] * 100}
    with running(settings) as portal:  # the ingest token's setup costs nothing here
        assert portal.client.post(MATCH, json=hundred).status_code == 200
        answer = portal.client.post(MATCH, json=hundred)
        assert answer.status_code == 429
        assert error_of(answer)["code"] == "rate_limited"
        assert int(answer.headers["retry-after"]) >= 1
    with running(settings) as portal:  # a fresh memory budget: four queries cost one search
        four = {"queries": [{"name": "张伟"}] * 4}
        assert all(portal.client.post(MATCH, json=four).status_code == 200 for _ in range(30))
        assert portal.client.post(MATCH, json=four).status_code == 429


def test_answers_match_the_openapi_document(seeded: Portal, settings: Settings) -> None:
    checker = Checker(openapi.build_document(settings))
    answers = [
        seeded.client.post(MATCH, json={"queries": [{"name": "张伟", "cardNum": ID_ZHANG}]}),
        seeded.client.post(MATCH, json={"queries": [{"name": "没有", "ref": "1"}]}),
        seeded.client.post(MATCH, json={"queries": []}),
        seeded.client.post(MATCH, json={"queries": [{"name": "张伟", "x": 1}]}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 422, 400]
    for answer in answers:
        checker.response(MATCH, "post", answer)
