"""Removal status for debtors (/status and ListService.debtor_status).

Whoever knows an entry's case number, name and full identifier sees its state and timeline,
including a removal; anyone else gets the same answer as for a case that does not exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from site_support import Site, full_ids_in, masked, running
from support import (
    KEY,
    correction,
    credit_code,
    id_number,
    ingest,
    instant_days_ago,
    org,
    person,
    removal,
)

from core.settings import Settings
from search_index import status
from search_index.dates import CST, parse_instant
from search_index.service import PUBLIC_NAMES, ListService
from search_index.status import StatusInputError
from search_index.types import Status

pytestmark = pytest.mark.clock  # date-sensitive: .ci/shifted-clock runs it a year ahead and back

ID_ZHANG = id_number("110105", "19800101", "123")
ID_OTHER = id_number("110105", "19800101", "456")
CODE = credit_code("MA000009")
CASE = "(2023)京0105执1234号"


def now_iso(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(CST) + delta).isoformat(timespec="seconds")


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    with running(settings) as s:
        yield s


# --- The lookup --------------------------------------------------------------------------


def test_matching_identifiers_show_a_listed_entry(service: ListService) -> None:
    ingest(service, person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG))
    [found] = service.debtor_status(CASE, "张伟", ID_ZHANG)
    assert found.status is Status.PUBLISHED
    assert found.entry_id == "p1" and found.is_public
    assert [step.op for step in found.steps] == ["publish"]
    assert found.removals == []


def test_any_writing_of_the_three_identifiers_matches(service: ListService) -> None:
    ingest(service, person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG))
    spaced = f"{ID_ZHANG[:6]} {ID_ZHANG[6:14]} {ID_ZHANG[14:]}"
    assert service.debtor_status("（2023）京0105执1234号", "張 偉", spaced)
    assert service.debtor_status("(2023)京0105执1234", "张伟", ID_ZHANG.lower())


def test_removed_entry_shows_its_removal_and_deadline(service: ListService) -> None:
    ingest(service, person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG))
    ingest(service, removal("shield", "p1", now_iso()))
    [found] = service.debtor_status(CASE, "张伟", ID_ZHANG)
    assert found.status is Status.SHIELDED
    assert found.entry_id is None and not found.is_public
    assert [step.op for step in found.steps] == ["publish", "shield"]
    [item] = found.removals
    assert item.kind == "shielded"
    assert item.removed_at is not None and item.state == "on_time"
    assert item.removed_at <= item.deadline


def test_corrections_are_in_the_timeline(service: ListService) -> None:
    ingest(service, person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG))
    ingest(service, correction("p1", now_iso(), performance="部分履行"))
    [found] = service.debtor_status(CASE, "张伟", ID_ZHANG)
    assert found.status is Status.CORRECTED
    assert [(s.op, s.fields) for s in found.steps] == [
        ("publish", ()),
        ("correct", ("performance",)),
    ]


def test_organizations_match_by_credit_code(service: ListService) -> None:
    ingest(service, org("o1", caseCode=CASE, iname="上海某某科技有限公司", cardNum=CODE))
    assert service.debtor_status(CASE, "上海某某科技有限公司", CODE.lower())
    assert service.debtor_status(CASE, "上海某某科技", CODE) == []


def test_any_mismatch_is_indistinguishable_from_no_such_case(service: ListService) -> None:
    ingest(service, person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG))
    assert service.debtor_status(CASE, "张伟", ID_OTHER) == []  # wrong ID
    assert service.debtor_status(CASE, "李伟", ID_ZHANG) == []  # wrong name
    assert service.debtor_status("(2023)京0105执9999号", "张伟", ID_ZHANG) == []  # no case


def test_never_public_entries_are_never_acknowledged(service: ListService) -> None:
    ingest(service, person("s1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG, disclose=False))
    assert service.debtor_status(CASE, "张伟", ID_ZHANG) == []
    # Not even once it is shielded: it was never public, so there is nothing to acknowledge.
    ingest(service, removal("shield", "s1", now_iso()))
    assert service.debtor_status(CASE, "张伟", ID_ZHANG) == []


@pytest.mark.parametrize(
    ("case", "name", "card", "field", "words"),
    [
        ("京0105执", "张伟", ID_ZHANG, "caseCode", "案号格式不正确"),
        (CASE, "  ", ID_ZHANG, "name", "请填写"),
        (CASE, "张伟", masked(ID_ZHANG), "cardNum", "完整的身份证号码"),
        (CASE, "张伟", ID_ZHANG[:16] + "0" + ID_ZHANG[17], "cardNum", "校验位"),
    ],
)
def test_malformed_input_is_explained(
    service: ListService, case: str, name: str, card: str, field: str, words: str
) -> None:
    with pytest.raises(StatusInputError) as caught:
        service.debtor_status(case, name, card)
    assert caught.value.field == field
    assert words in caught.value.message


# --- The page -----------------------------------------------------------------------------


def ask(site: Site, case: str, name: str, card: str):  # type: ignore[no-untyped-def]
    return site.post_form("/status", {"caseCode": case, "name": name, "cardNum": card})


def test_status_form_asks_for_the_three_identifiers(site: Site) -> None:
    html = site.client.get("/status").text
    assert '<form id="status-form" method="post" action="/status"' in html
    for field in ("status-caseCode", "status-name", "status-cardNum"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert "三项都相符才会显示结果" in html


def test_status_page_shows_a_removal_and_its_deadline(site: Site) -> None:
    site.publish(person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG, duty="支付十万元"))
    effective = instant_days_ago(20)
    site.publish(removal("revoke", "p1", effective))
    response = ask(site, CASE, "张伟", ID_ZHANG)
    assert response.status_code == 200
    html = response.text
    assert "当前状态" in html and "已撤销" in html
    assert f"{effective[:10]} 10:00" in html  # took effect
    # The deadline: the end of the third working day after, on China's calendar.
    deadline = site.service.calendar.removal_deadline(parse_instant(effective))
    assert f"{deadline:%Y-%m-%d} 23:59" in html
    assert re.search(r'<td class="removed-at">\d{4}-\d\d-\d\d \d\d:\d\d</td>', html)
    assert "超过法定期限后生效" in html or "在法定期限内生效" in html
    # Nothing of the entry itself: a removed entry is acknowledged, not shown.
    for secret in ("支付十万元", masked(ID_ZHANG), "/entries/p1", "北京市朝阳区人民法院"):
        assert secret not in html
    assert response.headers["cache-control"] == "no-store"


def test_status_page_for_a_listed_entry_links_to_it(site: Site) -> None:
    site.publish(person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG))
    html = ask(site, CASE, "张伟", ID_ZHANG).text
    assert "公布中" in html and "有效期至 2099-03-20" in html
    assert '<a href="/entries/p1">' in html


def test_status_mismatch_reveals_nothing(site: Site) -> None:
    unknown = ask(site, CASE, "张伟", ID_ZHANG)
    site.publish(person("p1", caseCode=CASE, iname="张伟", cardNum=ID_OTHER))
    wrong_id = ask(site, CASE, "张伟", ID_ZHANG)
    assert unknown.status_code == wrong_id.status_code == 200
    assert "没有找到与这三项信息同时相符的条目" in wrong_id.text
    # Byte for byte the same page: same wording, same form, nothing about the case.
    # Byte for byte the same page, but for the form's CSRF token (masked afresh each time).
    token = re.compile(rb'name="csrf_token" value="[0-9a-f]+"')
    assert token.sub(b"", unknown.content) == token.sub(b"", wrong_id.content)


def test_status_never_echoes_the_identifier(site: Site) -> None:
    site.publish(person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG))
    for card in (ID_ZHANG, ID_OTHER):
        response = ask(site, CASE, "张伟", card)
        assert card not in response.text and full_ids_in(response.text) == []
        assert "cardNum" not in str(response.url) and card not in str(response.url)
    bad = ask(site, "不是案号", "张伟", ID_ZHANG)
    assert bad.status_code == 400 and "案号格式不正确" in bad.text
    assert ID_ZHANG not in bad.text
    assert 'value="不是案号"' in bad.text  # what may be shown is kept for correcting


def test_status_escapes_what_was_typed(site: Site) -> None:
    hostile = '"><script>alert(1)</script>'
    response = ask(site, hostile, hostile, ID_ZHANG)
    assert response.status_code == 400
    assert "<script>alert" not in response.text


def test_an_entry_past_its_period_before_the_sweep_is_not_linked(service: ListService) -> None:
    ingest(service, person("p1", caseCode=CASE, iname="张伟", cardNum=ID_ZHANG))
    query = status.parse(CASE, "张伟", ID_ZHANG, KEY)
    with service.store.read() as conn:
        [found] = status.lookup(conn, query, date(2099, 3, 21), PUBLIC_NAMES)
    assert found.status is Status.PUBLISHED and found.period_over
    assert found.entry_id is None  # the entry page would answer 410 by now
