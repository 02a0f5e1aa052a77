"""Per-chat fair use of the bot: a handful of /track attempts (each may be a guess at an
access code), searches per minute, watches added per hour, inline queries per minute.

Counts live in the storage the portal's rate limits use (portal/ratelimit.py): Redis when
``SHIXIN_REDIS_URL`` is set, so every worker and the polling bot share them, else this
process's memory. Moving windows rather than the portal's fixed ones: a chat that spent its
budget waits for its oldest hit to age out, never less because a window boundary passed.
Storage trouble lets the request through (with a warning): a dead Redis must not silence
the bot. ``SHIXIN_RATE_LIMIT_ENABLED=0`` switches these off with the portal's.

Over a budget the user is told, in their language, when to try again.
"""

from __future__ import annotations

import logging
import math
import time

from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from telegram import Update
from telegram.ext import ContextTypes

from core.settings import Settings

log = logging.getLogger("shixin.bot")
Context = ContextTypes.DEFAULT_TYPE

TRACK, SEARCH, WATCH, INLINE = "track", "search", "watch", "inline"
BUDGETS = {
    TRACK: "5/10 minutes",  # an access code is 12 random characters; five tries learn nothing
    SEARCH: "20/minute",  # a person reads results slower than that
    WATCH: "30/hour",
    INLINE: "60/minute",  # Telegram sends one per pause in typing
}
# Reports to the admin chat (bot/error_report.py): one per error type a minute.
ERROR_REPORT = "1/minute"
KEY_PREFIX = "shixin-bot"
# As portal/ratelimit.py: a dead Redis must cost little, the check runs on the event loop.
REDIS_OPTIONS = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}

TEXTS = {
    "zh": {
        TRACK: "查询事项的尝试过于频繁（每 10 分钟最多 {n} 次），请在 {wait}后再试。",
        SEARCH: "查询过于频繁（每分钟最多 {n} 次），请在 {wait}后再试。",
        WATCH: "添加关注过于频繁（每小时最多 {n} 个），请在 {wait}后再试。",
        "seconds": "{n} 秒",
        "minutes": "{n} 分钟",
    },
    "en": {
        TRACK: "Too many tracking attempts (at most {n} in 10 minutes). Try again in {wait}.",
        SEARCH: "Too many searches (at most {n} a minute). Try again in {wait}.",
        WATCH: "Too many watches added (at most {n} an hour). Try again in {wait}.",
        "seconds": "{n} seconds",
        "minutes": "{n} minutes",
    },
}


class FairUse:
    """The budgets of every chat, in one storage."""

    def __init__(
        self, storage: Storage, budgets: dict[str, str] | None = None, *, enabled: bool = True
    ) -> None:
        self.limiter = MovingWindowRateLimiter(storage)
        self.items = {kind: parse(text) for kind, text in (budgets or BUDGETS).items()}
        self.enabled = enabled

    @classmethod
    def from_settings(cls, settings: Settings) -> FairUse:
        if settings.redis_url is None:
            storage = storage_from_string("memory://")
        else:
            storage = storage_from_string(settings.redis_url.reveal(), **REDIS_OPTIONS)
        return cls(storage, enabled=settings.rate_limit_enabled)

    def budget(self, kind: str) -> int:
        return self.items[kind].amount

    def wait_seconds(self, kind: str, who: int | str) -> int | None:
        """Count one ``kind`` for ``who`` (a chat or user id): None while within the budget,
        else the seconds until the next one is allowed (nothing is counted then)."""
        if not self.enabled:
            return None
        item, keys = self.items[kind], (KEY_PREFIX, kind, str(who))
        try:
            if self.limiter.hit(item, *keys):
                return None
            reset_at, _remaining = self.limiter.get_window_stats(item, *keys)
        except Exception:
            log.warning("fair-use storage failed; %s not counted", kind, exc_info=True)
            return None
        return max(1, math.ceil(reset_at - time.time()))

    def report_allowed(self, error_type: str) -> bool:
        """Whether the admin chat may hear of ``error_type`` now (counts the report)."""
        try:
            return self.limiter.hit(parse(ERROR_REPORT), KEY_PREFIX, "error-report", error_type)
        except Exception:  # no storage: report; a storm of them is still better than none
            log.warning("fair-use storage failed; error report not counted", exc_info=True)
            return True


def refusal(lang: str, kind: str, wait: int, budget: int) -> str:
    texts = TEXTS.get(lang, TEXTS["zh"])
    if wait < 120:  # "60 秒", never "1 minutes"
        when = texts["seconds"].format(n=wait)
    else:
        when = texts["minutes"].format(n=math.ceil(wait / 60))
    return texts[kind].format(n=budget, wait=when)


async def refused(update: Update, context: Context, kind: str, lang: str) -> bool:
    """True, once the user has been told when to try again, when this chat has spent its
    ``kind`` budget; False (and one more counted) otherwise."""
    chat = update.effective_chat
    assert chat is not None
    fair: FairUse = context.bot_data["fair_use"]
    wait = fair.wait_seconds(kind, chat.id)
    if wait is None:
        return False
    await chat.send_message(refusal(lang, kind, wait, fair.budget(kind)))
    return True
