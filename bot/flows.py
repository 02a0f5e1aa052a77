"""What every conversation of the bot shares: how one is built, ``/cancel``, and the answer
to anything a step does not expect.

A conversation is a python-telegram-bot ``ConversationHandler`` keyed by chat and user,
named, and persistent when the application has a persistence (conversation state then
survives a restart; what a step keeps lives in ``user_data`` and never holds a full ID
number). There is no JobQueue, so conversations do not time out: a later ``/cancel`` or a
new command of the same conversation starts over.

Each step's buttons carry data with the conversation's own prefix; a button pressed in
another step (an old message) gets the same "not understood" answer as a sticker. Commands
the conversation does not know (/search, /help) are answered as usual and leave it open.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import flow_texts as ft
from bot.search import lang_of

Context = ContextTypes.DEFAULT_TYPE
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
Handlers = list[BaseHandler[Update, Any, Any]]
# What a state expects, said again after anything else: (lang, state, context) -> text.
Expected = Callable[[str, Any, Context], str]


def conversation(
    name: str,
    entry_points: Handlers,
    states: dict[object, Handlers],
    expected: Expected,
    *,
    buttons: str,
    persistent: bool,
    forget: Callable[[Context], None],
) -> ConversationHandler[Any]:
    """The conversation ``name``: ``/cancel`` ends it (``forget`` drops what it kept);
    any message, or a press on one of its ``buttons`` (a pattern of callback data), that a
    state does not handle gets ``expected(lang, state, context)`` again. Other buttons (a
    search's paging) keep working meanwhile."""

    async def cancel(update: Update, context: Context) -> int:
        forget(context)
        await _reply(update, ft.t(lang_of(update, context), "cancelled"))
        return END

    def not_understood(state: object) -> Callable[[Update, Context], Any]:
        async def answer(update: Update, context: Context) -> None:
            if update.callback_query is not None:
                await update.callback_query.answer()
            lang = lang_of(update, context)
            await _reply(update, ft.t(lang, "expect", expected=expected(lang, state, context)))

        return answer

    # After a state's own handlers: any other message or button of the chat.
    for state, handlers in states.items():
        handlers += [
            MessageHandler(PRIVATE & ~filters.COMMAND, not_understood(state)),
            CallbackQueryHandler(not_understood(state), pattern=buttons),
        ]
    fallbacks: Handlers = [CommandHandler("cancel", cancel, filters=PRIVATE)]
    # Buttons are answered per chat, whichever message they sit under: the library warns
    # that CallbackQueryHandlers are then not tracked per message, which is what we want.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        handler: ConversationHandler[Any] = ConversationHandler(
            entry_points=entry_points,
            states=states,
            fallbacks=fallbacks,
            name=name,
            persistent=persistent,
            allow_reentry=True,
        )
    return handler


async def nothing_to_cancel(update: Update, context: Context) -> None:
    """``/cancel`` outside any conversation."""
    await _reply(update, ft.t(lang_of(update, context), "nothing_to_cancel"))


async def _reply(update: Update, text: str) -> None:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(text)


async def delete(message: Message) -> bool:
    """Delete a user's message; False where Telegram does not let the bot."""
    try:
        return bool(await message.delete())
    except TelegramError:
        return False
