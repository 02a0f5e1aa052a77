"""What the bot's search says, in Chinese first and in English for users whose Telegram
language is English (or who chose it with /lang). Plain text, as everywhere in the bot.

Cards show the public fields only (``IndexDoc.to_api()``): the ID number is the masked one,
an organization's credit code is public anyway."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

LANGS = ("zh", "en")
PER_PAGE = 5

T: dict[str, dict[str, str]] = {
    "zh": {
        "name": "姓名/名称",
        "card_person": "证件号码",
        "card_org": "统一社会信用代码",
        "party": "当事人类型",
        "court": "执行法院",
        "case": "案号",
        "published": "发布日期",
        "area": "地区",
        "valid": "有效期至",
        "severity": "严重程度",
        "duty": "生效法律文书确定的义务",
        "performance": "履行情况",
        "unperform": "未履行部分",
        "disrupt": "失信被执行人行为具体情形",
        "unstated": "未载明",
        "found": "找到 {total} 条公开条目，第 {page}/{pages} 页：",
        "none": "没有找到符合条件的公开条目。",
        "prev": "« 上一页",
        "next": "下一页 »",
        "details": "详情 {n}",
        "page_at": "完整信息见本站条目页面：",
        "page_words": "完整信息见本站条目页面 {path}",
        "gone": "该条目已不再公开。",
        "missing": "未找到该条目。",
        "expired": "这次查询已过期，请重新发送姓名查询。",
        "case_usage": "请在 /case 后面写上案号，例如：/case (2023)京0105执1234号",
        "search_usage": "请在 /search 后面写上姓名或名称，可再加身份证号码或统一社会信用代码，"
        "例如：/search 张伟",
        "deleted": "为保护您的信息，含证件号码的消息已删除；回复中只显示脱敏号码。",
        "not_deleted": "为保护您的信息，请删除您发送的含证件号码的消息。",
        "bad_query": "无法查询：{message}",
        "nothing_searchable": "没有可以查询的内容。请发送姓名或名称（如 张伟）、案号，"
        "或使用 /help 查看命令。",
        "lang_set": "已切换为中文。发送 /lang 可切换为 English。",
        "inline_hint": "输入姓名或名称查询失信被执行人名单",
        "link": "条目页面：{url}",
        "person": "自然人",
        "org": "法人或其他组织",
    },
    "en": {
        "name": "Name",
        "card_person": "ID number",
        "card_org": "Unified social credit code",
        "party": "Party type",
        "court": "Enforcing court",
        "case": "Case number",
        "published": "Published",
        "area": "Region",
        "valid": "Listed until",
        "severity": "Severity",
        "duty": "Obligation",
        "performance": "Performance",
        "unperform": "Unperformed part",
        "disrupt": "Conduct",
        "unstated": "not stated",
        "found": "{total} public entries found, page {page} of {pages}:",
        "none": "No public entry matches.",
        "prev": "« Previous",
        "next": "Next »",
        "details": "Details {n}",
        "page_at": "Everything on the entry's page:",
        "page_words": "Everything on the site's entry page {path}",
        "gone": "This entry is no longer public.",
        "missing": "Entry not found.",
        "expired": "This search has expired; please send the name again.",
        "case_usage": "Write the case number after /case, e.g. /case (2023)京0105执1234号",
        "search_usage": "Write a name after /search, optionally followed by an ID number or "
        "credit code, e.g. /search 张伟",
        "deleted": "To protect your data, the message holding the ID number was deleted; "
        "answers show the masked number only.",
        "not_deleted": "To protect your data, please delete your message holding the ID number.",
        "bad_query": "Cannot search: {message}",
        "nothing_searchable": "Nothing to search for. Send a name (e.g. 张伟) or a case number, "
        "or /help for the commands.",
        "lang_set": "Switched to English. Send /lang to switch back to 中文.",
        "inline_hint": "Type a name to search the list of dishonest judgment debtors",
        "link": "Entry page: {url}",
        "person": "natural person",
        "org": "legal person or other organization",
    },
}


def field(lang: str, label: str, value: Any) -> str:
    """``label：value`` (a Chinese colon) or ``label: value``."""
    return f"{t(lang, label)}{'：' if lang == 'zh' else ': '}{value}"


def t(lang: str, key: str, **kw: Any) -> str:
    text = T.get(lang, T["zh"])[key]
    return text.format(**kw) if kw else text


def entry_path(entry_id: str) -> str:
    """The portal's address of the entry (``/entries/{id}``, quoted as the portal quotes)."""
    return f"/entries/{quote(entry_id, safe='')}"


def entry_url(entry_id: str, public_url: str | None) -> str | None:
    return f"{public_url}{entry_path(entry_id)}" if public_url else None


def _party(lang: str, e: dict[str, Any]) -> str:
    return t(lang, "person" if e["partyType"] == "person" else "org")


def card(lang: str, e: dict[str, Any], n: int | None = None) -> str:
    """One result: name, masked ID or credit code, party type, court, case, publish date."""
    head = f"{n}. {e['iname']}" if n is not None else e["iname"]
    lines = [head]
    if e.get("cardNum"):
        label = "card_person" if e["partyType"] == "person" else "card_org"
        lines.append(field(lang, label, e["cardNum"]))
    lines += [
        field(lang, "party", _party(lang, e)),
        field(lang, "court", e["courtName"]),
        field(lang, "case", e["caseCode"]),
        field(lang, "published", e["publishDate"]),
    ]
    return "\n".join(lines)


def page_text(lang: str, items: list[dict[str, Any]], total: int, page: int) -> str:
    if not items:
        return t(lang, "none")
    pages = max(1, -(-total // PER_PAGE))
    first = (page - 1) * PER_PAGE + 1
    cards = [card(lang, e, first + i) for i, e in enumerate(items)]
    return "\n\n".join([t(lang, "found", total=total, page=page, pages=pages), *cards])


def details(lang: str, e: dict[str, Any], public_url: str | None) -> str:
    lines = [card(lang, e)]
    if e.get("areaName"):
        lines.append(field(lang, "area", e["areaName"]))
    lines.append(field(lang, "valid", e.get("validUntil") or t(lang, "unstated")))
    for key, label in (
        ("severity", "severity"),
        ("duty", "duty"),
        ("performance", "performance"),
        ("unperformPart", "unperform"),
        ("disruptTypeName", "disrupt"),
    ):
        if e.get(key):
            lines.append(field(lang, label, e[key]))
    url = entry_url(e["id"], public_url)
    if url:
        lines.append(f"\n{t(lang, 'page_at')}\n{url}")
    else:
        lines.append(f"\n{t(lang, 'page_words', path=entry_path(e['id']))}")
    return "\n".join(lines)
