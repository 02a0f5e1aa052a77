"""Rows written by the bulk path read back through SQLAlchemy exactly, on both stores."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from core.bulk import insert_rows, update_rows
from core.db import Store
from search_index.dates import CST
from search_index.tables import entries


def _row(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "b1",
        "status": "published",
        "party_type": "person",
        "name": "張偉",
        "name_norm": "张伟",
        "case_code": "(2023)京0105执1号",
        "card_display": "1101051980****1234",
        "card_key": "k" * 32,
        "court_name": "北京市朝阳区人民法院",
        "area_name": "北京",
        "publish_date": "2023-03-20",
        "reg_date": None,
        "valid_until": "2099-03-20",
        "severity": None,
        "disclose": True,
        "fields": {"duty": "支付十万元", "age": 43},
        "removal_reason": None,
        "ever_public": True,
        "last_effective_at": datetime(2023, 3, 20, 0, 0, tzinfo=CST),
        "status_changed_at": datetime(2023, 3, 20, 9, 30, 15, 123456, tzinfo=CST),
        "seq": 7,
    }
    row.update(over)
    return row


def test_bulk_rows_read_back_through_the_table_definitions(database_url: str) -> None:
    store = Store(database_url)
    try:
        with store.write() as conn:
            insert_rows(conn, entries, [_row()])
            update_rows(conn, entries, [_row(status="shielded", disclose=False, seq=8)])
        with store.read() as conn:
            got = conn.execute(select(entries)).mappings().one()
        assert got["name"] == "張偉" and got["status"] == "shielded" and got["seq"] == 8
        assert got["publish_date"] == date(2023, 3, 20)
        assert got["fields"] == {"duty": "支付十万元", "age": 43}
        assert got["disclose"] is False and got["ever_public"] is True
        assert got["status_changed_at"] == datetime(2023, 3, 20, 1, 30, 15, 123456, tzinfo=UTC)
    finally:
        store.dispose()
