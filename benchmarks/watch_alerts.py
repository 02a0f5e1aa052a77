"""One alert round: a 10,000-change batch of the list against 10,000 watches.

    python -m benchmarks.watch_alerts                  # SQLite, in a temporary directory
    python -m benchmarks.watch_alerts --url postgresql+psycopg://...   # an empty database

Imports ``--changes`` entries (half people with full ID numbers, half organizations with
credit codes) through ``ListService``, adds ``--watches`` watches straight into the table
(a third credit codes, a third names plus ID numbers, a sixth saved searches by name, a
sixth credit codes that match nothing), then times ``AlertRound.run_once`` over the whole
batch ``--repeat`` times (the mark and the outbox reset in between). Prints a Markdown row.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, update

from benchmarks.run import KEY, machine
from core.settings import load_settings
from core.tables import outbox
from search_index.identifiers import (
    credit_code_check_char,
    id_check_char,
    keyed_hash,
    org_code_check_char,
)
from search_index.normalize import normalize_name
from search_index.service import ListService
from watches.alerts import STATE, AlertRound
from watches.tables import watch_state, watches


def _id_number(n: int) -> str:
    first17 = f"110105{19600101 + (n % 28) + 100 * (n // 28 % 12)}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def _credit_code(n: int) -> str:
    org8 = f"MA{n:06d}"
    first17 = "91110105" + org8 + org_code_check_char(org8)
    return first17 + credit_code_check_char(first17)


def _lines(count: int) -> list[tuple[int, dict[str, Any]]]:
    lines: list[tuple[int, dict[str, Any]]] = []
    for n in range(count):
        common = {
            "op": "publish",
            "id": f"b{n}",
            "caseCode": f"(2024)京0105执{n + 1}号",
            "courtName": "北京市朝阳区人民法院",
            "areaName": "北京",
            "publishDate": "2024-05-06",
            "validUntil": "2099-05-06",
            "performance": "全部未履行",
        }
        if n % 2:
            line = {**common, "iname": f"北京测{n}有限公司", "cardNum": _credit_code(n)}
            line["partyTypeName"] = "法人或其他组织"
        else:
            line = {**common, "iname": f"张{n}", "cardNum": _id_number(n)}
            line["partyTypeName"] = "自然人"
        lines.append((n + 1, line))
    return lines


_OPTIONAL = ("credit_code", "card_hash", "name_norm", "region", "court", "party_type")


def _watch_rows(count: int, changes: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        entry = n % changes
        base: dict[str, Any] = dict.fromkeys(_OPTIONAL)
        base.update(channel="telegram", recipient=str(100000 + n), since_seq=0, created_at=now)
        part = n * 6 // count
        if part in (0, 1):  # a credit code (of an organization in the batch)
            code = _credit_code(entry | 1)
            row = {"kind": "code", "credit_code": code, "card_hash": keyed_hash(KEY, code)}
            row["dedupe_key"] = f"code:{code}"
        elif part in (2, 3):  # a name plus ID number (of a person in the batch)
            number = entry & ~1
            card = keyed_hash(KEY, _id_number(number))
            name = normalize_name(f"张{number}")
            row = {"kind": "person", "card_hash": card, "name_norm": name}
            row["dedupe_key"] = f"person:{card}"
        elif part == 4:  # a saved search by name
            name = normalize_name(f"张{entry & ~1}")
            row = {"kind": "search", "name_norm": name, "region": "北京"}
            row["dedupe_key"] = f"search:{name}"
        else:  # a credit code nobody in the batch has
            code = _credit_code(500000 + n)
            row = {"kind": "code", "credit_code": code, "card_hash": keyed_hash(KEY, code)}
            row["dedupe_key"] = f"code:{code}"
        rows.append({**base, **row, "label": row["dedupe_key"][:40]})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--watches", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SHIXIN_DATA_DIR": str(Path(tmp) / "data"), "SHIXIN_ID_HASH_KEY": KEY}
        if args.url:
            env["SHIXIN_DATABASE_URL"] = args.url
        service = ListService(load_settings(env))
        try:
            service.ingest(_lines(args.changes), source="benchmark")
            store = service.store
            with store.write() as conn:
                conn.execute(watches.insert(), _watch_rows(args.watches, args.changes))
            times, alerts = [], 0
            for _ in range(args.repeat):
                with store.write() as conn:
                    conn.execute(delete(outbox))
                    conn.execute(delete(watch_state).where(watch_state.c.name == STATE))
                start = time.perf_counter()
                result = AlertRound(store, batch=args.changes).run_once()
                times.append(time.perf_counter() - start)
                alerts = result.alerts
                assert result.changes == args.changes, result
            with store.write() as conn:
                conn.execute(update(watch_state).values(seq=0))
            dialect = store.engine.dialect.name
        finally:
            service.close()
    print(f"Machine: {machine()}")
    print("| store | changes | watches | alerts | best | median |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| {dialect} | {args.changes:,} | {args.watches:,} | {alerts:,} "
        f"| {min(times):.2f} s | {statistics.median(times):.2f} s |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
