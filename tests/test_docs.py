"""The README stays honest: every setting, command and API route it should name, it names."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from starlette.routing import Route

from portal import api
from shixin.cli import _parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_read_from_the_environment_is_documented() -> None:
    source = (ROOT / "shixin" / "settings.py").read_text(encoding="utf-8")
    settings = set(re.findall(r'"(SHIXIN_[A-Z_]+)"', source))
    assert settings, "no settings found: has settings.py moved?"
    missing = sorted(name for name in settings if name not in README)
    assert missing == [], f"settings missing from README: {missing}"


def test_every_cli_command_is_documented() -> None:
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = sorted(name for name in commands.choices if name not in README)
    assert missing == [], f"commands missing from README: {missing}"


def test_every_api_route_is_documented() -> None:
    paths = [r.path.replace("{entry_id:str}", "{id}") for r in api.routes if isinstance(r, Route)]
    missing = sorted(path for path in paths if path not in README)
    assert missing == [], f"API routes missing from README: {missing}"


def test_readme_starts_with_the_two_commands_ci_runs() -> None:
    head = README[:1500]
    assert "make demo" in head and "make test" in head
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
