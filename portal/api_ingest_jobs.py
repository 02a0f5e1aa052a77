"""Long ingest batches in the background: ``Prefer: respond-async`` (RFC 7240) on
``POST /api/v1/ingest``, answered 202 with a status address, and that address.

A batch at least ``SHIXIN_INGEST_ASYNC_BYTES`` long, sent with the preference, is kept
(parsed, in one transaction) before the 202, then run by the background loop
(``ingest_jobs``); anything shorter, or sent without it, is answered as always. The status
says how many lines are in the store, out of how many, how far the index is behind, and, once
done, the answer the synchronous request would have had. Only the token that sent the batch
reads it: to any other token the job does not exist (404).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest_jobs.service import IngestJobs, JobStatus
from portal.api_query import strict_query
from portal.responses import JSONResponse, api_error
from search_index.dates import CST
from search_index.ingest import Record
from search_index.tokens import TokenInfo

RESPOND_ASYNC = "respond-async"
POLL_SECONDS = 2  # the Retry-After of a job still running


def prefers_async(request: Request) -> bool:
    """Whether ``Prefer`` asks for ``respond-async`` (a list of tokens, each possibly with
    parameters, case-insensitive; the header may be sent more than once)."""
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            token = preference.split(";")[0].split("=")[0].strip().lower()
            if token == RESPOND_ASYNC:
                return True
    return False


def goes_async(request: Request, body: bytes) -> bool:
    return prefers_async(request) and len(body) >= request.app.state.settings.ingest_async_min_bytes


def status_url(job_id: str) -> str:
    return f"/api/v1/ingest/jobs/{job_id}"


async def submit(
    request: Request,
    info: TokenInfo,
    records: Iterable[Record],
    digest: str,
) -> Response | None:
    """Keep the batch and answer 202; None for a batch without a line (the caller answers
    it as the synchronous ingest does)."""
    jobs: IngestJobs = request.app.state.ingest_jobs

    def keep() -> JobStatus | None:
        return jobs.submit(
            records,
            token_id=info.id,
            source=f"api:{info.unit}",
            filename=request.headers.get("x-filename"),
            sha256=digest,
            court_scope=info.court_scope,
        )

    job = await to_thread.run_sync(keep)
    if job is None:
        return None
    lag = await to_thread.run_sync(request.app.state.service.index_lag)
    url = status_url(job.id)
    return JSONResponse(
        status_json(job, lag),
        status_code=202,
        headers={
            "Location": url,
            "Content-Location": url,  # the body is the status document at that address
            "Preference-Applied": RESPOND_ASYNC,
            "Retry-After": str(POLL_SECONDS),
            "Cache-Control": "no-store",
        },
    )


async def job_status(request: Request) -> Response:
    """GET /api/v1/ingest/jobs/{id}: the job, for the token that sent it."""
    service = request.app.state.service
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    info = await to_thread.run_sync(service.authenticate_token, token) if token else None
    if info is None:
        response = api_error(401, "unauthorized", "缺少或无效的令牌（Authorization: Bearer …）")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    jobs: IngestJobs = request.app.state.ingest_jobs
    job = await to_thread.run_sync(jobs.status, request.path_params["job_id"], info.id)
    if job is None:
        return api_error(404, "not_found", "没有这个报送任务（或它不是用这个令牌提交的）")
    lag = await to_thread.run_sync(service.index_lag)
    headers = {"Cache-Control": "no-store"}
    if not job.finished:
        headers["Retry-After"] = str(POLL_SECONDS)
    return JSONResponse(status_json(job, lag), headers=headers)


def status_json(job: JobStatus, index_lag: int | None) -> dict[str, Any]:
    return {
        "job": job.id,
        "status": job.status,
        "statusUrl": status_url(job.id),
        "totalLines": job.total,
        "linesApplied": job.done,
        "indexLag": index_lag,
        "receivedAt": _time(job.received_at),
        "startedAt": _time(job.started_at),
        "finishedAt": _time(job.finished_at),
        "result": job.result,
        "error": job.error,
    }


def _time(when: datetime | None) -> str | None:
    return when.astimezone(CST).isoformat(timespec="seconds") if when is not None else None


routes = strict_query([Route("/api/v1/ingest/jobs/{job_id:str}", job_status, methods=["GET"])])
