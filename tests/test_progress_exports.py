"""``shixin export`` and ``shixin screening run`` show their progress as the other long
commands do (tests/test_progress.py): a bar on a terminal, nothing with ``--quiet``, and
standard output, which may be the export itself, the same whichever."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from test_progress import KEYS, _percentages, shixin

from core.settings import load_settings
from screening.jobs import Screenings
from screening.upload import read_upload
from search_index.demo import write_demo_file
from search_index.service import ListService

ROWS = 3000


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding a demo list of several thousand entries."""
    feed = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    write_demo_file(feed, 9000, seed=5)
    data_dir = tmp_path_factory.mktemp("imported")
    shixin("import", "-q", str(feed), data_dir=data_dir, tty=False)
    return data_dir


def entries_of(jsonl: bytes) -> list[bytes]:
    """The entry lines of a JSON Lines export (the first line is its snapshot's metadata,
    which names the moment it was read)."""
    first, *rest = jsonl.splitlines()
    assert b'"meta"' in first
    return rest


def test_export_to_standard_output_shows_a_bar_on_standard_error_only(imported: Path) -> None:
    run = shixin("export", "--format", "jsonl", data_dir=imported, tty=True)
    exported = entries_of(run.stdout)
    assert all(orjson.loads(line)["id"] for line in exported)  # nothing but the export
    assert b"\x1b[" not in run.stdout and "导出".encode() not in run.stdout
    seen = _percentages(run.stderr)
    assert seen and seen[-1] == 100 and seen == sorted(seen), run.stderr
    assert f"/{len(exported)}" in run.stderr  # done out of the entries to export
    summary = re.search(r"导出：([\d,]+) 条，用时 [\d.]+ 秒，每秒 [\d,]+ 条", run.stderr)
    assert summary and int(summary.group(1).replace(",", "")) == len(exported), run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("已导出至 标准输出")


def test_a_longer_export_on_a_terminal_shows_the_bar_advancing(
    imported: Path, tmp_path: Path
) -> None:
    # A few thousand entries as CSV or JSON Lines take a tenth of a second, less than one
    # redraw of the bar; as XLSX (openpyxl, row by row) they take seconds.
    out = tmp_path / "list.xlsx"
    run = shixin("export", "--format", "xlsx", "-o", str(out), data_dir=imported, tty=True)
    seen = _percentages(run.stderr)
    assert seen[-1] == 100 and seen == sorted(seen), run.stderr
    assert any(0 < p < 100 for p in seen), run.stderr  # it advanced on the way
    assert out.stat().st_size > 0 and run.stdout == b""


def test_export_output_is_the_same_on_a_terminal_off_one_and_quiet(
    imported: Path, tmp_path: Path
) -> None:
    on_terminal = shixin("export", "--format", "jsonl", data_dir=imported, tty=True)
    piped = shixin("export", "--format", "jsonl", data_dir=imported, tty=False)
    quiet = shixin("export", "--format", "jsonl", "--quiet", data_dir=imported, tty=True)
    assert entries_of(on_terminal.stdout) == entries_of(piped.stdout) == entries_of(quiet.stdout)
    assert "%" not in quiet.stderr and b"\x1b[" not in quiet.raw_stderr
    assert "导出：" not in quiet.stderr and "导出：" not in piped.stderr  # a short run: no line
    out = tmp_path / "list.csv"
    to_file = shixin("export", "-o", str(out), data_dir=imported, tty=True)
    assert to_file.stdout == b"" and out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "导出：" in to_file.stderr


def test_an_export_narrowed_by_region_counts_without_a_total(imported: Path) -> None:
    run = shixin("export", "--format", "jsonl", "--region", "北京", data_dir=imported, tty=True)
    count = len(entries_of(run.stdout))
    assert re.search(rf"导出：{count:,} 条，用时", run.stderr), run.stderr


def _queue_screening(data_dir: Path, rows: int) -> None:
    settings = load_settings({"SHIXIN_DATA_DIR": str(data_dir), **KEYS})
    lists = ListService(settings)
    try:
        data = "name\n" + "".join(f"某某{i}\n" for i in range(rows))
        upload = read_upload("list.csv", data.encode(), rows)
        jobs = Screenings(lists, settings.id_hash_key.reveal(), timedelta(hours=1))
        jobs.create(upload, "list.csv", "test")
    finally:
        lists.close()


def test_screening_run_on_a_terminal_shows_the_rows_matched(imported: Path) -> None:
    _queue_screening(imported, ROWS)
    run = shixin("screening", "run", "--batch", "100", data_dir=imported, tty=True)
    seen = _percentages(run.stderr)
    assert seen and seen[-1] == 100 and seen == sorted(seen), run.stderr
    assert any(0 < p < 100 for p in seen), run.stderr
    assert f"/{ROWS}" in run.stderr
    assert re.search(rf"批量核对：{ROWS:,} 行，用时", run.stderr), run.stderr
    assert run.stdout.decode().startswith(f"批量核对：核对 {ROWS} 行")
    assert b"\x1b[" not in run.stdout


def test_screening_run_quiet_shows_nothing_but_its_result(imported: Path) -> None:
    _queue_screening(imported, 50)
    run = shixin("screening", "run", "--quiet", data_dir=imported, tty=True)
    assert "%" not in run.stderr and b"\x1b[" not in run.raw_stderr
    assert run.stdout.decode().startswith("批量核对：核对 50 行")
