"""Commands are quiet by default: the line a command prints is not buried under library
progress notes (alembic's "setup plugin" and "Running upgrade" INFO lines). Warnings still
show, and ``-v`` (before or after the command) brings the INFO lines back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shixin.cli import _parser

KEYS = {"SHIXIN_ID_HASH_KEY": "k" * 32, "SHIXIN_SECRET_KEY": "s" * 32}


def _shixin(*args: str, data_dir: Path, keys: bool = True) -> str:
    """Everything the command wrote, standard output and error together."""
    env = {"PATH": "/usr/bin:/bin", "SHIXIN_DATA_DIR": str(data_dir), **(KEYS if keys else {})}
    run = subprocess.run(
        [sys.executable, "-m", "shixin.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout
    return run.stdout


def test_migrate_prints_its_one_line_and_nothing_else(tmp_path: Path) -> None:
    assert _shixin("migrate", data_dir=tmp_path) == "数据库已是最新结构\n"


def test_warnings_still_show(tmp_path: Path) -> None:
    out = _shixin("migrate", data_dir=tmp_path, keys=False)
    assert "WARNING core.settings: SHIXIN_ID_HASH_KEY is not set" in out
    assert "SHIXIN_SECRET_KEY is not set: generated" in out  # the project's own notice
    assert "alembic" not in out and "setup plugin" not in out


@pytest.mark.parametrize("args", [("-v", "migrate"), ("migrate", "-v"), ("--verbose", "migrate")])
def test_verbose_shows_the_migrations(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = _shixin(*args, data_dir=tmp_path)
    assert "INFO alembic.runtime.plugins: setup plugin" in out
    assert "INFO alembic.runtime.migration: Running upgrade  -> 0001" in out
    assert "DEBUG" not in out


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["migrate"], 0),
        (["-v", "migrate"], 1),
        (["migrate", "-v"], 1),
        (["-vv", "serve"], 2),
        (["serve", "-vv"], 2),
        (["token", "add", "-v", "--unit", "u", "--court", "c"], 1),
    ],
)
def test_verbose_is_taken_before_or_after_the_command(argv: list[str], level: int) -> None:
    assert _parser().parse_args(argv).verbose == level
