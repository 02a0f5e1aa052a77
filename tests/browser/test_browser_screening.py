"""The screening upload in headless Chromium on a phone, against a real ``shixin serve``:
a list is chosen in the file field and uploaded, the job's page refreshes by itself (a meta
refresh: the portal's background round matches the rows meanwhile) until the summary shows,
nothing scrolls sideways, and the result downloads as a CSV with the rows matched."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from browser_support import data_set, fits_width, navigate, open_page

pytestmark = pytest.mark.browser


def test_a_list_is_uploaded_and_its_results_arrive_on_a_phone(
    browser: Any, phone_page: Any, tmp_path: Path
) -> None:
    listed = data_set()[0]["iname"]
    upload = tmp_path / "客户名单.csv"
    upload.write_text(f"姓名/名称,备注\n{listed},客户-1\n查无此人甲,客户-2\n", encoding="utf-8-sig")
    page = phone_page
    open_page(page, "/screening")
    page.get_by_label("名单文件（.csv 或 .xlsx）").set_input_files(str(upload))
    navigate(page, lambda: page.get_by_role("button", name="上传并核对").click())
    assert "/screening/" in page.url
    # No script: the page reloads itself until the background round is done.
    page.locator("#screening-summary").wait_for(timeout=60_000)
    assert "已核对 2 / 2 行" in page.locator("#screening-progress").inner_text()
    width, viewport = fits_width(page)
    assert width == viewport
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    saved = tmp_path / "result.csv"
    download.value.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"), newline="")))
    assert [row[1] for row in rows[1:]] == [listed, "查无此人甲"]
    assert rows[1][4] != "未匹配" and rows[2][4] == "未匹配"
