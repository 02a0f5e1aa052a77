"""The README stays honest: every setting, command and route it should name, it names, and
where it should name it (the Configuration table, the command line synopsis)."""

from __future__ import annotations

import re

from readme_support import (
    README,
    ROOT,
    blocks,
    command_paths,
    section,
    synopsis_paths,
)
from starlette.routing import Route

from portal import api, api_ingest_jobs, casework_api
from shixin.cli import _parser

SOURCE_PACKAGES = ("core", "shixin", "search_index", "portal", "casework", "bot")


def settings_read() -> set[str]:
    """Every SHIXIN_* variable the code names: settings.py reads them, and a command may
    set one for its workers (``serve --no-access-log``)."""
    names: set[str] = set()
    for package in SOURCE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            names |= set(re.findall(r'"(SHIXIN_[A-Z_]+)"', path.read_text(encoding="utf-8")))
    return names


def configuration_table() -> set[str]:
    """The variables named in the first column of the Configuration table."""
    rows = [line for line in section("Configuration").splitlines() if line.startswith("|")]
    return {name for row in rows for name in re.findall(r"`(SHIXIN_[A-Z_]+)`", row.split("|")[1])}


def test_every_setting_is_in_the_configuration_table() -> None:
    source = (ROOT / "core" / "settings.py").read_text(encoding="utf-8")
    assert re.findall(r'"(SHIXIN_[A-Z_]+)"', source), "no settings found: has settings.py moved?"
    missing = sorted(settings_read() - configuration_table())
    assert missing == [], f"settings missing from the README's Configuration table: {missing}"


def test_the_configuration_table_names_no_setting_the_code_lacks() -> None:
    stale = sorted(configuration_table() - settings_read())
    assert stale == [], f"the Configuration table names settings nothing reads: {stale}"


def synopsis() -> str:
    shell = [b for b in blocks(section("The command line")) if b.lang == "sh"]
    assert shell, "the command line section has no sh block"
    return shell[0].body


def test_every_command_and_subcommand_is_in_the_command_line_block() -> None:
    parser = _parser()
    # synopsis_paths also fails on a command or option the block shows that does not exist.
    documented = synopsis_paths(parser, synopsis())
    missing = sorted(" ".join(path) for path in command_paths(parser) - documented)
    assert missing == [], f"commands missing from the README's command line block: {missing}"


def route_paths(routes: list[object]) -> list[str]:
    """Paths as the README writes them: ``{entry_id:str}`` is ``{id}``."""
    paths = [r.path.replace("{entry_id:str}", "{id}") for r in routes if isinstance(r, Route)]
    return [re.sub(r"\{(\w+):\w+\}", r"{\1}", path) for path in paths]


def documented(path: str) -> bool:
    """Named as itself, not only as the start of a longer path (``/api/v1/track/contest``
    does not document ``/api/v1/track``)."""
    return re.search(re.escape(path) + r"(?![\w/{-])", README) is not None


def test_every_api_route_is_documented() -> None:
    routes = [*api.routes, *api_ingest_jobs.routes]
    missing = sorted(path for path in route_paths(routes) if not documented(path))
    assert missing == [], f"API routes missing from README: {missing}"


def test_every_casework_api_route_is_documented() -> None:
    paths = route_paths(casework_api.routes)
    assert paths, "no casework API routes found: has portal/casework_api.py moved?"
    missing = sorted(path for path in paths if not documented(path))
    assert missing == [], f"casework API routes missing from README: {missing}"


def test_readme_starts_with_the_two_commands_ci_runs() -> None:
    head = README[:1500]
    assert "make demo" in head and "make test" in head
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def github_anchor(title: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def test_the_contents_list_every_section_with_a_working_link() -> None:
    sections = re.findall(r"^## (.+)$", README, re.M)
    listed = re.findall(r"^- \[(.+?)\]\(#(.+?)\)$", section("Contents"), re.M)
    expected = [title for title in sections if title not in ("快速上手", "Quick start", "Contents")]
    assert [title for title, _ in listed] == expected
    assert all(link == github_anchor(title) for title, link in listed)


def test_the_readme_opens_in_chinese_with_the_demo_port_and_the_test_time() -> None:
    quick = section("快速上手")
    assert "make demo PORT=8080" in quick and "shixin serve --port" in quick
    assert "约 20 分钟" in quick and "postgresql" in quick and "chromium" in quick
