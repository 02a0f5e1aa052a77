"""The Chinese texts of notifications and timeline entries (plain text; the email round
adds HTML). Access codes never appear here: they are shown once, at submission.

The terms are the site's own: 事项编号 for a ticket's number, 事项查询 for the tracking page
(/track), 单位后台 for the back office. With ``public_url`` (SHIXIN_PUBLIC_URL) every
notification ends with a link to the page it talks about: the submitter's /track with the
number filled in (never the code), the unit's ticket in the back office; without it, the
page is named in words."""

from __future__ import annotations

from urllib.parse import quote

KIND_NAMES = {"report": "举报", "complaint": "投诉"}
# The last sentence of every email; the Telegram round swaps it for one that fits a chat
# (casework/telegram_links.py), so one queued body serves both channels.
EMAIL_CLOSING = "本邮件由系统自动发送。"
# While the portal runs on demo data (SHIXIN_DEMO), every email and chat message and the
# bot's answers say so: the names, IDs and courts look real.
DEMO_BANNER = "「演示数据，非真实名单」"
DEMO_NOTE = f"{DEMO_BANNER}本消息来自演示站点。"


def track_url(public_url: str | None, number: str) -> str | None:
    """The tracking page with the number filled in (the form's ``number`` field)."""
    if not public_url:
        return None
    return f"{public_url}/track?number={quote(number, safe='')}"


def unit_ticket_url(public_url: str | None, ticket_id: int) -> str | None:
    """The ticket in the back office (portal/unit_pages.py); it asks a unit to log in."""
    if not public_url:
        return None
    return f"{public_url}/unit/tickets/{ticket_id}"


def where_to_track(public_url: str | None, number: str) -> str:
    """The sentence that sends a submitter to the tracking page."""
    url = track_url(public_url, number)
    if url is None:
        return "请在本站“事项查询”页面输入事项编号和提交时获得的查询码，查看全部进展。"
    return f"请打开本站“事项查询”页面，输入提交时获得的查询码，查看全部进展：\n{url}"


def to_submitter(
    number: str, headline: str, message: str | None, *, public_url: str | None = None
) -> tuple[str, str]:
    subject = f"您的事项 {number}：{headline}"
    body = f"事项编号：{number}\n{headline}。"
    if message:
        body += f"\n\n{message}"
    return subject, f"{body}\n\n{where_to_track(public_url, number)}\n\n{EMAIL_CLOSING}"


def to_unit(
    number: str,
    kind: str,
    category: str,
    headline: str,
    *,
    ticket_id: int,
    public_url: str | None = None,
) -> tuple[str, str]:
    subject = f"【{KIND_NAMES[kind]}】{number}：{headline}"
    url = unit_ticket_url(public_url, ticket_id)
    where = "请登录单位后台查看并在期限内处理" + (f"：\n{url}" if url else "。")
    body = f"事项编号：{number}\n类别：{category}\n{headline}。\n\n{where}"
    return subject, body
