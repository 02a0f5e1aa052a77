"""What the browser tests share: the known data set, finding Debian's Chromium, and page
helpers that check every page a test opens for full ID numbers.

The data set is small and fixed, so each test can say exactly what a person should see.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import time
from pathlib import Path
from typing import Any

from site_support import full_ids_in, masked
from support import (
    KEY,
    correction,
    credit_code,
    id_number,
    instant_days_ago,
    org,
    person,
    records,
    removal,
)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# --- The data set ---------------------------------------------------------------------------

ID_ZHANG = id_number("110105", "19800101", "123")
ID_ZHANG_2 = id_number("440106", "19850315", "234")
ID_CHEN = id_number("440304", "19750612", "345")
ID_WANG = id_number("310115", "19700101", "456")  # removed: shielded
ID_LIU = id_number("320102", "19900808", "567")
CODE_TECH = credit_code("MA000009")
CODE_TRADE = credit_code("MA000010")

CASE_ZHANG = "(2023)京0105执1234号"
CASE_ZHANG_FULLWIDTH = "（2023）京0105执1234号"  # as a person types it on a Chinese keyboard
CASE_CHEN = "(2024)粤0304执5678号"
CASE_TECH = "(2024)沪0115执77号"
CASE_WANG = "(2022)沪0115执4321号"

# The live server stamps the shield's arrival with the real clock and holds it against the
# deadline: so the shield took effect yesterday (always within three working days of arrival)
# and the correction some weeks before, never on a fixed day that ages.
CORRECTED_AT = instant_days_ago(50, time(9, 30))
SHIELDED_AT = instant_days_ago(1)


def data_set() -> list[dict[str, Any]]:
    """Seven entries: two 张伟 (one corrected), a name published in traditional script, two
    companies, one more person, and 王秀英 (shielded by ``later_batch``)."""
    return [
        person(
            "zw",
            iname="张伟",
            cardNum=ID_ZHANG,
            caseCode=CASE_ZHANG,
            severity="严重",
            publishDate="2023-03-20",
        ),
        person(
            "zw2",
            iname="张伟",
            cardNum=ID_ZHANG_2,
            caseCode="(2024)粤0106执901号",
            courtName="广州市天河区人民法院",
            gistUnit="广州市天河区人民法院",
            areaName="广东",
            publishDate="2024-08-02",
            validUntil="2099-08-02",
        ),
        person(
            "chen",
            iname="陳國強",  # published in traditional script
            cardNum=ID_CHEN,
            caseCode=CASE_CHEN,
            courtName="深圳市福田区人民法院",
            gistUnit="深圳市福田区人民法院",
            areaName="广东",
            publishDate="2024-01-09",
        ),
        person(
            "liu",
            iname="刘芳",
            sexy="女",
            age=36,
            cardNum=ID_LIU,
            caseCode="(2025)苏0102执3377号",
            courtName="南京市玄武区人民法院",
            gistUnit="南京市玄武区人民法院",
            areaName="江苏",
            publishDate="2025-02-14",
        ),
        org("tech", iname="上海某某科技有限公司", cardNum=CODE_TECH, caseCode=CASE_TECH),
        org(
            "trade",
            iname="北京某某商贸有限公司",
            cardNum=CODE_TRADE,
            caseCode="(2025)京0108执88号",
            courtName="北京市海淀区人民法院",
            areaName="北京",
            publishDate="2025-06-30",
        ),
        person(
            "wang",
            iname="王秀英",
            cardNum=ID_WANG,
            caseCode=CASE_WANG,
            courtName="上海市浦东新区人民法院",
            gistUnit="上海市浦东新区人民法院",
            areaName="上海",
            duty="返还借款人民币二十三万元",
            publishDate="2022-09-01",
        ),
        correction("zw", CORRECTED_AT, performance="部分履行", unperformPart="六万元"),
    ]


def later_batch() -> list[dict[str, Any]]:
    """What a court sent after the first batch was public: 王秀英's entry shielded."""
    return [removal("shield", "wang", SHIELDED_AT)]


ALL_IDS = (ID_ZHANG, ID_ZHANG_2, ID_CHEN, ID_WANG, ID_LIU)
# What only the removed entry's page could show.
WANG_DATA = ("王秀英", "4321", "返还借款人民币二十三万元", masked(ID_WANG), ID_WANG)


def seed(data_dir: Path, *batches: list[dict[str, Any]]) -> None:
    """Import each batch into the embedded store and index of ``data_dir``, as courts' batches
    would be, the index catching up after each (so a removal removes a public entry)."""
    from core.settings import load_settings
    from search_index.service import ListService

    settings = load_settings({"SHIXIN_DATA_DIR": str(data_dir), "SHIXIN_ID_HASH_KEY": KEY})
    service = ListService(settings)
    try:
        for lines in batches:
            report = service.ingest(records(*lines), source="browser-tests")
            assert not report.rejected, [r.as_dict() for r in report.rejected]
            service.sync()
    finally:
        service.close()


# --- Chromium ------------------------------------------------------------------------------


def browser_required() -> bool:
    """CI (``CI=true``) and ``SHIXIN_REQUIRE_BROWSER=1`` turn a missing browser into a failure."""
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes")
        for name in ("SHIXIN_REQUIRE_BROWSER", "CI")
    )


def chromium_executable() -> str | None:
    """``SHIXIN_CHROMIUM`` if set, else Debian's ``chromium`` on the PATH."""
    explicit = os.environ.get("SHIXIN_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


# --- Pages ---------------------------------------------------------------------------------


def new_page(browser: Any, base_url: str, **context_options: Any) -> Iterator[Any]:
    """A page in a fresh context (its own cookies), closed when the generator finishes."""
    context = browser.new_context(base_url=base_url, locale="zh-CN", **context_options)
    context.set_default_timeout(15_000)  # a loaded 2-core machine; a real hang still fails
    try:
        yield context.new_page()
    finally:
        context.close()


def checked(response: Any, status: int) -> str:
    """The body of a page the browser just loaded: the expected status, no full ID number."""
    assert response is not None, "no document was loaded"
    body = response.text()
    assert response.status == status, f"{response.url}: {response.status}, wanted {status}"
    assert full_ids_in(body) == [], f"{response.url} shows a full ID number"
    return body


def open_page(page: Any, path: str, status: int = 200) -> str:
    """Go to ``path`` as a person typing the address; return the page's HTML."""
    return checked(page.goto(path), status)


def navigate(page: Any, action: Callable[[], None], status: int = 200) -> str:
    """Do something that loads a new page (click, Enter); return the new page's HTML. After a
    redirect (POST, then 303) this is the page the browser ends on."""
    with page.expect_navigation() as navigation:
        action()
    return checked(navigation.value, status)


def result_names(page: Any) -> list[str]:
    return page.locator("#results > li h2").all_inner_texts()


def result_links(page: Any) -> list[str]:
    return [link.get_attribute("href") or "" for link in page.locator("#results > li h2 a").all()]


def fits_width(page: Any) -> tuple[int, int]:
    """(document width, viewport width): equal when nothing scrolls sideways."""
    widths = page.evaluate(
        "() => [Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),"
        " window.innerWidth]"
    )
    return widths[0], widths[1]


def update_screenshots() -> bool:
    """``SHIXIN_UPDATE_SCREENSHOTS=1`` writes the README's screenshots into docs/."""
    return os.environ.get("SHIXIN_UPDATE_SCREENSHOTS", "").strip().lower() in ("1", "true", "yes")


def add_unit_account(env: dict[str, str], *args: str) -> str:
    """``shixin unit add ARGS`` as an administrator runs it; the password it prints once."""
    added = subprocess.run(
        [sys.executable, "-m", "shixin.cli", "unit", "add", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    password = re.search(r"请妥善保存：(\S+)", added.stdout)
    assert password, added.stdout
    return password.group(1)
