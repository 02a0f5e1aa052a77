"""What the admin chat (``SHIXIN_TELEGRAM_ADMIN_CHAT``) hears when a handler fails: the
exception's type and message, the kind and id of the update, and the last lines of the
traceback, as plain text (no parse mode, so nothing in it can be read as markup).

Never the user's text: what the user typed (message text, caption, button data, inline
query), whole or any word of it, is cut out wherever it appears, and every run of 15 or
more digits (an ID number, or part of one) is replaced, so a full ID number cannot reach
the admin chat through an exception message either. One report per error type a minute
(bot/fair_use.py), so a storm of the same failure sends one message, not thousands.
"""

from __future__ import annotations

import re
import traceback

from telegram import Update

TAIL_LINES = 6
MAX_CHARS = 3500  # well under Telegram's 4096
# 15 or more digits, with a trailing check character X: the 15- and 18-digit ID numbers.
ID_LIKE = re.compile(r"\d{15,}[Xx]?")
SCRUBBED = "[数字已隐去]"
USER_TEXT = "[用户输入已隐去]"


def update_kind(update: object) -> str:
    if not isinstance(update, Update):
        return "none" if update is None else type(update).__name__
    return next((kind for kind in Update.ALL_TYPES if getattr(update, kind, None)), "unknown")


def user_texts(update: object) -> list[str]:
    """Everything in ``update`` the user typed or chose, whole and word by word (words of
    two characters or more: a Chinese name has two), longest first."""
    if not isinstance(update, Update):
        return []
    found: list[str | None] = []
    if (message := update.effective_message) is not None:
        found += [message.text, message.caption]
    if update.callback_query is not None:
        found.append(update.callback_query.data)
    if update.inline_query is not None:
        found.append(update.inline_query.query)
    texts = {t for t in found if t and t.strip()}
    texts |= {word for t in texts for word in t.split() if len(word) >= 2}
    return sorted(texts, key=len, reverse=True)


def scrub(text: str, update: object) -> str:
    for typed in user_texts(update):
        text = text.replace(typed, USER_TEXT)
        # Tracebacks quote reprs: the typed text with its escapes ("\n" as two characters).
        text = text.replace(repr(typed)[1:-1], USER_TEXT)
    return ID_LIKE.sub(SCRUBBED, text)


def report_text(error: BaseException, update: object) -> str:
    update_id = update.update_id if isinstance(update, Update) else "—"
    tail = traceback.format_exception(error)
    lines = "".join(tail).rstrip().splitlines()[-TAIL_LINES:]
    text = "\n".join(
        [
            f"机器人处理更新时出错：{type(error).__name__}: {error}",
            f"更新：{update_kind(update)} #{update_id}",
            "",
            *lines,
        ]
    )
    return scrub(text, update)[:MAX_CHARS]


def log_text(error: BaseException | None, update: object) -> str:
    """The whole traceback for the log, scrubbed like the report: an exception's message
    may quote what the user typed (a name, an ID number), and logs are kept and shipped."""
    if error is None:
        return "bot handler failed (no exception)"
    whole = "".join(traceback.format_exception(error)).rstrip()
    return scrub(f"bot handler failed ({update_kind(update)}):\n{whole}", update)
