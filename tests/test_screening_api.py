"""Large screenings through the API with an API key (issue 14): ``POST /api/v1/screenings``
takes a CSV, an XLSX or JSON rows, ``GET /api/v1/screenings/{id}`` follows the job, and the
result comes back as CSV and XLSX, seen only under the key that sent it. Without a key the
request is refused, saying where to get one; the retention sweep deletes the job and the
result files written for it.

The real app on the parametrized store (the screening tests' entries); keys are asked for
and issued through the API key domain, the confirmation link read from the outbox as the
mail would carry it; the background round is run by hand.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from casework_site import CaseSite
from sqlalchemy import select
from test_screening import (  # noqa: F401  (screening_site: the fixture cs)
    CHINESE_ROWS,
    CODE_ACME,
    ID_WANG,
    as_csv,
    as_xlsx,
    jobs,
    screening_site,
)

from core.tables import outbox
from portal.api_screenings import API_ROWS

PATH = "/api/v1/screenings"
CONFIRM = re.compile(r"/api/keys/confirm/([A-Za-z0-9_-]+)")


def new_key(cs: CaseSite, email: str) -> str:
    """A key asked for and issued as its owner gets one: the link from the mail."""
    keys = cs.site.app.state.api_keys
    keys.request("财经日报数据部", email, "核对供应商名单")
    with cs.site.service.store.read() as conn:
        bodies = conn.execute(select(outbox.c.body).where(outbox.c.recipient == email)).all()
    (token,) = CONFIRM.findall(bodies[-1][0])
    return keys.issue(token).key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post_file(cs: CaseSite, key: str | None, name: str, data: bytes, **headers: str) -> Any:
    sent = {**(bearer(key) if key else {}), **headers}
    return cs.client.post(PATH, files=[("file", (name, data, "text/csv"))], headers=sent)


def test_without_a_key_a_screening_is_refused_saying_where_to_get_one(cs: CaseSite) -> None:
    answer = post_file(cs, None, "list.csv", as_csv(CHINESE_ROWS).encode())
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "api_key_required" and "/api/keys" in error["message"]
    english = cs.client.post(PATH, json={"rows": []}, headers={"Accept-Language": "en"})
    assert english.status_code == 401 and "need an API key" in english.json()["error"]["message"]
    assert cs.client.get(PATH + "/whatever").status_code == 401
    assert jobs(cs).files_today("nobody") == 0


def test_a_key_screens_a_file_and_gets_the_result_as_csv_and_xlsx(cs: CaseSite) -> None:
    key = new_key(cs, "desk@example-news.cn")
    for name, data in (
        ("list.csv", as_csv(CHINESE_ROWS).encode("gb18030")),
        ("list.xlsx", as_xlsx(CHINESE_ROWS)),
    ):
        answer = post_file(cs, key, name, data)
        assert answer.status_code == 202, answer.text
        job = answer.json()
        assert answer.headers["location"] == f"{PATH}/{job['id']}"
        assert answer.headers["cache-control"] == "no-store"
        assert job["status"] == "running" and job["total"] == 7 and job["done"] == 0
        early = cs.client.get(job["links"]["self"] + "/result.csv", headers=bearer(key))
        assert early.status_code == 409 and early.json()["error"]["code"] == "conflict"

        jobs(cs).run()
        done = cs.client.get(job["links"]["self"], headers=bearer(key)).json()
        assert done["status"] == "done" and done["done"] == 7
        assert done["summary"] == {"identifier": 2, "partial": 1, "none": 2, "error": 2}
        assert [p["row"] for p in done["problems"]] == [7, 8]
        assert ID_WANG not in str(done)

        csv_file = cs.client.get(done["links"]["csv"], headers=bearer(key))
        assert csv_file.status_code == 200 and csv_file.headers["cache-control"] == "no-store"
        text = csv_file.content.decode("utf-8-sig")
        assert "证件号码一致" in text and CODE_ACME in text and ID_WANG not in text
        xlsx = cs.client.get(done["links"]["xlsx"], headers={"X-API-Key": key})
        assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")


def test_json_rows_are_screened_and_bad_rows_reported_not_refused(cs: CaseSite) -> None:
    key = new_key(cs, "bank@example-bank.cn")
    rows = [
        {"name": "王建国", "cardNum": ID_WANG, "ref": "贷款-1"},
        {"name": "北京阿克米贸易有限公司", "ref": "贷款-2"},
        {"name": "王建国", "cardNum": ID_WANG[:17] + ("0" if ID_WANG[17] != "0" else "1")},
    ]
    answer = cs.client.post(PATH, json={"rows": rows}, headers=bearer(key))
    assert answer.status_code == 202, answer.text
    jobs(cs).run()
    done = cs.client.get(answer.headers["location"], headers=bearer(key)).json()
    assert done["summary"] == {"identifier": 1, "name": 1, "error": 1}
    assert done["problems"][0]["row"] == 3 and done["problems"][0]["code"] == "bad_id_checksum"

    for body, status, field in (
        ({"rows": [{"name": "甲", "id": "x"}]}, 400, "rows[0].id"),
        ({"rows": "王建国"}, 400, "rows"),
        ({"rows": []}, 422, "rows"),
        ({"rows": [{"name": "甲"}] * (API_ROWS + 1)}, 422, "rows"),
    ):
        refused = cs.client.post(PATH, json=body, headers=bearer(key))
        assert refused.status_code == status and refused.json()["error"]["field"] == field
    wrong = cs.client.post(
        PATH, content=b"name\n", headers={**bearer(key), "Content-Type": "text/csv"}
    )
    assert wrong.status_code == 415
    no_column = post_file(cs, key, "l.csv", as_csv([["公司", "电话"], ["x", "y"]]).encode())
    assert no_column.status_code == 422 and "找不到姓名或名称一列" in no_column.text


def test_a_key_may_screen_more_rows_than_the_anonymous_budget(cs: CaseSite) -> None:
    key = new_key(cs, "desk@example-news.cn")
    names = as_csv([["name"], *([f"某某{i}"] for i in range(1000))]).encode()
    answer = post_file(cs, key, "big.csv", names)
    assert answer.status_code == 202 and answer.json()["total"] == 1000


def test_another_key_cannot_see_the_job(cs: CaseSite) -> None:
    mine, theirs = new_key(cs, "a@example-news.cn"), new_key(cs, "b@example-bank.cn")
    job = post_file(cs, mine, "list.csv", as_csv(CHINESE_ROWS).encode()).json()
    jobs(cs).run()
    for url in (job["links"]["self"], job["links"]["self"] + "/result.csv"):
        assert cs.client.get(url, headers=bearer(mine)).status_code == 200
        other = cs.client.get(url, headers=bearer(theirs))
        assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
        assert cs.client.get(url).status_code == 401
    assert cs.client.get(f"{PATH}/{'A' * len(job['id'])}", headers=bearer(mine)).status_code == 404


def test_retention_deletes_the_job_and_its_result_files(cs: CaseSite) -> None:
    key = new_key(cs, "desk@example-news.cn")
    job = post_file(cs, key, "list.csv", as_csv(CHINESE_ROWS).encode()).json()
    jobs(cs).run()
    first = cs.client.get(job["links"]["self"] + "/result.xlsx", headers=bearer(key))
    again = cs.client.get(job["links"]["self"] + "/result.xlsx", headers=bearer(key))
    assert first.content == again.content  # written once, served from the kept file
    files_dir: Path = jobs(cs).files_dir
    assert any(files_dir.iterdir())
    assert jobs(cs).sweep(now=datetime.now(UTC) + timedelta(hours=25)) == 1
    assert list(files_dir.iterdir()) == []
    assert cs.client.get(job["links"]["self"], headers=bearer(key)).status_code == 404
