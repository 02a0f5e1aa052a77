"""Searching the list from Telegram: plain text or ``/search``, ``/case``, entry details
(buttons and ``/start e-<id>`` deep links; a public entry's details carry the "关注"
button bot/watch.py answers), paging buttons, inline queries and ``/lang``.

The handlers only translate: the search is ``ListService.search`` (the site's and the API's,
public entries only), an entry by id is ``ListService.entry`` (the entry page's lookup: a
removed entry is "no longer public", a never-public one "not found").

A full ID number a user types is read once: the message holding it is deleted when the bot
may, the search runs, and only the ids of what it found are kept in ``chat_data`` for paging
(never the number itself). Other searches keep their parameters there under a short key,
so that callback data stays well under Telegram's 64 bytes.

Searches and inline queries draw on the chat's fair-use budget (bot/fair_use.py).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from uuid import uuid4

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import fair_use
from bot import search_texts as st
from bot import watch_texts as wt
from search_index.identifiers import IdentifierError, IdentifierKind, classify_identifier
from search_index.normalize import CaseCodeError, normalize_case_code
from search_index.query import MAX_PER_PAGE, QueryError
from search_index.service import EntryGone, EntryNotFound, ListService

Context = ContextTypes.DEFAULT_TYPE
PER_PAGE = st.PER_PAGE
KEPT_SEARCHES = 20  # per chat: older paging buttons answer "expired"
KEPT_LONG_IDS = 100  # per chat: entry ids too long for a button's data, kept under a key
ENTRY_PREFIX = "e-"
WATCH_ENTRY = "w+:"  # the "关注" button's data: bot/watch.py answers it
# A token that looks like an identifier: digits mostly, 8 characters or more (an ID number,
# a credit code, an organization code, or a masked one).
_CARD_LIKE = re.compile(r"[0-9A-Za-z*]{8,}")
_ID_LIKE = re.compile(r"\d{15}|\d{17}[0-9Xx]")


def lang_of(update: Update, context: Context) -> str:
    chosen = context.user_data.get("lang") if context.user_data is not None else None
    if chosen in st.LANGS:
        return str(chosen)
    user = update.effective_user
    code = (user.language_code or "") if user else ""
    return "en" if code.lower().startswith("en") else "zh"


def _lists(context: Context) -> ListService:
    return context.bot_data["lists"]  # type: ignore[no-any-return]


class Parsed:
    """What a text asks for: search parameters, and whether it held a full ID number."""

    def __init__(self, params: dict[str, str], private: bool, error: str | None = None) -> None:
        self.params = params
        self.private = private
        self.error = error


def parse(text: str) -> Parsed:
    """Name, then optionally an ID number or credit code; or a case number alone."""
    text = text.strip()
    if not text:
        return Parsed({}, False)
    private = bool(_ID_LIKE.search(text.replace(" ", "")))
    words = text.split()
    card = None
    if words and _CARD_LIKE.fullmatch(words[-1]) and any(c.isdigit() for c in words[-1]):
        try:
            kind, _ = classify_identifier(words[-1])
        except IdentifierError as exc:
            return Parsed({}, private, exc.message)
        private = private or kind is IdentifierKind.ID_NUMBER
        card = words.pop()
    name = " ".join(words)
    if card is None and any(c.isdigit() for c in name):
        try:
            return Parsed({"caseCode": normalize_case_code(name)}, private)
        except CaseCodeError:
            pass
    params = {"q": name} if name else {}
    if card:
        params["cardNum"] = card
    return Parsed(params, private)


# --- searching and pages ------------------------------------------------------------------


def _keep(context: Context, value: dict[str, Any]) -> str:
    assert context.chat_data is not None
    searches: dict[str, Any] = context.chat_data.setdefault("searches", {})
    key = _new_key(context.chat_data)
    searches[key] = value
    while len(searches) > KEPT_SEARCHES:
        searches.pop(next(iter(searches)))
    return key


def _search_page(lists: ListService, kept: dict[str, Any], page: int) -> tuple[list, int]:
    """This page's entries (public JSON) and the total, for a kept search."""
    if "ids" in kept:  # a search by full ID number: its results, looked up again
        items = []
        for entry_id in kept["ids"]:
            try:
                items.append(lists.entry(entry_id).doc.to_api())
            except (EntryGone, EntryNotFound):
                continue  # removed since: never shown
        return items[(page - 1) * PER_PAGE : page * PER_PAGE], len(items)
    params = {**kept["params"], "page": str(page), "perPage": str(PER_PAGE)}
    result = lists.search(params)
    return [d.to_api() for d in result.items], result.total


def _run_search(lists: ListService, params: dict[str, str], private: bool) -> dict[str, Any]:
    """What to keep for paging; raises QueryError for a query the service refuses."""
    if private:
        found = lists.search({**params, "perPage": str(MAX_PER_PAGE)})
        return {"ids": [d.id for d in found.items]}
    lists.search({**params, "perPage": "1"})  # checks the query before it is kept
    return {"params": params}


def _callback_for(entry_id: str, context: Context) -> str:
    data = f"d:{entry_id}"
    if len(data.encode()) <= 64:
        return data
    assert context.chat_data is not None
    long_ids: dict[str, str] = context.chat_data.setdefault("long_ids", {})
    key = _new_key(context.chat_data)
    long_ids[key] = entry_id
    while len(long_ids) > KEPT_LONG_IDS:
        long_ids.pop(next(iter(long_ids)))
    return f"D:{key}"


def _new_key(chat_data: dict[str, Any]) -> str:
    """A short key not yet used in this chat. The counter lives in the chat's state, which
    survives a restart (bot/persistence.py): a key from before it is never handed out again,
    so an old button never opens a newer search."""
    number = chat_data.get("next_key", 1)
    chat_data["next_key"] = number + 1
    return format(number, "x")


def _markup(
    context: Context, lang: str, key: str, items: list, total: int, page: int
) -> InlineKeyboardMarkup | None:
    if not items:
        return None
    first = (page - 1) * PER_PAGE + 1
    rows = [
        [
            InlineKeyboardButton(
                st.t(lang, "details", n=first + i), callback_data=_callback_for(e["id"], context)
            )
            for i, e in enumerate(items)
        ]
    ]
    paging = []
    if page > 1:
        paging.append(InlineKeyboardButton(st.t(lang, "prev"), callback_data=f"p:{key}:{page - 1}"))
    if page * PER_PAGE < total:
        paging.append(InlineKeyboardButton(st.t(lang, "next"), callback_data=f"p:{key}:{page + 1}"))
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows)


async def _forget_message(update: Update, context: Context, lang: str) -> None:
    """Best effort: delete the user's message that held a full ID number."""
    message = update.effective_message
    assert message is not None
    try:
        deleted = await message.delete()
    except TelegramError:
        deleted = False
    await message.chat.send_message(st.t(lang, "deleted" if deleted else "not_deleted"))


async def answer_search(update: Update, context: Context, text: str) -> None:
    message = update.effective_message
    assert message is not None
    lang = lang_of(update, context)
    parsed = parse(text)
    if parsed.private:
        await _forget_message(update, context, lang)
    if parsed.error:
        await message.chat.send_message(st.t(lang, "bad_query", message=parsed.error))
        return
    if not parsed.params:
        await message.chat.send_message(st.t(lang, "nothing_searchable"))
        return
    await _send_results(update, context, lang, parsed.params, parsed.private)


async def _send_results(
    update: Update, context: Context, lang: str, params: dict[str, str], private: bool
) -> None:
    chat = update.effective_chat
    assert chat is not None
    if await fair_use.refused(update, context, fair_use.SEARCH, lang):
        return
    lists = _lists(context)
    try:
        kept = await asyncio.to_thread(_run_search, lists, params, private)
    except QueryError as exc:
        await chat.send_message(st.t(lang, "bad_query", message=exc.message))
        return
    key = _keep(context, kept)
    items, total = await asyncio.to_thread(_search_page, lists, kept, 1)
    await chat.send_message(
        st.page_text(lang, items, total, 1),
        reply_markup=_markup(context, lang, key, items, total, 1),
    )


async def plain_text(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await answer_search(update, context, update.effective_message.text or "")


async def search_command(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    if not context.args:
        await update.effective_message.reply_text(st.t(lang_of(update, context), "search_usage"))
        return
    await answer_search(update, context, " ".join(context.args))


async def case_command(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    lang = lang_of(update, context)
    if not context.args:
        await update.effective_message.reply_text(st.t(lang, "case_usage"))
        return
    await _send_results(update, context, lang, {"caseCode": "".join(context.args)}, False)


async def lang_command(update: Update, context: Context) -> None:
    assert update.effective_message is not None and context.user_data is not None
    wanted = (context.args or [""])[0].lower()
    if wanted not in st.LANGS:
        wanted = "en" if lang_of(update, context) == "zh" else "zh"
    context.user_data["lang"] = wanted
    await update.effective_message.reply_text(st.t(wanted, "lang_set"))


# --- details ------------------------------------------------------------------------------


def watch_button(entry_id: str, lang: str) -> InlineKeyboardMarkup | None:
    """The "关注" button under an entry's details (none for an id too long for the data)."""
    data = WATCH_ENTRY + entry_id
    if len(data.encode()) > 64:
        return None
    button = InlineKeyboardButton(wt.t(lang, "watch_button"), callback_data=data)
    return InlineKeyboardMarkup([[button]])


def details_text(
    lists: ListService, entry_id: str, lang: str, public_url: str | None
) -> tuple[str, bool]:
    """The details message, and whether it shows the entry (else: gone or not found)."""
    try:
        view = lists.entry(entry_id)
    except EntryGone:
        return st.t(lang, "gone"), False
    except EntryNotFound:
        return st.t(lang, "missing"), False
    return st.details(lang, view.doc.to_api(), public_url), True


async def show_entry(update: Update, context: Context, entry_id: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    lang = lang_of(update, context)
    text, shown = await asyncio.to_thread(
        details_text, _lists(context), entry_id, lang, context.bot_data["public_url"]
    )
    # A public entry's details carry the "关注" button (bot/watch.py).
    await chat.send_message(text, reply_markup=watch_button(entry_id, lang) if shown else None)


async def button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    lang = lang_of(update, context)
    kind, _, rest = (query.data or "").partition(":")
    chat_data = context.chat_data if context.chat_data is not None else {}
    if kind == "d":
        await show_entry(update, context, rest)
        return
    if kind == "D":
        entry_id = chat_data.get("long_ids", {}).get(rest)
        if entry_id is None:
            await _expired(update, lang)
            return
        await show_entry(update, context, entry_id)
        return
    if kind == "p":
        key, _, page_text = rest.partition(":")
        kept = chat_data.get("searches", {}).get(key)
        if kept is None or not page_text.isdigit():
            await _expired(update, lang)
            return
        page = int(page_text)
        items, total = await asyncio.to_thread(_search_page, _lists(context), kept, page)
        await query.edit_message_text(
            st.page_text(lang, items, total, page),
            reply_markup=_markup(context, lang, key, items, total, page),
        )
        return
    await _expired(update, lang)


async def _expired(update: Update, lang: str) -> None:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(st.t(lang, "expired"))


# --- inline mode --------------------------------------------------------------------------


def inline_results(
    lists: ListService, text: str, lang: str, public_url: str | None
) -> list[InlineQueryResultArticle]:
    parsed = parse(text)
    if parsed.error or not parsed.params:
        return []
    try:
        found = lists.search({**parsed.params, "perPage": "20"})
    except QueryError:
        return []
    results = []
    for doc in found.items:
        e = doc.to_api()
        url = st.entry_url(e["id"], public_url)
        body = st.card(lang, e)
        body += f"\n{st.t(lang, 'link', url=url)}" if url else ""
        results.append(
            InlineQueryResultArticle(
                id=uuid4().hex,
                title=e["iname"],
                description=" · ".join(
                    x for x in (e.get("cardNum"), e["courtName"], e["caseCode"]) if x
                ),
                input_message_content=InputTextMessageContent(body),
                url=url,
            )
        )
    return results


async def inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    assert query is not None
    lang = lang_of(update, context)
    fair: fair_use.FairUse = context.bot_data["fair_use"]
    if fair.wait_seconds(fair_use.INLINE, query.from_user.id) is not None:
        await query.answer([], cache_time=0, is_personal=True)  # typing on finds nothing
        return
    results = await asyncio.to_thread(
        inline_results, _lists(context), query.query, lang, context.bot_data["public_url"]
    )
    # Personal: the answer is in the user's language.
    await query.answer(results, cache_time=60, is_personal=True)
