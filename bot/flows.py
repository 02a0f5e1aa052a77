"""What every conversation of the bot shares: how one is built, ``/cancel``, and the answer
to anything a step does not expect.

The flows (bot/status_flow.py, bot/report_flow.py) are parts of one python-telegram-bot
``ConversationHandler`` keyed by chat and user, named "forms", and persistent when the
application has a persistence (the state then survives a restart; what the steps collected
lives in ``user_data["form"]`` and never holds a full ID number). One handler, so that a
chat is in one flow at a time: a flow's command in the middle of another starts afresh.
There is no JobQueue, so conversations do not time out.

Each step's buttons carry data with the conversation's own prefix; a button pressed in
another step (an old message) gets the same "not understood" answer as a sticker. Commands
the conversation does not know (/search, /help) are answered as usual and leave it open.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
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
NAME = "forms"
FORM = "form"  # user_data: what the running conversation collected so far
Handlers = list[BaseHandler[Update, Any, Any]]
State = str | int  # a state's name, or END


@dataclass(frozen=True)
class Flow:
    """One conversation's part: its commands, its states (named, unique across flows: the
    names are what a persistence stores), what each state expects (``again(lang, state)``,
    said after anything else) and the pattern of its buttons' callback data."""

    entry_points: Handlers
    states: dict[str, Handlers]
    again: Callable[[str, str], str]
    buttons: str | None = None


def conversation(flows: list[Flow], *, persistent: bool) -> ConversationHandler[Any]:
    """One conversation handler for all ``flows``: a chat is in at most one of them, and
    starting another (``/report`` in the middle of ``/status``) leaves the first.
    ``/cancel`` ends it; any message, or a press on a flow's button, that a state does not
    handle gets what the state expects again. Other buttons (a search's paging) and other
    commands keep working meanwhile."""
    buttons = "|".join(f"(?:{f.buttons})" for f in flows if f.buttons) or "^$"

    async def cancel(update: Update, context: Context) -> State:
        forget(context)
        await _reply(update, ft.t(lang_of(update, context), "cancelled"))
        return END

    def not_understood(again: Callable[[str, str], str], state: str) -> Any:
        async def answer(update: Update, context: Context) -> None:
            if update.callback_query is not None:
                await update.callback_query.answer()
            lang = lang_of(update, context)
            await _reply(update, ft.t(lang, "expect", expected=again(lang, state)))

        return answer

    states: dict[object, Handlers] = {}
    for flow in flows:
        for state, handlers in flow.states.items():
            # After a state's own handlers: any other message or button of a flow.
            states[state] = [
                *handlers,
                MessageHandler(PRIVATE & ~filters.COMMAND, not_understood(flow.again, state)),
                CallbackQueryHandler(not_understood(flow.again, state), pattern=buttons),
            ]
    # Buttons are answered per chat, whichever message they sit under: the library warns
    # that CallbackQueryHandlers are then not tracked per message, which is what we want.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        handler: ConversationHandler[Any] = ConversationHandler(
            entry_points=[h for flow in flows for h in flow.entry_points],
            states=states,
            fallbacks=[CommandHandler("cancel", cancel, filters=PRIVATE)],
            name=NAME,
            persistent=persistent,
            allow_reentry=True,
        )
    return handler


def form(context: Context) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(FORM, {})  # type: ignore[no-any-return]


def forget(context: Context) -> None:
    """Drop what the conversation collected (it ended, or another began)."""
    if context.user_data is not None:
        context.user_data.pop(FORM, None)


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
