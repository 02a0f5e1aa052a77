"""A running portal for the casework page tests (test_casework_pages.py, test_unit_pages.py):
the real app on the parametrized store, entries seeded, and browser-like clients that read
each form's CSRF token the way a browser would. Holds no tests itself."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from site_support import TOKEN_RE, Site, running
from support import make_settings, person, removal

from casework.service import CaseService
from casework.units import add_unit

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

NUMBER_RE = re.compile(r'id="ticket-number">([^<]+)<')
CODE_RE = re.compile(r'id="access-code">([^<]+)<')
URL_ATTR = re.compile(r'(?:href|action)="([^"]*)"')
ONCE_KEY_RE = re.compile(r'name="once_key" value="([^"]*)"')
# What a browser sends for a file input left empty: one part, no name, no bytes.
NO_FILE = [("evidence", ("", b"", "application/octet-stream"))]
Files = list[tuple[str, tuple[str, bytes, str]]]


def token(client: TestClient, path: str) -> str:
    response = client.get(path)
    match = TOKEN_RE.search(response.text)
    assert match, f"no CSRF field on {path} ({response.status_code})"
    return match.group(1)


def post(client: TestClient, path: str, data: dict[str, str], form_page: str) -> Any:
    """Post ``data`` as the form on ``form_page`` would, with its CSRF token."""
    return client.post(
        path, data={**data, "csrf_token": token(client, form_page)}, follow_redirects=False
    )


def post_intake(
    client: TestClient,
    path: str,
    data: dict[str, str],
    files: Files | None = None,
    form_page: str | None = None,
) -> Any:
    """Post an intake form (multipart, like a browser) with the CSRF token and one-time key
    of a freshly loaded form; ``files`` are (field, (name, bytes, declared type))."""
    page = client.get(form_page or path).text
    csrf = TOKEN_RE.search(page)
    once = ONCE_KEY_RE.search(page)
    assert csrf, f"no CSRF field on {form_page or path}"
    fields = {"csrf_token": csrf.group(1), **({"once_key": once.group(1)} if once else {})}
    return client.post(
        path, data={**fields, **data}, files=files or NO_FILE, follow_redirects=False
    )


@dataclass
class Receipt:
    number: str
    code: str
    response: Any


@dataclass
class CaseSite:
    site: Site
    clients: dict[str, TestClient] = field(default_factory=dict)

    @property
    def client(self) -> TestClient:
        return self.site.client

    @property
    def cases(self) -> CaseService:
        return self.site.app.state.cases

    def browser(self) -> TestClient:
        """Another browser (its own cookies) on the same running app."""
        return TestClient(self.site.app, base_url="http://testserver")

    def submit(
        self,
        kind: str = "report",
        client: TestClient | None = None,
        files: Files | None = None,
        **fields: str,
    ) -> Receipt:
        """File through the form as a browser does: POST, 303 to /receipt, GET /receipt
        (the Receipt's response)."""
        client = client or self.client
        path = "/reports/new" if kind == "report" else "/complaints/new"
        data = {"category": "consumption.hotel", "entry_id": "p1", "what": "入住五星级酒店"}
        if kind == "complaint":
            data["category"] = "inaccurate-info"
        data.update(fields)
        posted = post_intake(client, path, data, files)
        assert posted.status_code == 303, posted.text
        assert posted.headers["location"] == "/receipt"
        response = client.get("/receipt")
        assert response.status_code == 200, response.text
        number = NUMBER_RE.search(response.text)
        code = CODE_RE.search(response.text)
        assert number and code
        return Receipt(number.group(1), code.group(1), response)

    def track(self, number: str, code: str, client: TestClient | None = None) -> Any:
        return post(client or self.client, "/track", {"number": number, "code": code}, "/track")

    def unit(self, code: str, **kw: str) -> tuple[str, str]:
        """Create the unit's account; (login, password), as `shixin unit add` prints them."""
        return add_unit(self.cases.store, self.cases.routing, code, **kw)  # type: ignore[arg-type]

    def login(self, code: str, **kw: str) -> TestClient:
        """A browser logged in as the unit ``code`` (its account is created first)."""
        name, password = self.unit(code, **kw)
        browser = self.browser()
        response = post(
            browser, "/unit/login", {"login": name, "password": password}, "/unit/login"
        )
        home = "/unit/admin/" if kw.get("admin") else "/unit/"  # an administrator has no queue
        assert response.status_code == 303 and response.headers["location"] == home
        return browser

    def ticket_id(self, number: str) -> int:
        from sqlalchemy import select

        from casework.tables import tickets

        with self.cases.store.read() as conn:
            return int(
                conn.execute(select(tickets.c.id).where(tickets.c.number == number)).scalar_one()
            )


def act(browser: TestClient, ticket_id: int, action: str, **data: str) -> Any:
    page = f"/unit/tickets/{ticket_id}"
    return post(browser, f"{page}/{action}", data, page)


@contextmanager
def case_site(tmp_path: Path, database_url: str, **env: str) -> Iterator[CaseSite]:
    # Form posts effectively unlimited; the pages' own clients post without proof of work.
    limits = {"SHIXIN_RATE_LIMIT_FORMS": "1000/minute", "SHIXIN_RATE_LIMIT_UNPROVEN": "1000/hour"}
    settings = make_settings(tmp_path, database_url, **{**limits, **env})
    with running(settings) as site:
        site.publish(
            person("p1"),
            person(
                "p2", iname="李娜", courtName="青岛市市北区人民法院", caseCode="(2023)鲁0203执9号"
            ),
            person("secret", iname="钱不宜", disclose=False),
        )
        site.publish(removal("shield", "p2"))
        yield CaseSite(site)


@pytest.fixture(name="cs")
def cs_fixture(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    """A running portal: entries p1 (北京市朝阳区人民法院, public), p2 (shielded) and
    secret (never public); form posts effectively unlimited."""
    with case_site(tmp_path, database_url) as site:
        yield site
