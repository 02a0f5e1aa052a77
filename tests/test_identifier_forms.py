"""Every identifier form and case-number style real records carry, end to end: accepted,
shown in the standard form, and found however the user types it (issue 10). Fixtures are
synthetic; tests/test_real_values.py reads the real records."""

from __future__ import annotations

from typing import Any

import pytest
from support import id_number, ingest, org, person, removal

from search_index.identifiers import org_code_check_char
from search_index.service import ListService

ORG8 = "55269853"
ORG_CODE = ORG8 + org_code_check_char(ORG8)  # 552698531
MASKED_CREDIT = "9114082306****333G"


def _published(service: ListService, *lines: dict[str, Any]) -> None:
    report = ingest(service, *lines)
    assert report.ok, [r.as_dict() for r in report.rejected]


def _found(service: ListService, **params: str) -> list[str]:
    return [doc.id for doc in service.search(params).items]


def _card(service: ListService, entry_id: str) -> str | None:
    return service.entry(entry_id).doc.to_api()["cardNum"]


@pytest.mark.parametrize("written", [ORG_CODE, f"{ORG8}-{ORG_CODE[8]}", f"{ORG8}－{ORG_CODE[8]}"])
def test_organization_codes_show_with_hyphen_and_are_found_both_ways(
    service: ListService, written: str
) -> None:
    _published(service, org("o1", cardNum=written))
    assert _card(service, "o1") == f"{ORG8}-{ORG_CODE[8]}"
    assert _found(service, cardNum=ORG_CODE) == ["o1"]
    assert _found(service, cardNum=f"{ORG8}-{ORG_CODE[8]}") == ["o1"]


def test_masked_credit_codes_are_accepted_and_found_as_masked(service: ListService) -> None:
    _published(service, org("o1", cardNum=MASKED_CREDIT, partyTypeName="1"))
    assert _card(service, "o1") == MASKED_CREDIT
    assert _found(service, cardNum=MASKED_CREDIT.lower()) == ["o1"]


def test_a_digits_only_masked_credit_code_of_an_organization(service: ListService) -> None:
    # Shaped like a masked ID number of Beijing (11...), but the entry is an organization.
    _published(service, org("o1", cardNum="1101050059****5884", partyTypeName="1"))
    assert _card(service, "o1") == "1101050059****5884"
    assert _found(service, cardNum="1101050059****5884") == ["o1"]


def test_a_full_credit_code_finds_the_entry_published_masked(service: ListService) -> None:
    full = "91350100M000100Y43"
    _published(service, org("o1", cardNum=full[:10] + "****" + full[14:]))
    assert _found(service, cardNum=full) == ["o1"]


def test_older_masked_ids_are_shown_and_found_in_both_forms(service: ListService) -> None:
    _published(service, person("p1", cardNum="41072619780****1211", age="45"))
    assert _card(service, "p1") == "4107261978****1211"
    assert _found(service, cardNum="41072619780****1211") == ["p1"]
    assert _found(service, cardNum="4107261978****1211") == ["p1"]


def test_a_full_id_finds_an_entry_published_masked_but_not_someone_else_sharing_the_mask(
    service: ListService,
) -> None:
    debtor = id_number("410726", "19780315", "121")
    namesake = _same_mask(debtor)
    _published(service, person("masked", cardNum=debtor[:10] + "****" + debtor[14:]))
    _published(service, person("full", cardNum=namesake, caseCode="(2023)京0105执99号"))
    assert _found(service, cardNum=debtor) == ["masked"]
    # The entry with the full number on file answers to that number only.
    assert "full" not in _found(service, cardNum=debtor)
    # The masked entry may be either of them: nothing on file tells them apart.
    assert sorted(_found(service, cardNum=namesake)) == ["full", "masked"]


def _same_mask(full: str) -> str:
    """Another valid ID number with the same masked form (another birthday that year)."""
    days = (f"{m:02d}{d:02d}" for m in range(1, 13) for d in range(1, 29))
    return next(
        other
        for mmdd in days
        if (other := id_number(full[:6], full[6:10] + mmdd, full[14:17])) != full
        and other[-1] == full[-1]
    )


def test_15_digit_ids_are_found_by_the_old_and_the_new_number(service: ListService) -> None:
    old = "110105491231002"
    _published(service, person("p1", cardNum=old, age="70"))
    assert _card(service, "p1") == "1101051949****002X"
    assert _found(service, cardNum=old) == ["p1"]
    assert _found(service, cardNum="11010519491231002X") == ["p1"]
    assert _found(service, cardNum="11010519491231002x") == ["p1"]


def test_a_lower_case_x_is_the_same_id(service: ListService) -> None:
    full = id_number("110105", "19800101", "002")
    if not full.endswith("X"):
        full = next(
            n for s in range(1000) if (n := id_number("110105", "19800101", f"{s:03d}"))[-1] == "X"
        )
    _published(service, person("p1", cardNum=full.lower()))
    assert _card(service, "p1") == full[:10] + "****" + full[14:]
    assert _found(service, cardNum=full) == ["p1"]


@pytest.mark.parametrize(
    ("published", "typed"),
    [
        ("2015年丰执字第08996号", "2015年丰执字第08996号"),
        ("2015年丰执字第08996号", "（2015）丰执字第08996号"),
        ("(2015)丰执字第08996号", "2015年丰执字第08996号"),
        ("(2014)并执字第00085号", "（2014）并执字第00085号"),
        ("(2015)禹法执恢字第00008号", "〔2015〕禹法执恢字第00008号"),
        ("(2019)浙0111执286号", "（２０１９）浙0111执286号"),
    ],
)
def test_case_number_styles_are_found_as_typed(
    service: ListService, published: str, typed: str
) -> None:
    _published(service, person("p1", caseCode=published))
    assert _found(service, caseCode=typed) == ["p1"]


def test_debtor_status_of_an_entry_published_masked(service: ListService) -> None:
    debtor = id_number("410726", "19780315", "121")
    line = person("p1", cardNum=debtor[:10] + "****" + debtor[14:])
    _published(service, line)
    found = service.debtor_status(line["caseCode"], line["iname"], debtor)
    assert [s.entry_id for s in found] == ["p1"]
    # Anyone can make up a number with a public mask: once removed, such an entry answers
    # like a mismatch, so its removal history stays private.
    _published(service, removal("shield", "p1"))
    assert service.debtor_status(line["caseCode"], line["iname"], debtor) == []


def test_a_case_number_longer_than_the_store_keeps_is_rejected_alone(service: ListService) -> None:
    long_code = "(2019)浙0111执" + "1" * 80 + "号"
    report = ingest(service, person("long", caseCode=long_code), person("fine"))
    assert [(r.line, r.code, r.field) for r in report.rejected] == [(1, "too_long", "caseCode")]
    assert _found(service, q="张伟") == ["fine"]


def test_a_severity_longer_than_the_store_keeps_is_dropped_with_a_warning(
    service: ListService,
) -> None:
    report = ingest(service, person("p1", severity="严重" * 20))
    assert report.ok and [w.field for w in report.warnings] == ["severity"]
    assert service.entry("p1").doc.severity is None
