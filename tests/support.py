"""Test data factories and fixtures for the list (loaded by conftest as a pytest plugin).

Factories build ingest lines the way a court would send them; ``service`` is a real
ListService on the parametrized store (SQLite and PostgreSQL) with the embedded index.

The list stamps every line with the real time it arrives, and judges deadlines, expiry and
"today" by the real clock too. So a date that meets that clock (a removal's effectiveAt, a
recent correction) is counted back from ``NOW`` with ``days_ago`` / ``instant_days_ago``, never
written as a literal that ages (the suite once went red when 2026-11-20 stopped being recent).
Literal dates stay where nothing compares them with today: publish dates years back, listing
periods until 2099, or a deadline computed from a fixed date.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, load_settings
from search_index.dates import CST, now_cst
from search_index.identifiers import credit_code_check_char, id_check_char, org_code_check_char
from search_index.service import ListService

KEY = "test-id-hash-key-0123456789abcdef"
_serial = itertools.count(100)

# The session's "now" in China time, taken once so that every date a test derives from it
# agrees (a test run under a shifted clock sees the shifted time here too).
NOW = now_cst().replace(microsecond=0)
TODAY = NOW.date()


def days_ago(days: int) -> date:
    """The date ``days`` before today (negative: after)."""
    return TODAY - timedelta(days=days)


def iso_days_ago(days: int) -> str:
    """``days_ago`` as the ISO date a court writes: 2026-11-20."""
    return days_ago(days).isoformat()


def instant_days_ago(days: int, at: time = time(10)) -> str:
    """An effectiveAt at ``at`` (CST) ``days`` before today; ``days`` >= 1 is always in the
    past, whatever the hour the test runs."""
    return datetime.combine(days_ago(days), at, CST).isoformat(timespec="seconds")


def recent_instant(hours: float = 1) -> str:
    """An effectiveAt ``hours`` before NOW: well inside any legal deadline on arrival."""
    return (NOW - timedelta(hours=hours)).isoformat(timespec="seconds")


def make_settings(tmp_path: Path, database_url: str, **env: str) -> Settings:
    base = {
        "SHIXIN_DATA_DIR": str(tmp_path / "data"),
        "SHIXIN_DATABASE_URL": database_url,
        "SHIXIN_ID_HASH_KEY": KEY,
    }
    return load_settings({**base, **env})


def id_number(region: str = "110105", birth: str | None = None, serial: str | None = None) -> str:
    """A full resident ID number with a correct check character. Without a ``serial`` the
    next one of the session's counter, which wraps after 900 numbers; without a ``birth``
    1980-01-02 for those, 1980-01-01 for a serial picked by hand. Tests pick theirs with
    1980-01-01, so a generated number never equals one a test counts on being unique."""
    if serial is None:
        serial = f"{next(_serial) % 1000:03d}"
        birth = birth or "19800102"
    first17 = region + (birth or "19800101") + serial
    return first17 + id_check_char(first17)


def credit_code(body: str | None = None) -> str:
    """A unified social credit code with valid embedded organization code and check char."""
    # Generated bodies are MB and six digits; tests pick theirs as MA and six digits.
    org8 = body or f"MB{next(_serial):06d}"[-8:]
    org9 = org8 + org_code_check_char(org8)
    first17 = "91" + "110105" + org9
    return first17 + credit_code_check_char(first17)


def person(entry_id: str = "p1", **over: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "op": "publish",
        "id": entry_id,
        "caseCode": "(2023)京0105执1234号",
        "iname": "张伟",
        "cardNum": id_number(),
        "sexy": "男",
        "age": 43,
        "courtName": "北京市朝阳区人民法院",
        "areaName": "北京",
        "partyTypeName": "自然人",
        "gistId": "(2022)京0105民初5678号",
        "gistUnit": "北京市朝阳区人民法院",
        "regDate": "20230115",
        "duty": "支付货款人民币十万元",
        "performance": "全部未履行",
        "unperformPart": "十万元",
        "disruptTypeName": "有履行能力而拒不履行生效法律文书确定义务",
        "publishDate": "2023年03月20日",
        "validUntil": "2099-03-20",
        "severity": "一般",
    }
    line.update(over)
    return {k: v for k, v in line.items() if v is not None}


def org(entry_id: str = "o1", **over: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "op": "publish",
        "id": entry_id,
        "caseCode": "(2024)沪0115执77号",
        "iname": "上海某某科技有限公司",
        "cardNum": credit_code(),
        "businessEntity": "李四",
        "courtName": "上海市浦东新区人民法院",
        "areaName": "上海",
        "partyTypeName": "法人或其他组织",
        "publishDate": "2024-05-06",
        "validUntil": "2099-05-06",
        "performance": "全部未履行",
    }
    line.update(over)
    return {k: v for k, v in line.items() if v is not None}


def removal(op: str, entry_id: str, effective: str | None = None, **over: Any) -> dict[str, Any]:
    """A removal; by default effective an hour ago, so it arrives within its deadline."""
    return {
        "op": op,
        "id": entry_id,
        "effectiveAt": effective or recent_instant(),
        "reason": "被执行人已履行义务",
        **over,
    }


def correction(entry_id: str, effective: str, **fields: Any) -> dict[str, Any]:
    return {"op": "correct", "id": entry_id, "effectiveAt": effective, "fields": fields}


def records(*lines: Any) -> list[tuple[int, Any]]:
    return list(enumerate(lines, start=1))


def ingest(service: ListService, *lines: Any, source: str = "test", **kw: Any):  # type: ignore[no-untyped-def]
    return service.ingest(records(*lines), source=source, **kw)


def names(page: Any) -> list[str]:
    return [doc.name for doc in page.items]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def service(settings: Settings) -> Iterator[ListService]:
    svc = ListService(settings)
    try:
        yield svc
    finally:
        svc.close()


# --- Result sets for the sort, paging and compact-view tests -------------------------------


def namesakes(count: int = 45) -> list[dict[str, Any]]:
    """``count`` people named 张伟<something>, published on different days three to four
    years ago (newest: the highest number): enough for several pages of results."""
    return [
        person(
            f"m{n:02d}",
            iname=f"张伟{'甲乙丙丁戊己庚辛壬癸'[n % 10]}{n:02d}",
            cardNum=id_number("110105", "19800101", f"{n + 100:03d}"),
            caseCode=f"(2023)京0105执{1000 + n}号",
            publishDate=iso_days_ago(1400 - n),
        )
        for n in range(count)
    ]


def ranked_names() -> list[dict[str, Any]]:
    """Three names whose best-match order (exact, starts with, contains) is the reverse of
    their publication order."""
    return [
        person("exact", iname="刘芳", cardNum=id_number("110105", "19700101", "901"),
               publishDate=iso_days_ago(2500)),
        person("starts", iname="刘芳华", cardNum=id_number("110105", "19700101", "902"),
               publishDate=iso_days_ago(2100)),
        person("inside", iname="王刘芳", cardNum=id_number("110105", "19700101", "903"),
               publishDate=iso_days_ago(900)),
    ]  # fmt: skip
