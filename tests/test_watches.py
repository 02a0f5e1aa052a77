"""Watches (issue 13): a domain of its own, alerting to the outbox from the list's changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from support import (
    KEY,
    correction,
    credit_code,
    id_number,
    ingest,
    org,
    person,
    recent_instant,
    removal,
)

from core.tables import outbox
from search_index.dates import CST
from search_index.identifiers import mask_id_number
from search_index.redact import redact_text
from search_index.service import ListService
from watches.alerts import AlertRound
from watches.service import MAX_PER_SUBSCRIBER, WatchError, WatchService
from watches.tables import watches

CHAT = "4242"
OTHER = "9999"


def _watches(service: ListService) -> WatchService:
    return WatchService(service.store, KEY)


def _alerts(service: ListService) -> list[dict]:
    with service.store.read() as conn:
        return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]


def test_publish_correction_and_removal_each_alert_the_right_watcher_once(
    service: ListService,
) -> None:
    code = credit_code()
    card = id_number("110105", "19800101", "321")
    ws = _watches(service)
    assert ws.add_code("telegram", CHAT, code).created
    assert ws.add_person("email", "a@example.com", "张伟", card).created
    ws.add_code("telegram", OTHER, credit_code())  # matches nothing here
    rounds = AlertRound(service.store)

    ingest(service, org("o1", cardNum=code), person("p1", cardNum=card))
    assert rounds.run().alerts == 2
    alerts = _alerts(service)
    assert {(a["channel"], a["recipient"]) for a in alerts} == {
        ("telegram", CHAT),
        ("email", "a@example.com"),
    }
    assert all("新发布" in a["body"] for a in alerts)
    assert any("上海某某科技有限公司" in a["body"] for a in alerts)

    ingest(service, correction("o1", recent_instant(2), iname="上海某某新科技有限公司"))
    assert rounds.run().alerts == 1
    (fix,) = _alerts(service)[2:]
    assert fix["recipient"] == CHAT and "已更正" in fix["body"]
    assert "上海某某新科技有限公司" in fix["body"]

    ingest(service, removal("shield", "p1"))
    assert rounds.run().alerts == 1
    (gone,) = _alerts(service)[3:]
    assert gone["recipient"] == "a@example.com" and "已移出名单" in gone["body"]
    assert "p1" in gone["body"] and "(2023)京0105执1234号" in gone["body"]

    assert rounds.run().alerts == 0
    assert len(_alerts(service)) == 4


def test_no_repeat_after_a_restart(service: ListService) -> None:
    code = credit_code()
    _watches(service).add_code("telegram", CHAT, code)
    ingest(service, org("o1", cardNum=code))
    assert AlertRound(service.store).run().alerts == 1
    # a "restart": new objects on the same store
    assert AlertRound(service.store).run().alerts == 0
    assert _watches(service).add_code("telegram", CHAT, code).created is False
    assert AlertRound(service.store).run().alerts == 0
    assert len(_alerts(service)) == 1


def test_a_crash_before_the_commit_loses_nothing(
    service: ListService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watches.alerts as alerts_module

    code = credit_code()
    _watches(service).add_code("telegram", CHAT, code)
    ingest(service, org("o1", cardNum=code))
    real = alerts_module.enqueue_many

    def crash(*args: object, **kw: object) -> int:
        real(*args, **kw)  # type: ignore[arg-type]
        raise RuntimeError("killed")

    monkeypatch.setattr(alerts_module, "enqueue_many", crash)
    with pytest.raises(RuntimeError):
        AlertRound(service.store).run()
    assert _alerts(service) == []
    monkeypatch.setattr(alerts_module, "enqueue_many", real)
    assert AlertRound(service.store).run().alerts == 1


def test_a_watch_added_after_a_publish_is_not_alerted_for_it(service: ListService) -> None:
    code = credit_code()
    rounds = AlertRound(service.store)
    ingest(service, org("o1", cardNum=code))
    rounds.run()
    _watches(service).add_code("telegram", CHAT, code)
    assert rounds.run().alerts == 0
    # ... nor when the round had not run before the watch was added
    code2 = credit_code()
    ingest(service, org("o2", cardNum=code2))
    _watches(service).add_code("telegram", CHAT, code2)
    assert rounds.run().alerts == 0
    # but a later change is
    ingest(service, removal("delete", "o2"))
    assert rounds.run().alerts == 1


def test_name_and_id_watch_stores_no_full_id_and_alerts_show_none(
    service: ListService,
) -> None:
    card = id_number("110105", "19800101", "555")
    added = _watches(service).add_person("telegram", CHAT, "张伟", card)
    assert card not in added.watch.label and mask_id_number(card) in added.watch.label
    with service.store.read() as conn:
        (row,) = conn.execute(select(watches)).mappings()
    assert card not in " ".join(str(v) for v in row.values())
    ingest(service, person("p1", cardNum=card, duty=f"证件 {card}"))
    ingest(service, person("p2", iname="李四", cardNum=card))  # another name: not a match
    AlertRound(service.store).run()
    (alert,) = _alerts(service)
    assert card not in alert["body"] and redact_text(alert["body"]) == alert["body"]


def test_saved_search_matches_name_region_court_and_party(service: ListService) -> None:
    ws = _watches(service)
    ws.add_search("telegram", CHAT, "张伟", region="北京", party_type="person")
    ws.add_search("telegram", OTHER, "张伟", court="上海市浦东新区人民法院")
    ingest(service, person("p1"), person("p2", iname="王芳", cardNum=id_number()))
    AlertRound(service.store).run()
    assert [a["recipient"] for a in _alerts(service)] == [CHAT]


def test_never_public_entries_are_never_alerted(service: ListService) -> None:
    code = credit_code()
    _watches(service).add_search("telegram", CHAT, "上海某某秘密有限公司")
    _watches(service).add_code("telegram", OTHER, code)
    ingest(service, org("o2", iname="上海某某秘密有限公司", cardNum=code, disclose=False))
    ingest(service, correction("o2", recent_instant(1), severity="严重"))
    AlertRound(service.store).run()
    assert _alerts(service) == []


def test_an_entry_withdrawn_after_being_public_alerts_its_id_only(service: ListService) -> None:
    code = credit_code()
    _watches(service).add_code("telegram", CHAT, code)
    rounds = AlertRound(service.store)
    ingest(service, org("o1", cardNum=code))
    rounds.run()
    ingest(service, correction("o1", recent_instant(1), disclose=False, iname="新名称有限公司"))
    assert rounds.run().alerts == 1
    body = _alerts(service)[-1]["body"]
    assert "o1" in body and "已不再公开" in body
    assert "新名称" not in body and "执77号" not in body


def test_expiry_alerts_with_the_case_number_only(service: ListService) -> None:
    today = datetime.now(CST).date()
    code = credit_code()
    _watches(service).add_code("telegram", CHAT, code)
    ingest(service, org("o1", cardNum=code, validUntil=today.isoformat()))
    rounds = AlertRound(service.store)
    rounds.run()
    assert service.expire(today=today + timedelta(days=1)) == 1
    assert rounds.run().alerts == 1
    body = _alerts(service)[-1]["body"]
    assert "期满" in body and "(2024)沪0115执77号" in body
    assert "上海市浦东新区人民法院" not in body


def test_remove_list_cap_and_blocked_subscriber(service: ListService) -> None:
    ws = _watches(service)
    first = ws.add_code("telegram", CHAT, credit_code()).watch
    ws.add_search("telegram", CHAT, "张伟")
    ws.add_search("telegram", OTHER, "张伟")
    assert [w.kind for w in ws.list("telegram", CHAT)] == ["code", "search"]
    assert ws.remove("telegram", OTHER, first.id) is False  # not theirs
    assert ws.remove("telegram", CHAT, first.id) is True
    assert ws.remove_all_for("telegram", CHAT) == 1
    assert ws.list("telegram", CHAT) == [] and len(ws.list("telegram", OTHER)) == 1
    for n in range(MAX_PER_SUBSCRIBER):
        ws.add_search("email", "b@example.com", f"名{n}")
    with pytest.raises(WatchError, match="too_many"):
        ws.add_search("email", "b@example.com", "再一个")
    with pytest.raises(WatchError):
        ws.add_code("telegram", CHAT, "not a code")
    with pytest.raises(WatchError):
        ws.add_person("telegram", CHAT, "张伟", credit_code())
    with service.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(watches)).scalar() == 51


def test_shixin_alerts_queues_each_alert_once(
    service: ListService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shixin import cli

    code = credit_code()
    _watches(service).add_code("telegram", CHAT, code)
    ingest(service, org("o1", cardNum=code))
    settings = service.settings
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHIXIN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SHIXIN_ID_HASH_KEY", KEY)
    assert cli.main(["alerts"]) == 0
    assert "写入提醒 1 条" in capsys.readouterr().out
    assert len(_alerts(service)) == 1
    assert cli.main(["alerts"]) == 0  # nothing new: nothing repeated
    assert len(_alerts(service)) == 1


def test_the_portal_queues_alerts_in_the_background(tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import time
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning
    from support import make_settings

    from portal.app import create_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

    settings = make_settings(tmp_path, database_url, SHIXIN_MAIL_INTERVAL="0.1")
    app = create_app(settings)
    with TestClient(app):
        service = app.state.service
        code = credit_code()
        _watches(service).add_code("telegram", CHAT, code)
        ingest(service, org("o1", cardNum=code))
        deadline = time.monotonic() + 10
        while not _alerts(service) and time.monotonic() < deadline:
            time.sleep(0.05)
        (alert,) = _alerts(service)
    assert alert["recipient"] == CHAT and "新发布" in alert["body"]


def test_watching_an_entry_takes_its_full_credit_code_else_a_plain_name(
    service: ListService,
) -> None:
    watching = _watches(service)
    code = credit_code()
    org_watch = watching.add_entry("telegram", CHAT, "某某有限公司", code).watch
    assert org_watch.kind == "code" and org_watch.label == f"统一社会信用代码 {code}"
    masked = "1101051980****1234"
    person_watch = watching.add_entry("telegram", CHAT, "张伟", masked).watch
    assert person_watch.kind == "search" and person_watch.label == "搜索 张伟"
    for name in ("张*伟", "某公司2号", "", "钱" * 101):
        with pytest.raises(WatchError) as caught:
            watching.add_entry("telegram", CHAT, name, masked)
        assert caught.value.code == "not_watchable"
