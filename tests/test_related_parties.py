"""Related parties: beside a listed person, the listed organizations whose legal
representative has the same name, set apart and labelled as a name match only, on the
results page, the entry page and in the API. Only public organizations are ever named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from site_support import Site, running
from support import credit_code, id_number, org, person, removal

from core.settings import Settings

HEADING = "同名法定代表人的失信企业（仅姓名相同）"
CAVEAT = "不能证明是同一人"
HEADING_EN = "Listed organizations whose legal representative has the same name (name match only)"
CAVEAT_EN = "no proof that they are the same person"


def listed() -> list[dict]:  # type: ignore[type-arg]
    return [
        person("zw", iname="张伟", cardNum=id_number("110105", "19800101", "123")),
        person("lsi", iname="李四", cardNum=id_number("110105", "19800101", "234")),
        org(
            "fa",
            iname="北京甲<b>科技</b>有限公司",
            cardNum=credit_code("MA000001"),
            businessEntity="張偉",  # traditional: the same name once normalized
            publishDate="2024-05-06",
        ),
        org(
            "fb",
            iname="北京乙贸易有限公司",
            cardNum=credit_code("MA000002"),
            businessEntity="张伟",
            caseCode="(2024)京0105执88号",
            publishDate="2024-06-01",
        ),
        org(
            "gone",
            iname="北京丙已履行有限公司",
            cardNum=credit_code("MA000003"),
            businessEntity="张伟",
        ),
        org(
            "other", iname="北京丁有限公司", cardNum=credit_code("MA000004"), businessEntity="王五"
        ),
    ]


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    with running(settings) as s:
        s.publish(*listed())
        s.publish(removal("shield", "gone"))
        yield s


def section(html: str) -> str:
    start = html.find('id="related-orgs"')
    assert start >= 0, "no related-organizations section"
    return html[start : html.index("</section>", start)]


def test_results_for_a_person_show_namesake_representatives_apart_and_labelled(
    site: Site,
) -> None:
    html = site.client.get("/", params={"q": "张伟"}).text
    related = section(html)
    assert HEADING in related and CAVEAT in related
    assert "北京乙贸易有限公司" in related and "(2024)京0105执88号" in related
    assert "/entries/fb" in related and "/entries/fa" in related
    assert related.index("北京乙贸易有限公司") < related.index("北京甲")  # newest first
    assert "北京甲&lt;b&gt;科技&lt;/b&gt;有限公司" in related  # escaped like any data
    assert "<b>科技" not in html
    assert "北京丙已履行有限公司" not in html  # removed: never named
    assert "北京丁有限公司" not in related  # another name
    # The section follows the person's own results, it is not among them.
    assert html.index('id="results-heading"') < html.index('id="related-orgs"')


def test_a_traditional_script_search_finds_the_same_namesakes(site: Site) -> None:
    related = section(site.client.get("/", params={"q": "張偉", "partyType": "person"}).text)
    assert "北京乙贸易有限公司" in related and "北京甲" in related


def test_the_section_is_english_when_the_page_is(site: Site) -> None:
    html = site.client.get("/", params={"q": "张伟", "lang": "en"}).text
    related = section(html)
    assert HEADING_EN in related and CAVEAT_EN in related
    assert "北京乙贸易有限公司" in related  # data stays as published


def test_organizations_own_results_show_no_namesakes(site: Site) -> None:
    html = site.client.get("/", params={"q": "北京", "partyType": "org"}).text
    assert "北京乙贸易有限公司" in html
    assert 'id="related-orgs"' not in html and HEADING not in html


def test_a_person_without_namesake_representatives_gets_no_section(site: Site) -> None:
    html = site.client.get("/", params={"q": "李四"}).text
    assert "李四" in html and 'id="related-orgs"' not in html


def test_a_persons_entry_page_shows_the_namesakes(site: Site) -> None:
    html = site.client.get("/entries/zw").text
    related = section(html)
    assert HEADING in related and CAVEAT in related
    assert "北京乙贸易有限公司" in related and "北京丙已履行有限公司" not in html
    english = section(site.client.get("/entries/zw", params={"lang": "en"}).text)
    assert HEADING_EN in english


def test_an_organizations_entry_page_shows_none(site: Site) -> None:
    html = site.client.get("/entries/fb").text
    assert "张伟" in html and 'id="related-orgs"' not in html


def test_more_than_ten_link_to_the_full_representative_search(settings: Settings) -> None:
    many = [
        org(
            f"o{n}",
            iname=f"北京第{n}号有限公司",
            cardNum=credit_code(f"MA{n:06d}"),
            businessEntity="赵六",
            caseCode=f"(2024)京0105执{100 + n}号",
        )
        for n in range(12)
    ]
    with running(settings) as s:
        s.publish(person("zl", iname="赵六"), *many)
        related = section(s.client.get("/", params={"q": "赵六"}).text)
        assert related.count("<li>") == 10
        link = "/?representative=%E8%B5%B5%E5%85%AD&amp;partyType=org&amp;sort=publish_date"
        assert link in related
        full = s.client.get("/?representative=赵六&partyType=org&sort=publish_date").text
        assert "共 12 条" in full and "法定代表人或负责人" in full
        answer = s.client.get("/api/v1/entries", params={"q": "赵六", "partyType": "person"})
        found = answer.json()["items"][0]["relatedOrganizations"]
        assert len(found["items"]) == 10 and found["more"] is True
        assert s.client.get(found["moreUrl"]).json()["total"] == 12


def test_the_api_flags_persons_with_namesake_representatives(site: Site) -> None:
    items = site.client.get("/api/v1/entries", params={"q": "张伟"}).json()["items"]
    by_id = {item["id"]: item for item in items}
    found = by_id["zw"]["relatedOrganizations"]
    assert found["basis"] == "sameName" and found["name"] == "张伟" and found["more"] is False
    assert [o["id"] for o in found["items"]] == ["fb", "fa"]
    first = found["items"][0]
    assert first["caseCode"] == "(2024)京0105执88号" and first["businessEntity"] == "张伟"
    assert first["url"] == "/api/v1/entries/fb" and first["pageUrl"] == "/entries/fb"
    # Organizations never carry the flag; neither does a person without namesakes.
    organizations = site.client.get("/api/v1/entries", params={"partyType": "org"}).json()
    assert all("relatedOrganizations" not in item for item in organizations["items"])
    lisi = site.client.get("/api/v1/entries", params={"q": "李四"}).json()["items"]
    assert [item for item in lisi if "relatedOrganizations" in item] == []
    # The same through the POST search and on the entry.
    posted = site.client.post("/api/v1/search", json={"q": "張偉", "partyType": "person"})
    assert posted.json()["items"][0]["relatedOrganizations"]["items"][0]["id"] == "fb"
    entry = site.client.get("/api/v1/entries/zw").json()
    assert [o["id"] for o in entry["relatedOrganizations"]["items"]] == ["fb", "fa"]
    assert "relatedOrganizations" not in site.client.get("/api/v1/entries/fb").json()


def test_removed_organizations_disappear_from_the_section(site: Site) -> None:
    site.publish(removal("delete", "fb"))
    html = site.client.get("/entries/zw").text
    assert "北京乙贸易有限公司" not in html and "北京甲" in section(html)
    entry = site.client.get("/api/v1/entries/zw").json()
    assert [o["id"] for o in entry["relatedOrganizations"]["items"]] == ["fa"]


def test_expired_organizations_are_never_named(settings: Settings) -> None:
    with running(settings) as s:
        expired = org(
            "old",
            iname="北京戊过期有限公司",
            cardNum=credit_code("MA000009"),
            businessEntity="孙七",
            publishDate="2019-01-02",
            validUntil="2021-01-02",
        )
        s.publish(person("sq", iname="孙七"), expired)
        assert 'id="related-orgs"' not in s.client.get("/", params={"q": "孙七"}).text
        assert "relatedOrganizations" not in s.client.get("/api/v1/entries/sq").json()


def test_the_section_reflows_on_a_phone(site: Site) -> None:
    css = site.client.get("/static/site.css").text
    phone = css[css.index("@media (max-width: 30rem)") :]
    assert ".related-list .meta { display: block; }" in phone.split("}\n\n")[0] + "}"
    assert "overflow-wrap: anywhere" in css[css.index(".related-list li") :]


def test_a_rebuilt_index_still_knows_the_representatives(site: Site) -> None:
    site.service.rebuild_index()
    related = section(site.client.get("/entries/zw").text)
    assert "北京乙贸易有限公司" in related and "北京甲" in related
