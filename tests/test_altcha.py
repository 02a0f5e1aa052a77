"""The proof-of-work challenge on the intake forms (portal/altcha.py), over HTTP.

Challenges come from the running portal and are solved with the altcha package, as a
machine client would; submissions go through the real report form (with its CSRF token)
into the real store, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from altcha import v2
from casework_site import CaseSite, case_site, post
from sqlalchemy import func, insert, select

from casework.tables import tickets
from core.tables import once_keys
from portal import altcha

REPORT = {"category": "consumption.hotel", "entry_id": "p1", "what": "入住五星级酒店"}
REFUSED = "提交前的自动验证未通过"


@pytest.fixture(name="cs")
def cs_fixture(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    # Two submissions without a solved challenge per client and hour.
    with case_site(tmp_path, database_url, SHIXIN_RATE_LIMIT_UNPROVEN="2/hour") as site:
        yield site


def solved(challenge: dict[str, Any]) -> str:
    """The ``altcha`` value a browser would post for ``challenge`` (JSON as served)."""
    parsed = v2.Challenge.from_dict(challenge)
    solution = v2.solve_challenge(parsed, timeout=60)
    assert solution is not None
    return v2.Payload(parsed, solution).to_base64()


def fresh(cs: CaseSite) -> str:
    response = cs.client.get("/altcha/challenge")
    assert response.status_code == 200
    return solved(response.json())


def report(cs: CaseSite, **extra: str) -> Any:
    return post(cs.client, "/reports/new", {**REPORT, **extra}, "/reports/new")


def filed(cs: CaseSite) -> int:
    with cs.cases.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())


def assert_filed(response: Any) -> None:
    """The answer of a successful submission: the receipt, or the redirect to it."""
    assert response.status_code in (200, 303), response.text
    assert response.status_code == 303 or 'id="ticket-number"' in response.text


def assert_refused(cs: CaseSite, response: Any, before: int) -> None:
    assert response.status_code == 422
    assert REFUSED in response.text and 'href="#f-altcha"' in response.text
    assert "入住五星级酒店" in response.text  # what was typed is kept
    assert 'id="ticket-number"' not in response.text
    assert filed(cs) == before


def test_the_challenge_is_signed_fresh_and_never_cached(cs: CaseSite) -> None:
    response = cs.client.get("/altcha/challenge")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    parameters = body["parameters"]
    assert parameters["algorithm"] == "PBKDF2/SHA-256" and parameters["cost"] == 10000
    assert 590 <= parameters["expiresAt"] - time.time() <= 600
    assert len(body["signature"]) == 64
    # Every request gets its own challenge.
    assert cs.client.get("/altcha/challenge").json()["signature"] != body["signature"]


def test_the_form_carries_the_widget_served_from_this_site(cs: CaseSite) -> None:
    page = cs.client.get("/reports/new").text
    assert '<altcha-widget name="altcha" challenge="/altcha/challenge"' in page
    assert 'auto="onsubmit"' in page and 'language="zh-cn"' in page
    assert '"hideFooter": true' in page and '"humanInteractionSignature": false' in page
    setup = r'<script type="module" src="/static/vendor/altcha/setup\.[0-9a-f]{10}\.js" '
    assert re.search(setup + r'data-widget="/static/vendor/altcha/altcha\.min\.', page)
    assert "<noscript>" in page and "未启用 JavaScript 也可以提交" in page
    english = cs.client.get("/complaints/new?lang=en").text
    assert 'language="en"' in english
    for name in ("setup.js", "altcha.min.js", "zh-cn.js", "pbkdf2.js", "altcha.css"):
        asset = cs.client.get(f"/static/vendor/altcha/{name}")
        assert asset.status_code == 200, name


def test_a_solved_challenge_files_once_and_is_refused_when_replayed(cs: CaseSite) -> None:
    payload = fresh(cs)
    assert_filed(report(cs, altcha=payload))
    assert filed(cs) == 1
    with cs.cases.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(once_keys)).scalar_one() == 1

    assert_refused(cs, report(cs, altcha=payload), before=1)
    # Another browser (other cookies) replaying it gets nowhere either.
    other = cs.browser()
    replay = post(other, "/reports/new", {**REPORT, "altcha": payload}, "/reports/new")
    assert_refused(cs, replay, before=1)


def test_solved_submissions_do_not_draw_on_the_unproven_budget(cs: CaseSite) -> None:
    for _ in range(3):
        assert_filed(report(cs, altcha=fresh(cs)))
    for _ in range(2):  # the whole unproven budget is still there
        assert_filed(report(cs))
    assert filed(cs) == 5


def test_an_expired_challenge_is_refused(cs: CaseSite) -> None:
    settings = cs.site.app.settings
    old = altcha.new_challenge(settings, now=time.time() - altcha.LIFETIME.total_seconds() - 5)
    assert_refused(cs, report(cs, altcha=solved(old.to_dict())), before=0)


def test_a_tampered_challenge_is_refused(cs: CaseSite) -> None:
    payload = json.loads(base64.b64decode(fresh(cs)))
    # Cheaper work than was asked for, claimed under the original signature.
    cheap = json.loads(json.dumps(payload))
    cheap["challenge"]["parameters"]["cost"] = 1
    # A later expiry, to stockpile solutions.
    later = json.loads(json.dumps(payload))
    later["challenge"]["parameters"]["expiresAt"] += 86400
    # A wrong answer to a genuine challenge.
    wrong = json.loads(json.dumps(payload))
    wrong["solution"]["derivedKey"] = "00" * 32
    for tampered in (cheap, later, wrong):
        encoded = base64.b64encode(json.dumps(tampered).encode()).decode()
        assert_refused(cs, report(cs, altcha=encoded), before=0)
    for garbage in ("not base64 at all", base64.b64encode(b"[1, 2]").decode(), "x" * 5000):
        assert_refused(cs, report(cs, altcha=garbage), before=0)
    # The genuine payload was never spent by those attempts.
    genuine = base64.b64encode(json.dumps(payload).encode()).decode()
    assert_filed(report(cs, altcha=genuine))
    assert filed(cs) == 1


def test_a_challenge_signed_with_another_key_is_refused(cs: CaseSite) -> None:
    forged = v2.create_challenge(
        "PBKDF2/SHA-256",
        10,
        counter=3,
        expires_at=int(time.time()) + 600,
        hmac_secret=b"someone else's key",
        hmac_key_secret=b"someone else's key",
    )
    assert_refused(cs, report(cs, altcha=solved(forged.to_dict())), before=0)


def test_without_a_solution_the_unproven_budget_applies(cs: CaseSite) -> None:
    assert_filed(report(cs))
    assert_filed(report(cs, altcha=""))  # an unsolved widget posts it empty
    over = report(cs)
    assert over.status_code == 429
    assert "需要启用 JavaScript" in over.text and "或稍后再试" in over.text
    assert 3000 < int(over.headers["retry-after"]) <= 3600
    assert filed(cs) == 2
    # A solved challenge still files at once.
    assert_filed(report(cs, altcha=fresh(cs)))
    # Other clients (behind no trusted proxy: the same address here) share the budget,
    # so a second browser does not get a fresh one.
    other = cs.browser()
    assert post(other, "/reports/new", REPORT, "/reports/new").status_code == 429
    assert filed(cs) == 3


def test_a_typo_spends_neither_the_proof_nor_the_unproven_budget(cs: CaseSite) -> None:
    """The form's own checks come first: a mistyped email costs the submitter nothing."""
    payload = fresh(cs)
    typo = report(cs, altcha=payload, email="not-an-address")
    assert typo.status_code == 422 and "电子邮箱格式不正确" in typo.text
    assert_filed(report(cs, altcha=payload, email="a@example.cn"))  # the same proof still good
    for _ in range(3):  # without a proof: typos do not count against the 2/hour
        assert report(cs, email="not-an-address").status_code == 422
    assert_filed(report(cs))
    assert_filed(report(cs))
    assert filed(cs) == 3


def test_switched_off_nothing_is_asked_or_counted(tmp_path: Path, database_url: str) -> None:
    env = {"SHIXIN_ALTCHA_ENABLED": "0", "SHIXIN_RATE_LIMIT_UNPROVEN": "1/hour"}
    with case_site(tmp_path, database_url, **env) as cs:
        assert "altcha-widget" not in cs.client.get("/reports/new").text
        assert cs.client.get("/altcha/challenge").status_code == 404
        for _ in range(3):
            assert_filed(report(cs))
        assert filed(cs) == 3


def test_spent_challenges_are_forgotten_once_expired(cs: CaseSite) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with cs.cases.store.write() as conn:
        conn.execute(insert(once_keys).values(purpose="altcha", key="old", expires_at=long_ago))
    assert_filed(report(cs, altcha=fresh(cs)))
    with cs.cases.store.read() as conn:
        keys = conn.execute(select(once_keys.c.key)).scalars().all()
    assert len(keys) == 1 and keys[0] != "old"


def test_challenges_count_against_the_pages_budget(tmp_path: Path, database_url: str) -> None:
    with case_site(tmp_path, database_url, SHIXIN_RATE_LIMIT_PAGES="2/minute") as cs:
        answers = [cs.client.get("/altcha/challenge").status_code for _ in range(3)]
        assert answers == [200, 200, 429]
