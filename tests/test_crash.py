"""kill -9 in the middle of the work, then a restart or a rerun: nothing acknowledged is lost
and nothing is left running. On SQLite and PostgreSQL, with real processes:

- ``shixin import`` of a file large enough for its parallel path (a parser process and an
  index sync process beside the writer): every child ends with it within seconds (the
  parser by ``die_with_parent``, tested alone with and without the kernel's help), and a
  rerun ends with the same store and index as a clean import;
- ``shixin serve`` while clients POST to /api/v1/ingest: after a restart every line
  answered with 200 is in the store, and sending every batch again completes the list;
- ``shixin mail`` against a real SMTP server (tests/smtpserver.py): every message marked sent
  was received, and once the dead round's lease is over a rerun delivers every message, at
  least once.

(A sync round killed mid-way is tested with the sync lease, beside search_index/sync.py.)
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from liveserver import portal_env, serving
from processes import descendants, require_proc, wait_until_gone
from smtpserver import MailServer, smtp_fixture  # noqa: F401  (smtp_fixture)
from sqlalchemy import func, select
from support import make_settings, person
from test_ingest import cli_env

from casework import outbox
from core.db import Store
from core.settings import Settings
from core.tables import outbox as outbox_table
from search_index.service import ListService
from search_index.tables import entries, events, removals
from search_index.tokens import create_token

pytestmark = pytest.mark.slow

CHILDREN_END_WITHIN = 5.0  # seconds after the parent is killed


# --- shixin import ------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", [True, False], ids=["pdeathsig", "polling"])
def test_a_child_that_dies_with_its_parent_does_so_also_without_the_kernels_help(
    kernel: bool,
) -> None:
    """``die_with_parent`` (the parser process's initializer): Linux's PR_SET_PDEATHSIG, and
    the polling of ``os.getppid()`` that other systems rely on."""
    from search_index.parallel import PARENT_POLL

    require_proc()
    child = (
        "import ctypes, sys, time\n"
        "import search_index.parallel as parallel\n"
        "from search_index.parallel import die_with_parent\n"
        "def no_prctl(*args, **kw):\n"
        "    raise OSError('no prctl here')\n"
        # One way at a time: the kernel with a poll that would take an hour, or the poll.
        f"if {kernel}: parallel.PARENT_POLL = 3600\n"
        "else: ctypes.CDLL = no_prctl\n"
        "die_with_parent(int(sys.argv[1]))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = (
        "import os, subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', sys.argv[1], str(os.getpid())],"
        " stdout=subprocess.PIPE)\n"
        "assert child.stdout.readline() == b'ready\\n'\n"
        "print(child.pid, flush=True)\n"
        "child.wait()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", parent, child], stdout=subprocess.PIPE, env=_env()
    )
    try:
        assert process.stdout is not None
        pid = int(process.stdout.readline())
        [running] = [p for p in descendants(process.pid) if p.pid == pid]
        process.kill()
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    left, waited = wait_until_gone([running], 2 + PARENT_POLL)
    for orphan in left:
        os.kill(orphan.pid, signal.SIGKILL)
    assert not left
    assert waited < (0.5 if kernel else 1 + PARENT_POLL)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


@pytest.fixture
def clean_url(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[str]:
    """A second empty database on the same kind of store, for the clean import."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/clean.sqlite3"
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)


def _count(store: Store, table: Any) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def snapshot(settings: Settings) -> dict[str, Any]:
    """What an import leaves, without what differs between any two runs (sequence numbers,
    times of receipt, batch ids): every entry, the journal, every removal, the index."""
    service = ListService(settings)
    try:
        with service.store.read() as conn:
            entry_rows = {
                r["id"]: {k: v for k, v in r.items() if k != "seq"}
                for r in conn.execute(select(entries)).mappings()
            }
            journal = {
                r["event_key"]: (
                    r["entry_id"],
                    r["op"],
                    r["effective_at"],
                    r["source"],
                    r["line_no"],
                    r["payload"],
                    r["applied_at"] is not None,
                )
                for r in conn.execute(select(events)).mappings()
            }
            removal_rows = sorted(
                (
                    r["entry_id"],
                    r["kind"],
                    r["reason"] or "",
                    r["effective_at"],
                    r["deadline"],
                    r["removed_at"] is not None,
                    r["superseded_at"] is not None,
                )
                for r in conn.execute(select(removals)).mappings()
            )
        indexed = [entry_id for entry_id, _ in service.index.iter_seqs()]
        docs = {}
        for entry_id in indexed:
            doc = service.index.get(entry_id)
            assert doc is not None
            docs[entry_id] = doc.to_api()
        return {
            "entries": entry_rows,
            "events": journal,
            "removals": removal_rows,
            "index": docs,
            "indexLag": service.health()["indexLag"],
        }
    finally:
        service.close()


def _import(settings: Settings, path: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "shixin.cli", "import", str(path)],
        env=cli_env(settings),
        capture_output=True,
        timeout=300,
    )


def test_killed_parallel_import_leaves_no_process_and_a_rerun_equals_a_clean_import(
    tmp_path: Path, database_url: str, clean_url: str
) -> None:
    import shixin.cli as cli
    from search_index.demo import write_demo_file
    from search_index.ingest import CHUNK

    require_proc()
    demo = tmp_path / "demo.jsonl"
    write_demo_file(demo, 12_000, seed=12)
    lines = demo.read_bytes().count(b"\n")
    assert demo.stat().st_size >= cli.PARALLEL_BYTES  # the command's parallel path
    assert lines > 2 * CHUNK  # killed with a chunk journaled and more to come

    settings = make_settings(tmp_path / "killed", database_url)
    store = Store(settings.database_url)  # migrated, so the test can watch the journal
    try:
        with (tmp_path / "killed.log").open("wb") as log:
            importer = subprocess.Popen(
                [sys.executable, "-m", "shixin.cli", "import", str(demo)],
                env=cli_env(settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 120
            while _count(store, events) < CHUNK:  # the first chunk is journaled
                assert importer.poll() is None, (tmp_path / "killed.log").read_text()
                assert time.monotonic() < deadline, "the import journaled nothing"
                time.sleep(0.05)
            children = descendants(importer.pid)
            importer.kill()
        finally:
            if importer.poll() is None:
                importer.kill()
            importer.wait()
        journaled = _count(store, events)
    finally:
        store.dispose()
    assert importer.returncode == -signal.SIGKILL
    assert journaled < lines, "the import had finished before the kill"

    # The parser, the index sync and multiprocessing's resource tracker were running ...
    commands = " | ".join(p.command for p in children)
    assert len(children) >= 3, commands
    assert any("resource_tracker" in p.command for p in children), commands
    # ... and end with their parent.
    left, waited = wait_until_gone(children, CHILDREN_END_WITHIN)
    for orphan in left:  # not to outlive the test either
        os.kill(orphan.pid, signal.SIGKILL)
    assert not left, f"still running {waited:.1f} s after the kill: {left}"
    print(f"children ended {waited:.2f} s after the kill")

    rerun = _import(settings, demo)
    assert rerun.returncode == cli.EXIT_OK, rerun.stderr.decode()
    summary = orjson.loads(demo.with_name(demo.name + ".summary.json").read_bytes())
    assert summary["duplicates"] >= CHUNK  # what the killed run journaled counts once

    clean_settings = make_settings(tmp_path / "clean", clean_url)
    clean = _import(clean_settings, demo)
    assert clean.returncode == cli.EXIT_OK, clean.stderr.decode()

    after_crash, after_clean = snapshot(settings), snapshot(clean_settings)
    assert after_clean["indexLag"] == 0 and len(after_clean["events"]) >= lines
    assert after_clean["removals"] and after_clean["index"]
    for part in ("entries", "events", "removals", "index", "indexLag"):
        assert after_crash[part] == after_clean[part], part


# --- POST /api/v1/ingest ---------------------------------------------------------------------

INGEST_CLIENTS = 4
BATCH_LINES = 25


@functools.cache  # the same bytes when sent again (person() draws a new ID number each call)
def _batch(number: int) -> bytes:
    return b"".join(
        orjson.dumps(person(f"crash-{number}-{i}", iname=f"周{number}号{i}")) + b"\n"
        for i in range(BATCH_LINES)
    )


def _ids(number: int) -> set[str]:
    return {f"crash-{number}-{i}" for i in range(BATCH_LINES)}


def test_killed_portal_keeps_every_ingest_line_it_answered_200(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    service = ListService(settings)
    try:
        token = create_token(service.store, "北京市高级人民法院信息中心", None)[0]
    finally:
        service.close()
    env = portal_env(
        settings.data_dir, SHIXIN_DATABASE_URL=database_url, SHIXIN_RATE_LIMIT_ENABLED="0"
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    numbers = itertools.count()
    acknowledged: list[int] = []  # batches answered 200
    unanswered: list[int] = []  # sent, and the connection broke
    stop = threading.Event()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            while not stop.is_set():
                number = next(numbers)
                try:
                    answer = http.post("/api/v1/ingest", content=_batch(number))
                except httpx.TransportError:
                    unanswered.append(number)
                    return
                assert answer.status_code == 200, answer.text
                assert answer.json()["accepted"] == BATCH_LINES
                acknowledged.append(number)

    with serving(env, log=tmp_path / "serve.log") as (base, portal):
        clients = [
            threading.Thread(target=client, args=(base,), daemon=True)
            for _ in range(INGEST_CLIENTS)
        ]
        for thread in clients:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 20:
            assert portal.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        os.killpg(portal.pid, signal.SIGKILL)  # the portal and all it started
        portal.wait()
        stop.set()
        for thread in clients:
            thread.join(timeout=30)
    killed_at = set(acknowledged)
    print(f"acknowledged {len(acknowledged)} batches, {len(unanswered)} unanswered")
    assert unanswered  # killed with requests in flight
    sent = max([*acknowledged, *unanswered]) + 1

    with (
        serving(env, log=tmp_path / "restarted.log") as (base, _),
        httpx.Client(base_url=base, headers=headers, timeout=30) as http,
    ):
        for number in sorted(killed_at)[:5]:  # the restarted portal serves them
            for entry_id in sorted(_ids(number))[:2]:
                assert http.get(f"/api/v1/entries/{entry_id}").status_code == 200
        stored = _entry_ids(settings)
        lost = {i for n in killed_at for i in _ids(n)} - stored
        assert not lost, f"{len(lost)} acknowledged lines lost, e.g. {sorted(lost)[:3]}"
        # A client that never had its answer sends the batch again: each ends stored
        # once, what was stored before counting as duplicates.
        for number in range(sent):
            answer = http.post("/api/v1/ingest", content=_batch(number))
            assert answer.status_code == 200, answer.text
            report = answer.json()
            assert report["accepted"] + report["duplicates"] == BATCH_LINES
            if number in killed_at:
                assert report["duplicates"] == BATCH_LINES
    assert _entry_ids(settings) == {i for n in range(sent) for i in _ids(n)}


def _entry_ids(settings: Settings) -> set[str]:
    store = Store(settings.database_url, migrate=False)
    try:
        with store.read() as conn:
            return set(conn.execute(select(entries.c.id)).scalars())
    finally:
        store.dispose()


# --- shixin mail ------------------------------------------------------------------------------

MESSAGES = 30
MESSAGE_ID = re.compile(r"<outbox\.(\d+)\.")


def test_killed_mail_round_loses_no_message(
    tmp_path: Path, database_url: str, smtp: MailServer
) -> None:
    mail = {"SHIXIN_SMTP_URL": smtp.url, "SHIXIN_MAIL_FROM": "名单公开 <noreply@shixin.example.cn>"}
    settings = make_settings(tmp_path, database_url, **mail)
    env = {**cli_env(settings), **mail}
    store = Store(settings.database_url)
    try:
        at = datetime.now(UTC) - timedelta(seconds=1)
        with store.write() as conn:
            for n in range(MESSAGES):
                outbox.enqueue(conn, at, "email", f"r{n}@example.com", f"第 {n} 封", "正文")
        smtp.inbox.delay = 0.1  # a slow server: the kill lands mid-round
        with (tmp_path / "mail.log").open("wb") as log:
            sender = subprocess.Popen(
                [sys.executable, "-m", "shixin.cli", "mail", "--once"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while len(smtp.inbox.received) < MESSAGES // 4:
                assert sender.poll() is None, (tmp_path / "mail.log").read_text()
                assert time.monotonic() < deadline, "no mail arrived"
                time.sleep(0.01)
        finally:
            sender.kill()
            sender.wait()

        rows = _outbox(store)
        marked_sent = {r["id"] for r in rows if r["sent_at"] is not None}
        leased = [r for r in rows if r["sent_at"] is None and r["claimed_by"] is not None]
        assert marked_sent and leased, "the kill did not land mid-round"
        assert marked_sent <= set(_delivered(smtp)), "a message marked sent never arrived"

        # The dead round's rows are claimed again at once, its 10-minute lease
        # notwithstanding: the sender is provably dead (same host, its pid gone).
        smtp.inbox.delay = 0
        rerun = subprocess.run(
            [sys.executable, "-m", "shixin.cli", "mail", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr

        rows = _outbox(store)
        assert all(r["sent_at"] is not None and r["claimed_by"] is None for r in rows)
        delivered = _delivered(smtp)
        assert set(delivered) == {r["id"] for r in rows}  # every message, at least once
        # At most the message on the wire at the kill arrives twice.
        print(f"{len(marked_sent)} sent before the kill, {len(leased)} left leased: {delivered}")
        assert sum(delivered.values()) - len(delivered) <= 1, delivered
    finally:
        store.dispose()


def _outbox(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        query = select(outbox_table).where(outbox_table.c.channel == "email")
        return [dict(r) for r in conn.execute(query).mappings()]


def _delivered(smtp: MailServer) -> Counter[int]:
    found = (MESSAGE_ID.match(str(r.message["Message-ID"])) for r in smtp.inbox.received)
    return Counter(int(m.group(1)) for m in found if m)
