"""Public text cites documents by their real title and clause, never by the project's own
numbering of its source documents ("seed 001"): the routing files' shown fields, the intake
forms and tracking page (in both languages), the casework API and the API document, and
the strings that mail and the bot send."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from casework_site import CaseSite, case_site

from casework.routing import DEFAULT_FILE

ROOT = Path(__file__).resolve().parent.parent
ROUTING_FILES = sorted(DEFAULT_FILE.parent.glob("*.yaml"))
# "seed 003", "Seed", "seeds/": the word itself is internal. "Rules Art. 12" is the English
# shorthand of the developers' notes for the national rules.
JARGON = re.compile(r"\bseeds?\b|Rules Art", re.IGNORECASE)
CLAUSE = re.compile(r"[一二三四五六七八九十]+、\(")  # 二、(六)1: a clause of some document
# The strings that leave the site: mail, Telegram, and the pages' and API's text.
OUTBOUND_SOURCES = [
    "casework/notice_texts.py",
    "casework/mail.py",
    "casework/telegram_links.py",
    "portal/translations.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "portal").glob("openapi*.py")),
    "portal/api_page.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "bot").glob("*.py")),
]


def _strings(value: Any) -> Iterator[str]:
    """Every string in a parsed YAML document: comments are gone, every value remains."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _jargon(text: str) -> list[str]:
    return [text[max(m.start() - 30, 0) : m.end() + 30] for m in JARGON.finditer(text)]


@pytest.mark.parametrize("path", ROUTING_FILES, ids=lambda p: p.name)
def test_no_shown_field_of_a_routing_file_uses_internal_names(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [s for s in _strings(data) if JARGON.search(s)] == []


@pytest.mark.parametrize("path", ROUTING_FILES, ids=lambda p: p.name)
def test_a_cited_clause_names_its_document(path: Path) -> None:
    """``二、(六)1`` alone says nothing: it follows the short title that ``source`` defines."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    short = re.search(r"以下简称([^；）]+)", data["source"])
    assert short, data["source"]
    titled = (short.group(1), "《最高人民法院关于公布失信被执行人名单信息的若干规定》")
    cited = [
        entry.get(key, "")
        for section in ("units", "reports", "complaints")
        for entry in data[section]
        for key in ("basis", "note")
        if CLAUSE.search(entry.get(key, ""))
    ]
    assert cited
    assert [text for text in cited if not any(title in text for title in titled)] == []


@pytest.fixture(name="site", params=ROUTING_FILES, ids=lambda p: p.name)
def site_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseSite]:
    """The portal on SQLite with each packaged routing file in force."""
    url = f"sqlite:///{tmp_path / 'shixin.sqlite3'}"
    with case_site(tmp_path, url, SHIXIN_ROUTING_FILE=str(request.param)) as site:
        yield site


def _page(site: CaseSite, path: str) -> str:
    response = site.client.get(path)
    assert response.status_code == 200, path
    return response.text


def test_public_pages_and_api_carry_no_internal_names(site: CaseSite) -> None:
    receipt = site.submit("complaint", category="measure-objection", measure="consumption.hotel")
    pages = {
        path: _page(site, path)
        for base in ("/reports/new", "/complaints/new", "/complaints/new?entry=p1", "/track")
        for path in (base, base + ("&" if "?" in base else "?") + "lang=en")
    }
    pages["/receipt"] = receipt.response.text
    tracked = site.track(receipt.number, receipt.code)
    assert tracked.status_code == 200
    pages["/track (a measure objection)"] = tracked.text
    for path in ("/api/v1/casework/categories", "/api/v1/openapi.json", "/api"):
        pages[path] = _page(site, path)
    routing = site.cases.routing
    note = routing.category("measure-objection").note  # shown on the form and the ticket
    assert note and note in pages["/complaints/new"] and note in tracked.text
    assert {path: _jargon(text) for path, text in pages.items() if _jargon(text)} == {}


def _literals(path: Path) -> Iterator[str]:
    """The string literals of a module other than its docstrings (which are for developers)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline))
    statement_start = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT}
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.STRING:
            continue
        before = tokens[i - 1].type if i else tokenize.NEWLINE
        after = tokens[i + 1].type if i + 1 < len(tokens) else tokenize.NEWLINE
        if before in statement_start and after == tokenize.NEWLINE:
            continue  # a docstring
        yield tok.string


@pytest.mark.parametrize("name", OUTBOUND_SOURCES)
def test_mail_bot_and_page_strings_carry_no_internal_names(name: str) -> None:
    path = ROOT / name
    assert [s for s in _literals(path) if re.search(r"\bseed \d{3}", s, re.I)] == []


def test_templates_carry_no_internal_names() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {hit}"
        for path in sorted((ROOT / "templates").rglob("*"))
        if path.is_file()
        for hit in re.findall(r".{0,30}\bseed \d{3}.{0,30}", path.read_text("utf-8"), re.I)
    ]
    assert found == []
