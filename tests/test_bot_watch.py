"""Watches and tickets from the bot, through a real python-telegram-bot ``Application``
(``process_update`` in, the local Bot API of bot/local_api.py out), over the real list,
watches and casework.

Covered: ``/watch`` a credit code, a name plus ID number (the message deleted, the number
never echoed), a name; the "关注" button under an entry's details; ``/watches`` with its
unwatch buttons (another chat's press removes nothing); garbage; an alert fired by a publish
reaching the chat (AlertRound, then the sender's delivery round); ``/track`` with the right
and a wrong code (the message deleted, a mismatch reveals nothing) and ``/mine``. Every test
ends with the scanner of tests/test_bot_search.py: no full ID number, nothing removed; and
no access code in what the bot said.
"""

from __future__ import annotations

from bot_support import App, labels, press, send, with_bot
from support import correction, credit_code, id_number, ingest, org, person, recent_instant, removal
from telegram import Update
from test_casework_support import Casework, cw_fixture, routing_fixture  # noqa: F401

from bot.local_api import USER_CHAT, LocalBotApi, Sent, callback_update
from watches.alerts import AlertRound
from watches.service import WatchService

FULL = id_number("110105", "19900101", "778")
OTHER_CHAT = 555000222
CODE = credit_code()


def watched(cw: Casework, chat: int = USER_CHAT) -> list[str]:
    service = WatchService(cw.cases.store, cw.lists.settings.id_hash_key.reveal())
    return [w.label for w in service.list("telegram", str(chat))]


async def alerts_round(app: App, cw: Casework) -> None:
    AlertRound(cw.cases.store).run(cw.clock())
    await app.bot_data["sender"].deliver_pending()


def test_each_watch_form_and_the_alerts_a_publish_fires(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, f"/watch {CODE}")
        await send(app, f"/watch 赵敏 {FULL}")
        await send(app, "/watch 钱多多")
        await send(app, "/watch 钱多多")  # again: already watched
        await alerts_round(app, cw)  # nothing changed yet: no alert
        before = len(api.sent)
        ingest(
            cw.lists,
            org("o9", cardNum=CODE, iname="某某贸易有限公司"),
            person("z9", iname="赵敏", cardNum=FULL, caseCode="(2024)京0105执88号"),
            person("q9", iname="钱多多", caseCode="(2024)京0105执99号"),
        )
        await alerts_round(app, cw)
        alerts = [s.text for s in api.sent[before:]]
        assert len(alerts) == 3, alerts
        assert all("【失信名单关注提醒】" in a and "新发布" in a for a in alerts)
        assert any(CODE in a and "某某贸易有限公司" in a for a in alerts)
        assert any("(2024)京0105执88号" in a and "赵敏" in a for a in alerts)
        assert any("(2024)京0105执99号" in a for a in alerts)
        await alerts_round(app, cw)  # no repeat
        assert len(api.sent) == before + 3

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    code, deleted, person_watch, name, again = said[:5]
    assert code.startswith(f"已关注：统一社会信用代码 {CODE}。") and "发布、更正或移出名单" in code
    assert deleted.startswith("为保护您的信息，含证件号码的消息已删除")
    assert person_watch.startswith("已关注：赵敏 ") and "****" in person_watch
    assert name.startswith("已关注：搜索 钱多多。")
    assert again.startswith("您已经关注了：搜索 钱多多。")
    assert len(api.deleted) == 1  # the message with the ID number, only
    assert len(watched(cw)) == 3
    assert not any(FULL in label for label in watched(cw))


def test_a_correction_and_a_removal_alert_the_chat_once_even_across_a_restart(
    cw: Casework,
) -> None:
    """The watched counterparty is corrected, then removed: one alert each reaches the
    chat; a bot (and alert round) started anew on the same store repeats neither."""
    ingest(cw.lists, org("o9", cardNum=CODE, iname="某某贸易有限公司"))
    first, second = LocalBotApi(), LocalBotApi()

    async def watch_and_correct(app: App) -> None:
        await send(app, f"/watch {CODE}")
        ingest(cw.lists, correction("o9", recent_instant(1), iname="某某商贸有限公司"))
        await alerts_round(app, cw)

    async def remove_after_restart(app: App) -> None:
        await alerts_round(app, cw)  # nothing new: the correction is not sent again
        ingest(cw.lists, removal("shield", "o9"))
        await alerts_round(app, cw)
        await alerts_round(app, cw)

    with_bot(cw, first, watch_and_correct)
    with_bot(cw, second, remove_after_restart)
    corrected = first.to(USER_CHAT)[1:]
    assert len(corrected) == 1 and "已更正" in corrected[0] and CODE in corrected[0]
    (removed,) = second.to(USER_CHAT)
    assert "已移出名单" in removed and CODE in removed
    assert "某某商贸有限公司" not in removed  # a removed entry's data is not repeated


def test_watches_lists_with_unwatch_buttons_only_for_the_own_chat(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/watches")
        await send(app, f"/watch {CODE}")
        await send(app, "/watch 钱多多")
        await send(app, "/watches")
        listing = api.sent[-1]
        assert labels(listing) == ["取消关注 1", "取消关注 2"]
        assert all(len(d.encode()) <= 64 for row in listing.buttons for _, d in row)
        (data,) = [d for row in listing.buttons for t, d in row if t == "取消关注 2"]
        other = callback_update(data, listing.message_id, chat_id=OTHER_CHAT)
        await app.process_update(Update.de_json(other, app.bot))
        assert len(watched(cw)) == 2  # another chat removes nothing
        await press(app, listing, "取消关注 2")
        await press(app, listing, "取消关注 2")  # twice: already gone

    with_bot(cw, api, scenario)
    none, _, _, listing, gone_twice = api.to(USER_CHAT)[:4] + api.to(USER_CHAT)[-1:]
    assert none.startswith("本会话没有任何关注")
    assert listing.startswith("本会话关注的对象（2 项）：")
    assert f"1. 统一社会信用代码 {CODE}" in listing and "2. 搜索 钱多多" in listing
    assert api.to(OTHER_CHAT) == ["这项关注已不存在，未作任何更改。"]
    assert "已取消关注：搜索 钱多多。" in api.to(USER_CHAT)
    assert gone_twice == "这项关注已不存在，未作任何更改。"
    assert watched(cw) == [f"统一社会信用代码 {CODE}"]


def test_the_watch_button_on_an_entrys_details(cw: Casework) -> None:
    ingest(cw.lists, org("o1", cardNum=CODE))
    api = LocalBotApi()

    def details(entry_id: str) -> Sent:
        last = api.sent[-1]
        assert f"/entries/{entry_id}" in last.text and labels(last) == ["关注"]
        return last

    async def scenario(app: App) -> None:
        await send(app, "/start e-p1")  # a person: their name is watched
        await press(app, details("p1"), "关注")
        await send(app, "/start e-o1")  # an organization with a full code: the code
        await press(app, details("o1"), "关注")
        await send(app, "/start e-p2")  # no longer public: no button
        assert labels(api.sent[-1]) == []

    with_bot(cw, api, scenario)
    said = "\n".join(api.to(USER_CHAT))
    assert "已关注：搜索 张伟。" in said and f"已关注：统一社会信用代码 {CODE}。" in said
    assert watched(cw) == ["搜索 张伟", f"统一社会信用代码 {CODE}"]


def test_watch_garbage_and_english(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/watch")
        await send(app, "/watch 91110105MA0000000X")  # a bad check character
        await send(app, f"/watch {FULL}")  # an ID number without a name
        await send(app, f"/watch 赵敏 {FULL[:-1]}{'0' if FULL[-1] != '0' else '1'}")
        await send(app, "/watch " + "钱" * 150)
        await send(app, "/watch 钱多多", language="en")
        await send(app, "/watches", language="en")

    with_bot(cw, api, scenario)
    said = [t for t in api.to(USER_CHAT) if not t.startswith("为保护您的信息")]
    usage, bad_code, needs_name, bad_id, too_long, english, listing = said
    assert "/watch 统一社会信用代码" in usage
    assert bad_code.startswith("无法关注：这不是有效的统一社会信用代码")
    assert needs_name.startswith("无法关注：按身份证号码关注时请同时写上姓名")
    assert bad_id.startswith("无法关注：这不是有效的身份证号码")
    assert too_long == "无法关注：姓名或名称过长。"
    assert english.startswith("Now watching: 搜索 钱多多.")
    assert listing.startswith("Watched in this chat (1):")
    assert labels(api.sent[-1]) == ["Unwatch 1"]
    assert len(api.deleted) == 2  # both messages with an ID number
    assert watched(cw) == ["搜索 钱多多"]


def test_track_and_mine(cw: Casework) -> None:
    from test_telegram import filed

    receipt = filed(cw)
    tourism = cw.unit("tourism")
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/mine")
        await send(app, f"/start {receipt.telegram_token}")
        cw.clock.advance(hours=1)
        cw.cases.accept(tourism, receipt.ticket_id, "已受理，正在核查")
        cw.cases.note(tourism, receipt.ticket_id, "内部备注：只给本单位看")
        await send(app, "/mine")
        await send(app, f"/track {receipt.number} {receipt.access_code}")
        await send(app, f"/track {receipt.number} WRONG-CODE-1234")
        await send(app, f"/track NOPE-1 {receipt.access_code}")
        api.undeletable = True
        await send(app, f"/track {receipt.number} {receipt.access_code}")
        await send(app, "/track")
        await send(app, f"/mine {receipt.access_code}", language="en")

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert said[0].startswith("本会话没有绑定任何事项")
    mine = next(t for t in said if t.startswith("本会话绑定的事项（1 件）："))
    assert f"1. {receipt.number}：已受理" in mine
    deleted_notes = [t for t in said if t == "为保护您的信息，含查询码的消息已删除。"]
    assert len(deleted_notes) == 3 and len(api.deleted) == 3
    views = [t for t in said if t.startswith(f"事项 {receipt.number}：")]
    assert len(views) == 2 and views[0] == views[1]
    assert "：已受理\n承办单位：" in views[0] and "答复期限：" in views[0]
    assert views[0].splitlines()[-1].endswith("已受理，正在核查")
    mismatches = [t for t in said if t.startswith("没有找到这个事项")]
    assert len(mismatches) == 2
    assert "为保护您的信息，请删除您发送的含查询码的消息。" in said
    assert "“事项查询”页面" in said[-2]
    assert said[-1].startswith("Tickets bound to this chat (1):")
    for text in said:
        assert receipt.access_code not in text
    assert not any("内部备注" in t for t in said)
    assert mismatches[0] == mismatches[1]  # a wrong code and an unknown number alike
