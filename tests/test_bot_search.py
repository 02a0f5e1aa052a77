"""Searching the list from the bot, through a real python-telegram-bot ``Application``
(``process_update`` in, the local Bot API of bot/local_api.py out), over the real list
(the casework fixture's entries: p1 张伟 listed, p2 李娜 shielded, p3 王芳 never public).

Covered: plain text and ``/search`` in Chinese, by name plus full ID number (the message is
deleted, only the masked number is answered), paging and details buttons, the ``/start
e-<id>`` deep link (removed: "不再公开", never public or unknown: "未找到"), ``/case``, inline
queries, English for English-speaking users and ``/lang``, garbage. Every test ends with the
scanner: no bot message, button or inline result holds a full ID number or anything of a
removed or never-public entry.
"""

from __future__ import annotations

import logging
import re

import pytest
from bot_support import FULL, MASKED, PUBLIC_URL, App, labels, press, send, with_bot
from support import ingest, namesakes, person, removal
from telegram import Update
from test_casework_support import Casework, cw_fixture, routing_fixture  # noqa: F401

from bot.local_api import (
    USER_CHAT,
    LocalBotApi,
    callback_update,
    inline_update,
)
from bot.texts import COMMANDS


def test_search_by_name_pages_and_details(cw: Casework) -> None:
    ingest(cw.lists, *namesakes(12))
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "张伟")
        first = api.sent[-1]
        assert first.text.startswith("找到 13 条公开条目，第 1/3 页：")
        assert labels(first) == [f"详情 {n}" for n in range(1, 6)] + ["下一页 »"]
        await press(app, first, "下一页 »")
        second = api.sent[-1]
        assert second.edited and second.message_id == first.message_id
        assert "第 2/3 页" in second.text and "6. 张伟" in second.text
        assert labels(second)[-2:] == ["« 上一页", "下一页 »"]
        await press(app, second, "下一页 »")
        third = api.sent[-1]
        assert "第 3/3 页" in third.text and labels(third)[-1] == "« 上一页"
        assert labels(third)[:3] == ["详情 11", "详情 12", "详情 13"]
        await press(app, first, "详情 1")
        await send(app, "/search 张伟 ")

    with_bot(cw, api, scenario, public_url=PUBLIC_URL)
    card = api.sent[0].text.split("\n\n")[1]
    lines = card.splitlines()
    assert lines[0].startswith("1. 张伟")
    assert [x.split("：")[0] for x in lines[1:]] == [
        "证件号码",
        "当事人类型",
        "执行法院",
        "案号",
        "发布日期",
    ]
    assert "****" in lines[1] and lines[2] == "当事人类型：自然人"
    details = api.sent[3].text
    entry_id = api.sent[0].buttons[0][0][1].removeprefix("d:")
    assert f"\n{PUBLIC_URL}/entries/{entry_id}" in details
    assert "有效期至：" in details and "完整信息见本站条目页面" in details
    assert api.sent[4].text == api.sent[0].text  # /search says the same
    assert api.deleted == []  # nothing private was typed


def test_search_by_id_number_deletes_the_message_and_masks(
    cw: Casework, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ingest(cw.lists, person("b1", iname="赵敏", cardNum=FULL, caseCode="(2024)京0105执77号"))
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, f"赵敏 {FULL}")
        await send(app, f"/search 赵敏 {FULL}")
        await send(app, FULL)
        api.undeletable = True
        await send(app, f"赵敏 {FULL}")
        await send(app, f"赵敏 {FULL[:-1]}{'0' if FULL[-1] != '0' else '1'}")  # wrong check

    with_bot(cw, api, scenario)
    assert len(api.deleted) == 3
    texts = api.to(USER_CHAT)
    assert texts[0].startswith("为保护您的信息，含证件号码的消息已删除")
    results = [t for t in texts if t.startswith("找到")]
    assert len(results) == 4
    for text in results:
        assert "找到 1 条" in text and "赵敏" in text and MASKED in text
    assert "请删除您发送的含证件号码的消息" in texts[-2]
    assert texts[-1].startswith("无法查询：")
    bot_lines = [r.getMessage() for r in caplog.records if r.name.startswith("shixin.bot")]
    assert not any(FULL in line for line in bot_lines)


def test_paging_a_search_by_id_skips_what_was_removed_since(cw: Casework) -> None:
    people = [
        person(f"s{n}", iname=f"孙{n}", cardNum=FULL, caseCode=f"(2024)京0105执{n}号")
        for n in range(7)
    ]
    ingest(cw.lists, *people)
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, FULL)
        first = api.sent[-1]
        assert "找到 7 条公开条目，第 1/2 页" in first.text
        on_first = set(re.findall(r"\d\. (孙\d)", first.text))
        later = sorted({f"孙{n}" for n in range(7)} - on_first)
        assert len(on_first) == 5 and len(later) == 2
        ingest(cw.lists, removal("shield", f"s{later[0][1]}"))
        await press(app, first, "下一页 »")
        page_two = api.sent[-1].text
        assert "找到 6 条公开条目，第 2/2 页" in page_two
        assert later[1] in page_two and later[0] not in page_two
        await press(app, first, "详情 1")

    with_bot(cw, api, scenario)
    assert "完整信息见本站条目页面 /entries/s" in api.sent[-1].text  # no public URL: the path


def test_deep_links_case_numbers_and_removed_entries(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/start e-p1")
        await send(app, "/start e-p2")  # shielded
        await send(app, "/start e-p3")  # never public
        await send(app, "/start e-nope")
        await send(app, "/case (2023)京0105执1234号")
        await send(app, "/case (2023)鲁0203执9号")  # p2's
        await send(app, "/case 不是案号")
        await send(app, "/case")
        await send(app, "李娜")
        await send(app, "(2023)京0105执1234号")  # a case number as plain text

    with_bot(cw, api, scenario)
    p1, gone, never, unknown, case, removed, bad, usage, nobody, plain = api.to(USER_CHAT)
    assert p1.startswith("张伟\n证件号码：") and "北京市朝阳区人民法院" in p1
    assert "完整信息见本站条目页面 /entries/p1" in p1
    assert gone == "该条目已不再公开。"
    assert never == unknown == "未找到该条目。"
    assert case.startswith("找到 1 条") and "(2023)京0105执1234号" in case
    assert removed == nobody == "没有找到符合条件的公开条目。"
    assert bad.startswith("无法查询：") and "/case" in usage
    assert plain == case


def test_a_ticket_token_still_binds_even_one_beginning_with_e(
    cw: Casework, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_telegram import contact, filed

    from casework import telegram_links

    api = LocalBotApi()
    receipt = filed(cw)
    monkeypatch.setattr(telegram_links.secrets, "token_urlsafe", lambda n: "e-p1" + "x" * 39)
    lookalike = filed(cw)
    assert lookalike.telegram_token.startswith("e-p1")

    async def scenario(app: App) -> None:
        await send(app, f"/start {receipt.telegram_token}")
        await send(app, f"/start {lookalike.telegram_token}")

    with_bot(cw, api, scenario)
    assert contact(cw, receipt.ticket_id) == str(USER_CHAT)
    assert contact(cw, lookalike.ticket_id) == str(USER_CHAT)
    assert not any("张伟" in text for text in api.to(USER_CHAT))


def test_inline_queries_answer_with_the_same_search(cw: Casework) -> None:
    ingest(cw.lists, person("b1", iname="赵敏", cardNum=FULL, caseCode="(2024)京0105执77号"))
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        for query in ("赵敏", f"赵敏 {FULL}", "李娜", "", "！！"):
            await app.process_update(Update.de_json(inline_update(query), app.bot))
        await app.process_update(Update.de_json(inline_update("赵敏", language="en"), app.bot))

    with_bot(cw, api, scenario, public_url=PUBLIC_URL)
    by_name, by_id, removed, empty, garbage, english = api.inline_answers
    assert removed == empty == garbage == []
    for answer in (by_name, by_id):
        (article,) = answer
        assert article["type"] == "article" and article["title"] == "赵敏"
        assert article["url"] == f"{PUBLIC_URL}/entries/b1"
        body = article["input_message_content"]["message_text"]
        assert MASKED in body and f"条目页面：{PUBLIC_URL}/entries/b1" in body
        assert MASKED in article["description"]
    assert "Entry page:" in english[0]["input_message_content"]["message_text"]


def test_english_and_lang(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "张伟", language="en-GB")
        await send(app, "/lang", language="en-GB")
        await send(app, "张伟", language="en-GB")
        await send(app, "/lang", language="en-GB")
        await send(app, "/start e-p2", language="en")

    with_bot(cw, api, scenario)
    english, to_chinese, chinese, to_english, gone = api.to(USER_CHAT)
    assert english.startswith("1 public entries found, page 1 of 1:")
    assert "\nParty type: natural person\n" in english
    assert to_chinese.startswith("已切换为中文") and chinese.startswith("找到 1 条")
    assert to_english.startswith("Switched to English")
    assert gone == "This entry is no longer public."


def test_garbage_gets_a_clear_answer(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "！！！")
        await send(app, "/search")
        await send(app, "/frobnicate")
        await send(app, "张" * 300)
        await press_unknown(app)

    async def press_unknown(app: App) -> None:
        update = callback_update("p:zz:2", 1)
        await app.process_update(Update.de_json(update, app.bot))

    with_bot(cw, api, scenario)
    nothing, usage, unknown, too_long, expired = api.to(USER_CHAT)
    assert nothing.startswith("无法查询：") and "没有可检索" in nothing
    assert "/search 张伟" in usage
    assert "/help" in unknown
    assert too_long.startswith("无法查询：") and "过长" in too_long
    assert "已过期" in expired


def test_the_command_menu_names_the_search_commands() -> None:
    names = [name for name, _ in COMMANDS]
    assert {"start", "search", "case", "lang", "help"} <= set(names)


def test_the_readme_lists_every_bot_command() -> None:
    """The README's table of bot commands (### Telegram) and the bot's command menu name the
    same commands."""
    from readme_support import README

    start = README.index("### Telegram")
    telegram = README[start : README.index("\n## ", start)]
    documented = set(re.findall(r"^\| `/(\w+)", telegram, re.M))
    assert documented == {name for name, _ in COMMANDS}
