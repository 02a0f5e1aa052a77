"""Telegram notifications from the outbox: ``TelegramSender.deliver_pending()`` is one round,
the same design as casework/mail.py. It claims due ``telegram`` rows for a lease, sends each
as plain text with ``Bot.send_message`` and marks it sent.

- Telegram unreachable (network errors, 5xx, a bad token) or flood control (429
  ``RetryAfter``): the message and the rest of the round are retried with the outbox backoff,
  never before Telegram's ``retry_after``; nothing is lost, after a restart either.
- The user blocked the bot (403 ``Forbidden``) or the chat does not exist: the message is
  given up at once and the chat is removed from all its tickets (retrying cannot help, and a
  chat id is personal data).
- Any other refusal (400) gives up that message alone.

Store calls run in threads: the bot's event loop keeps answering updates meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from casework import outbox
from casework.outbox import RoundReport
from casework.telegram import (
    CHANNEL,
    CHAT_ID,
    message_text,
    split_message,
    still_linked,
    unlink_chat,
)
from shixin.db import Store

log = logging.getLogger("shixin.bot")
# Notifications end with a link to the tracking page: a preview card of it is only noise.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class _RoundStops(Exception):
    """Telegram as a whole is unavailable: this message and the rest of the round wait."""

    def __init__(self, reason: str, not_before: datetime | None = None) -> None:
        super().__init__(reason)
        self.not_before = not_before


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # a timedelta with PTB_TIMEDELTA (bot/__init__.py), else seconds
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """Delivers the outbox's ``telegram`` rows with ``bot`` (an initialized PTB Bot)."""

    def __init__(
        self,
        store: Store,
        bot: Bot,
        *,
        clock: Callable[[], datetime] | None = None,
        lease: timedelta = outbox.DEFAULT_LEASE,
        max_attempts: int = outbox.MAX_ATTEMPTS,
        batch: int = 20,
        demo: bool = False,
    ) -> None:
        self.store = store
        self.bot = bot
        self.demo = demo  # SHIXIN_DEMO: each message carries a demo note
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = lease
        self.max_attempts = max_attempts
        self.batch = batch
        self.name = f"{socket.gethostname()[:30]}:{os.getpid()}"

    async def deliver_pending(self) -> RoundReport:
        report = RoundReport()
        claimer = f"{self.name}:{secrets.token_hex(6)}"[:64]
        claimed = await asyncio.to_thread(
            outbox.claim, self.store, CHANNEL, claimer, self.clock(), self.lease, self.batch
        )
        report.claimed = len(claimed)
        # Stop taking up new messages well before the lease runs out (another round could
        # claim them then).
        budget = self.lease.total_seconds() / 2
        started = time.monotonic()
        for index, message in enumerate(claimed):
            if time.monotonic() - started > budget:
                rest = [m.id for m in claimed[index:]]
                await asyncio.to_thread(outbox.release, self.store, claimer, rest)
                report.released = len(rest)
                break
            try:
                await self._send(message, claimer, report)
            except _RoundStops as stop:
                for waiting in claimed[index:]:
                    await self._failed(
                        report, waiting, claimer, str(stop), not_before=stop.not_before
                    )
                break
        return report

    async def _send(self, message: outbox.Message, claimer: str, report: RoundReport) -> None:
        if not CHAT_ID.match(message.recipient):
            await self._failed(report, message, claimer, "unsendable: not a chat id", final=True)
            return
        if not await asyncio.to_thread(still_linked, self.store, message):
            reason = "cancelled: the chat is no longer linked to the ticket"
            await self._failed(report, message, claimer, reason, final=True)
            return
        try:
            for piece in split_message(message_text(message, demo=self.demo)):
                await self.bot.send_message(
                    chat_id=int(message.recipient), text=piece, link_preview_options=NO_PREVIEW
                )
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            raise _RoundStops(f"429 {exc}", self.clock() + timedelta(seconds=wait)) from exc
        except Forbidden as exc:  # blocked by the user, or the account is gone
            await self._unreachable(report, message, claimer, f"403 {exc}")
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                await self._unreachable(report, message, claimer, f"400 {exc}")
            else:
                await self._failed(report, message, claimer, f"400 {exc}", final=True)
        except (NetworkError, InvalidToken) as exc:  # BadRequest is a NetworkError: above
            raise _RoundStops(f"{type(exc).__name__}: {exc}") from exc
        except ChatMigrated as exc:  # a group became a supergroup: not a chat we link
            await self._failed(report, message, claimer, f"{exc}", final=True)
        except TelegramError as exc:
            await self._failed(report, message, claimer, f"{type(exc).__name__}: {exc}")
        else:
            await asyncio.to_thread(outbox.mark_sent, self.store, message.id, self.clock())
            report.sent += 1

    async def _unreachable(
        self, report: RoundReport, message: outbox.Message, claimer: str, reason: str
    ) -> None:
        await self._failed(report, message, claimer, reason, final=True)
        numbers = await asyncio.to_thread(
            unlink_chat, self.store, message.recipient, self.clock(), by_submitter=False
        )
        report.unlinked += 1
        log.warning(
            "telegram #%d: the chat cannot be reached; removed from %d ticket(s)",
            message.id,
            len(numbers),
        )

    async def _failed(
        self,
        report: RoundReport,
        message: outbox.Message,
        claimer: str,
        reason: str,
        *,
        final: bool = False,
        not_before: datetime | None = None,
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
            log=log,
            command="shixin bot --failed",
            not_before=not_before,
        )
