"""A running portal for the page tests: the real app, a browser-like client, data seeded
straight through the service (as a court's batch would be)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from support import records

from core.settings import Settings
from portal.app import create_app
from search_index.identifiers import is_valid_id_number
from search_index.service import ListService

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


TOKEN_RE = re.compile(r'<input type="hidden" name="csrf_token" value="([0-9a-f]+)">')
ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def masked(full: str) -> str:
    return full[:10] + "****" + full[14:]


def full_ids_in(text: str) -> list[str]:
    return [m for m in ID_SHAPED.findall(text) if is_valid_id_number(m)]


@dataclass
class Site:
    app: Starlette
    client: TestClient

    @property
    def service(self) -> ListService:
        return self.app.state.service

    def publish(self, *lines: Any) -> None:
        report = self.service.ingest(records(*lines), source="test")
        assert not report.rejected, [r.as_dict() for r in report.rejected]

    def token(self, path: str = "/status") -> str:
        """The CSRF token of the form on ``path``, as a browser would read it."""
        match = TOKEN_RE.search(self.client.get(path).text)
        assert match, f"no CSRF field on {path}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, str], *, form_page: str | None = None) -> Any:
        token = self.token(form_page or path)
        return self.client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


@contextmanager
def running(settings: Settings) -> Iterator[Site]:
    app = create_app(settings, background=False)
    with TestClient(app) as client:
        yield Site(app, client)
