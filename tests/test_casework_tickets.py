"""Tickets through CaseService: routing on submission, the lifecycle, the audit trail and
public timeline, access codes, unit isolation and the outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from test_casework_support import HOSTILE_TEXT, Casework, cw_fixture, routing_fixture  # noqa: F401

from casework import outbox
from casework.errors import InvalidInput, InvalidTransition, NotFound
from casework.intake import Submission
from casework.tables import ticket_events, tickets
from core.tables import outbox as outbox_table

# --- Routing on submission ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "extra", "unit"),
    [
        ("wrongful-listing", {}, "court:北京市朝阳区人民法院"),  # the entry's executing court
        ("inaccurate-info", {}, "court:北京市朝阳区人民法院"),
        ("should-be-removed", {}, "court:北京市朝阳区人民法院"),
        ("inaccurate-info", {"entry_id": "p2"}, "court-shibei"),  # a court the file lists
        ("wrongful-listing", {"entry_id": None, "debtor_name": "赵六"}, "court-shibei"),  # fallback
        ("measure-objection", {"measure": "consumption.school"}, "education"),
        (
            "measure-objection",
            {"measure": "consumption.hotel", "unit": "police-shibei"},
            "police-shibei",
        ),
        (
            "measure-objection",
            {"measure": "consumption.flights-trains"},
            "court:北京市朝阳区人民法院",
        ),
        ("credit-repair", {"entry_id": "p2", "measure": "posts.soe-executive"}, "organization"),
    ],
)
def test_each_complaint_type_goes_to_the_right_unit(
    cw: Casework, category: str, extra: dict, unit: str
) -> None:
    receipt = cw.complaint(category, **extra)
    assert receipt.unit_code == unit


@pytest.mark.parametrize(
    ("category", "unit", "name"),
    [
        ("consumption.hotel", "tourism", "旅游局"),  # seed 003 二、(六)1, first named
        ("consumption.school", "education", "教育局"),
        ("industry.procurement", "ndrc", "发改局"),
        ("posts.soe-executive", "organization", "组织部"),
        ("criminal.refusal", "police-shibei", "公安市北分局"),  # lead: police investigate
        ("consumption.flights-trains", "court:北京市朝阳区人民法院", "北京市朝阳区人民法院"),
        ("defence.enlistment", "armed-forces", "人武部"),
    ],
)
def test_report_categories_go_to_the_unit_seed_003_names(
    cw: Casework, category: str, unit: str, name: str
) -> None:
    receipt = cw.report(category, entry_id="p1", debtor_name=None)
    assert (receipt.unit_code, receipt.unit_name) == (unit, name)


def test_the_submitter_may_pick_another_of_the_categorys_units(cw: Casework) -> None:
    assert cw.report(unit="commerce").unit_code == "commerce"
    with pytest.raises(InvalidInput) as err:
        cw.report(unit="education")
    assert err.value.field == "unit"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"entry_id": "p3", "measure": "posts.party"}, "entry_id"),  # never public = missing
        ({"entry_id": "nope", "measure": "posts.party"}, "entry_id"),
        ({"entry_id": "p1", "measure": "posts.party"}, "entry_id"),  # credit repair needs removal
        ({"entry_id": "p2", "measure": None}, "measure"),
        ({"entry_id": "p2", "measure": "no-such"}, "measure"),
        ({"entry_id": "p2", "measure": "posts.party", "what": " "}, "what"),
        ({"entry_id": "p2", "measure": "posts.party", "what": "a\x00b"}, "what"),
        ({"entry_id": "p2", "measure": "posts.party", "email": "not-an-address"}, "email"),
        ({"entry_id": "p2", "measure": "posts.party", "telegram": "@me"}, "telegram"),
        ({"entry_id": None, "debtor_name": None, "measure": "posts.party"}, "debtor_name"),
    ],
)
def test_invalid_submissions_name_the_field(cw: Casework, kw: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        cw.complaint("credit-repair", **kw)
    assert err.value.field == field


def test_unknown_or_mismatched_category_is_refused(cw: Casework) -> None:
    for kind, category in (
        ("report", "nope"),
        ("report", "wrongful-listing"),
        ("complaint", "consumption.hotel"),
    ):
        with pytest.raises(InvalidInput):
            cw.cases.submit(Submission(kind=kind, category=category, what="x", debtor_name="y"))


# --- Numbers and access codes ---------------------------------------------------------------


def test_number_and_code_are_random_and_only_the_codes_hash_is_stored(cw: Casework) -> None:
    receipts = [cw.report() for _ in range(5)]
    assert all(re.fullmatch(r"JB-2026-[0-9A-HJKMNP-TV-Z]{6}", r.number) for r in receipts)
    assert len({r.number for r in receipts}) == 5
    assert re.fullmatch(
        r"([0-9A-HJKMNP-TV-Z]{4}-){2}[0-9A-HJKMNP-TV-Z]{4}", receipts[0].access_code
    )
    assert cw.complaint("inaccurate-info").number.startswith("TS-2026-")
    with cw.cases.store.read() as conn:
        stored = " ".join(str(v) for row in conn.execute(select(tickets)) for v in row)
        stored += " ".join(str(v) for row in conn.execute(select(outbox_table)) for v in row)
        stored += " ".join(str(v) for row in conn.execute(select(ticket_events)) for v in row)
    for r in receipts:
        assert r.access_code not in stored
        assert r.access_code.replace("-", "") not in stored


def test_track_with_the_code_as_typed_loosely(cw: Casework) -> None:
    receipt = cw.report()
    loose = receipt.access_code.lower().replace("-", " ")
    view = cw.cases.track(receipt.number.lower(), loose)
    assert view is not None and view.number == receipt.number
    assert view.unit_name == "旅游局" and view.state == "received"


def test_wrong_codes_and_unknown_numbers_reveal_nothing(cw: Casework) -> None:
    receipt = cw.report()
    other = cw.report()
    wrong = [
        (receipt.number, other.access_code),
        (receipt.number, ""),
        (receipt.number, receipt.access_code[:-1]),
        ("JB-2026-000000", receipt.access_code),
        ("", ""),
    ]
    for number, code in wrong:
        assert cw.cases.track(number, code) is None
        with pytest.raises(NotFound) as err:
            cw.cases.add_info(number, code, "补充")
        assert err.value.detail == "未找到该事项"


# --- Lifecycle ------------------------------------------------------------------------------


def test_full_lifecycle_with_transfer_decline_reply_contest_and_close(cw: Casework) -> None:
    tourism, commerce = cw.unit("tourism"), cw.unit("commerce")
    police = cw.unit("police-shibei")
    receipt = cw.report()
    tid, number, code = receipt.ticket_id, receipt.number, receipt.access_code

    cw.clock.advance(hours=2)
    cw.cases.transfer(
        tourism, tid, "commerce", "该酒店的经营许可归商务局管理", note="电话确认过商务局"
    )
    view = cw.cases.ticket(commerce, tid)
    assert (view.state, view.unit_code) == ("transferred", "commerce")
    with pytest.raises(NotFound):
        cw.cases.ticket(tourism, tid)  # the transferring unit no longer reads it

    cw.cases.decline(commerce, tid, "星级评定属旅游部门", note="内部：不属本局")
    assert cw.cases.track(number, code).state == "declined"
    with pytest.raises(InvalidTransition):
        cw.cases.reply(commerce, tid, "答复")

    cw.cases.contest(number, code, "商务局应当处理，请重新办理")
    cw.cases.transfer(commerce, tid, "police-shibei", "涉及治安管理，转公安")
    cw.cases.accept(police, tid)
    cw.cases.add_info(number, code, "补充：9月29日又去了一次")
    assert cw.cases.ticket(police, tid).state == "accepted"  # adding information keeps state
    cw.cases.reply(police, tid, "已核实并通知酒店，依法限制其入住。")
    cw.cases.contest(number, code, "仍然看到他入住")
    assert cw.cases.ticket(police, tid).state == "reopened"
    cw.cases.reply(police, tid, "已再次核查并处理。")
    cw.cases.close(police, tid)

    public = cw.cases.track(number, code)
    assert public.state == "closed"
    assert [i.action for i in public.timeline] == [
        "submit",
        "transfer",
        "decline",
        "contest",
        "transfer",
        "accept",
        "add_info",
        "reply",
        "contest",
        "reply",
        "close",
    ]
    assert all(i.note is None for i in public.timeline)
    text = " ".join(i.message or "" for i in public.timeline)
    assert "星级评定属旅游部门" in text and "该酒店的经营许可归商务局管理" in text
    assert "内部" not in text and "电话确认" not in text

    audit = cw.cases.ticket(police, tid).timeline
    assert [i.note for i in audit if i.note] == ["电话确认过商务局", "内部：不属本局"]
    assert {i.unit_code for i in audit if i.actor_kind == "unit"} == {
        "tourism",
        "commerce",
        "police-shibei",
    }


def test_upheld_complaint_starts_the_correction_clock(cw: Casework) -> None:
    court = cw.unit("court:北京市朝阳区人民法院", login="bj-chaoyang")
    receipt = cw.complaint("inaccurate-info")
    cw.cases.accept(court, receipt.ticket_id)
    view = cw.cases.reply(court, receipt.ticket_id, "理由成立，予以更正。", upheld=True)
    assert [(d.kind, d.period) for d in view.deadlines] == [("correct", "3 working days")]
    cw.cases.record_correction(court, receipt.ticket_id, "已更正履行情况。")
    assert cw.cases.ticket(court, receipt.ticket_id).deadlines == []
    with pytest.raises(InvalidTransition):
        cw.cases.record_correction(court, receipt.ticket_id, "again")


def test_submitted_text_is_stored_exactly_as_typed(cw: Casework) -> None:
    receipt = cw.report(
        what=HOSTILE_TEXT, where=HOSTILE_TEXT, when=HOSTILE_TEXT, debtor_name=HOSTILE_TEXT
    )
    view = cw.cases.track(receipt.number, receipt.access_code)
    assert (view.what, view.where, view.when, view.debtor_name) == (HOSTILE_TEXT,) * 4
    unit = cw.unit("tourism")
    cw.cases.decline(unit, receipt.ticket_id, HOSTILE_TEXT)
    assert HOSTILE_TEXT in cw.cases.track(receipt.number, receipt.access_code).timeline[-1].message


# --- Isolation between units ----------------------------------------------------------------


def test_a_unit_cannot_read_or_act_on_another_units_ticket(cw: Casework) -> None:
    tourism, education = cw.unit("tourism"), cw.unit("education")
    mine = cw.report("consumption.school")
    theirs = cw.report()
    assert [t.number for t in cw.cases.queue(education)] == [mine.number]
    assert [t.number for t in cw.cases.queue(tourism)] == [theirs.number]
    guesses = [theirs.ticket_id, theirs.ticket_id + 1, 999_999]
    for guess in guesses:
        for attempt in (
            lambda g: cw.cases.ticket(education, g),
            lambda g: cw.cases.accept(education, g),
            lambda g: cw.cases.reply(education, g, "x"),
            lambda g: cw.cases.decline(education, g, "x"),
            lambda g: cw.cases.transfer(education, g, "commerce", "x"),
            lambda g: cw.cases.close(education, g),
            lambda g: cw.cases.note(education, g, "x"),
        ):
            with pytest.raises(NotFound) as err:
                attempt(guess)
            assert err.value.detail == "未找到该事项"  # missing and foreign look the same
    assert cw.cases.ticket(tourism, theirs.ticket_id).state == "received"


def test_an_administrator_sees_no_tickets(cw: Casework) -> None:
    admin = cw.unit("platform", name="平台管理员", admin=True)
    assert admin.is_admin
    receipt = cw.report()
    assert cw.cases.queue(admin) == []
    with pytest.raises(NotFound):
        cw.cases.ticket(admin, receipt.ticket_id)


# --- Outbox ---------------------------------------------------------------------------------


def test_notifications_are_written_with_the_change_in_chinese(cw: Casework) -> None:
    unit = cw.unit("tourism", email="tourism@example.gov.cn")
    receipt = cw.report(telegram="42")
    cw.cases.accept(unit, receipt.ticket_id)
    rows = outbox.pending(cw.cases.store, now=cw.clock.now)
    assert [(m.channel, m.recipient) for m in rows] == [
        ("email", "tourism@example.gov.cn"),
        ("email", "reporter@example.com"),
        ("telegram", "42"),
        ("email", "reporter@example.com"),
        ("telegram", "42"),
    ]
    assert "已受理" in rows[-1].subject and receipt.number in rows[-1].body
    assert "旅游局已受理" in rows[-1].body
    assert all(receipt.access_code not in m.body for m in rows)
    outbox.mark_sent(cw.cases.store, rows[0].id, cw.clock.now)
    outbox.mark_failed(cw.cases.store, rows[1].id, "SMTP down", cw.clock.now)
    later = outbox.pending(cw.cases.store, now=cw.clock.now)
    assert [m.id for m in later] == [m.id for m in rows[2:]]


def test_anonymous_submitter_gets_no_messages_but_the_unit_does(cw: Casework) -> None:
    receipt = cw.report(email=None)
    with cw.cases.store.read() as conn:
        rows = conn.execute(select(outbox_table.c.channel, outbox_table.c.recipient)).all()
        count = conn.execute(select(func.count()).select_from(tickets)).scalar()
    assert rows == [("unit", "tourism")] and count == 1
    assert cw.cases.track(receipt.number, receipt.access_code) is not None
