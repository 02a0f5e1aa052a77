"""The Telegram bot: a python-telegram-bot ``Application`` with thin handlers that call
casework and the list, and a background task that delivers the outbox's ``telegram`` rows.

Commands (private chats only): ``/start <token>`` binds a ticket (the token comes from the
receipt's t.me link), ``/start e-<entry id>`` (the entry pages' deep link) shows an entry,
``/start`` alone welcomes, ``/stop`` unbinds the chat from every ticket, ``/track
<number> <code>`` shows a ticket and ``/mine`` the chat's tickets, ``/watch`` and
``/watches`` follow entries (bot/watch.py), ``/status`` checks a removal
(bot/status_flow.py), ``/report`` and ``/complain`` file a ticket bound to the chat
(bot/report_flow.py), ``/cancel`` ends either conversation (bot/flows.py), ``/help``;
plain text, ``/search`` and ``/case`` search the list, ``/lang`` switches between Chinese
and English (see bot/search.py, which also answers inline queries in any chat). The
conversations' handlers come before the plain-text search. ``shixin bot`` runs it with
long polling, or the portal in webhook mode (portal/telegram_webhook.py); whichever runs
it delivers the Telegram notifications.

The handlers reach tickets through casework's ChatLinks and the list through ListService
only; ``build_application`` is the start-up wiring that hands the store to them, to the
sender and to the persistence that keeps the bot's state across restarts (bot/persistence.py).
A failing handler is logged and reported to the admin chat (bot/error_report.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import error_report, flows, report_flow, search, status_flow, texts, watch
from bot.fair_use import FairUse
from bot.persistence import StorePersistence, flush_on_stop
from bot.sender import NO_PREVIEW, TelegramSender
from casework.chat_links import ChatLinks
from casework.service import CaseService
from casework.telegram_links import LinkStatus
from chat_state.service import ChatStateService
from core.db import Store
from core.settings import ConfigError, Settings
from search_index.service import ListService
from watches.service import WatchService

log = logging.getLogger("shixin.bot")
Context = ContextTypes.DEFAULT_TYPE
PRIVATE = filters.ChatType.PRIVATE
# What the bot asks Telegram for, polling or by webhook: messages, button presses (search,
# paging, details, watches) and inline queries.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]


def build_application(
    settings: Settings,
    store: Store,
    *,
    lists: ListService | None = None,
    request: Callable[[], BaseRequest] | None = None,
    clock: Callable[[], datetime] | None = None,
    cases: CaseService | None = None,
    persist: bool = True,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot for ``settings.telegram_token``. ``request`` makes the HTTP clients (tests
    pass a fake Bot API); ``clock`` is the casework clock; ``lists`` the list the bot
    searches (by default one over ``store`` and the configured index); ``cases`` the casework
    service /track asks (by default made from ``settings`` on first use); ``persist`` off
    keeps the bot's memory in this process only (the console's stand-in user is nobody's)."""
    if settings.telegram_token is None:
        raise ConfigError("SHIXIN_TELEGRAM_TOKEN is not set")
    clock = clock or (lambda: datetime.now(UTC))
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token.reveal())
        .job_queue(None)
        .defaults(Defaults(link_preview_options=NO_PREVIEW))
        # Telegram's overall limit, about 30 messages a second, for every call the bot
        # makes; no retries here: a 429 reaches the sender, which backs off per round, and
        # the per-chat second is the sender's (bot/sender.py).
        .rate_limiter(AIORateLimiter(max_retries=0))
        .post_init(start_delivery)
        .post_stop(stopped)
    )
    if persist:  # user_data, chat_data and conversations survive a restart (bot/persistence.py)
        builder = builder.persistence(StorePersistence(ChatStateService(store, clock), clock))
    if request is not None:
        builder = builder.request(request()).get_updates_request(request())
    app = builder.build()
    app.bot_data.update(
        links=ChatLinks(store, clock, settings.public_url),
        lists=lists or ListService(settings, store=store),
        public_url=settings.public_url,
        demo=settings.demo,
        sender=TelegramSender(store, app.bot, clock=clock, demo=settings.demo),
        interval=settings.telegram_interval_seconds,
        wake=asyncio.Event(),
        watching=WatchService(store, settings.id_hash_key.reveal()),
        cases=cases,
        cases_factory=lambda: CaseService.from_settings(settings, store),
        fair_use=FairUse.from_settings(settings),
        admin_chat=settings.telegram_admin_chat,
    )
    app.add_handler(CommandHandler("start", start, filters=PRIVATE))
    app.add_handler(CommandHandler("stop", stop, filters=PRIVATE))
    app.add_handler(CommandHandler("help", help_, filters=PRIVATE))
    app.add_handler(CommandHandler("track", track, filters=PRIVATE))
    app.add_handler(CommandHandler("search", search.search_command, filters=PRIVATE))
    app.add_handler(CommandHandler("case", search.case_command, filters=PRIVATE))
    app.add_handler(CommandHandler("lang", search.lang_command, filters=PRIVATE))
    app.add_handler(CommandHandler("watch", watch.watch_command, filters=PRIVATE))
    app.add_handler(CommandHandler("watches", watch.watches_command, filters=PRIVATE))
    app.add_handler(CommandHandler("mine", watch.mine_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(watch.button, pattern=watch.CALLBACKS))
    # The conversations come before the plain-text search: inside one, text is its answer.
    persistent = app.persistence is not None
    app.add_handler(
        flows.conversation([status_flow.flow(), report_flow.flow()], persistent=persistent)
    )
    app.add_handler(CommandHandler("cancel", flows.nothing_to_cancel, filters=PRIVATE))
    app.add_handler(report_flow.stale_buttons())
    app.add_handler(CommandHandler(["start", "stop"], private_only, filters=~PRIVATE))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, search.plain_text))
    app.add_handler(CallbackQueryHandler(search.button))
    app.add_handler(InlineQueryHandler(search.inline_query))
    app.add_handler(MessageHandler(PRIVATE, fallback))
    app.add_error_handler(on_error)
    return app


# --- handlers ----------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    assert update.effective_chat is not None and update.effective_message is not None
    data = context.bot_data
    if not context.args:
        welcome = texts.welcome(demo=data["demo"], public_url=data["public_url"])
        await update.effective_message.reply_text(welcome)
        return
    links: ChatLinks = data["links"]
    result = await asyncio.to_thread(links.link, context.args[0], update.effective_chat.id)
    # An entry page's deep link: "e-<entry id>". A receipt's token (random URL-safe text) may
    # begin with "e-" too, so it is tried first; an unknown token changes nothing.
    if result.status is LinkStatus.UNKNOWN and context.args[0].startswith(search.ENTRY_PREFIX):
        await search.show_entry(update, context, context.args[0][len(search.ENTRY_PREFIX) :])
        return
    answer = texts.link_answer(result, data["public_url"])
    if answer is None:  # linked: the queued confirmation is the answer, sent right away
        data["wake"].set()
        return
    await update.effective_message.reply_text(answer)


async def stop(update: Update, context: Context) -> None:
    assert update.effective_chat is not None and update.effective_message is not None
    data = context.bot_data
    links: ChatLinks = data["links"]
    numbers = await asyncio.to_thread(links.unlink, update.effective_chat.id)
    await update.effective_message.reply_text(texts.stopped(numbers, data["public_url"]))


async def help_(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.help_text(demo=context.bot_data["demo"]))


async def track(update: Update, context: Context) -> None:
    """``/track <number> <code>`` shows the ticket (bot/watch.py); alone, how to track."""
    await watch.track_command(update, context, lambda: texts.track(context.bot_data["public_url"]))


async def private_only(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.PRIVATE_ONLY)


async def fallback(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.FALLBACK)


async def on_error(update: object, context: Context) -> None:
    """Log the failure; then tell the admin chat, if there is one, in plain text with no
    user input and no ID number (bot/error_report.py), once a minute per error type."""
    error = context.error
    # Never the update itself in the log, nor what the user typed, even quoted by the
    # exception: the traceback is scrubbed as the admin's report is.
    log.error("%s", error_report.log_text(error, update))
    admin = context.bot_data.get("admin_chat")
    if admin is None or error is None:
        return
    fair: FairUse = context.bot_data["fair_use"]
    if not fair.report_allowed(type(error).__name__):
        return
    chat_id: int | str = int(admin) if admin.lstrip("-").isdigit() else admin
    try:
        await context.bot.send_message(
            chat_id, error_report.report_text(error, update), parse_mode=None
        )
    except Exception as exc:  # the report is a nicety; the failure itself is logged above
        log.warning("could not tell the admin chat about the error: %s", exc)


# --- delivering notifications ------------------------------------------------------------


async def start_delivery(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_init: the bot's command menu, then the outbox loop."""
    try:
        await app.bot.set_my_commands([BotCommand(name, text) for name, text in texts.COMMANDS])
    except TelegramError as exc:  # a menu is a nicety; delivery must start regardless
        log.warning("could not set the bot's commands: %s", exc)
    app.bot_data["loop"] = asyncio.create_task(deliver_forever(app), name="telegram-outbox")


async def stopped(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_stop: the outbox loop ends, and the bot's state is written at once."""
    await stop_delivery(app)
    await flush_on_stop(app)


async def stop_delivery(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    task = app.bot_data.pop("loop", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def deliver_forever(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """A round every ``telegram_interval_seconds``, or at once after a chat was linked."""
    data = app.bot_data
    sender: TelegramSender = data["sender"]
    wake: asyncio.Event = data["wake"]
    while True:
        wake.clear()
        try:
            while (await sender.deliver_pending()).claimed >= sender.batch:
                pass  # more is due: the next batch without waiting
        except Exception:
            log.exception("telegram delivery round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), data["interval"])
