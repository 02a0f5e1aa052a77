"""``/report`` and ``/complain``: filing a report or complaint from the chat, collecting what
the site's forms collect (portal/casework_pages.py), one step at a time: the category (by
buttons, from the routing file in force, grouped by area as on the form; a complaint about a
measure also asks which), the entry (a case number, an entry page's link or id, or the
debtor's name), what happened, when and where (optional), evidence photos and PDF files
(optional), an email besides this chat (optional), then a summary to confirm.

What a step collected stays in ``user_data["form"]`` (bot/flows.py): text, and only
Telegram's file ids of the evidence; the files are fetched with ``get_file`` when the
submission is confirmed and go to ``CaseService.submit`` as ``Upload`` values, checked there
by content like a form's. A full ID number typed into any text is masked before it is kept
(and the message deleted). The ticket names this chat (``Submission.telegram``), so it is
bound to it at once: notices come here and ``/mine`` lists it. The draft's one-time key goes
into the confirm button: a second press files nothing (``AlreadySubmitted``) and says so.

Callback data: ``r<letter>:<value>``, at most a routing code, well under 64 bytes.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext import filters as F

from bot import flow_texts as ft
from bot import report_entry
from bot.flows import END, FORM, PRIVATE, Context, Flow, State, delete, forget, form
from bot.search import lang_of
from bot.watch import _cases
from casework.errors import InvalidInput
from casework.evidence import ACCEPTED, Upload, size_text
from casework.intake import AlreadySubmitted, Submission
from casework.routing import MEASURE_UNIT, Category, Routing
from casework.text_limits import MAX_SHORT, MAX_TEXT, check_text
from search_index.events import mask_full_ids
from search_index.service import ListService

STEPS = ("category", "measure", "entry", "debtor", "what", "when", "where", "evidence")
STEPS += ("contact", "confirm")
(CATEGORY, MEASURE, ENTRY, DEBTOR, WHAT, WHEN, WHERE, EVIDENCE, CONTACT, CONFIRM) = (
    f"report_{step}" for step in STEPS
)
BUTTONS = r"^r[a-z]:"
AREA, PICK, MEASURE_PICK, ENTRY_PICK, NAME_ONLY = "ra:", "rc:", "rm:", "re:", "rn:"
SKIP, SUBMIT, ABORT = "rs:", "rk:", "rx:"
TEXT = PRIVATE & F.TEXT & ~F.COMMAND
FILES = PRIVATE & (F.PHOTO | F.Document.ALL)
TELEGRAM_DOWNLOADS = 20 * 1024 * 1024  # the largest file the Bot API lets a bot fetch
# After anything a step does not expect: what it does expect.
AGAIN = {
    CATEGORY: "again_buttons",
    MEASURE: "again_buttons",
    ENTRY: "again_entry",
    DEBTOR: "ask_debtor",
    WHAT: "again_what",
    WHEN: "again_optional",
    WHERE: "again_optional",
    EVIDENCE: "again_evidence",
    CONTACT: "again_contact",
    CONFIRM: "confirm_expected",
}
# The step that asks again for the field a refused submission names.
FIELD_STEPS = {
    "category": CATEGORY,
    "measure": MEASURE,
    "unit": CATEGORY,
    "entry_id": ENTRY,
    "debtor_name": ENTRY,
    "what": WHAT,
    "when": WHEN,
    "where": WHERE,
    "evidence": EVIDENCE,
    "email": CONTACT,
}


def flow() -> Flow:
    return Flow(
        [
            CommandHandler("report", start, filters=PRIVATE),
            CommandHandler("complain", start, filters=PRIVATE),
        ],
        {
            CATEGORY: [CallbackQueryHandler(category, pattern=f"^({AREA}|{PICK})")],
            MEASURE: [CallbackQueryHandler(measure, pattern=f"^({AREA}|{MEASURE_PICK})")],
            ENTRY: [
                MessageHandler(TEXT, entry),
                CallbackQueryHandler(entry_pick, pattern=f"^({ENTRY_PICK}|{NAME_ONLY})"),
            ],
            DEBTOR: [MessageHandler(TEXT, debtor)],
            WHAT: [MessageHandler(TEXT, what)],
            WHEN: [MessageHandler(TEXT, when), CallbackQueryHandler(when, pattern=f"^{SKIP}")],
            WHERE: [MessageHandler(TEXT, where), CallbackQueryHandler(where, pattern=f"^{SKIP}")],
            EVIDENCE: [
                MessageHandler(FILES, evidence),
                CallbackQueryHandler(evidence_done, pattern=f"^{SKIP}"),
            ],
            CONTACT: [
                MessageHandler(TEXT, contact),
                CallbackQueryHandler(contact, pattern=f"^{SKIP}"),
            ],
            CONFIRM: [CallbackQueryHandler(confirm, pattern=f"^({SUBMIT}|{ABORT})")],
        },
        lambda lang, state: ft.t(lang, AGAIN[state]),
        BUTTONS,
    )


def stale_buttons() -> CallbackQueryHandler[Any, Any]:
    """The conversation's buttons pressed after it ended: a second press of "确认提交"
    says the ticket was filed already, anything else that the form is over."""
    return CallbackQueryHandler(stale, pattern=BUTTONS)


# --- the draft ----------------------------------------------------------------------------


def _routing(context: Context) -> Routing:
    return _cases(context).routing


def _markup(rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in rows])


def _one_button(lang: str, key: str, data: str) -> InlineKeyboardMarkup:
    return _markup([(ft.t(lang, key), data)])


async def _press(update: Update) -> str:
    """The pressed button's data, the press answered (Telegram stops the spinner)."""
    query = update.callback_query
    if query is None:
        return ""
    await query.answer()
    return query.data or ""


def _chat(update: Update) -> Chat:
    assert update.effective_chat is not None
    return update.effective_chat


async def _clean_text(update: Update, context: Context, limit: int) -> str | None:
    """The message's text, a full ID number in it masked (and the message deleted); None,
    with the reason said, when it is too long or cannot be stored."""
    message = update.effective_message
    assert message is not None
    lang = lang_of(update, context)
    raw = (message.text or "").strip()
    try:
        check_text(raw, "text", limit)
    except InvalidInput:
        key = "too_long" if len(raw) > limit else "bad_text"
        await _chat(update).send_message(ft.t(lang, key, n=limit))
        return None
    masked = mask_full_ids(raw)
    if masked != raw:
        deleted = ft.t(lang, "id_masked_deleted") if await delete(message) else ""
        await _chat(update).send_message(ft.t(lang, "id_masked", deleted=deleted))
    return masked


# --- asking -------------------------------------------------------------------------------


async def ask(update: Update, context: Context, state: str) -> State:
    """Send the question of ``state`` (with its buttons) and move there."""
    chat, lang, draft = _chat(update), lang_of(update, context), form(context)
    routing = _routing(context)
    if state == CATEGORY and draft["kind"] == "complaint":
        rows = [(c.name, PICK + c.code) for c in routing.complaints()]
        await chat.send_message(ft.t(lang, "ask_complaint"), reply_markup=_markup(rows))
    elif state in (CATEGORY, MEASURE):
        key = "ask_area" if state == CATEGORY else "ask_measure_area"
        await chat.send_message(ft.t(lang, key), reply_markup=_markup(_areas(routing)))
    elif state == ENTRY:
        markup = _one_button(lang, "skip_entry", NAME_ONLY)
        await chat.send_message(ft.t(lang, "ask_entry"), reply_markup=markup)
    elif state == DEBTOR:
        await chat.send_message(ft.t(lang, "ask_debtor"))
    elif state == WHAT:
        await chat.send_message(ft.t(lang, f"ask_what_{draft['kind']}"))
    elif state in (WHEN, WHERE):
        key = "ask_when" if state == WHEN else "ask_where"
        await chat.send_message(ft.t(lang, key), reply_markup=_one_button(lang, "skip", SKIP))
    elif state == EVIDENCE:
        policy = _cases(context).evidence_policy
        if policy.max_files == 0:  # the site takes no files: the step is left out
            return await ask(update, context, CONTACT)
        size = size_text(_largest(context))
        text = ft.t(lang, "ask_evidence", n=policy.max_files, size=size)
        await chat.send_message(text, reply_markup=_one_button(lang, "skip", SKIP))
    elif state == CONTACT:
        await chat.send_message(
            ft.t(lang, "ask_contact"), reply_markup=_one_button(lang, "skip", SKIP)
        )
    elif state == CONFIRM:
        rows = [(ft.t(lang, "confirm"), SUBMIT + draft["once"]), (ft.t(lang, "abort"), ABORT)]
        await chat.send_message(ft.summary(lang, draft, routing), reply_markup=_markup(rows))
    return state


def _areas(routing: Routing) -> list[tuple[str, str]]:
    """The areas that have report categories, as the form's option groups."""
    used = {c.area for c in routing.reports()}
    return [(name, AREA + code) for code, name in routing.areas.items() if code in used]


def _in_area(routing: Routing, area: str, prefix: str, lang: str) -> list[tuple[str, str]]:
    rows = [(c.name, prefix + c.code) for c in routing.reports() if c.area == area]
    return [*rows, (ft.t(lang, "back"), AREA)]


# --- the steps ----------------------------------------------------------------------------


async def start(update: Update, context: Context) -> State:
    message = update.effective_message
    assert message is not None and context.user_data is not None
    kind = "complaint" if (message.text or "").startswith("/complain") else "report"
    context.user_data[FORM] = {"kind": kind, "once": secrets.token_urlsafe(16), "files": []}
    return await ask(update, context, CATEGORY)


async def category(update: Update, context: Context) -> State:
    data, lang, routing = await _press(update), lang_of(update, context), _routing(context)
    draft = form(context)
    if data.startswith(AREA):
        return await _pick_in_area(update, context, data, PICK, CATEGORY, "ask_category")
    chosen = routing.category(data[len(PICK) :])
    if chosen is None or chosen.kind != draft["kind"]:  # a routing file changed meanwhile
        return await ask(update, context, CATEGORY)
    draft["category"] = chosen.code
    await _chat(update).send_message(ft.t(lang, "chosen", name=chosen.name))
    return await ask(update, context, MEASURE if chosen.route == MEASURE_UNIT else ENTRY)


async def measure(update: Update, context: Context) -> State:
    data, lang, routing = await _press(update), lang_of(update, context), _routing(context)
    if data.startswith(AREA):
        return await _pick_in_area(update, context, data, MEASURE_PICK, MEASURE, "ask_measure")
    chosen: Category | None = routing.category(data[len(MEASURE_PICK) :])
    if chosen is None or chosen.kind != "report":
        return await ask(update, context, MEASURE)
    form(context)["measure"] = chosen.code
    await _chat(update).send_message(ft.t(lang, "chosen", name=chosen.name))
    return await ask(update, context, ENTRY)


async def _pick_in_area(
    update: Update, context: Context, data: str, prefix: str, state: str, question: str
) -> State:
    area = data[len(AREA) :]
    lang, routing = lang_of(update, context), _routing(context)
    if area not in routing.areas:  # "« 返回", or an area the file no longer has
        return await ask(update, context, state)
    rows = _in_area(routing, area, prefix, lang)
    await _chat(update).send_message(ft.t(lang, question), reply_markup=_markup(rows))
    return state


async def entry(update: Update, context: Context) -> State:
    text = await _clean_text(update, context, MAX_SHORT)
    if text is None:
        return ENTRY
    lang, draft = lang_of(update, context), form(context)
    lists: ListService = context.bot_data["lists"]
    found = await asyncio.to_thread(report_entry.find, lists, text, draft["kind"], lang)
    chat = _chat(update)
    if found.error:
        await chat.send_message(found.error)
        return ENTRY
    if found.choices:
        draft["choices"] = found.choices
        rows = [(label, f"{ENTRY_PICK}{i}") for i, (_, label) in enumerate(found.choices)]
        text = ft.t(lang, "pick_entry", case=found.case, n=len(found.choices))
        await chat.send_message(text, reply_markup=_markup(rows))
        return ENTRY
    return await _entry_chosen(update, context, found.entry_id, found.label, found.name)


async def entry_pick(update: Update, context: Context) -> State:
    data, draft = await _press(update), form(context)
    if data.startswith(NAME_ONLY):
        return await ask(update, context, DEBTOR)
    choices = draft.get("choices") or []
    index = data[len(ENTRY_PICK) :]
    if not index.isdigit() or int(index) >= len(choices):
        return await ask(update, context, ENTRY)
    entry_id, label = choices[int(index)]
    return await _entry_chosen(update, context, entry_id, label, None)


async def _entry_chosen(
    update: Update, context: Context, entry_id: str | None, label: str | None, name: str | None
) -> State:
    draft = form(context)
    draft.pop("choices", None)
    draft.update(entry_id=entry_id, entry_label=label, debtor_name=name)
    lang = lang_of(update, context)
    await _chat(update).send_message(ft.t(lang, "entry_chosen", label=label or name))
    return await ask(update, context, WHAT)


async def debtor(update: Update, context: Context) -> State:
    name = await _clean_text(update, context, MAX_SHORT)
    if not name:
        return DEBTOR
    return await _entry_chosen(update, context, None, None, name)


async def what(update: Update, context: Context) -> State:
    text = await _clean_text(update, context, MAX_TEXT)
    if not text:
        return WHAT
    form(context)["what"] = text
    return await ask(update, context, WHEN)


async def when(update: Update, context: Context) -> State:
    return await _optional(update, context, "when", WHEN, WHERE)


async def where(update: Update, context: Context) -> State:
    return await _optional(update, context, "where", WHERE, EVIDENCE)


async def _optional(update: Update, context: Context, key: str, here: str, after: str) -> State:
    if update.callback_query is not None:
        await _press(update)
        form(context)[key] = None
        return await ask(update, context, after)
    text = await _clean_text(update, context, MAX_SHORT)
    if text is None:
        return here
    form(context)[key] = text or None
    return await ask(update, context, after)


async def evidence(update: Update, context: Context) -> State:
    message = update.effective_message
    assert message is not None
    lang, draft = lang_of(update, context), form(context)
    policy = _cases(context).evidence_policy
    files: list[list[Any]] = draft.setdefault("files", [])
    chat = _chat(update)
    done = _one_button(lang, "done", SKIP)
    if len(files) >= policy.max_files:
        await chat.send_message(ft.t(lang, "evidence_full", n=policy.max_files), reply_markup=done)
        return EVIDENCE
    got = _file_of(message, len(files) + 1)
    if got is None:
        await chat.send_message(ft.t(lang, "evidence_type"), reply_markup=done)
        return EVIDENCE
    file_id, name, size = got
    if size is not None and size > _largest(context):
        limit = size_text(_largest(context))
        too_big = ft.t(lang, "evidence_too_big", name=name, size=size_text(size), limit=limit)
        await chat.send_message(too_big, reply_markup=done)
        return EVIDENCE
    files.append([file_id, name])
    await chat.send_message(ft.t(lang, "evidence_got", n=len(files), name=name), reply_markup=done)
    return EVIDENCE


def _largest(context: Context) -> int:
    """The site's limit per file, or Telegram's for what a bot may fetch if that is less."""
    return min(_cases(context).evidence_policy.max_file_bytes, TELEGRAM_DOWNLOADS)


def _file_of(message: Message, n: int) -> tuple[str, str, int | None] | None:
    """(file id, display name, size) of a photo (its largest size) or an accepted
    document; None for any other file. The content is checked again when submitted."""
    if message.photo:
        largest = message.photo[-1]
        return largest.file_id, f"photo-{n}.jpg", largest.file_size
    document = message.document
    if document is None or (document.mime_type or "") not in ACCEPTED:
        return None
    return document.file_id, document.file_name or f"file-{n}", document.file_size


async def evidence_done(update: Update, context: Context) -> State:
    await _press(update)
    return await ask(update, context, CONTACT)


async def contact(update: Update, context: Context) -> State:
    draft = form(context)
    if update.callback_query is not None:
        await _press(update)
        draft["email"] = None
        return await ask(update, context, CONFIRM)
    email = await _clean_text(update, context, MAX_SHORT)
    if email is None:
        return CONTACT
    try:
        _cases(context).validate(_submission(draft, _chat(update).id, email=email))
    except InvalidInput as exc:
        if exc.field == "email":
            await _chat(update).send_message(ft.t(lang_of(update, context), "bad_email"))
            return CONTACT
    draft["email"] = email
    return await ask(update, context, CONFIRM)


async def confirm(update: Update, context: Context) -> State:
    data, lang, draft = await _press(update), lang_of(update, context), form(context)
    chat = _chat(update)
    if data.startswith(ABORT):
        forget(context)
        await chat.send_message(ft.t(lang, "cancelled"))
        return END
    if data[len(SUBMIT) :] != draft.get("once"):  # the summary of an earlier draft
        await chat.send_message(ft.t(lang, "confirm_expected"))
        return CONFIRM
    uploads = await _download(update, context)
    if uploads is None:
        return EVIDENCE
    sub = _submission(draft, chat.id, evidence=uploads)
    try:
        receipt = await asyncio.to_thread(_cases(context).submit, sub)
    except AlreadySubmitted:
        forget(context)
        await chat.send_message(ft.t(lang, "already"))
        return END
    except InvalidInput as exc:
        await chat.send_message(ft.t(lang, "refused", detail=exc.detail))
        step = FIELD_STEPS.get(exc.field, CONFIRM)
        if step == EVIDENCE:
            draft["files"] = []
        return await ask(update, context, step)
    forget(context)
    context.bot_data["wake"].set()  # the "已收到" notice queued for this chat goes out now
    await chat.send_message(ft.receipt_text(lang, draft["kind"], receipt))
    return END


async def _download(update: Update, context: Context) -> tuple[Upload, ...] | None:
    """The draft's files from Telegram; None (said, and the file dropped) if one fails."""
    draft = form(context)
    uploads = []
    for file_id, name in list(draft.get("files") or []):
        try:
            file = await context.bot.get_file(file_id)
            uploads.append(Upload(name, bytes(await file.download_as_bytearray())))
        except TelegramError:
            draft["files"] = [f for f in draft["files"] if f[0] != file_id]
            text = ft.t(lang_of(update, context), "download_failed", name=name)
            await _chat(update).send_message(
                text, reply_markup=_one_button(lang_of(update, context), "done", SKIP)
            )
            return None
    return tuple(uploads)


def _submission(
    draft: dict[str, Any], chat_id: int, *, email: str | None = None, evidence: tuple = ()
) -> Submission:
    return Submission(
        kind=draft["kind"],
        category=draft["category"],
        what=draft.get("what") or "",
        entry_id=draft.get("entry_id"),
        debtor_name=None if draft.get("entry_id") else draft.get("debtor_name"),
        when=draft.get("when"),
        where=draft.get("where"),
        measure=draft.get("measure"),
        email=email or draft.get("email"),
        telegram=str(chat_id),  # bound to this chat from the start: notices come here
        evidence=evidence,
        once_key=draft["once"],
    )


async def stale(update: Update, context: Context) -> None:
    data, lang = await _press(update), lang_of(update, context)
    once = data[len(SUBMIT) :] if data.startswith(SUBMIT) else ""
    filed = bool(once) and await asyncio.to_thread(_cases(context).already_submitted, once)
    await _chat(update).send_message(ft.t(lang, "already" if filed else "stale"))
