"""The Chinese texts of notifications and timeline entries (plain text; the email round
adds HTML). Access codes never appear here: they are shown once, at submission."""

from __future__ import annotations

KIND_NAMES = {"report": "举报", "complaint": "投诉"}
FOOTER = (
    "\n\n请凭受理编号和提交时获得的查询码在本站“进度查询”页面查看全部进展。本邮件由系统自动发送。"
)


def to_submitter(number: str, headline: str, message: str | None) -> tuple[str, str]:
    subject = f"您的事项 {number}：{headline}"
    body = f"受理编号：{number}\n{headline}。"
    if message:
        body += f"\n\n{message}"
    return subject, body + FOOTER


def to_unit(number: str, kind: str, category: str, headline: str) -> tuple[str, str]:
    subject = f"【{KIND_NAMES[kind]}】{number}：{headline}"
    body = (
        f"受理编号：{number}\n类别：{category}\n{headline}。\n\n"
        "请登录投诉举报办理平台查看并在期限内处理。"
    )
    return subject, body
