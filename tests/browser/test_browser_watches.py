"""Watches by email in headless Chromium, on a phone, against the session's ``shixin serve``
(mail goes to .eml files in its data directory, as without an SMTP server): 关注此条目 on an
entry, the subscribe form, the confirmation link from the mail, and the manage page that
removes the watch and switches to a daily digest, without JavaScript needed and without
sideways scrolling."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from browser_support import CODE_TECH, fits_width, navigate, open_page

pytestmark = pytest.mark.browser

ADDRESS = "phone-watcher@example.com"
CONFIRM = re.compile(r"/watch/confirm/[A-Za-z0-9_-]+")


def confirmation_path(outbox: Path, timeout: float = 30.0) -> str:
    """The confirmation link of the mail to ADDRESS, once the portal's mail loop wrote it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for eml in sorted(outbox.glob("*.eml")):
            mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
            if str(mail["To"]) == ADDRESS:
                body = mail.get_body(("plain",))
                assert body is not None
                match = CONFIRM.search(str(body.get_content()))
                assert match, "no confirmation link"
                return match.group(0)
        time.sleep(0.2)
    pytest.fail(f"no confirmation mail to {ADDRESS} within {timeout} s")


def test_watch_an_entry_by_email_and_manage_it_on_a_phone(
    phone_page: Any, portal_dir: Path
) -> None:
    page = phone_page
    open_page(page, "/entries/tech")
    form = navigate(page, lambda: page.click("#watch-entry"))
    assert f'value="{CODE_TECH}"' in form
    assert page.is_checked("#w-kind-code")
    assert fits_width(page)[0] <= fits_width(page)[1]
    page.fill("#w-email", ADDRESS)
    sent = navigate(page, lambda: page.click("#watch-submit"))
    assert "请查收确认邮件" in sent and ADDRESS in sent

    open_page(page, confirmation_path(portal_dir / "data" / "mail-outbox"))
    manage = navigate(page, lambda: page.click("#confirm-submit"))
    assert "已确认，关注已添加" in manage and f"统一社会信用代码 {CODE_TECH}" in manage
    width, viewport = fits_width(page)
    assert width <= viewport

    page.check("#mode-digest")
    page.select_option("#mode-hour", "7")
    saved = navigate(page, lambda: page.click("#mode-submit"))
    assert "提醒方式已保存" in saved
    assert page.is_checked("#mode-digest") and page.input_value("#mode-hour") == "7"

    removed = navigate(page, lambda: page.click(".remove-watch"))
    assert "已取消该关注" in removed and page.locator("#no-watches").is_visible()
