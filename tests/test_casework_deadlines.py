"""Deadlines in China's working days, overdue escalation to the supervising unit, and the
per-unit accountability numbers (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from test_casework_support import Casework, cst, cw_fixture, routing_fixture  # noqa: F401

from casework import outbox
from casework.deadlines import Period, due_at
from core.workdays import WorkCalendar

pytestmark = pytest.mark.clock  # date-sensitive: .ci/shifted-clock runs it a year ahead and back


@pytest.mark.parametrize(
    ("start", "period", "due_day"),
    [
        ("2026-11-20T10:00:00", "3 working days", "2026-11-25"),  # Friday → Wednesday
        ("2026-09-30T10:00:00", "3 working days", "2026-10-10"),  # National Day; 10-10 make-up
        ("2026-09-28T10:00:00", "3 days", "2026-10-08"),  # ends on 10-01, a holiday: next workday
        ("2026-11-23T10:00:00", "15 days", "2026-12-08"),
        ("2026-11-28T10:00:00", "1 day", "2026-11-30"),  # Sunday is off: Monday
        ("2026-12-30T10:00:00", "3 working days", "2027-01-04"),  # 2027: weekends only
        ("2027-01-04T10:00:00", "20 working days", "2027-02-01"),
    ],
)
def test_due_dates(start: str, period: str, due_day: str) -> None:
    due = due_at(cst(start), Period.parse(period), WorkCalendar())
    assert due.isoformat().startswith(f"{due_day}T23:59:59.999999+08:00")


def test_overdue_acceptance_across_national_day_escalates_to_the_supervisor(cw: Casework) -> None:
    cw.clock.set("2026-09-30T10:00:00")
    receipt = cw.report()
    assert receipt.accept_due == cst("2026-10-10T23:59:59.999999")
    cw.clock.set("2026-10-10T23:00:00")  # a weekday count would have run out on 10-05
    assert cw.cases.sweep_overdue() == []
    cw.clock.set("2026-10-11T00:00:01")
    assert cw.cases.sweep_overdue() == [(receipt.number, "tourism", "credit-group")]
    assert cw.cases.sweep_overdue() == []  # flagged once

    public = cw.cases.track(receipt.number, receipt.access_code)
    assert public.timeline[-1].action == "overdue"
    expected = "旅游局超过受理期限（2026-10-10），已报区社会信用体系建设工作领导小组督办"
    assert public.timeline[-1].message == expected
    assert [d.overdue for d in public.deadlines] == [True]
    sent_to = {(m.channel, m.recipient) for m in outbox.pending(cw.cases.store, cw.clock.now)}
    assert {("unit", "credit-group"), ("unit", "tourism")} <= sent_to

    group = cw.unit("credit-group")
    assert [t.number for t in cw.cases.escalated(group)] == [receipt.number]
    cw.cases.note(group, receipt.ticket_id, "请旅游局两日内受理")  # supervisors may annotate
    assert cw.cases.ticket(group, receipt.ticket_id).timeline[-1].note == "请旅游局两日内受理"
    with pytest.raises(Exception, match="未找到"):
        cw.cases.accept(group, receipt.ticket_id)  # but not act for the unit


def test_overdue_into_2027_on_the_weekends_only_fallback(
    cw: Casework, caplog: pytest.LogCaptureFixture
) -> None:
    court = cw.unit("court:北京市朝阳区人民法院", login="bj-chaoyang")
    cw.clock.set("2026-12-30T10:00:00")
    with caplog.at_level(logging.WARNING, logger="core.workdays"):
        receipt = cw.complaint("inaccurate-info")
    assert receipt.accept_due == cst("2027-01-04T23:59:59.999999")
    cw.clock.set("2027-01-04T16:00:00")
    view = cw.cases.accept(court, receipt.ticket_id)
    assert [(d.kind, d.due_at.date().isoformat()) for d in view.deadlines] == [
        ("reply", "2027-01-19")  # 15 calendar days
    ]
    cw.clock.set("2027-01-20T08:00:00")
    assert cw.cases.sweep_overdue() == [
        (receipt.number, "court:北京市朝阳区人民法院", "credit-group")
    ]


def test_transfer_restarts_the_clock_for_the_new_unit_only(cw: Casework) -> None:
    tourism, commerce = cw.unit("tourism"), cw.unit("commerce")
    receipt = cw.report()  # Monday 2026-11-23: tourism must accept by Thursday 11-26
    cw.clock.set("2026-11-26T15:00:00")
    view = cw.cases.transfer(tourism, receipt.ticket_id, "commerce", "属商务局职责")
    assert [(d.unit_code, d.due_at.date().isoformat()) for d in view.deadlines] == [
        ("commerce", "2026-12-01")
    ]
    cw.clock.set("2026-11-27T09:00:00")
    assert cw.cases.sweep_overdue() == []
    cw.clock.set("2026-12-02T09:00:00")
    assert cw.cases.sweep_overdue() == [(receipt.number, "commerce", "credit-group")]
    stats = {s.unit_code: s for s in cw.cases.accountability()}
    assert (stats["tourism"].received, stats["tourism"].overdue) == (1, 0)
    assert (stats["commerce"].received, stats["commerce"].overdue) == (1, 1)
    assert commerce.unit_code == "commerce"


def test_a_unit_that_transfers_late_keeps_its_lateness(cw: Casework) -> None:
    tourism = cw.unit("tourism")
    receipt = cw.report()
    cw.clock.set("2026-11-30T09:00:00")
    cw.cases.sweep_overdue()
    cw.cases.transfer(tourism, receipt.ticket_id, "commerce", "属商务局职责")
    stats = {s.unit_code: s for s in cw.cases.accountability()}
    assert (stats["tourism"].overdue, stats["tourism"].open_overdue) == (1, 0)
    assert stats["commerce"].overdue == 0


def test_accountability_numbers(cw: Casework) -> None:
    tourism = cw.unit("tourism")
    fast, slow, ignored = cw.report(), cw.report(), cw.report()
    cw.cases.accept(tourism, fast.ticket_id)
    cw.cases.accept(tourism, slow.ticket_id)
    cw.clock.advance(days=1)
    cw.cases.reply(tourism, fast.ticket_id, "已处理")
    cw.clock.set("2027-01-04T10:00:00")  # 20 working days have passed for `slow`
    cw.cases.reply(tourism, slow.ticket_id, "已处理")
    cw.cases.sweep_overdue()
    stats = {s.unit_code: s for s in cw.cases.accountability()}["tourism"]
    assert (stats.received, stats.replied, stats.replied_on_time) == (3, 2, 1)
    assert (stats.overdue, stats.open_overdue) == (2, 1)  # slow's reply, ignored's acceptance
    durations = sorted([timedelta(days=1), cst("2027-01-04T10:00:00") - cst("2026-11-23T10:00:00")])
    assert stats.median_reply == (durations[0] + durations[1]) / 2
    assert ignored.number
