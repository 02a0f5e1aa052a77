"""Units and accounts: one account per unit, argon2 hashes, lockout that never tells known
from unknown logins, sessions with idle timeout, and the ``shixin unit`` commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from support import make_settings

from casework import accounts
from casework.accounts import end_session, login, session_actor, start_session
from casework.errors import InvalidInput, LoginFailed
from casework.routing import load_routing
from casework.tables import case_users
from casework.units import add_staff, add_unit, list_units, reset_password
from core.db import Store
from core.workdays import CST
from shixin.cli import main


@pytest.fixture
def store(database_url: str):  # type: ignore[no-untyped-def]
    s = Store(database_url)
    yield s
    s.dispose()


T0 = __import__("datetime").datetime(2026, 11, 23, 10, 0, tzinfo=CST)


def _fail(store: Store, name: str, password: str = "wrong", at=T0) -> LoginFailed:  # type: ignore[no-untyped-def]
    with pytest.raises(LoginFailed) as err:
        login(store, name, password, now=at)
    return err.value


def test_one_account_per_unit_with_an_argon2_hash(store: Store) -> None:
    routing = load_routing()
    name, password = add_unit(store, routing, "tourism", email="t@example.gov.cn")
    assert name == "tourism" and len(password) >= 20
    with store.read() as conn:
        stored = conn.execute(select(case_users.c.password_hash)).scalar()
    assert stored.startswith("$argon2id$") and password not in stored
    with pytest.raises(InvalidInput, match="一单位、一账户"):
        add_unit(store, routing, "tourism", login="tourism2")
    with pytest.raises(InvalidInput):
        add_unit(store, routing, "no-such-unit")
    add_unit(store, routing, "court:北京市朝阳区人民法院", login="bj-chaoyang")
    staff_password = add_staff(store, "tourism", "zhang.san", "张三")
    actor = login(store, "zhang.san", staff_password, now=T0)
    assert (actor.unit_code, actor.role) == ("tourism", "staff")
    units = {u.code: u for u in list_units(store)}
    assert units["tourism"].staff == 1 and units["tourism"].login == "tourism"
    assert units["court:北京市朝阳区人民法院"].name == "北京市朝阳区人民法院"


def test_wrong_password_and_unknown_login_look_the_same(store: Store) -> None:
    add_unit(store, load_routing(), "tourism")
    a, b = _fail(store, "tourism"), _fail(store, "nobody")
    assert (type(a), a.detail, a.locked, a.status) == (type(b), b.detail, b.locked, b.status)


def test_five_failures_in_fifteen_minutes_lock_the_login_for_fifteen(store: Store) -> None:
    name, password = add_unit(store, load_routing(), "tourism")
    for i in range(4):
        assert not _fail(store, name, at=T0 + timedelta(minutes=i)).locked
    assert _fail(store, name, at=T0 + timedelta(minutes=4)).locked
    # Locked: even the right password is refused, with the same answer.
    assert _fail(store, name, password, at=T0 + timedelta(minutes=10)).locked
    # An unknown login locks exactly alike.
    for i in range(5):
        last = _fail(store, "nobody", at=T0 + timedelta(minutes=i))
    assert last.locked
    assert login(store, name, password, now=T0 + timedelta(minutes=20)).unit_code == "tourism"


def test_failures_spread_over_more_than_the_window_do_not_lock(store: Store) -> None:
    name, password = add_unit(store, load_routing(), "tourism")
    for i in range(4):
        _fail(store, name, at=T0 + timedelta(minutes=i))
    for i in range(4):
        assert not _fail(store, name, at=T0 + timedelta(minutes=20 + i)).locked
    login(store, name, password, now=T0 + timedelta(minutes=30))
    for i in range(4):  # success cleared the count
        assert not _fail(store, name, at=T0 + timedelta(minutes=31 + i)).locked


def test_sessions_end_when_idle_at_logout_and_on_password_reset(store: Store) -> None:
    name, password = add_unit(store, load_routing(), "tourism")
    actor = login(store, name, password, now=T0)
    token = start_session(store, actor, now=T0)
    assert session_actor(store, token, now=T0 + timedelta(minutes=29)) == actor
    # Used at 29 minutes, so still alive 29 minutes later; idle 30 minutes ends it.
    assert session_actor(store, token, now=T0 + timedelta(minutes=58)) == actor
    assert session_actor(store, token, now=T0 + timedelta(minutes=88)) is None
    assert session_actor(store, "forged", now=T0) is None

    token = start_session(store, actor, now=T0)
    later = T0 + accounts.SESSION_MAX
    assert session_actor(store, token, now=later) is None  # the absolute limit
    token = start_session(store, actor, now=T0)
    end_session(store, token, now=T0)
    assert session_actor(store, token, now=T0) is None

    token = start_session(store, actor, now=T0)
    new_password = reset_password(store, name, now=T0)
    assert session_actor(store, token, now=T0) is None
    _fail(store, name, password)
    assert login(store, name, new_password, now=T0) == actor


def test_unit_commands(tmp_path, database_url: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, database_url)
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHIXIN_DATABASE_URL", database_url)
    assert main(["unit", "add", "education", "--email", "edu@example.gov.cn"]) == 0
    out = capsys.readouterr().out
    password = out.strip().splitlines()[-1].rsplit("：", 1)[1]
    assert main(["unit", "add", "admin", "--name", "平台管理员", "--admin"]) == 0
    assert main(["unit", "add-staff", "education", "li.si", "--name", "李四"]) == 0
    capsys.readouterr()
    assert main(["unit", "list"]) == 0
    listing = capsys.readouterr().out
    assert "education\t教育局\teducation\t单位\t工作人员 1" in listing
    assert "admin\t平台管理员\tadmin\t管理员" in listing
    assert main(["unit", "add", "education"]) == 2
    assert "一单位、一账户" in capsys.readouterr().err
    assert main(["unit", "reset-password", "education"]) == 0
    new = capsys.readouterr().out.splitlines()[0].rsplit("：", 1)[1]
    store = Store(database_url)
    try:
        _fail(store, "education", password)
        assert login(store, "education", new, now=T0).unit_code == "education"
    finally:
        store.dispose()
    assert main(["unit", "reset-password", "nobody"]) == 2


def test_housekeeping_deletes_old_throttle_rows_and_dead_sessions(store: Store) -> None:
    from casework.accounts import sweep_expired
    from casework.tables import case_login_throttle, case_sessions

    name, password = add_unit(store, load_routing(), "tourism")
    actor = login(store, name, password, now=T0)
    live = start_session(store, actor, now=T0)
    ended = start_session(store, actor, now=T0)
    end_session(store, ended, now=T0)
    idle = start_session(store, actor, now=T0 - timedelta(hours=1))
    _fail(store, "stranger", at=T0 - timedelta(hours=1))  # a window long past
    for i in range(5):  # locked until T0 + 15 minutes
        _fail(store, "locked-name", at=T0 - timedelta(minutes=5) + timedelta(seconds=i))
    _fail(store, "recent", at=T0)

    def counts() -> tuple[int, int]:
        with store.read() as conn:
            throttle = conn.execute(select(case_login_throttle.c.login_key)).all()
            sessions = conn.execute(select(case_sessions.c.id)).all()
        return len(throttle), len(sessions)

    assert counts() == (3, 3)
    assert sweep_expired(store, now=T0) == (1, 2)
    assert counts() == (2, 1)
    assert session_actor(store, live, now=T0) == actor  # the live session is untouched
    assert _fail(store, "locked-name", at=T0 + timedelta(minutes=1)).locked  # still locked
    assert session_actor(store, idle, now=T0) is None
    # Once the lock and the window are over, those rows go too.
    later = T0 + timedelta(hours=1)
    assert sweep_expired(store, now=later) == (2, 1)
    assert counts() == (0, 0)


def test_unlock_disable_and_typed_passwords(store: Store) -> None:
    from casework.accounts import lock_state, unlock
    from casework.units import set_unit_disabled, set_user_disabled

    name, password = add_unit(store, load_routing(), "tourism")
    for i in range(5):
        _fail(store, name, at=T0 + timedelta(seconds=i))
    assert lock_state(store, [name, "other"], now=T0) == {name}
    assert unlock(store, name) is True and lock_state(store, [name], now=T0) == set()
    actor = login(store, name, password, now=T0)
    token = start_session(store, actor, now=T0)
    set_user_disabled(store, name, True, now=T0)
    assert session_actor(store, token, now=T0) is None
    _fail(store, name, password)
    set_user_disabled(store, name, False, now=T0)
    token = start_session(store, login(store, name, password, now=T0), now=T0)
    set_unit_disabled(store, "tourism", True, now=T0)
    assert session_actor(store, token, now=T0) is None
    set_unit_disabled(store, "tourism", False, now=T0)
    with pytest.raises(InvalidInput, match="至少12个字符"):
        reset_password(store, name, password="short")
    assert reset_password(store, name, password="a long enough one") == "a long enough one"
    assert login(store, name, "a long enough one", now=T0).unit_code == "tourism"
