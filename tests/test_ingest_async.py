"""Long batches in the background: ``POST /api/v1/ingest`` with ``Prefer: respond-async``
is answered 202 with a status address, which the sender polls until the summary is there.

The portal runs with its background loops, as in production; each batch is made slow by
small chunks and a pause after each one (``Ingestor.after_chunk``, the ingest's test hook),
so that its progress can be watched over several seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from site_support import TestClient
from support import id_number, make_settings, person
from test_api import error_of, jsonl
from test_openapi import Checker, document

import search_index.ingest
from core.settings import Settings
from portal.app import create_app
from search_index.ingest import Ingestor
from search_index.tokens import create_token

LINES = 120
CHUNK = 10  # 12 chunks ...
PAUSE = 0.4  # ... of 0.4 s each: about 5 s a batch


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        SHIXIN_INGEST_ASYNC_BYTES="4096",
        SHIXIN_INGEST_JOB_INTERVAL="0.1",
    )


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index.ingest, "CHUNK", CHUNK)
    monkeypatch.setattr(Ingestor, "after_chunk", staticmethod(lambda lines: time.sleep(PAUSE)))


@contextmanager
def portal(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def token(client: TestClient, unit: str = "北京市高级人民法院信息中心") -> str:
    return create_token(client.app.state.service.store, unit, None)[0]  # type: ignore[attr-defined]


def batch(count: int = LINES) -> bytes:
    lines: list[Any] = [person(f"async-{n}", cardNum=id_number()) for n in range(count - 2)]
    lines.append(person("async-bad", caseCode=None))  # rejected: no case number
    lines.append(person("async-warned", sexy="未知"))  # accepted with a warning
    return jsonl(*lines)


def send(client: TestClient, secret: str, body: bytes, prefer: str | None = "respond-async"):
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/x-ndjson"}
    if prefer:
        headers["Prefer"] = prefer
    return client.post("/api/v1/ingest", content=body, headers=headers)


def status(client: TestClient, secret: str, url: str) -> Any:
    return client.get(url, headers={"Authorization": f"Bearer {secret}"})


def poll(client: TestClient, secret: str, url: str, *, until_done: bool = True) -> list[dict]:
    """The job's status documents, every 0.2 s, until it is done (or, with ``until_done``
    False, until some lines are in the store)."""
    seen: list[dict] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = status(client, secret, url)
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if seen[-1]["status"] == "done" or (not until_done and seen[-1]["linesApplied"]):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"the job did not finish: {seen[-1]}")


JOB_PATH = "/api/v1/ingest/jobs/{id}"


def test_a_long_batch_is_answered_202_and_its_status_advances_to_the_summary(
    settings: Settings, slow: None, tmp_path: Path
) -> None:
    checker = Checker(document(tmp_path / "doc"))
    with portal(settings) as client:
        secret = token(client)
        started = time.monotonic()
        response = send(client, secret, batch())
        assert response.status_code == 202, response.text
        url = response.headers["Location"]
        assert url.startswith("/api/v1/ingest/jobs/")
        assert response.headers["Content-Location"] == url
        assert response.headers["Preference-Applied"] == "respond-async"
        accepted = checker.response("/api/v1/ingest", "post", response)
        assert accepted["status"] == "queued" and accepted["totalLines"] == LINES
        assert accepted["result"] is None

        seen = poll(client, secret, url)
        assert time.monotonic() - started > 3  # it really took a while
        for answer in seen:  # queued or running, then done: each as the document says
            checker.check(checker.response_schema(JOB_PATH, "get", 200), answer)
        applied = [s["linesApplied"] for s in seen]
        assert applied == sorted(applied)  # never goes back
        assert len({a for a in applied if 0 < a < LINES}) >= 3  # and was seen in between
        assert {s["totalLines"] for s in seen} == {LINES}
        assert all(isinstance(s["indexLag"], int) for s in seen)

        done = seen[-1]
        assert done["linesApplied"] == LINES and done["finishedAt"]
        result = done["result"]
        assert (result["lines"], result["accepted"], result["rejected"]) == (LINES, LINES - 1, 1)
        assert result["duplicates"] == 0 and result["warnedLines"] == 1
        assert result["synced"] is True and result["indexLag"] == 0
        assert [r["code"] for r in result["rejects"]] == ["missing_field"]
        assert [w["field"] for w in result["warningList"]] == ["sexy"]
        assert result["batch"] == done["job"]

        # The same fields as the synchronous answer.
        again = send(client, secret, jsonl(person("async-sync")), prefer=None)
        assert set(again.json()) == set(result)
        found = client.get("/api/v1/entries", params={"q": "张伟", "perPage": 100}).json()
        assert found["total"] == LINES


def test_short_batches_and_batches_without_the_preference_stay_synchronous(
    settings: Settings,
) -> None:
    with portal(settings) as client:
        secret = token(client)
        short = send(client, secret, jsonl(person("short-1")))
        assert short.status_code == 200
        assert "Preference-Applied" not in short.headers and short.json()["accepted"] == 1
        plain = send(client, secret, batch(), prefer=None)
        assert plain.status_code == 200 and plain.json()["lines"] == LINES
        other = send(client, secret, batch(), prefer="return=minimal")
        assert other.status_code == 200


def test_only_the_token_that_sent_the_batch_reads_its_status(
    settings: Settings, slow: None, tmp_path: Path
) -> None:
    with portal(settings) as client:
        secret = token(client)
        url = send(client, secret, batch()).headers["Location"]
        other = token(client, "上海市高级人民法院信息中心")
        refused = status(client, other, url)
        assert refused.status_code == 404
        assert error_of(refused)["code"] == "not_found"
        checker = Checker(document(tmp_path / "doc"))
        checker.response(JOB_PATH, "get", refused)
        assert status(client, secret, url).status_code == 200
        nobody = client.get(url)
        assert nobody.status_code == 401 and nobody.headers["WWW-Authenticate"] == "Bearer"
        checker.response(JOB_PATH, "get", nobody)
        unknown = status(client, secret, "/api/v1/ingest/jobs/0123456789abcdef")
        assert unknown.status_code == 404


def test_a_job_cut_short_by_a_restart_is_resumed_and_its_summary_is_whole(
    settings: Settings, slow: None
) -> None:
    with portal(settings) as client:
        secret = token(client)
        url = send(client, secret, batch()).headers["Location"]
        before = poll(client, secret, url, until_done=False)[-1]
    assert 0 < before["linesApplied"] < LINES  # stopped mid-batch
    with portal(settings) as client:  # the restart: a new worker on the same store
        left = status(client, secret, url).json()
        assert left["status"] != "done" and left["linesApplied"] >= before["linesApplied"]
        seen = poll(client, secret, url)
    applied = [before["linesApplied"], *(s["linesApplied"] for s in seen)]
    assert applied == sorted(applied)
    result = seen[-1]["result"]
    assert (result["lines"], result["accepted"], result["duplicates"]) == (LINES, LINES - 1, 0)
    assert result["rejected"] == 1 and result["warnedLines"] == 1


def test_the_kept_batch_holds_no_full_id_number(settings: Settings, tmp_path: Path) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("reads the SQLite file")
    full = id_number("110105", "19700101", "123")
    body = jsonl(*[person(f"kept-{n}") for n in range(60)], person("kept-id", cardNum=full))
    with TestClient(create_app(settings, background=False)) as client:  # no loop: kept only
        secret = token(client)
        response = send(client, secret, body)
        assert response.status_code == 202
        files = [p for p in tmp_path.rglob("*") if p.is_file()]  # the store, its WAL
        blob = b"".join(p.read_bytes() for p in files)
        assert b"kept-id" in blob  # the batch is on disk ...
        assert full.encode() not in blob  # ... without the ID number
    with portal(settings) as client:  # the next worker runs it
        result = poll(client, secret, response.headers["Location"])[-1]["result"]
        assert result["accepted"] == 61


def test_a_job_held_by_a_worker_that_went_silent_is_taken_over_when_its_lease_ends(
    settings: Settings,
) -> None:
    from ingest_jobs.service import LEASE

    with TestClient(create_app(settings, background=False)) as client:  # no loop: by hand
        secret = token(client)
        url = send(client, secret, batch()).headers["Location"]
        jobs = client.app.state.ingest_jobs  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        assert jobs._claim(now) is not None  # a worker claims it, then says nothing more
        assert jobs.run(now=now + LEASE / 2) == 0  # still its: nobody else runs it
        assert status(client, secret, url).json()["status"] == "running"
        assert jobs.run(now=now + LEASE * 1.5) == 1  # its lease is over: run here
        done = status(client, secret, url).json()
        assert done["status"] == "done" and done["result"]["accepted"] == LINES - 1


def test_a_batch_that_keeps_failing_is_given_up_and_the_next_one_runs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ingest_jobs.service import MAX_RUNS

    with TestClient(create_app(settings, background=False)) as client:  # no loop: by hand
        secret = token(client)
        broken = send(client, secret, batch()).headers["Location"]
        jobs = client.app.state.ingest_jobs  # type: ignore[attr-defined]
        real_ingest = jobs.lists.ingest

        def ingest(*args: Any, **kwargs: Any) -> Any:
            if kwargs["batch_id"] == broken.rsplit("/", 1)[1]:
                raise RuntimeError("the store broke on this batch")
            return real_ingest(*args, **kwargs)

        monkeypatch.setattr(jobs.lists, "ingest", ingest)
        later = send(client, secret, batch()).headers["Location"]
        for _ in range(MAX_RUNS - 1):  # each round retries it, and stops there
            with pytest.raises(RuntimeError):
                jobs.run()
            assert status(client, secret, broken).json()["status"] == "queued"
        assert jobs.run() == 1  # given up at last: the batch behind it runs
        failed = status(client, secret, broken)
        assert failed.status_code == 200 and "Retry-After" not in failed.headers
        body = failed.json()
        assert body["status"] == "failed" and body["result"] is None
        assert body["error"]["code"] == "ingest_failed" and "重新报送" in body["error"]["message"]
        Checker(document(tmp_path / "doc")).response(JOB_PATH, "get", failed)
        done = status(client, secret, later).json()
        assert done["status"] == "done" and done["error"] is None
