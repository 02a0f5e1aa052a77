"""``shixin demo-cases``: demo unit accounts and tickets in every state, on a store holding
the list's demo data (SQLite and PostgreSQL), idempotent, and refusing outside a demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casework.accounts import login
from casework.errors import LoginFailed, NotFound
from casework.routing import load_routing
from casework.service import CaseService
from casework.tables import case_users, ticket_events, tickets
from core.tables import outbox
from core.workdays import WorkCalendar
from search_index.demo import write_demo_file
from search_index.ingest import jsonl_records
from search_index.service import ListService
from shixin import cli
from shixin import demo_cases as demo

pytestmark = pytest.mark.clock  # date-sensitive: .ci/shifted-clock runs it a year ahead and back

COUNT = 300
EVERY_STATE = {"received", "accepted", "transferred", "declined", "replied", "reopened", "closed"}


def _load_demo_list(service: ListService, data_dir: Path) -> None:
    path = data_dir / "demo.jsonl"
    write_demo_file(path, COUNT, 7)
    with path.open("rb") as stream:
        service.ingest(jsonl_records(stream), source="test:demo")


def _counts(service: ListService) -> tuple[int, int, int, int]:
    with service.store.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (tickets, ticket_events, outbox, case_users)
        )


def test_demo_cases_cover_every_state_and_run_once(service: ListService, tmp_path: Path) -> None:
    _load_demo_list(service, tmp_path)
    routing = load_routing()
    cases = CaseService(service.store, routing, WorkCalendar())

    result = demo.create_demo_cases(service.store, routing, WorkCalendar(), seed=3)

    # Every routing unit has an account, plus court:<name> units for demo courts.
    assert {code for code in routing.units} <= set(result.logins)
    courts = [code for code in result.logins if code.startswith("court:")]
    assert courts and all(result.logins[c].startswith("court-") for c in courts)
    states = {state.split(",")[0] for _, _, state, _ in result.tickets}
    assert states >= EVERY_STATE
    overdue = [t for t in result.tickets if t[2].endswith(",overdue")]
    assert len(overdue) == 1 and overdue[0][3] == "tourism"

    with service.store.read() as conn:
        rows = conn.execute(select(tickets)).mappings().all()
    assert {r["state"] for r in rows} >= EVERY_STATE
    assert all(r["what"].startswith(demo.DEMO_MARK) for r in rows)
    assert any(r["entry_id"] for r in rows) and any(r["entry_id"] is None for r in rows)
    assert any(r["unit_code"].startswith("court:") for r in rows)

    # Every printed number and code works on /track, with the timeline of its steps.
    for number, code, state, _unit in result.tickets:
        view = cases.track(number, code)
        assert view is not None and view.state == state.split(",")[0]
    reopened = next(t for t in result.tickets if t[2] == "reopened")
    view = cases.track(reopened[0], reopened[1])
    assert view is not None
    assert [i.action for i in view.timeline] == ["submit", "accept", "reply", "contest"]
    assert cases.track(reopened[0], "0000-0000-0000") is None

    # A unit logs in with the demo password and sees only its own tickets.
    tourism = login(service.store, "tourism", demo.DEMO_PASSWORD)
    mine = cases.queue(tourism, set(EVERY_STATE))
    assert mine and all(t.unit_code == "tourism" for t in mine)
    assert {t.id for t in mine} == {r["id"] for r in rows if r["unit_code"] == "tourism"}
    other = next(r for r in rows if r["unit_code"] != "tourism")
    with pytest.raises(NotFound):
        cases.ticket(tourism, other["id"])
    with pytest.raises(LoginFailed):
        login(service.store, "tourism", "wrong-password")
    court_login = result.logins[courts[0]]
    court = login(service.store, court_login, demo.DEMO_PASSWORD)
    assert court.unit_code == courts[0]

    # The overdue ticket was escalated to the supervising unit, which can read it.
    supervisor = login(service.store, "credit-group", demo.DEMO_PASSWORD)
    assert [t.number for t in cases.escalated(supervisor)] == [overdue[0][0]]

    # Running again adds nothing.
    before = _counts(service)
    again = demo.create_demo_cases(service.store, routing, WorkCalendar(), seed=3)
    assert again.skipped_tickets and not again.created and not again.tickets
    assert _counts(service) == before


def test_demo_notifications_link_to_the_site_with_a_public_url(
    service: ListService, tmp_path: Path
) -> None:
    _load_demo_list(service, tmp_path)
    url = "https://demo.shixin.example.cn"
    demo.create_demo_cases(service.store, load_routing(), WorkCalendar(), public_url=url)
    with service.store.read() as conn:
        bodies = list(conn.execute(select(outbox.c.body)).scalars())
    assert bodies and all(f"{url}/" in body for body in bodies)


def test_existing_accounts_keep_their_password(service: ListService, tmp_path: Path) -> None:
    from casework.units import add_unit

    _load_demo_list(service, tmp_path)
    routing = load_routing()
    _login, password = add_unit(service.store, routing, "tourism")
    result = demo.create_demo_cases(service.store, routing, WorkCalendar())
    assert "tourism" in result.existing
    assert login(service.store, "tourism", password).unit_code == "tourism"
    with pytest.raises(LoginFailed):
        login(service.store, "tourism", demo.DEMO_PASSWORD)


def _run(monkeypatch: pytest.MonkeyPatch, data_dir: Path, *args: str) -> int:
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("SHIXIN_DATABASE_URL", raising=False)
    return cli.main(["demo-cases", *args])


def test_the_command_prints_logins_and_codes_that_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # No demo.jsonl: not a demo store, so no accounts without an explicit password.
    assert _run(monkeypatch, data_dir) == cli.EXIT_ERROR
    assert "--password" in capsys.readouterr().err

    monkeypatch.setenv("SHIXIN_DATA_DIR", str(data_dir))
    assert cli.main(["demo-data", "--count", str(COUNT), "--seed", "2"]) == cli.EXIT_OK
    assert cli.main(["import", str(data_dir / "demo.jsonl")]) in (cli.EXIT_OK, cli.EXIT_REJECTS)
    capsys.readouterr()

    assert _run(monkeypatch, data_dir) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert demo.DEMO_PASSWORD in out and "tourism" in out
    printed = re.findall(
        r"((?:JB|TS)-\d{4}-[0-9A-Z]{6})\s+([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", out
    )
    assert printed
    saved = (data_dir / demo.CODES_FILE).read_text(encoding="utf-8")
    settings = cli.load_settings()
    cases = CaseService.from_settings(settings)
    try:
        for number, code in printed:
            assert number in saved and cases.track(number, code) is not None
        assert login(cases.store, "tourism", demo.DEMO_PASSWORD).unit_code == "tourism"
        # The README's demo administrator: printed, and it is an administrator.
        assert re.search(r"^  admin\t平台管理员", out, re.M)
        assert login(cases.store, "admin", demo.DEMO_PASSWORD).is_admin
    finally:
        cases.store.dispose()

    assert _run(monkeypatch, data_dir) == cli.EXIT_OK  # twice: nothing added, codes still shown
    out = capsys.readouterr().out
    assert "未再添加" in out and printed[0][0] in out
    assert (data_dir / demo.CODES_FILE).read_text(encoding="utf-8") == saved
