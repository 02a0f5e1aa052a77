"""No full resident ID number anywhere: not in a page, an API answer, a file the import
writes, the store (SQLite files with their WAL, or PostgreSQL's rows) or the index.

Courts type ID numbers into every field, not only ``cardNum``: a ``duty`` that names the
person, a shield ``reason``, a correction, even the entry ``id``. Each test here sends lines
carrying valid full ID numbers (18 digits, with ``X`` and ``x``, in full-width digits, and the
15-digit old ones) in every field, through ``shixin import`` (the command, as a subprocess)
or ``POST /api/v1/ingest``, then reads every answer the public sees and every byte on disk
while the store is still open, and looks for any of those numbers written out in full.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from support import days_ago, instant_days_ago, org, person, recent_instant, removal
from test_api import Portal, jsonl, running  # the portal as the API tests run it

from core.settings import Settings
from core.tables import metadata
from search_index.identifiers import id_check_char, upgrade_id15
from search_index.normalize import fold_width
from search_index.redact import contains_id_number, redact_record, redact_text
from search_index.types import CASE_FIELDS

pytestmark = pytest.mark.clock  # date-sensitive: .ci/shifted-clock runs it a year ahead and back

_serials = itertools.count(1)

# --- ID numbers, born some decades before the tests' today -----------------------------------


def full_id(check: str | None = None, region: str = "110105") -> str:
    """A new valid 18-digit ID number; ``check`` asks for that check character."""
    while True:
        serial = next(_serials)
        born = days_ago(365 * 30 + 97 * serial % (365 * 50))  # 30 to 80 years ago
        first17 = region + born.strftime("%Y%m%d") + f"{serial % 1000:03d}"
        if check is None or id_check_char(first17) == check:
            return first17 + id_check_char(first17)


def old_id(region: str = "320102") -> str:
    """A new 15-digit first-generation ID number (region, YYMMDD, serial)."""
    serial = next(_serials)
    born = date(1950, 1, 1) + timedelta(days=97 * serial % 18000)  # they were born in the 1900s
    return region + born.strftime("%y%m%d") + f"{serial % 1000:03d}"


def masked18(full: str) -> str:
    return full[:10].upper() + "****" + full[14:].upper()


def masked15(old: str) -> str:
    return old[:8] + "****" + old[12:]


def full_width(digits: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) for ch in digits)


# --- The batch ----------------------------------------------------------------------------


@dataclass
class Batch:
    """Lines that carry full ID numbers, and what to look for afterwards."""

    lines: list[Any] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # full form -> where it was sent
    public: dict[str, str] = field(default_factory=dict)  # entry id -> a masked form it shows
    refused_ids: list[int] = field(default_factory=list)  # line numbers of ids refused

    def secret(self, value: str, where: str) -> str:
        self.secrets[value] = where
        return value

    def add(self, line: Any) -> int:
        self.lines.append(line)
        return len(self.lines)

    def needles(self) -> dict[bytes, str]:
        """Every byte form a secret could take on disk or in a body."""
        out: dict[bytes, str] = {}
        for secret, where in self.secrets.items():
            digits = fold_width(secret).upper()
            forms = {digits, digits.lower(), full_width(digits)}
            if len(digits) == 15:
                forms.add(upgrade_id15(digits))  # the 18-digit number it became
            for form in forms:
                out[form.encode()] = where
        return out

    def entry_ids(self) -> list[str]:
        ids = []
        for line in self.lines:
            entry_id = line.get("id") if isinstance(line, dict) else None
            if isinstance(entry_id, str) and not contains_id_number(entry_id):
                ids.append(entry_id)
        return sorted(set(ids))


def text_with_ids(batch: Batch, where: str, prefix: str = "见") -> str:
    """A text holding a full 18-digit and a 15-digit ID number."""
    full, old = batch.secret(full_id(), where), batch.secret(old_id(), where)
    return f"{prefix}身份证号{full}（旧证{old}）"


def build_batch() -> Batch:
    batch = Batch()
    # Every case field and every top-level text field, each on its own line, so that the
    # line's fate (accepted, warned, rejected) does not hide another field's.
    top_level = ("iname", "caseCode", "courtName", "areaName", "severity", "partyTypeName",
                 "publishDate", "regDate", "validUntil")  # fmt: skip
    for name in (*CASE_FIELDS, *top_level):
        entry_id = f"f-{name}"
        card = batch.secret(full_id(), f"cardNum of {entry_id}")
        if name == "severity":  # the store keeps 32 characters of it
            value = batch.secret(full_id(), name)
        else:
            value = text_with_ids(batch, name, prefix="张伟" if name == "iname" else "见")
        make = org if name == "businessEntity" else person
        extra = {} if make is org else {"cardNum": card}
        batch.add(make(entry_id, **{name: value}, **extra))
    # Text fields that keep their text: the entry shows the masked form instead.
    for name in ("duty", "gistId", "performedPart", "businessEntity"):
        line = next(ln for ln in batch.lines if ln["id"] == f"f-{name}")
        full = next(s for s, w in batch.secrets.items() if w == name and len(s) == 18)
        batch.public[line["id"]] = masked18(full)
    # The forms people type: X, x, full-width digits, a JSON number.
    with_x = batch.secret(full_id("X"), "duty with X")
    lower_x = batch.secret(full_id("X").lower(), "performedPart with x")
    wide = batch.secret(full_width(full_id()), "gistUnit in full-width digits")
    batch.add(person("forms", duty=f"被执行人{with_x}", performedPart=f"{lower_x}已付",
                     gistUnit=f"证号{wide}"))  # fmt: skip
    batch.public["forms"] = masked18(with_x)
    number = batch.secret(full_id("1"), "age as a JSON number")
    batch.add(person("age-number", age=int(number)))
    old_card = batch.secret(old_id(), "15-digit cardNum")
    batch.add(person("old-card", cardNum=old_card))
    # Removals and corrections.
    batch.add(person("shielded"))
    batch.add(removal("shield", "shielded", reason=text_with_ids(batch, "shield reason")))
    batch.add(person("corrected"))
    batch.add(
        {
            "op": "correct",
            "id": "corrected",
            "effectiveAt": recent_instant(2),
            "fields": {
                "duty": text_with_ids(batch, "correction fields.duty"),
                "gistId": text_with_ids(batch, "correction fields.gistId"),
                "cardNum": batch.secret(full_id(), "correction fields.cardNum"),
            },
        }
    )
    batch.add(
        {
            "op": "correct",
            "id": "corrected",
            "effectiveAt": recent_instant(1),
            "unperformPart": text_with_ids(batch, "top-level correction"),
        }
    )
    batch.add(person("revoked"))
    batch.add(removal("revoke", "revoked", reason=text_with_ids(batch, "revoke reason")))
    # Ids that are or hold an ID number: refused, never part of an address.
    for entry_id in (
        batch.secret(full_id(), "id"),
        f"p-{batch.secret(full_id(), 'id with a prefix')}",
        f"x{batch.secret(old_id(), 'id with a 15-digit number')}",
    ):
        batch.refused_ids.append(batch.add(person(entry_id)))
    number_id = batch.secret(full_id("2"), "id as a JSON number")
    batch.refused_ids.append(batch.add(removal("shield", int(number_id))))  # type: ignore[arg-type]
    # A line rejected for something else, full of ID numbers: its echo must be masked too.
    batch.add(
        person(
            "rejected",
            caseCode="不是案号",
            cardNum=batch.secret(full_id(), "cardNum of a rejected line"),
            duty=text_with_ids(batch, "duty of a rejected line"),
            reason=text_with_ids(batch, "unknown field of a rejected line"),
        )
    )
    return batch


# --- Looking for them ---------------------------------------------------------------------


def leaks(blob: bytes, needles: dict[bytes, str]) -> list[str]:
    return [f"{needle.decode()} ({where})" for needle, where in needles.items() if needle in blob]


def public_bodies(portal: Portal, batch: Batch) -> dict[str, bytes]:
    """Every answer the public can get about these entries."""
    client = portal.client
    card = next(secret for secret, where in batch.secrets.items() if where == "cardNum of f-duty")
    gets: list[tuple[str, dict[str, str]]] = [
        ("/", {}),
        ("/", {"q": "张伟"}),
        ("/", {"q": "张伟", "view": "compact"}),
        ("/", {"court": "北京", "perPage": "100"}),
        ("/api/v1/entries", {"perPage": "100"}),
        ("/api/v1/entries", {"q": "张伟", "perPage": "100"}),
        ("/api/v1/entries", {"cardNum": card}),  # found by it, never echoed
        ("/api/v1/compliance", {}),
        ("/stats", {}),
        ("/stats/units", {}),
        ("/healthz", {}),
        ("/api", {}),
    ]
    for entry_id in batch.entry_ids():
        gets += [(f"/entries/{entry_id}", {}), (f"/api/v1/entries/{entry_id}", {})]
    bodies = {}
    for path, params in gets:
        response = client.get(path, params=params)
        assert response.status_code in (200, 404, 410), (path, response.status_code)
        bodies[f"{path} {params}"] = response.content
    return bodies


def disk_files(root: Path, skip: Path) -> dict[str, bytes]:
    """Every file under ``root`` as bytes, read now (SQLite's WAL and SHM while they exist)."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path != skip
    }


def postgres_rows(portal: Portal) -> dict[str, bytes]:
    """Every row of every table, as PostgreSQL writes it out."""
    out = {}
    with portal.service.store.read() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(text(f'SELECT CAST(t AS text) FROM "{table.name}" AS t'))
            out[f"table {table.name}"] = "\n".join(row[0] for row in rows).encode()
    return out


def assert_nothing_leaks(places: dict[str, bytes], batch: Batch) -> None:
    needles = batch.needles()
    found = {place: hits for place, blob in places.items() if (hits := leaks(blob, needles))}
    assert found == {}


def assert_masked_forms_shown(portal: Portal, batch: Batch) -> None:
    """The lines were taken, with the numbers masked, not dropped."""
    for entry_id, masked in batch.public.items():
        response = portal.client.get(f"/api/v1/entries/{entry_id}")
        assert response.status_code == 200, (entry_id, response.text)
        assert masked in response.text, entry_id
        assert masked in portal.client.get(f"/entries/{entry_id}").text, entry_id


def assert_ids_refused(rejects: list[dict[str, Any]], batch: Batch) -> None:
    by_line = {item["line"]: item for item in rejects}
    for line_no in batch.refused_ids:
        assert by_line[line_no]["code"] == "id_is_id_number", by_line.get(line_no)
        assert "身份证号码" in by_line[line_no]["message"]


def cli_env(settings: Settings) -> dict[str, str]:
    """As tests/test_ingest.py's: a ``shixin`` process on the test's store and clock."""
    return {
        "SHIXIN_DATA_DIR": str(settings.data_dir),
        "SHIXIN_DATABASE_URL": settings.database_url,
        "SHIXIN_ID_HASH_KEY": settings.id_hash_key.reveal(),
        "PATH": "/usr/bin:/bin",
        **{k: v for k, v in os.environ.items() if k == "LD_PRELOAD" or k.startswith("FAKETIME")},
    }


@pytest.fixture
def portal(settings: Settings) -> Iterator[Portal]:
    with running(settings) as p:
        yield p


def _store_places(portal: Portal, settings: Settings, tmp_path: Path, skip: Path) -> dict:
    places = disk_files(tmp_path, skip)
    if settings.database_url.startswith("sqlite"):
        # The WAL holds what the store has not checkpointed yet: it is read as it stands.
        assert any(name.endswith("-wal") for name in places), sorted(places)
    else:
        places.update(postgres_rows(portal))
    assert any(name.startswith(settings.data_dir.name) for name in places)  # the index files
    return places


# --- The tests ----------------------------------------------------------------------------


def test_no_full_id_number_after_shixin_import(
    portal: Portal, settings: Settings, tmp_path: Path
) -> None:
    batch = build_batch()
    source = tmp_path / "in" / "court.jsonl"
    source.parent.mkdir()
    source.write_bytes(jsonl(*batch.lines))
    run = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(source)],
        env=cli_env(settings),
        capture_output=True,
    )
    assert run.returncode == 1, run.stderr.decode()  # some lines rejected, the rest applied
    assert b"Traceback" not in run.stderr
    rejects_file = Path(f"{source}.rejects.jsonl")
    rejects = [orjson.loads(line) for line in rejects_file.read_bytes().splitlines()]
    assert_ids_refused(rejects, batch)
    assert_masked_forms_shown(portal, batch)
    places = {"stdout": run.stdout, "stderr": run.stderr}
    places.update(public_bodies(portal, batch))
    places.update(_store_places(portal, settings, tmp_path, skip=source))
    assert any(name.endswith(".rejects.jsonl") for name in places)
    assert any(name.endswith(".summary.json") for name in places)
    assert_nothing_leaks(places, batch)


def test_no_full_id_number_after_the_ingest_api(
    portal: Portal, settings: Settings, tmp_path: Path
) -> None:
    batch = build_batch()
    response = portal.post_ingest(jsonl(*batch.lines))
    assert response.status_code == 200, response.text
    assert_ids_refused(response.json()["rejects"], batch)
    assert_masked_forms_shown(portal, batch)
    places = {"ingest response": response.content}
    places.update(public_bodies(portal, batch))
    places.update(_store_places(portal, settings, tmp_path, skip=tmp_path / "none"))
    assert_nothing_leaks(places, batch)


def test_the_three_process_import_masks_the_same(tmp_path: Path) -> None:
    from support import make_settings

    from search_index.parallel import ParallelJsonl
    from search_index.service import ListService

    batch = build_batch()
    lines = [orjson.dumps(line) for line in batch.lines]
    service = ListService(make_settings(tmp_path, f"sqlite:///{tmp_path}/store.db"))
    try:
        report = service.ingest(
            ParallelJsonl(lines, service.settings.id_hash_key.reveal()), source="test"
        )
        assert report.accepted > len(batch.public)
        rejects = {item.line: item for item in report.rejected}
        assert {rejects[n].code for n in batch.refused_ids} == {"id_is_id_number"}
        echoes = "\n".join(item.raw for item in report.rejected).encode()
        places = {"rejects": echoes, **disk_files(tmp_path, skip=tmp_path / "none")}
        assert_nothing_leaks(places, batch)
    finally:
        service.close()


# --- The masking rules, one by one ----------------------------------------------------------


def test_redact_text_masks_ids_as_cardnum_is_masked() -> None:
    full, old = full_id(), old_id()
    assert (
        redact_text(f"被执行人张三（身份证号{full}）")
        == f"被执行人张三（身份证号{masked18(full)}）"
    )
    assert redact_text(f"旧身份证{old}。") == f"旧身份证{masked15(old)}。"
    with_x = full_id("X")
    assert redact_text(with_x.lower()) == masked18(with_x)  # written as cardNum shows it
    assert redact_text(full_width(full)) == masked18(full)
    assert redact_text(f"{full},{full}") == f"{masked18(full)},{masked18(full)}"


def test_redact_text_leaves_other_numbers_alone() -> None:
    full, old = full_id(), old_id()
    wrong_check = full[:17] + ("0" if full[17] == "X" else str((int(full[17]) + 1) % 10))
    unborn = "110105" + days_ago(-400).strftime("%Y%m%d") + "123"
    for untouched in (
        "(2023)京0105执1234号",
        "支付货款人民币100000元",
        wrong_check,  # not an ID number: the check character is wrong
        unborn + id_check_char(unborn),  # born after today
        f"6222{full}",  # a bank card number longer than any ID number
        f"{full}0",
        f"NO{full}",  # part of a longer code
        f"账号：{old}",  # a bank account
        f"账户{old}",
        f"￥{old}",  # an amount
        f"{old}元",
        f"{old}.50",
        "990102" + old[6:],  # 99 is no province
        old[:8] + "1332" + old[12:],  # no 13th month
    ):
        assert redact_text(untouched) == untouched, untouched


def test_redact_record_masks_every_field_but_cardnum_and_id_in_place() -> None:
    full, card = full_id(), full_id()
    record = person(
        "p1",
        cardNum=card,
        duty=f"见{full}",
        extra=[f"{full}", {"deep": full}],
        fields={"cardNum": card, "duty": full},
        number=int(full) if full.isdigit() else 0,
    )
    redact_record(record)
    assert record["cardNum"] == card and record["fields"]["cardNum"] == card
    assert record["duty"] == f"见{masked18(full)}" and record["fields"]["duty"] == masked18(full)
    assert record["extra"] == [masked18(full), {"deep": masked18(full)}]
    assert record["number"] in (masked18(full), 0)
    assert record["id"] == "p1"


def test_an_entry_id_that_is_or_holds_an_id_number_is_detected() -> None:
    full, old = full_id(), old_id()
    for refused in (full, f"p{full}", f"{full}-2", full_id("X").lower(), f"x{old}"):
        assert contains_id_number(refused), refused
    for fine in ("110105-2023-00001234", "110105202300001234", "p1", "2023-京0105-1234"):
        assert not contains_id_number(fine), fine


def test_a_refused_id_is_reported_in_chinese(service: Any) -> None:
    from support import ingest

    full = full_id()
    report = ingest(service, person(full), person("ok"), removal("shield", f"old-{full}",
                    effective=instant_days_ago(1)))  # fmt: skip
    assert report.accepted == 1
    assert [r.code for r in report.rejected] == ["id_is_id_number", "id_is_id_number"]
    assert all(full not in r.raw for r in report.rejected)
    assert "网址" in report.rejected[0].message
