"""One delivery round over the outbox, written once: every sender (email in
``casework/mail.py``, Telegram in ``bot/sender.py``, later ones) plugs its ``send`` into it.

A round claims up to ``batch`` due rows of its channel for a lease (``outbox.claim``: each row
goes to one round only, even with several workers), sends them one by one and marks each
sent. It stops taking up new rows once half the lease is spent and gives the rest back, so a
slow server never lets another round claim a row this one still works on. ``send`` says how a
message failed by what it raises:

- ``Undeliverable``: this message can never go (a bad address, a chat that is gone): given
  up at once;
- ``RoundStops``: the channel as a whole is down (no server, flood control): this message and
  the rest of the round wait, not before ``not_before`` when given;
- anything else: this message is retried with the outbox's backoff (``describe`` names it).

Store calls run in threads, so a sender inside a busy event loop (the bot's) keeps it free.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from casework import outbox
from casework.outbox import Message, RoundReport
from core.db import Store
from core.process_identity import identity

__all__ = ["DeliveryRound", "RoundStops", "Undeliverable"]


class Undeliverable(Exception):
    """This message can never be delivered: give it up now."""


class RoundStops(Exception):
    """The channel is unavailable: this message and the rest of the round wait."""

    def __init__(self, reason: str, not_before: datetime | None = None) -> None:
        super().__init__(reason)
        self.not_before = not_before


class DeliveryRound:
    """Claim, budget, send, release and failure accounting for one outbox channel.
    Subclasses set ``channel``, ``failed_command`` and ``log`` and implement ``send``."""

    channel: str
    failed_command: str  # the command an operator runs to look at given-up rows
    log: logging.Logger

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] | None = None,
        lease: timedelta = outbox.DEFAULT_LEASE,
        max_attempts: int = outbox.MAX_ATTEMPTS,
        batch: int = 20,
        recipient: str | None = None,
    ) -> None:
        self.store = store
        self.recipient = recipient  # only this address's rows (the bot's console: its own chat)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = lease
        self.max_attempts = max_attempts
        self.batch = batch

    async def send(self, message: Message, report: RoundReport) -> None:
        raise NotImplementedError

    async def open(self) -> None:
        """Before the first message of a round that claimed any."""

    async def close(self) -> None:
        """After the round, however it ended."""

    async def given_up(self, message: Message, exc: Undeliverable, report: RoundReport) -> None:
        """After ``message`` was given up as undeliverable (and recorded so)."""

    def describe(self, exc: BaseException) -> str:
        """The reason kept on the row and logged: never the message or its address."""
        return f"{type(exc).__name__}: {exc}"[:500]

    async def deliver_round(self) -> RoundReport:
        """One round: what it claimed, sent, retries, gave up and gave back."""
        report = RoundReport()
        # host:pid:start:pidns/round: a restarted sender can tell this process died.
        claimer = f"{identity()}/{secrets.token_hex(3)}"
        claimed = await asyncio.to_thread(
            outbox.claim,
            self.store,
            self.channel,
            claimer,
            self.clock(),
            self.lease,
            self.batch,
            self.recipient,
        )
        report.claimed = len(claimed)
        if not claimed:
            return report
        budget = self.lease.total_seconds() / 2
        started = time.monotonic()
        await self.open()
        try:
            for index, message in enumerate(claimed):
                if time.monotonic() - started > budget:
                    rest = [m.id for m in claimed[index:]]
                    await asyncio.to_thread(outbox.release, self.store, claimer, rest)
                    report.released = len(rest)
                    break
                try:
                    await self.send(message, report)
                except RoundStops as stop:
                    for waiting in claimed[index:]:
                        await self.failed(report, waiting, claimer, str(stop), stop.not_before)
                    break
                except Undeliverable as exc:
                    await self.failed(report, message, claimer, str(exc), final=True)
                    await self.given_up(message, exc, report)
                except Exception as exc:
                    await self.failed(report, message, claimer, self.describe(exc))
                else:
                    await asyncio.to_thread(outbox.mark_sent, self.store, message.id, self.clock())
                    report.sent += 1
        finally:
            await self.close()
        return report

    async def failed(
        self,
        report: RoundReport,
        message: Message,
        claimer: str,
        reason: str,
        not_before: datetime | None = None,
        *,
        final: bool = False,
    ) -> None:
        await asyncio.to_thread(
            outbox.record_failure,
            self.store,
            report,
            message,
            reason,
            self.clock(),
            claimer=claimer,
            max_attempts=1 if final else self.max_attempts,
            log=self.log,
            command=self.failed_command,
            not_before=not_before,
        )
