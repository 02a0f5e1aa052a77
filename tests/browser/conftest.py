"""Fixtures for the browser tests: real headless Chromium against a real ``shixin serve``.

- ``portal_url``: the portal as production runs it (``shixin serve``, real HTTP on a free
  port), once per session, on a data directory holding the known data set of
  ``browser_support.data_set()``. Rate limits stay on, with budgets no test run can reach.
- ``browser``: Debian's ``chromium`` (or ``SHIXIN_CHROMIUM``), launched headless once per
  session through Playwright's ``executable_path``: Playwright's own browser downloads fail
  on our machines, so ``playwright install`` is never needed.
- ``page``: a fresh browser context (cookies, viewport) per test, pointed at the portal.

Without Chromium or the ``playwright`` package the tests are skipped with the reason,
unless ``SHIXIN_REQUIRE_BROWSER=1`` or ``CI=true``: then they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from browser_support import (
    browser_required,
    chromium_executable,
    data_set,
    later_batch,
    new_page,
    seed,
)
from liveserver import portal_env, portal_process

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# Budgets far above what the suite spends, so only the rate-limit tests (which start their
# own portal with a tiny budget) ever meet a 429.
GENEROUS_LIMITS = {
    "SHIXIN_RATE_LIMIT_PAGES": "100000/minute",
    "SHIXIN_RATE_LIMIT_FORMS": "100000/minute",
    "SHIXIN_RATE_LIMIT_API": "100000/minute",
}


def _unavailable(reason: str) -> NoReturn:
    if browser_required():
        pytest.fail(
            f"{reason}\n(SHIXIN_REQUIRE_BROWSER or CI is set, so this is an error; on Debian:"
            " apt-get install chromium, and pip install -e '.[dev]')",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def portal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser-portal")
    seed(root / "data", data_set(), later_batch())
    return root


@pytest.fixture(scope="session")
def portal_url(portal_dir: Path) -> Iterator[str]:
    env = portal_env(portal_dir / "data", **GENEROUS_LIMITS)
    with portal_process(env, log=portal_dir / "serve.log") as base:
        yield base


def _real_clock_env() -> dict[str, str]:
    """Chromium's environment without libfaketime: under .ci/shifted-clock only the portal,
    the database and the tests move in time. Chromium stalls on a shifted wall clock, and
    what the pages say about dates comes from the portal's clock anyway."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith("FAKETIME")
    }


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        _unavailable("Chromium not found (apt-get install chromium, or set SHIXIN_CHROMIUM)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable,
                headless=True,
                args=["--disable-dev-shm-usage", "--disable-gpu"],
                env=_real_clock_env(),
            )
        except Error as exc:
            problem = f"Chromium at {executable} did not start: {exc}"
        else:
            problem = ""
        if problem:  # outside the except block, so the report is not a chained traceback
            _unavailable(problem)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, portal_url: str) -> Iterator[Any]:
    """A desktop-sized page in a fresh context (no cookies from other tests)."""
    yield from new_page(browser, portal_url, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone_page(browser: Any, portal_url: str) -> Iterator[Any]:
    """A 360-px-wide phone (touch, mobile viewport, 2x pixels)."""
    yield from new_page(browser, portal_url, **PHONE)


@pytest.fixture
def nojs_page(browser: Any, portal_url: str) -> Iterator[Any]:
    """A desktop page with JavaScript switched off."""
    yield from new_page(
        browser, portal_url, viewport={"width": 1280, "height": 800}, java_script_enabled=False
    )
