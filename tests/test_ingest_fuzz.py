"""No line can fail its batch: a fuzz of ingest lines (hypothesis).

Each example is a JSON Lines batch of valid lines with one generated line among them:
arbitrary JSON values, valid records with fields mutated (wrong types, huge strings, odd
Unicode, NUL characters, nulls, nested objects, numbers out of range, bad dates, strings
shaped like ID numbers), the national site's labels, and bytes that are no JSON at all. The
batch runs the whole way (decode, parse, journal, apply, index sync) on SQLite and
PostgreSQL, and

- never raises,
- rejects at most the generated line, with a code, a message and no full ID number echoed,
- warns about no other line, and keeps and serves every valid line,
- answers with JSON the API can send;

and the parser process of large imports (search_index/parallel.py) reads the generated line
exactly as the importer itself does.

The store test runs fewer examples (each is a batch through the store and the index) than
the parser test, which also checks that whatever the parser accepts can be stored on every
store (no NUL character: PostgreSQL's text cannot hold one; no value longer than its
column). Derandomized (the same examples on every run of the same code, so CI is
reproducible) and bounded, so it takes seconds; ``SHIXIN_FUZZ_SCALE=20`` hunts longer.
Lines a fuzz once found are kept as explicit examples (``FOUND``).
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import String
from support import credit_code, id_number, org, person, removal

from search_index.downloads import INGEST_KEYS, LABELS
from search_index.events import FULL_ID_SHAPE, EventParser
from search_index.ingest import RAW_ECHO_LIMIT, jsonl_records, parse_chunk
from search_index.parallel import decode_chunk, parse_in_worker
from search_index.service import ListService
from search_index.tables import entries

SCALE = float(os.environ.get("SHIXIN_FUZZ_SCALE", "1"))  # e.g. 20 for a longer hunt


def _fuzz(examples: int) -> Any:
    return settings(
        derandomize=True,  # the same examples on every run of the same test code
        database=None,  # nothing written beside the tests
        deadline=None,
        max_examples=int(examples * SCALE),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


KEY = "fuzz-id-hash-key-0123456789abcdef"

# Fixed identifiers (support.person draws a new one on every call): the same examples every run.
CARD = id_number(birth="19750615", serial="123")
CODE = credit_code("MA000123")
FIELDS = (*INGEST_KEYS, "fields")  # every key a line may carry

# --- Values ---------------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\u3000",
        "暂无",
        "NULL",
        "null",
        "\x00",
        "张\x00伟",
        "\u200b",
        "\ufeff张伟",
        "\u202e伟张",
        "Z\u0351\u0364\u0300",
        "１２３４５",
        "😀" * 3,
        "\U0010ffff",
        "\ud7ff",
        "<script>alert(1)</script>",
        "'; DROP TABLE entries; --",
        "\\",
        '"',
        "%00",
        "\r\n",
        "\t",
    ]
)
ID_LIKE = st.sampled_from(
    [
        CARD,
        CARD.lower(),
        CARD[:17],
        CARD[:10] + "****" + CARD[14:],
        CARD[:6] + CARD[8:17],  # 15 digits: an old number
        CARD[:17] + "Ｘ",
        "１" * 18,
        "1" * 18,
        "0" * 18,
        "11010519800230123X",  # no such day
        CODE,
        CODE.lower(),
        CODE[:17] + "I",
        "MA000123-0",
        f"p-{CARD}",
        f"x{CARD}y",
        "9" * 40,
    ]
)
BAD_DATES = st.sampled_from(
    [
        "2019-02-30",
        "2019-13-01",
        "0000-00-00",
        "0001-01-01",
        "1900-01-01",
        "9999-12-31",
        "3000-01-01",
        "20191313",
        "2019年13月01日",
        "2019年2月30日",
        "2019-07-13T25:00:00",
        "2019-07-13T10:00:00+99:00",
        "2019-07-13T10:00:00Z",
        "2019-07-13 10:00:00.123456789",
        "+002019-07-13",
        "13/07/2019",
        "yesterday",
        "-1",
        "1e10",
    ]
)
DATES = st.one_of(
    BAD_DATES,
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日"),
    st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
    st.integers(-(2**63), 2**64 - 1),
)
NUMBERS = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.sampled_from([0, -1, 17, 18, 130, 131, 2**31, 2**53 + 1, 2**63 - 1, 2**64 - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["18岁", "十八", "0", "-0", "1e3", "17.5"]),
)
HUGE = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["a", "张", "😀", " ", "\x00", "1"]),
    st.sampled_from([81, 201, 2001, 5000, 200_000, 600_000]),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
VALUES = st.one_of(JSON, ODD_TEXT, ID_LIKE, DATES, NUMBERS, HUGE, st.text(max_size=300))
KEYS = st.one_of(st.sampled_from(FIELDS), st.sampled_from(sorted(LABELS)), st.text(max_size=10))

# --- Lines ----------------------------------------------------------------------------------


def _bases() -> list[dict[str, Any]]:
    return [
        person("fuzz-p", cardNum=CARD),
        person("fuzz-p", cardNum=None, partyTypeName=None),
        org("fuzz-o", cardNum=CODE),
        removal("shield", "fuzz-p", "2024-01-02T09:00:00+08:00"),
        removal("delete", "fuzz-o", "2024-01-02"),
        {"op": "correct", "id": "fuzz-p", "fields": {"performance": "部分履行"}},
        {"op": "correct", "id": "fuzz-p", "duty": "x", "effectiveAt": "2024-01-03"},
        {label: value for label, value in [("姓名", "张伟"), ("案号", "(2023)京0105执1号")]},
    ]


ODD_CHARS = st.sampled_from(["\x00", "\x1b", "\u200b", "\ufeff", "\u202e", "\u3000", "\U0010ffff"])


@st.composite
def spiced(draw: st.DrawFn, value: str) -> str:
    """``value`` with an odd character put in somewhere (a valid name with a NUL in it)."""
    at = draw(st.integers(0, len(value)))
    return value[:at] + draw(ODD_CHARS) + value[at:]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid record of some kind with a few fields changed, removed or added, or with
    odd characters put into its text."""
    record = dict(draw(st.sampled_from(_bases())))
    if draw(st.booleans()):  # most lines of a real feed are nearly right
        texts = sorted(k for k, v in record.items() if isinstance(v, str))
        for name in draw(st.lists(st.sampled_from(texts), min_size=1, max_size=2)):
            record[name] = draw(spiced(record[name]))
        return record
    for name in draw(st.lists(st.sampled_from(sorted(record)), max_size=3)):
        record.pop(name, None)
    record.update(draw(st.dictionaries(KEYS, VALUES, max_size=4)))
    if isinstance(record.get("fields"), dict) and draw(st.booleans()):
        record["fields"] = {**record["fields"], **draw(st.dictionaries(KEYS, VALUES, max_size=3))}
    return record


def _encode(value: Any) -> bytes:
    return orjson.dumps(value)


def _no_line_breaks(line: bytes) -> bytes:
    """One line of the batch: a raw line break would make it two."""
    return line.replace(b"\n", b" ").replace(b"\r", b" ")


RAW = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"   ",
            b"\xef\xbb\xbf{}",  # a BOM on a line that is not the first
            b'{"op": "publish", "age": 123456789012345678901234567890}',
            b'{"op": "publish", "age": 1e400}',
            b'{"op": "publish", "iname": "\\ud800"}',
            b'{"op": "publish", "id": "a", "id": "b"}',
            b"[1, 2, 3]",
            b'"just a string"',
            b"NaN",
            b"{" * 300 + b"}" * 300,
            b"[" * 2000 + b"]" * 2000,
        ]
    ),
    # A valid line cut short, or in GB 18030 (which is read too).
    st.builds(
        lambda line, at: line[:at],
        st.sampled_from(_bases()).map(_encode),
        st.integers(0, 400),
    ),
    st.sampled_from(_bases()).map(
        lambda r: orjson.dumps(r).decode().encode("gb18030", errors="replace")
    ),
).map(_no_line_breaks)
MUTATED = mutated().map(_encode)
LINES = st.one_of(
    MUTATED,  # most examples: records nearly right reach the store
    MUTATED,
    MUTATED,
    JSON.map(_encode),
    st.dictionaries(KEYS, VALUES, max_size=6).map(_encode),
    RAW,
)

# --- The batch ------------------------------------------------------------------------------

_batches = itertools.count()
CODE_SHAPE = re.compile(r"^[a-z][a-z_]*$")


def _valid_lines(batch: int) -> list[dict[str, Any]]:
    """Valid lines with ids of their own, so each is new in every example."""
    return [
        person(f"ok-{batch}-0", cardNum=CARD),
        org(f"ok-{batch}-1", cardNum=CODE),
        person(f"ok-{batch}-2", cardNum=None, iname="李娜", sexy="女", age=35),
    ]


def _found() -> list[bytes]:
    """Lines that once failed their batch (see the README's reliability section)."""
    return [
        # A NUL character in a text field: PostgreSQL refused the whole batch (500).
        orjson.dumps(person("fuzz-p", cardNum=CARD, iname="张\x00伟")),
        orjson.dumps(person("fuzz-p", cardNum=CARD, areaName="北京\x00")),
        orjson.dumps(person("fuzz-p", cardNum=CARD, duty="x" * 3000 + "\x00")),
        orjson.dumps(removal("shield", "fuzz-p", "2024-01-02", reason="已履行\x00")),
        orjson.dumps({"姓名": "张\x00伟", "案号": "(2023)京0105执1号", "证件号码": CARD}),
    ]


def with_found(**more: Any) -> Any:
    """The lines of ``_found`` as explicit examples, tried first on every run."""

    def decorate(test: Any) -> Any:
        for line in _found():
            test = example(line=line, **more)(test)
        return test

    return decorate


@pytest.mark.slow
@with_found(at=1)
@_fuzz(100)
@given(line=LINES, at=st.integers(0, 3))
def test_no_line_fails_its_batch(service: ListService, line: bytes, at: int) -> None:
    batch = next(_batches)
    valid = _valid_lines(batch)
    body = [orjson.dumps(v) for v in valid]
    body.insert(at, line)
    fuzz_no = at + 1
    records = jsonl_records(b"\n".join(body).splitlines())

    report = service.ingest(records, source="fuzz")  # must not raise

    blank = not line.strip()
    assert report.lines == len(valid) + (0 if blank else 1)
    assert len(report.rejected) <= 1, report.rejected
    for rejection in report.rejected:
        assert rejection.line == fuzz_no
        assert CODE_SHAPE.match(rejection.code), rejection
        assert rejection.message.strip(), rejection
        assert rejection.field is None or isinstance(rejection.field, str)
        assert len(rejection.raw) <= RAW_ECHO_LIMIT
        assert not FULL_ID_SHAPE.search(rejection.raw), rejection.raw
    assert {w.line for w in report.warnings} <= {fuzz_no}
    for warning in report.warnings:
        assert CODE_SHAPE.match(warning.code) and warning.message.strip(), warning
        assert not FULL_ID_SHAPE.search(warning.value + warning.message), warning
    assert report.accepted + report.duplicates + len(report.rejected) == report.lines
    for record in valid:
        assert service.entry(record["id"]).doc.status == "published"
        assert service.index.get(record["id"]) is not None
    # The API's answer (portal/api.py) can be sent.
    orjson.dumps(
        {
            **report.summary(),
            "rejects": [r.as_dict() for r in report.rejected],
            "warningList": [w.as_dict() for w in report.warnings],
        }
    )


def _storable(value: Any, where: str) -> None:
    """No NUL anywhere: PostgreSQL's text (and its JSON's text) cannot hold one."""
    if isinstance(value, str):
        assert "\x00" not in value, where
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, where)
            _storable(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            _storable(item, where)


COLUMN_LENGTHS = {
    column.name: column.type.length
    for column in entries.columns
    if isinstance(column.type, String) and column.type.length
}


@with_found()
@_fuzz(1000)
@given(line=LINES)
def test_the_parser_process_reads_a_line_as_the_importer_does(line: bytes) -> None:
    """... and what either accepts fits the store."""
    received = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    lines = [(1, orjson.dumps(_valid_lines(0)[0])), (2, line)]
    parallel = decode_chunk(parse_in_worker(KEY, received.isoformat(), lines))
    serial = parse_chunk(EventParser(KEY), list(jsonl_records(n for _, n in lines)), received)
    assert parallel.lines_read == serial.lines_read
    assert [r.as_dict() for r in parallel.rejected] == [r.as_dict() for r in serial.rejected]
    assert [w.as_dict() for w in parallel.warnings] == [w.as_dict() for w in serial.warnings]
    # The worker sends first publications apart (search_index/firstpub.py): compare keys.
    first = [f.journal_line().event.key for f in parallel.first]
    keys = sorted([line.event.key for line in parallel.events] + first)
    assert keys == sorted(line.event.key for line in serial.events)
    for journal_line in serial.events:
        event = journal_line.event
        _storable([event.op, event.entry_id, event.payload], event.entry_id)
        assert len(event.entry_id) <= COLUMN_LENGTHS["id"]
        for name, value in event.payload.items():
            limit = COLUMN_LENGTHS.get(name)
            if limit and isinstance(value, str):
                assert len(value) <= limit, (name, value)
