"""Telegram notifications from the outbox: ``TelegramSender.deliver_pending()`` is one round,
the same design as casework/mail.py. It claims due ``telegram`` rows for a lease, sends each
as plain text with ``Bot.send_message`` and marks it sent.

- Telegram unreachable (network errors, 5xx, a bad token) or flood control (429
  ``RetryAfter``): the message and the rest of the round are retried with the outbox backoff,
  never before Telegram's ``retry_after``; nothing is lost, after a restart either.
- The user blocked the bot (403 ``Forbidden``) or the chat does not exist: the message is
  given up at once and the chat is removed from all its tickets and its watches end
  (retrying cannot help, and a chat id is personal data).
- Any other refusal (400) gives up that message alone.

Telegram allows about one message a second per chat: two messages (or two pieces of a long
one) for the same chat, in one round or the next, go at least a second apart by the injected
clock; the round waits out the rest of that second with ``sleep`` (a wait, not a failed
attempt). The overall limit (about 30 a second) is the bot's rate limiter (bot/app.py).

Store calls run in threads: the bot's event loop keeps answering updates meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from casework import outbox
from casework.delivery import DeliveryRound, RoundStops, Undeliverable
from casework.outbox import RoundReport
from casework.telegram_links import (
    CHANNEL,
    CHAT_ID,
    message_text,
    split_message,
    still_linked,
    unlink_chat,
)
from core.db import Store
from watches.service import remove_subscriber

log = logging.getLogger("shixin.bot")
# Notifications end with a link to the tracking page: a preview card of it is only noise.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
PER_CHAT_GAP = timedelta(seconds=1)  # Telegram: about one message a second per chat


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # a timedelta with PTB_TIMEDELTA (bot/__init__.py), else seconds
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ChatUnreachable(Undeliverable):
    """The user blocked the bot or the chat is gone: the chat leaves its tickets."""


class TelegramSender(DeliveryRound):
    """Delivers the outbox's ``telegram`` rows with ``bot`` (an initialized PTB Bot); one
    round is ``casework/delivery.py``'s."""

    channel = CHANNEL
    failed_command = "shixin bot --failed"
    log = log

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
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        recipient: str | None = None,
    ) -> None:
        super().__init__(
            store,
            clock=clock,
            lease=lease,
            max_attempts=max_attempts,
            batch=batch,
            recipient=recipient,
        )
        self.bot = bot
        self.demo = demo  # SHIXIN_DEMO: each message carries a demo note
        self.sleep = sleep
        self.last_sent: dict[str, datetime] = {}  # chat -> when it was last sent to

    async def deliver_pending(self) -> RoundReport:
        return await self.deliver_round()

    def for_recipient(self, recipient: str) -> TelegramSender:
        """The same sender, but for one chat's rows only (the console's own)."""
        return TelegramSender(
            self.store,
            self.bot,
            clock=self.clock,
            lease=self.lease,
            max_attempts=self.max_attempts,
            batch=self.batch,
            demo=self.demo,
            sleep=self.sleep,
            recipient=recipient,
        )

    async def send(self, message: outbox.Message, report: RoundReport) -> None:
        if not CHAT_ID.match(message.recipient):
            raise Undeliverable("unsendable: not a chat id")
        if not await asyncio.to_thread(still_linked, self.store, message):
            raise Undeliverable("cancelled: the chat is no longer linked to the ticket")
        try:
            for piece in split_message(message_text(message, demo=self.demo)):
                await self.space_out(message.recipient)
                await self.bot.send_message(
                    chat_id=int(message.recipient), text=piece, link_preview_options=NO_PREVIEW
                )
                self.last_sent[message.recipient] = self.clock()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            raise RoundStops(f"429 {exc}", self.clock() + timedelta(seconds=wait)) from exc
        except Forbidden as exc:  # blocked by the user, or the account is gone
            raise ChatUnreachable(f"403 {exc}") from exc
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise ChatUnreachable(f"400 {exc}") from exc
            raise Undeliverable(f"400 {exc}") from exc
        except (NetworkError, InvalidToken) as exc:  # BadRequest is a NetworkError: above
            raise RoundStops(f"{type(exc).__name__}: {exc}") from exc
        except ChatMigrated as exc:  # a group became a supergroup: not a chat we link
            raise Undeliverable(f"{exc}") from exc

    async def space_out(self, chat: str) -> None:
        """Wait until a second has passed since ``chat`` was last sent to."""
        now = self.clock()
        # Chats not sent to within the gap need no entry: the dict stays as small as a second.
        for old in [c for c, at in self.last_sent.items() if now - at >= PER_CHAT_GAP]:
            del self.last_sent[old]
        last = self.last_sent.get(chat)
        if last is not None:
            wait = (last + PER_CHAT_GAP - now).total_seconds()
            await self.sleep(min(wait, PER_CHAT_GAP.total_seconds()))  # a clock set back

    async def given_up(
        self, message: outbox.Message, exc: Undeliverable, report: RoundReport
    ) -> None:
        if not isinstance(exc, ChatUnreachable):
            return
        numbers = await asyncio.to_thread(
            unlink_chat, self.store, message.recipient, self.clock(), by_submitter=False
        )
        ended = await asyncio.to_thread(remove_subscriber, self.store, CHANNEL, message.recipient)
        report.unlinked += 1
        log.warning(
            "telegram #%d: the chat cannot be reached; removed from %d ticket(s), %d watch(es)",
            message.id,
            len(numbers),
            ended,
        )
