"""One-time keys (core/once_keys.py) and the migration that gave them their own table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from core import once_keys
from core.db import MIGRATIONS, Store
from core.tables import UTCDateTime
from core.tables import once_keys as table

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)


def test_a_key_is_spent_once_per_purpose(database_url: str) -> None:
    store = Store(database_url)
    assert once_keys.spend(store, "altcha", "k1", LATER, now=NOW)
    assert not once_keys.spend(store, "altcha", "k1", LATER, now=NOW)
    assert once_keys.spend(store, "submit", "k1", LATER, now=NOW)  # another purpose
    assert once_keys.is_spent(store, "altcha", "k1", NOW)
    assert not once_keys.is_spent(store, "altcha", "k1", LATER)  # expired
    assert not once_keys.is_spent(store, "altcha", "k2", NOW)
    store.dispose()


def test_spending_sweeps_what_expired_before_the_slack(database_url: str) -> None:
    store = Store(database_url)
    once_keys.spend(store, "altcha", "old", NOW, now=NOW)
    once_keys.spend(store, "submit", "recent", NOW + timedelta(minutes=5), now=NOW)
    later = NOW + timedelta(minutes=5, seconds=30)
    once_keys.spend(store, "altcha", "new", LATER, now=later, slack=timedelta(minutes=1))
    with store.read() as conn:
        keys = {tuple(r) for r in conn.execute(sa.select(table.c.purpose, table.c.key))}
    assert keys == {("submit", "recent"), ("altcha", "new")}
    store.dispose()


def test_spending_in_a_transaction_replaces_an_expired_record(database_url: str) -> None:
    store = Store(database_url)
    with store.write() as conn:
        assert once_keys.spend_in(conn, "submit", "k", LATER, NOW)
        assert not once_keys.spend_in(conn, "submit", "k", LATER, NOW)
        assert once_keys.spend_in(conn, "submit", "k", LATER + LATER.resolution, LATER)
    assert once_keys.is_spent(store, "submit", "k", LATER)
    store.dispose()


def _migrate(store: Store, revision: str, *, down: bool = False) -> None:
    with store._write_engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_the_migration_moves_live_keys_by_purpose_and_back(database_url: str) -> None:
    store = Store(database_url, migrate=False)
    _migrate(store, "0007")
    spent = sa.table(
        "altcha_spent",
        sa.column("challenge_key", sa.String),
        sa.column("expires_at", UTCDateTime()),
    )
    now = datetime.now(UTC)
    live = now + timedelta(minutes=5)
    with store.write() as conn:
        conn.execute(
            spent.insert(),
            [
                {"challenge_key": "ab12", "expires_at": live},
                {"challenge_key": "submit:Form_key-1234567890", "expires_at": live},
                {"challenge_key": "gone", "expires_at": now - timedelta(hours=1)},
            ],
        )
    _migrate(store, "0008")
    with store.read() as conn:
        rows = {tuple(r) for r in conn.execute(sa.select(table.c.purpose, table.c.key))}
        assert "altcha_spent" not in sa.inspect(conn).get_table_names()
    assert rows == {("altcha", "ab12"), ("submit", "Form_key-1234567890")}
    assert once_keys.is_spent(store, "submit", "Form_key-1234567890", now)

    _migrate(store, "0007", down=True)
    with store.read() as conn:
        back = set(conn.execute(sa.select(spent.c.challenge_key)).scalars())
        assert "once_keys" not in sa.inspect(conn).get_table_names()
    assert back == {"ab12", "submit:Form_key-1234567890"}
    store.dispose()
