"""Evidence files and the receipt in headless Chromium, against a real ``shixin serve``:
a citizen attaches a photo and a PDF, lands on /receipt (a 303 after the post, with the
SameSite=Strict receipt cookie), reloads it and sees the same number and code with one
ticket filed; the unit's clerk downloads the photo as an attachment, byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import add_unit_account, navigate, new_page, open_page, seed
from liveserver import portal_env, portal_process
from support import person
from test_casework_evidence import PDF, png

pytestmark = pytest.mark.browser

UNIT = "tourism"
CLERK = "tourism-evidence"
LIMITS = {
    "SHIXIN_RATE_LIMIT_PAGES": "100000/minute",
    "SHIXIN_RATE_LIMIT_FORMS": "100000/minute",
    "SHIXIN_ALTCHA_ENABLED": "0",  # proof of work has its own browser test
}


@dataclass
class Portal:
    url: str
    clerk_password: str


@pytest.fixture(scope="module")
def portal(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    root = tmp_path_factory.mktemp("browser-evidence")
    seed(root / "data", [person("ev1", iname="钱某某")])
    env = portal_env(root / "data", **LIMITS)
    password = add_unit_account(env, UNIT, "--login", CLERK)
    with portal_process(env, log=root / "serve.log") as base:
        yield Portal(base, password)


def test_files_are_attached_the_receipt_survives_a_reload_and_the_unit_downloads(
    browser: Any, portal: Portal, tmp_path: Path
) -> None:
    photo = tmp_path / "酒店大堂.png"
    photo.write_bytes(png())
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(PDF)
    citizen_pages = new_page(browser, portal.url)
    citizen = next(citizen_pages)
    clerk_pages = new_page(browser, portal.url, accept_downloads=True)
    clerk = next(clerk_pages)
    try:
        open_page(citizen, "/reports/new?entry=ev1")
        citizen.get_by_label("举报事项").select_option("consumption.hotel")
        citizen.get_by_label("看到的情况").fill("在酒店大堂看到被执行人入住。")
        citizen.get_by_label("证据材料（可选）").set_input_files([str(photo), str(invoice)])
        receipt = navigate(citizen, lambda: citizen.locator("#casework-submit").click())
        assert citizen.url.endswith("/receipt") and "已收到您的举报" in receipt
        number = citizen.locator("#ticket-number").inner_text().strip()
        code = citizen.locator("#access-code").inner_text().strip()
        assert "酒店大堂.png" in receipt and "invoice.pdf" in receipt

        reloaded = checked_reload(citizen)
        assert citizen.locator("#ticket-number").inner_text().strip() == number
        assert citizen.locator("#access-code").inner_text().strip() == code
        assert "已收到您的举报" in reloaded

        open_page(clerk, "/unit/login")
        clerk.get_by_label("登录名").fill(CLERK)
        clerk.get_by_label("密码").fill(portal.clerk_password)
        queue = navigate(clerk, lambda: clerk.keyboard.press("Enter"))
        assert queue.count("JB-") == 1 and number in queue  # the reload filed nothing
        navigate(clerk, lambda: clerk.get_by_role("link", name=number).click())
        with clerk.expect_download() as download:
            clerk.get_by_role("link", name="酒店大堂.png").click()
        assert download.value.suggested_filename == "酒店大堂.png"
        assert Path(download.value.path()).read_bytes() == png()
    finally:
        for pages in (citizen_pages, clerk_pages):
            pages.close()


def checked_reload(page: Any) -> str:
    response = page.reload()
    assert response is not None and response.status == 200
    return response.text()
