"""Long commands show how far they got: a bar on a terminal (standard error a pseudo-terminal
here), a plain line every few seconds elsewhere, nothing with ``--quiet``; standard output
is the same whichever, so scripts can still read it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.progress import Tally
from search_index.demo import write_demo_file
from search_index.follow import IndexedLines
from search_index.ingest import CHUNK
from shixin.cli import PARALLEL_BYTES
from shixin.progress import _Lines

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"SHIXIN_ID_HASH_KEY": "k" * 32, "SHIXIN_SECRET_KEY": "s" * 32}
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
PERCENT = re.compile(r"(\d+)%")


@dataclass
class Run:
    stdout: bytes
    stderr: str  # escape codes taken out, carriage returns as line ends
    raw_stderr: bytes


def shixin(*args: str, data_dir: Path, tty: bool) -> Run:
    """Run the command with standard error on a pseudo-terminal (``tty``) or a pipe."""
    env = {"PATH": "/usr/bin:/bin", "SHIXIN_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "shixin.cli", *args]
    if not tty:
        run = subprocess.run(cmd, env={**env, **KEYS}, capture_output=True, timeout=120)
        assert run.returncode == 0, run.stderr.decode()
        return Run(run.stdout, run.stderr.decode(), run.stderr)
    leader, follower = os.openpty()
    proc = subprocess.Popen(cmd, env={**env, **KEYS}, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(leader, chunks))
    reader.start()
    stdout, _ = proc.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(leader)
    raw = b"".join(chunks)
    assert proc.returncode == 0, raw.decode(errors="replace")
    text = ANSI.sub(b"", raw).decode().replace("\r\n", "\n").replace("\r", "\n")
    return Run(stdout, text, raw)


def _drain(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the command's end closed the terminal
            return
        if not data:
            return
        into.append(data)


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    write_demo_file(path, 2000, seed=5)
    return path


@pytest.fixture(scope="module")
def two_chunk_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """More lines than a chunk, fewer bytes than PARALLEL_BYTES: imported by one process,
    which reports after each chunk."""
    path = tmp_path_factory.mktemp("feed") / "two.jsonl"
    write_demo_file(path, 9000, seed=5)
    assert CHUNK < len(path.read_bytes().splitlines()) < 2 * CHUNK
    assert path.stat().st_size < PARALLEL_BYTES
    return path


@pytest.fixture(scope="module")
def large_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Over PARALLEL_BYTES, so parsed, stored and indexed by three processes; several
    chunks, so the bar has somewhere to go."""
    path = tmp_path_factory.mktemp("feed") / "large.jsonl"
    write_demo_file(path, 12000, seed=5)
    assert path.stat().st_size >= PARALLEL_BYTES
    return path


@pytest.fixture(scope="module")
def imported(feed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the feed imported."""
    data_dir = tmp_path_factory.mktemp("imported")
    shixin("import", "-q", str(feed), data_dir=data_dir, tty=False)
    return data_dir


def _percentages(text: str) -> list[int]:
    return [int(p) for p in PERCENT.findall(text)]


def test_import_on_a_terminal_shows_a_bar_that_advances_and_ends_with_a_summary(
    two_chunk_feed: Path, tmp_path: Path
) -> None:
    lines = len(two_chunk_feed.read_bytes().splitlines())
    run = shixin("import", str(two_chunk_feed), data_dir=tmp_path, tty=True)
    seen = _percentages(run.stderr)
    assert seen[-1] == 100 and any(0 < p < 100 for p in seen), run.stderr
    assert seen == sorted(seen)  # the bar only moves forward
    assert f"/{lines}" in run.stderr  # done out of the file's lines
    assert "每秒" in run.stderr and "剩余" in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert re.fullmatch(rf"导入：{lines:,} 行，用时 [\d.]+ 秒，每秒 [\d,]+ 行", last), last
    assert b"\x1b[" not in run.stdout and b"%" not in run.stdout
    assert run.stdout.decode().startswith(f"导入完成：{lines} 行")


def test_a_large_import_on_three_processes_ends_its_bar_once_the_index_is_done(
    large_feed: Path, tmp_path: Path
) -> None:
    lines = len(large_feed.read_bytes().splitlines())
    run = shixin("import", str(large_feed), data_dir=tmp_path, tty=True)
    seen = _percentages(run.stderr)
    assert seen == sorted(seen) and seen[-1] == 100
    assert run.stderr.strip().splitlines()[-1].startswith(f"导入：{lines:,} 行，用时")
    assert "索引尚未跟上" not in run.stderr


def test_standard_output_is_the_same_with_a_bar_without_one_and_quiet(
    feed: Path, tmp_path: Path
) -> None:
    on_terminal = shixin("import", str(feed), data_dir=tmp_path / "a", tty=True)
    piped = shixin("import", str(feed), data_dir=tmp_path / "b", tty=False)
    quiet = shixin("import", "--quiet", str(feed), data_dir=tmp_path / "c", tty=True)
    assert on_terminal.stdout == piped.stdout == quiet.stdout
    # A short run off a terminal prints no progress line: its output stays as it was.
    assert piped.stderr == ""


def test_quiet_shows_no_progress_on_a_terminal(feed: Path, imported: Path) -> None:
    for args in (("import", "--quiet", str(feed)), ("reindex", "-q"), ("reconcile", "-q")):
        run = shixin(*args, data_dir=imported, tty=True)
        # Log lines may still come (reindex notes the swap at INFO); no bar, no summary.
        assert b"\x1b[" not in run.raw_stderr and "%" not in run.stderr, args
        assert not re.search("(导入|重建索引|核对)：", run.stderr), args


def test_reindex_on_a_terminal_counts_the_entries_and_ends_with_a_summary(
    imported: Path,
) -> None:
    run = shixin("reindex", data_dir=imported, tty=True)
    assert _percentages(run.stderr)[-1] == 100
    assert re.search(r"重建索引：[\d,]+ 条，用时 [\d.]+ 秒", run.stderr), run.stderr
    assert run.stdout.decode().startswith("索引已重建并换入：")


def test_reconcile_json_is_byte_identical_on_a_terminal_and_off_one(imported: Path) -> None:
    on_terminal = shixin("reconcile", "--json", data_dir=imported, tty=True)
    piped = shixin("reconcile", "--json", data_dir=imported, tty=False)
    assert on_terminal.stdout == piped.stdout
    assert b'"checked"' in piped.stdout
    assert "核对：" in on_terminal.stderr


def test_demo_data_on_a_terminal_counts_entries_out_of_count(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl"
    run = shixin("demo-data", "--count", "2000", "--out", str(out), data_dir=tmp_path, tty=True)
    assert "/2000" in run.stderr and _percentages(run.stderr)[-1] == 100
    assert re.search(r"生成演示数据：2,000 条，用时", run.stderr), run.stderr
    assert run.stdout.decode().startswith("已写入 ")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_line_every_few_seconds_then_a_summary() -> None:
    tally, clock, lines = Tally(total=1000), FakeClock(), []

    class Out:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    display = _Lines(tally, "导入", "行", Out(), every=5.0, clock=clock)  # type: ignore[arg-type]
    assert display.interval == 5.0
    tally.advance(250)
    clock.now += 5
    display.tick()
    tally.advance(750)
    clock.now += 5
    display.close(finished=True)
    text = "".join(lines).splitlines()
    assert text == [
        "导入：已完成 250 / 1,000 行（25%），每秒 50 行，约 15.0 秒后完成",
        "导入：1,000 行，用时 10.0 秒，每秒 100 行",
    ]


def test_a_run_too_short_for_a_progress_line_prints_no_summary_either() -> None:
    lines: list[str] = []
    out = type("Out", (), {"write": lambda self, t: lines.append(t), "flush": lambda self: None})
    display = _Lines(Tally(total=10), "导入", "行", out(), clock=FakeClock())
    display.close(finished=True)
    assert lines == []


class FakeSyncer:
    """The store's latest change and how far the index has applied them."""

    def __init__(self) -> None:
        self.head_seq = 0
        self.synced = 0

    def head(self) -> int:
        return self.head_seq

    def synced_seq(self) -> int:
        return self.synced


def test_the_import_shows_its_slowest_stage_the_index_included() -> None:
    syncer, tally = FakeSyncer(), Tally(total=15000)
    indexed = IndexedLines(syncer, tally)  # type: ignore[arg-type]
    syncer.head_seq = 5000
    indexed.advance(5000)  # stored, not indexed yet
    assert tally.done == 0
    syncer.head_seq, syncer.synced = 10000, 5000
    indexed.advance(5000)
    assert tally.done == 5000  # the first chunk is indexed
    syncer.head_seq, syncer.synced = 15000, 15000
    indexed.advance(5000)
    indexed.catch_up()
    assert tally.done == 10000  # the last chunk waits for the index to finish compacting
    indexed.finish()
    assert tally.done == 15000


@pytest.mark.parametrize("package", ["core", "search_index", "casework", "watches"])
def test_the_domains_know_nothing_of_terminals(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        assert not re.search(r"^\s*(import|from) (rich|tqdm)\b", path.read_text(), re.M), path
