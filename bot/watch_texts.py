"""What the bot says about watches (/watch, /watches) and tickets (/track, /mine), in
Chinese first and in English for English-speaking users, like bot/search_texts.py. Plain
text. Labels come from the watches domain (masked: never a full ID number); ticket states
and unit names from casework (Chinese, as on the site)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casework.chat_links import ChatTicket
from casework.ticket_views import TicketView
from casework.tickets import DEADLINE_NAMES
from core.china_time import CST

T: dict[str, dict[str, str]] = {
    "zh": {
        "watch_usage": "请在 /watch 后面写上要关注的对象，例如：\n"
        "/watch 统一社会信用代码\n/watch 姓名 身份证号码\n/watch 姓名或名称",
        "watching": "已关注：{label}。\n"
        "名单中出现与之相关的发布、更正或移出名单时，会在这里提醒您。"
        "发送 /watches 查看或取消关注。",
        "already": "您已经关注了：{label}。发送 /watches 查看或取消关注。",
        "id_deleted": "为保护您的信息，含证件号码的消息已删除；"
        "只保存号码的密钥散列，不保存号码本身。",
        "id_not_deleted": "为保护您的信息，请删除您发送的含证件号码的消息。",
        "no_watches": "本会话没有任何关注。"
        "发送 /watch 加上信用代码、姓名和身份证号码或姓名即可关注。",
        "watches": "本会话关注的对象（{n} 项）：",
        "unwatch": "取消关注 {n}",
        "unwatched": "已取消关注：{label}。",
        "unwatch_gone": "这项关注已不存在，未作任何更改。",
        "watch_button": "关注",
        "err_bad_credit_code": "无法关注：这不是有效的统一社会信用代码（18 位，请检查是否输错）。",
        "err_bad_id_number": "无法关注：这不是有效的身份证号码（18 位，请检查是否输错）。",
        "err_no_name": "无法关注：请写上姓名或名称。",
        "err_id_needs_name": "无法关注：按身份证号码关注时请同时写上姓名，"
        "例如：/watch 张伟 身份证号码",
        "err_name_too_long": "无法关注：姓名或名称过长。",
        "err_too_many_watches": "无法关注：本会话的关注已达上限，请先用 /watches 取消一些。",
        "err_not_watchable": "无法关注该条目：它没有完整的统一社会信用代码，"
        "名称也不便于按名称关注。",
        "err_other": "无法关注：输入无效。",
        "track_usage": "请在 /track 后面写上事项编号和查询码，例如：/track 事项编号 查询码\n"
        "机器人读取后会删除您的消息。",
        "code_deleted": "为保护您的信息，含查询码的消息已删除。",
        "code_not_deleted": "为保护您的信息，请删除您发送的含查询码的消息。",
        "no_ticket": "没有找到这个事项，或查询码不正确。请核对事项编号和查询码。",
        "ticket": "事项 {number}：{state}",
        "unit": "承办单位：{unit}",
        "deadline": "{kind}期限：{due}{overdue}",
        "overdue": "（已超期）",
        "latest": "最新进展（{at}）：{message}",
        "no_mine": "本会话没有绑定任何事项。从回执页面上的 Telegram 链接打开即可绑定。",
        "mine": "本会话绑定的事项（{n} 件）：",
        "mine_hint": "查看进展：/track 事项编号 查询码",
    },
    "en": {
        "watch_usage": "Write what to watch after /watch, for example:\n"
        "/watch <credit code>\n/watch <name> <ID number>\n/watch <name>",
        "watching": "Now watching: {label}.\nYou will get an alert here when a matching entry is "
        "published, corrected or removed from the list. Send /watches to see or cancel watches.",
        "already": "You already watch: {label}. Send /watches to see or cancel watches.",
        "id_deleted": "To protect your data, the message with the ID number was deleted; only a "
        "keyed hash of the number is kept, never the number itself.",
        "id_not_deleted": "To protect your data, please delete your message with the ID number.",
        "no_watches": "This chat watches nothing. Send /watch with a credit code, a name and ID "
        "number, or a name.",
        "watches": "Watched in this chat ({n}):",
        "unwatch": "Unwatch {n}",
        "unwatched": "No longer watching: {label}.",
        "unwatch_gone": "That watch no longer exists; nothing was changed.",
        "watch_button": "Watch",
        "err_bad_credit_code": "Cannot watch: that is not a valid unified social credit code "
        "(18 characters).",
        "err_bad_id_number": "Cannot watch: that is not a valid ID number (18 characters).",
        "err_no_name": "Cannot watch: please give a name.",
        "err_id_needs_name": "Cannot watch: give the name with the ID number, for example "
        "/watch 张伟 <ID number>",
        "err_name_too_long": "Cannot watch: the name is too long.",
        "err_too_many_watches": "Cannot watch: this chat has reached its limit of watches; "
        "cancel some with /watches first.",
        "err_not_watchable": "Cannot watch this entry: it has no full credit code and its name "
        "is not a plain name.",
        "err_other": "Cannot watch: invalid input.",
        "track_usage": "Write the ticket number and access code after /track, for example: "
        "/track <number> <code>\nThe bot deletes your message once read.",
        "code_deleted": "To protect your data, the message with the access code was deleted.",
        "code_not_deleted": "To protect your data, please delete your message with the access "
        "code.",
        "no_ticket": "No such ticket, or the access code is wrong. Please check both.",
        "ticket": "Ticket {number}: {state}",
        "unit": "Handled by: {unit}",
        "deadline": "Deadline ({kind}): {due}{overdue}",
        "overdue": " (overdue)",
        "latest": "Latest ({at}): {message}",
        "no_mine": "No ticket is bound to this chat. Open the Telegram link on your receipt to "
        "bind one.",
        "mine": "Tickets bound to this chat ({n}):",
        "mine_hint": "To see progress: /track <number> <code>",
    },
}
DEADLINE_EN = {"accept": "acceptance", "reply": "reply", "correct": "correction"}


def t(lang: str, key: str, **kw: Any) -> str:
    text = T.get(lang, T["zh"])[key]
    return text.format(**kw) if kw else text


def error(lang: str, code: str) -> str:
    """A WatchError's code as a sentence."""
    key = f"err_{code}"
    return t(lang, key if key in T["zh"] else "err_other")


def _when(at: datetime) -> str:
    return at.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def ticket(lang: str, view: TicketView) -> str:
    """The public view of a ticket, as /track on the site shows it: state, unit, open
    deadlines and the latest public message (the view carries no internal note)."""
    lines = [t(lang, "ticket", number=view.number, state=view.state_name)]
    lines.append(t(lang, "unit", unit=view.unit_name))
    for d in view.deadlines:
        kind = DEADLINE_EN.get(d.kind, d.kind) if lang == "en" else DEADLINE_NAMES.get(d.kind, "")
        overdue = t(lang, "overdue") if d.overdue else ""
        lines.append(t(lang, "deadline", kind=kind, due=_when(d.due_at), overdue=overdue))
    public = [item for item in view.timeline if item.message]
    if public:
        latest = public[-1]
        lines.append(t(lang, "latest", at=_when(latest.at), message=latest.message))
    return "\n".join(lines)


def mine(lang: str, bound: list[ChatTicket]) -> str:
    if not bound:
        return t(lang, "no_mine")
    lines = [t(lang, "mine", n=len(bound))]
    lines += [f"{i}. {b.number}：{b.state_name}" for i, b in enumerate(bound, 1)]
    return "\n".join([*lines, "", t(lang, "mine_hint")])
