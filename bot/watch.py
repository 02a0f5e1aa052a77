"""Watches and tickets from Telegram: ``/watch``, ``/watches`` with its unwatch buttons, the
"关注" button under an entry's details, ``/track <number> <code>`` and ``/mine``.

The handlers only translate: watches are watches.service.WatchService's (channel
``telegram``, the chat id as recipient; a watch on a name plus ID number keeps only the
number's keyed hash), tickets casework's (``CaseService.track``, the public view, and
``ChatLinks.tickets``). A message holding a full ID number or an access code is deleted
when the bot may, and neither is ever echoed.

Adding a watch and each ``/track`` attempt (a guess at an access code, perhaps) draw on the
chat's fair-use budgets (bot/fair_use.py).

Callback data: ``w-:<watch id>`` (unwatch; only the chat's own watch is removed) and
``w+:<entry id>`` (watch an entry), both well under Telegram's 64 bytes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import fair_use
from bot import watch_texts as wt
from bot.search import WATCH_ENTRY, lang_of
from casework.chat_links import ChatLinks
from casework.service import CaseService
from search_index.identifiers import IdentifierError, IdentifierKind, classify_identifier
from search_index.service import EntryGone, EntryNotFound, ListService
from watches.service import Added, WatchError, WatchService

Context = ContextTypes.DEFAULT_TYPE
CHANNEL = "telegram"
UNWATCH = "w-:"
CALLBACKS = r"^w[-+]:"
_CARD_LIKE = re.compile(r"[0-9A-Za-z*]{8,}")
_ID_LIKE = re.compile(r"\d{15}|\d{17}[0-9Xx]")


def _watching(context: Context) -> WatchService:
    return context.bot_data["watching"]  # type: ignore[no-any-return]


def _cases(context: Context) -> CaseService:
    data = context.bot_data
    if data.get("cases") is None:  # made on first use: only /track needs the routing file
        factory: Callable[[], CaseService] = data["cases_factory"]
        data["cases"] = factory()
    return data["cases"]  # type: ignore[no-any-return]


async def _delete(message: Message) -> bool:
    try:
        return bool(await message.delete())
    except TelegramError:
        return False


# --- /watch --------------------------------------------------------------------------------


def add_watch(watching: WatchService, chat: str, args: list[str]) -> Added:
    """What ``/watch <args>`` asks: a credit code, a name plus ID number, or a name."""
    last = args[-1]
    if _CARD_LIKE.fullmatch(last) and any(c.isdigit() for c in last):
        try:
            kind, _ = classify_identifier(last)
        except IdentifierError:
            kind = None
        if kind is IdentifierKind.ID_NUMBER or (kind is None and _ID_LIKE.search(last)):
            if len(args) < 2:
                raise WatchError("id_needs_name")
            return watching.add_person(CHANNEL, chat, " ".join(args[:-1]), last)
        if len(args) == 1 or kind is IdentifierKind.CREDIT_CODE:
            return watching.add_code(CHANNEL, chat, last)
    return watching.add_search(CHANNEL, chat, " ".join(args))


async def watch_command(update: Update, context: Context) -> None:
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    lang = lang_of(update, context)
    args = list(context.args or [])
    if not args:
        await message.reply_text(wt.t(lang, "watch_usage"))
        return
    private = bool(_ID_LIKE.search("".join(args)))
    if private:  # read once: the message goes before anything is answered
        note = wt.t(lang, "id_deleted" if await _delete(message) else "id_not_deleted")
        await chat.send_message(note)
    if await fair_use.refused(update, context, fair_use.WATCH, lang):
        return
    try:
        added = await asyncio.to_thread(add_watch, _watching(context), str(chat.id), args)
    except WatchError as exc:
        await chat.send_message(wt.error(lang, exc.code))
        return
    await chat.send_message(_added_text(lang, added))


def _added_text(lang: str, added: Added) -> str:
    return wt.t(lang, "watching" if added.created else "already", label=added.watch.label)


# --- /watches and the buttons --------------------------------------------------------------


async def watches_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    assert chat is not None
    lang = lang_of(update, context)
    mine = await asyncio.to_thread(_watching(context).list, CHANNEL, str(chat.id))
    if not mine:
        await chat.send_message(wt.t(lang, "no_watches"))
        return
    lines = [wt.t(lang, "watches", n=len(mine))]
    lines += [f"{i}. {w.label}" for i, w in enumerate(mine, 1)]
    rows = [
        [InlineKeyboardButton(wt.t(lang, "unwatch", n=i), callback_data=f"{UNWATCH}{w.id}")]
        for i, w in enumerate(mine, 1)
    ]
    await chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


def _unwatch(watching: WatchService, chat: str, watch_id: int) -> str | None:
    """The removed watch's label; None when the chat has no watch by that id."""
    label = next((w.label for w in watching.list(CHANNEL, chat) if w.id == watch_id), None)
    if label is None or not watching.remove(CHANNEL, chat, watch_id):
        return None
    return label


def _watch_entry(lists: ListService, watching: WatchService, chat: str, entry_id: str) -> Any:
    try:
        entry = lists.entry(entry_id).doc.to_api()
    except (EntryGone, EntryNotFound):
        raise WatchError("not_watchable") from None
    return watching.add_entry(CHANNEL, chat, entry["iname"], entry.get("cardNum"))


async def button(update: Update, context: Context) -> None:
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    await query.answer()
    lang = lang_of(update, context)
    data = query.data or ""
    watching = _watching(context)
    if data.startswith(UNWATCH):
        rest = data[len(UNWATCH) :]
        label = None
        if rest.isdigit():
            label = await asyncio.to_thread(_unwatch, watching, str(chat.id), int(rest))
        text = wt.t(lang, "unwatch_gone") if label is None else wt.t(lang, "unwatched", label=label)
        await chat.send_message(text)
        return
    entry_id = data[len(WATCH_ENTRY) :]
    if await fair_use.refused(update, context, fair_use.WATCH, lang):
        return
    try:
        added = await asyncio.to_thread(
            _watch_entry, context.bot_data["lists"], watching, str(chat.id), entry_id
        )
    except WatchError as exc:
        await chat.send_message(wt.error(lang, exc.code))
        return
    await chat.send_message(_added_text(lang, added))


# --- /track and /mine ----------------------------------------------------------------------


async def track_command(update: Update, context: Context, explain: Callable[[], str]) -> None:
    """``/track <number> <code>``; without arguments, ``explain()`` (how tracking works)."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    lang = lang_of(update, context)
    args = list(context.args or [])
    if not args:
        await message.reply_text(explain())
        return
    # Whatever follows the number may be the code: the message goes first.
    await chat.send_message(
        wt.t(lang, "code_deleted" if await _delete(message) else "code_not_deleted")
    )
    if len(args) != 2:
        await chat.send_message(wt.t(lang, "track_usage"))
        return
    if await fair_use.refused(update, context, fair_use.TRACK, lang):  # guessing codes
        return
    number, code = args
    view = await asyncio.to_thread(lambda: _cases(context).track(number, code))
    await chat.send_message(wt.t(lang, "no_ticket") if view is None else wt.ticket(lang, view))


async def mine_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    assert chat is not None
    links: ChatLinks = context.bot_data["links"]
    bound = await asyncio.to_thread(links.tickets, chat.id)
    await chat.send_message(wt.mine(lang_of(update, context), bound))
