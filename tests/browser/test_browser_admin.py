"""The administrator's back office in headless Chromium on a phone, against a real
``shixin serve``: the administrator (made with ``shixin unit add --admin``) opens a unit's
account with the keyboard, the unit logs in with the password shown once, and a routing file
is uploaded through the file field and put in force.

The portal is this module's own, so the session's portal keeps the packaged routing file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_support import add_unit_account, fits_width, navigate, new_page, open_page, seed
from liveserver import portal_env, portal_process
from support import person

from casework.routing import DEFAULT_FILE

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LIMITS = {
    "SHIXIN_RATE_LIMIT_PAGES": "100000/minute",
    "SHIXIN_RATE_LIMIT_FORMS": "100000/minute",
    "SHIXIN_RATE_LIMIT_API": "100000/minute",
}


@dataclass
class AdminPortal:
    url: str
    password: str
    root: Path


@pytest.fixture(scope="module")
def admin_portal(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminPortal]:
    root = tmp_path_factory.mktemp("browser-admin")
    seed(root / "data", [person("a1")])
    env = portal_env(root / "data", **LIMITS)
    password = add_unit_account(env, "platform", "--name", "管理员", "--admin")
    with portal_process(env, log=root / "serve.log") as base:
        yield AdminPortal(base, password, root)


def log_in(page: Any, login: str, password: str) -> str:
    open_page(page, "/unit/login")
    page.get_by_label("登录名").fill(login)
    page.get_by_label("密码").fill(password)
    return navigate(page, lambda: page.keyboard.press("Enter"))


def test_an_administrator_opens_an_account_and_installs_a_routing_file(
    browser: Any, admin_portal: AdminPortal
) -> None:
    admin_pages = new_page(browser, admin_portal.url, **PHONE)
    admin = next(admin_pages)
    unit_pages = new_page(browser, admin_portal.url, **PHONE)
    unit = next(unit_pages)
    try:
        log_in(admin, "platform", admin_portal.password)
        navigate(admin, lambda: admin.get_by_role("link", name="管理", exact=True).click())
        assert admin.url.endswith("/unit/admin/")
        width, viewport = fits_width(admin)
        assert width == viewport  # tables scroll inside their wrappers, not the page

        # Choose the unit, type the address, and submit with the keyboard.
        admin.get_by_label("路由文件中的单位").select_option(label="商务局（commerce）")
        admin.get_by_label("通知邮箱（可选）").focus()
        admin.keyboard.type("sw@example.gov.cn")
        admin.keyboard.press("Tab")  # to the password field: left empty, one is generated
        navigate(admin, lambda: admin.keyboard.press("Enter"))
        shown = admin.locator("#one-time-password").inner_text()
        assert "密码只显示这一次" in shown
        login = admin.locator("#secret-login").inner_text().strip()
        password = admin.locator("#secret-password").inner_text().strip()
        assert login == "commerce" and len(password) >= 20

        assert "商务局" in log_in(unit, login, password)
        assert unit.url.endswith("/unit/")
        assert open_page(unit, "/unit/admin/", status=403)

        # A routing file: hotel reports now go to 商务局 alone.
        data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
        data["version"] = "browser-1"
        next(r for r in data["reports"] if r["code"] == "consumption.hotel")["units"] = ["commerce"]
        path = admin_portal.root / "routing-browser-1.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        bar = admin.get_by_role("region", name="单位后台")
        navigate(admin, lambda: bar.get_by_role("link", name="路由文件").click())
        assert "系统内置的默认文件" in admin.locator("#routing-source").inner_text()
        admin.get_by_label("路由文件", exact=True).set_input_files(str(path))
        navigate(admin, lambda: admin.get_by_role("button", name="校验并安装").click())
        assert "新的路由文件已生效" in admin.locator("#routing-done").inner_text()
        assert admin.locator("#routing-version").inner_text().strip() == "browser-1"
        assert "platform" in admin.locator("#routing-source").inner_text()
        width, viewport = fits_width(admin)
        assert width == viewport
    finally:
        for pages in (admin_pages, unit_pages):
            pages.close()
