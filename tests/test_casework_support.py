"""Fixtures and factories for the casework tests (imported by test_casework_*.py; this
module holds no tests itself). Import the fixtures by their function names
(``cw_fixture``, ``routing_fixture``); tests ask for ``cw`` and ``routing``.

``HOSTILE_TEXT`` is submitted text with HTML and script in it: casework stores it exactly
as typed, and the view tests of the web round should render it and assert it stays inert.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from support import ingest, person

from casework.accounts import Actor, login
from casework.intake import Submission
from casework.routing import Routing, load_routing
from casework.service import CaseService
from casework.units import add_unit
from core.workdays import CST, WorkCalendar
from search_index.service import ListService

HOSTILE_TEXT = (
    '<script>alert("x")</script><img src=x onerror=alert(1)>'
    "&lt;b&gt; &amp; \"quotes\" 'single' {{ 7*7 }} {% raw %}"
    "\n第二行 ${jndi:x} \u202eRTL\u202c 😀"
)
HOTEL_REPORT = "被执行人于2026年9月28日入住五星级酒店，并在高尔夫球场消费。"


def cst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


class Clock:
    """A settable clock for CaseService."""

    def __init__(self, start: str = "2026-11-23T10:00:00") -> None:
        self.now = cst(start)

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = cst(text)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    async def sleep(self, seconds: float) -> None:
        """A sleep for senders that wait (bot/sender.py): the clock moves, nobody waits."""
        self.advance(seconds=seconds)


@dataclass
class Casework:
    cases: CaseService
    clock: Clock
    lists: ListService

    def unit(self, code: str, **kw: Any) -> Actor:
        """Create the unit's account and log in as it."""
        name, password = add_unit(self.cases.store, self.cases.routing, code, **kw)
        return login(self.cases.store, name, password)

    def report(self, category: str = "consumption.hotel", **kw: Any):  # type: ignore[no-untyped-def]
        fields = {"debtor_name": "张伟", "what": HOTEL_REPORT, "email": "reporter@example.com"}
        fields.update(kw)
        return self.cases.submit(Submission(kind="report", category=category, **fields))

    def complaint(self, category: str, **kw: Any):  # type: ignore[no-untyped-def]
        fields = {"entry_id": "p1", "what": "申请人已于上月全部履行。", "telegram": "123456789"}
        fields.update(kw)
        return self.cases.submit(Submission(kind="complaint", category=category, **fields))


@pytest.fixture(name="routing", scope="session")
def routing_fixture() -> Routing:
    return load_routing()


@pytest.fixture(name="cw")
def cw_fixture(service: ListService, routing: Routing) -> Iterator[Casework]:
    """A CaseService on the parametrized store, with entries p1 (北京市朝阳区人民法院, listed)
    and p2 (青岛市市北区人民法院, shielded) and a clock set to Monday 2026-11-23 10:00 CST."""
    ingest(
        service,
        person("p1"),
        person("p2", iname="李娜", courtName="青岛市市北区人民法院", caseCode="(2023)鲁0203执9号"),
        person("p3", iname="王芳", disclose=False),
        {
            "op": "shield",
            "id": "p2",
            "effectiveAt": "2026-11-20T10:00:00+08:00",
            "reason": "被执行人已履行义务",
        },
    )
    clock = Clock()
    yield Casework(CaseService(service.store, routing, WorkCalendar(), clock), clock, service)
