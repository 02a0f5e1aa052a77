"""Sending the queued batches: one POST per outbox row, through the delivery round every
outbox channel shares (casework/delivery.py: claims, leases, backoff).

The body is written at send time: each entry of the batch as the change feed shows it now
(``search_index.feed.feed_event``: a removal is its id, ``removedAt`` and ``mustDeleteBy``,
nothing personal), with the batch's feed cursors ``after`` and ``next``, so a receiver that
missed something can ask ``GET /api/v1/changes?since=<after>``. It is signed (``Shixin-
Signature``, webhooks/signing.py) with a fresh timestamp on every attempt; the delivery's id
(``Shixin-Delivery``) stays the same across retries. Only a 2xx answer counts; a redirect
is a failure and never followed.

A failure is retried with the outbox's backoff (1, 2, 4 … minutes, at most 6 hours apart);
the endpoint's failing clock (webhooks/endpoints.py) disables it after a day, so attempts
are not counted out (``MAX_ATTEMPTS`` is only a backstop). Delivery is at least once: a
worker that dies between the receiver's answer and marking the row sent leaves it to be
sent again, with the same delivery id.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from api_keys.tables import api_keys
from casework import outbox
from casework.delivery import DeliveryRound, Undeliverable
from casework.outbox import Message, RoundReport
from core.china_time import CST
from core.db import Store
from core.workdays import WorkCalendar
from search_index.feed import encode_cursor, feed_event
from search_index.tables import entries
from webhooks import addresses, endpoints, signing
from webhooks.dispatch import dispatch
from webhooks.queue import CHANNEL, Batch
from webhooks.tables import webhook_endpoints

log = logging.getLogger("shixin.webhooks")
TIMEOUT = 10.0  # seconds for one POST, connecting included
MAX_ATTEMPTS = 1000  # the day of failures decides, not the count
ROUND_BUDGET = 20.0  # seconds of queue-and-send rounds per run: a stopping worker waits less
USER_AGENT = "shixin-webhooks/1"


class DeliveryFailed(Exception):
    """The endpoint did not take the delivery (its reason is kept and mailed: no data)."""


class WebhookSender(DeliveryRound):
    """Queues and delivers the ``webhook`` rows; safe to run in several processes at once."""

    channel = CHANNEL
    failed_command = "shixin webhooks --failed"
    log = log

    def __init__(
        self,
        store: Store,
        list_key: str,
        calendar: WorkCalendar,
        *,
        public_url: str | None = None,
        allow_http_loopback: bool = False,
        demo: bool = False,
        clock: Callable[[], datetime] | None = None,
        timeout: float = TIMEOUT,
        getaddrinfo: addresses.Resolver = socket.getaddrinfo,
        tls: ssl.SSLContext | None = None,
        lease: timedelta = outbox.DEFAULT_LEASE,
        batch: int = 20,
    ) -> None:
        """``tls``: the certificates an https receiver is checked against; None for
        httpx's default, the public authorities (certifi). Tests pass a context that
        trusts their own authority."""
        super().__init__(store, clock=clock, lease=lease, max_attempts=MAX_ATTEMPTS, batch=batch)
        self.list_key = list_key
        self.calendar = calendar
        self.public_url = public_url
        self.allow_http_loopback = allow_http_loopback
        self.demo = demo  # SHIXIN_DEMO: every body says so
        self.timeout = timeout
        self.getaddrinfo = getaddrinfo
        self.verify: ssl.SSLContext | bool = tls if tls is not None else True

    def run(self) -> RoundReport:
        """Queue and deliver until nothing moves (or the budget is spent); from a thread."""
        total = RoundReport()
        started = time.monotonic()
        while time.monotonic() - started < ROUND_BUDGET:
            moved = dispatch(self.store, self.clock())
            report = self._one_round()
            total.add(report)
            if not moved and not report.sent:
                break
        return total

    def _one_round(self) -> RoundReport:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.deliver_round())
        # This thread runs an event loop already (a sync wrapper such as Playwright's).
        with ThreadPoolExecutor(1, thread_name_prefix="shixin-webhooks") as pool:
            return pool.submit(lambda: asyncio.run(self.deliver_round())).result()

    async def send(self, message: Message, report: RoundReport) -> None:
        endpoint_id = int(message.recipient)
        now = self.clock()
        ready = await asyncio.to_thread(self._prepare, endpoint_id, message, now)
        if ready is None:
            raise Undeliverable("endpoint deleted or disabled, or its API key revoked")
        url, secret, body = ready
        try:
            await self._post(url, secret, body, message.id, now)
        except DeliveryFailed as exc:
            disabled = await asyncio.to_thread(
                endpoints.record_failure,
                self.store,
                endpoint_id,
                str(exc),
                now,
                list_key=self.list_key,
                public_url=self.public_url,
            )
            if disabled:
                raise Undeliverable(f"endpoint disabled after a day of failures: {exc}") from exc
            raise
        await asyncio.to_thread(endpoints.record_success, self.store, endpoint_id, now)

    def describe(self, exc: BaseException) -> str:
        return str(exc)[:500] if isinstance(exc, DeliveryFailed) else super().describe(exc)

    # --- inside ------------------------------------------------------------------------------

    def _prepare(
        self, endpoint_id: int, message: Message, now: datetime
    ) -> tuple[str, str, bytes] | None:
        """The endpoint's address, its secret and the body, or None if it takes nothing."""
        batch = Batch.loads(message.body)
        with self.store.read() as conn:
            endpoint = conn.execute(
                select(webhook_endpoints, api_keys.c.revoked_at)
                .join(api_keys, api_keys.c.id == webhook_endpoints.c.key_id)
                .where(webhook_endpoints.c.id == endpoint_id)
            ).first()
            if endpoint is None or endpoint.disabled_at or endpoint.revoked_at:
                return None
            rows = conn.execute(select(entries).where(entries.c.id.in_(batch.ids))).mappings()
            by_id = {row["id"]: row for row in rows}
        today = now.astimezone(CST).date()
        events = [
            event
            for entry_id in batch.ids
            if entry_id in by_id and (event := feed_event(by_id[entry_id], today, self.calendar))
        ]
        secret = signing.endpoint_secret(self.list_key, endpoint.secret_seed)
        return endpoint.url, secret, self._body(message.id, batch, events)

    def _body(self, delivery: int, batch: Batch, events: list[dict[str, Any]]) -> bytes:
        content: dict[str, Any] = {
            "delivery": str(delivery),
            "after": encode_cursor(batch.after),
            "next": encode_cursor(batch.next),
            "events": events,
        }
        if self.demo:
            content["demo"] = True
        return orjson.dumps(content)

    async def _post(self, url: str, secret: str, body: bytes, delivery: int, now: datetime) -> None:
        loopback = self.allow_http_loopback
        try:
            target = addresses.parse(url, allow_http_loopback=loopback)
            address = await asyncio.to_thread(
                addresses.resolve, target, allow_loopback=loopback, getaddrinfo=self.getaddrinfo
            )
        except addresses.AddressError as exc:
            raise DeliveryFailed(f"address refused: {exc.code}") from exc
        request = addresses.pinned(target, address)
        timestamp = int(now.timestamp())
        headers = {
            **request.headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            signing.DELIVERY_HEADER: str(delivery),
            signing.SIGNATURE_HEADER: signing.signature_header(secret, timestamp, body),
        }
        # A client per request: a pooled connection to one address must not carry another
        # host's TLS name. No proxies from the environment, no redirects.
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,
                trust_env=False,
                verify=self.verify,
            ) as client:
                answer = await client.post(
                    request.url, content=body, headers=headers, extensions=request.extensions
                )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc
        if not 200 <= answer.status_code < 300:
            raise DeliveryFailed(f"HTTP {answer.status_code}")
