"""``/status``: a debtor asks whether and when their entry was removed, as on the site's
status page (portal/status_page.py), one message per identifier: case number, name, then
the full ID number or credit code.

The check is the site's, ``ListService.debtor_status``: all three must match, and a mismatch
gets the page's one answer, whether or not the case exists. The message holding the ID
number is deleted as soon as it is read; the number is passed to the check and dropped,
never echoed, never put in ``user_data`` (whose ``form`` only keeps the case number and
the name between the steps, and forgets them when the conversation ends).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import flow_texts as ft
from bot.flows import END, PRIVATE, Context, Flow, State, delete, forget, form
from bot.search import lang_of
from bot.search_texts import entry_url
from core.china_time import CST
from search_index.normalize import CaseCodeError, normalize_case_code
from search_index.service import ListService
from search_index.status import MAX_INPUT, DebtorStatus, StatusInputError

CASE, NAME, CARD = "status_case", "status_name", "status_card"
TEXT = PRIVATE & filters.TEXT & ~filters.COMMAND
AGAIN = {CASE: "again_case", NAME: "again_name", CARD: "again_card"}
# StatusInputError's Chinese reasons, for English users: by the box they concern.
EN_INPUT_ERRORS = {
    "caseCode": "that is not a case number, e.g. (2019)京0105执12345号.",
    "name": "please send the name (at most 200 characters).",
    "cardNum": "that is not a full ID number or credit code; a masked number with * cannot "
    "prove who you are.",
}


def flow() -> Flow:
    return Flow(
        [CommandHandler("status", start, filters=PRIVATE)],
        {
            CASE: [MessageHandler(TEXT, case_number)],
            NAME: [MessageHandler(TEXT, name)],
            CARD: [MessageHandler(TEXT, identifier)],
        },
        lambda lang, state: ft.t(lang, AGAIN[state]),
    )


def _input_error(lang: str, exc: StatusInputError) -> str:
    message = EN_INPUT_ERRORS.get(exc.field, exc.message) if lang == "en" else exc.message
    return ft.t(lang, "status_bad", message=message)


async def start(update: Update, context: Context) -> State:
    forget(context)
    assert update.effective_chat is not None
    await update.effective_chat.send_message(ft.t(lang_of(update, context), "ask_case"))
    return CASE


async def case_number(update: Update, context: Context) -> State:
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    lang = lang_of(update, context)
    typed = (message.text or "").strip()
    try:  # the check's own rule, told at once rather than after the ID number
        normalize_case_code(typed[:MAX_INPUT])
    except CaseCodeError as exc:
        error = StatusInputError("caseCode", exc.message)
        await chat.send_message(f"{_input_error(lang, error)}\n{ft.t(lang, 'again_case')}")
        return CASE
    form(context)["case"] = typed
    await chat.send_message(ft.t(lang, "ask_name"))
    return NAME


async def name(update: Update, context: Context) -> State:
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    lang = lang_of(update, context)
    typed = (message.text or "").strip()
    if len(typed) > MAX_INPUT:
        await chat.send_message(_input_error(lang, StatusInputError("name", "姓名或名称过长")))
        return NAME
    form(context)["name"] = typed
    await chat.send_message(ft.t(lang, "ask_card"))
    return CARD


async def identifier(update: Update, context: Context) -> State:
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    lang = lang_of(update, context)
    card = message.text or ""
    # Read once: the message goes before anything is looked up or answered.
    deleted = await delete(message)
    await chat.send_message(ft.t(lang, "card_deleted" if deleted else "card_not_deleted"))
    kept = form(context)
    lists: ListService = context.bot_data["lists"]
    try:
        found = await asyncio.to_thread(
            lists.debtor_status, kept.get("case", ""), kept.get("name", ""), card
        )
    except StatusInputError as exc:
        if exc.field == "cardNum":
            await chat.send_message(f"{_input_error(lang, exc)}\n{ft.t(lang, 'again_card')}")
            return CARD
        forget(context)
        await chat.send_message(f"{_input_error(lang, exc)}\n{ft.t(lang, 'again_status')}")
        return END
    forget(context)
    await chat.send_message(answer(lang, found, context.bot_data["public_url"]))
    return END


# --- the answer ----------------------------------------------------------------------------


def _at(moment: datetime, with_time: bool = True) -> str:
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def answer(lang: str, found: list[DebtorStatus], public_url: str | None) -> str:
    """The page's answer as a message: the mismatch text, or each matching entry's state,
    history and removals (no name, number or case: the asker knows them)."""
    if not found:
        return ft.t(lang, "no_match")
    blocks = [ft.t(lang, "found")]
    blocks += [_one(lang, s, public_url) for s in found]
    blocks.append(ft.t(lang, "repair"))
    return "\n\n".join(blocks)


def _one(lang: str, s: DebtorStatus, public_url: str | None) -> str:
    lines = [ft.t(lang, "state", state=ft.name_of(ft.STATUS_NAMES, lang, s.status.value))]
    if s.period_over and s.valid_until is not None:
        lines.append(ft.t(lang, "period_over", date=s.valid_until.isoformat()))
    elif s.is_public and s.entry_id is not None:
        text = ft.t(lang, "public")
        if s.valid_until is not None:
            text += ft.t(lang, "valid_until", date=s.valid_until.isoformat())
        lines.append(text)
        url = entry_url(s.entry_id, public_url)
        if url:
            lines.append(url)
    else:
        lines.append(ft.t(lang, "not_public"))
    lines.append(ft.t(lang, "steps"))
    for step in s.steps:
        when = _at(step.effective_at, with_time=step.op != "publish")
        lines.append(f"· {when} {ft.name_of(ft.STEP_NAMES, lang, step.op)}")
    if s.removals:
        lines.append(ft.t(lang, "removals"))
    for r in s.removals:
        lines.append(
            ft.t(
                lang,
                "removal",
                kind=ft.name_of(ft.STATUS_NAMES, lang, r.kind),
                effective=_at(r.effective_at),
                received=_at(r.received_at),
                deadline=_at(r.deadline),
                removed=_at(r.removed_at) if r.removed_at else ft.t(lang, "not_yet"),
                state=ft.name_of(ft.REMOVAL_STATES, lang, r.state),
                late=ft.t(lang, "arrived_late") if r.arrived_late else "",
            )
        )
    return "\n".join(lines)
