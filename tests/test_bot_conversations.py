"""The bot's conversations through a real python-telegram-bot ``Application``
(``process_update`` in, the local Bot API of bot/local_api.py out), over the real list and
casework.

Covered: ``/status`` with a match and a mismatch (the message holding the ID number deleted,
the number never echoed nor kept), a malformed and a masked number, in English too; a full
``/report`` with a photo ending in a ticket its unit sees in its queue, bound to the chat,
and a second press of "确认提交" filing nothing; a ``/complain`` about a measure, with an
entry link, a bad email and an ID number typed into the text; evidence Telegram no longer
has, and a "PDF" that is a web page; a long text cut in the summary only; ``/cancel`` inside
and outside a conversation; a new conversation in the middle of another; garbage at each
kind of step; a removed entry never described. Every test ends with the scanner
(tests/bot_support.py): no full ID number, nothing removed.
"""

from __future__ import annotations

from pathlib import Path

from bot_support import FULL, MASKED, App, labels, press, send, with_bot
from support import ingest, person
from telegram import Update
from test_casework_support import Casework, cw_fixture, routing_fixture  # noqa: F401

from bot.local_api import USER_CHAT, LocalBotApi, Sent, document_update, photo_update
from casework.evidence import EvidencePolicy, EvidenceStore

CASE = "(2024)京0105执77号"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
HOTEL = "住宿星级宾馆饭店，在夜总会、高尔夫球场等场所消费"
CONSUMPTION = "限制高消费及有关消费"


def last(api: LocalBotApi) -> Sent:
    return api.sent[-1]


def with_buttons(api: LocalBotApi) -> Sent:
    """The last message that has buttons."""
    return next(s for s in reversed(api.sent) if s.buttons)


async def file_update(app: App, update: dict) -> None:
    await app.process_update(Update.de_json(update, app.bot))


def kept_state(app: App) -> str:
    """What the bot keeps per user and chat (what a persistence would store)."""
    return repr(dict(app.user_data)) + repr(dict(app.chat_data))


# --- /status ------------------------------------------------------------------------------


def test_status_answers_a_match_and_deletes_the_message_with_the_id_number(cw: Casework) -> None:
    ingest(cw.lists, person("s1", iname="孙丽", cardNum=FULL, caseCode=CASE))
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/status")
        await send(app, "（2024）京0105执77号")  # the brackets' width does not matter
        await send(app, "孙丽")
        await send(app, FULL)
        assert FULL not in kept_state(app)
        assert "孙丽" not in kept_state(app)  # forgotten once answered

    with_bot(cw, api, scenario, public_url="https://shixin.example.cn")
    ask_case, ask_name, ask_card, deleted, result = api.to(USER_CHAT)
    assert "第 1 步" in ask_case and "案号" in ask_case
    assert ask_name.startswith("第 2 步") and ask_card.startswith("第 3 步")
    assert deleted == "含证件号码的消息已删除。"
    assert api.deleted and api.deleted[-1][0] == USER_CHAT and len(api.deleted) == 1
    assert result.startswith("查询结果")
    assert "当前状态：公布中" in result and "该条目正在公布。" in result
    assert "https://shixin.example.cn/entries/s1" in result
    assert "公布" in result.split("经过：")[1]
    assert MASKED not in result and "孙丽" not in result  # nothing the asker did not know


def test_a_conversation_goes_on_after_the_bot_restarts(cw: Casework) -> None:
    """The store-backed persistence: a /status begun before a restart is finished after it,
    and what was kept in between held no ID number (the scanner reads the store too)."""
    ingest(cw.lists, person("s1", iname="孙丽", cardNum=FULL, caseCode=CASE))
    before, after = LocalBotApi(), LocalBotApi()

    async def begin(app: App) -> None:
        await send(app, "/status")
        await send(app, CASE)
        await send(app, "孙丽")

    async def finish(app: App) -> None:
        await send(app, FULL)

    with_bot(cw, before, begin)
    assert before.to(USER_CHAT)[-1].startswith("第 3 步")
    with_bot(cw, after, finish)  # a new application over the same store
    (deleted, result) = after.to(USER_CHAT)
    assert deleted == "含证件号码的消息已删除。"
    assert result.startswith("查询结果") and "当前状态：公布中" in result


def test_a_status_mismatch_reveals_nothing_and_the_id_message_is_deleted(cw: Casework) -> None:
    ingest(cw.lists, person("s1", iname="孙丽", cardNum=FULL, caseCode=CASE))
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        for name, case in (("孙莉", CASE), ("孙丽", "(2024)京0105执78号")):
            await send(app, "/status")
            await send(app, case)
            await send(app, name)
            await send(app, FULL)
        assert FULL not in kept_state(app)

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    wrong_name, unknown_case = said[4], said[9]
    assert wrong_name == unknown_case  # a wrong name and a case that does not exist alike
    assert wrong_name.startswith("没有找到与这三项信息同时相符的条目")
    assert "公布中" not in wrong_name and "s1" not in wrong_name
    assert len(api.deleted) == 2


def test_status_refuses_a_malformed_or_masked_number_and_asks_again(cw: Casework) -> None:
    ingest(cw.lists, person("s1", iname="孙丽", cardNum=FULL, caseCode=CASE))
    api = LocalBotApi()
    wrong_check = FULL[:-1] + ("0" if FULL[-1] != "0" else "1")

    async def scenario(app: App) -> None:
        await send(app, "/status")
        await send(app, "不是案号")
        await send(app, CASE)
        await send(app, "孙丽")
        await send(app, MASKED)
        await send(app, wrong_check)
        await send(app, FULL)

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert said[1].startswith("无法查询：") and said[1].endswith("例如 (2019)京0105执12345号")
    masked, bad = said[5], said[7]
    assert "请填写完整的身份证号码" in masked and masked.endswith("统一社会信用代码。")
    assert bad.startswith("无法查询：") and bad.endswith("统一社会信用代码。")
    assert "当前状态：公布中" in said[-1]
    assert len(api.deleted) == 3  # every message that held a number


def test_status_in_english(cw: Casework) -> None:
    ingest(cw.lists, person("s1", iname="孙丽", cardNum=FULL, caseCode=CASE))
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        for text in ("/status", "hello", CASE, "孙丽", MASKED, FULL):
            await send(app, text, "en")

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert said[0].startswith("Removal status")
    assert said[1].startswith("Cannot check: that is not a case number")
    assert "a masked number with * cannot prove who you are" in said[5]
    assert "Current status: Listed" in said[-1]


# --- /report and /complain ----------------------------------------------------------------


def test_a_full_report_with_a_photo_reaches_the_unit_bound_to_the_chat(
    cw: Casework, tmp_path: Path
) -> None:
    cw.cases.evidence_store = EvidenceStore(tmp_path / "evidence")
    cw.cases.evidence_policy = EvidencePolicy()
    api = LocalBotApi()
    photo = api.upload(JPEG)

    async def scenario(app: App) -> None:
        await send(app, "/report")
        areas = last(api)
        assert CONSUMPTION in labels(areas)
        await press(app, areas, CONSUMPTION)
        assert HOTEL in labels(last(api)) and "« 返回" in labels(last(api))
        await press(app, last(api), HOTEL)
        await send(app, "(2023)京0105执1234号")  # p1's case: one public entry
        await send(app, "被执行人昨晚入住五星级酒店。")
        await press(app, last(api), "跳过")  # when
        await send(app, "某某大酒店")
        await file_update(app, photo_update(photo, len(JPEG)))
        await press(app, last(api), "完成")
        await press(app, last(api), "跳过")  # no email: this chat only
        summary = last(api)
        assert labels(summary) == ["确认提交", "取消"]
        await press(app, summary, "确认提交")
        await press(app, summary, "确认提交")  # a double press files nothing
        await send(app, "/mine")

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    summary = next(s for s in said if s.startswith("请核对后提交："))
    assert f"举报事项：{HOTEL}" in summary
    assert "被执行人：张伟（(2023)京0105执1234号，北京市朝阳区人民法院）" in summary
    assert "地点：某某大酒店" in summary and "证据材料：1 个文件" in summary
    assert "时间" not in summary
    receipt = next(s for s in said if s.startswith("已提交举报"))
    (queued,) = cw.cases.queue(cw.unit("tourism"))
    assert f"事项编号：{queued.number}" in receipt and "查询码：" in receipt
    assert f"/track {queued.number} 查询码" in receipt
    assert queued.entry_id == "p1" and queued.where == "某某大酒店" and queued.when is None
    assert queued.contact_telegram == str(USER_CHAT)
    assert [e.media_type for e in queued.evidence] == ["image/jpeg"]
    assert "该表单已经提交过，未重复提交" in said[-2]
    assert queued.number in said[-1]  # /mine: bound to this chat at once
    assert "download" in api.methods


def test_a_complaint_about_a_measure_with_an_entry_link_and_an_email(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/complain")
        await press(app, last(api), "对联合惩戒措施有异议")
        await press(app, last(api), CONSUMPTION)
        await press(app, last(api), HOTEL)
        await send(app, "请看 https://shixin.example.cn/entries/p1 这个条目")
        await send(app, f"我已全部履行，身份证号码 {FULL}。")
        await press(app, last(api), "跳过")
        await press(app, last(api), "跳过")
        # No evidence store here: the site takes no files, so the step is left out.
        await send(app, "不是邮箱")
        await send(app, "me@example.com")
        await press(app, last(api), "确认提交")
        assert FULL not in kept_state(app)

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert "所涉及的惩戒措施" in said[2]
    assert "为保护个人信息，您消息中的证件号码已隐去，原消息已删除。" in said
    assert not any("证据材料" in s for s in said)
    assert "电子邮箱格式不正确，请重新发送，或点“跳过”。" in said
    summary = next(s for s in said if s.startswith("请核对后提交："))
    assert "投诉类型：对联合惩戒措施有异议" in summary and f"所涉及的惩戒措施：{HOTEL}" in summary
    assert "本会话，以及电子邮箱 me@example.com" in summary and MASKED in summary
    assert said[-1].startswith("已提交投诉，交由")
    (queued,) = cw.cases.queue(cw.unit("tourism"))
    assert queued.kind == "complaint" and queued.measure == "consumption.hotel"
    assert queued.contact_email == "me@example.com" and FULL not in queued.what
    assert len(api.deleted) == 1


def test_a_removed_entry_cannot_be_reported_and_is_not_described(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/report")
        await press(app, last(api), CONSUMPTION)
        await press(app, last(api), HOTEL)
        await send(app, "p2")  # shielded: not to be named
        await send(app, "p3")  # never public
        await send(app, "(2023)鲁0203执9号")  # the removed entry's case: no public entry

    with_bot(cw, api, scenario)
    gone, missing, no_case = api.to(USER_CHAT)[-3:]
    assert gone.startswith("该条目已不再公开，不能举报")
    assert missing.startswith("未找到该条目")
    assert no_case.startswith("没有找到这个案号的公开条目")


# --- /cancel, switching and garbage -------------------------------------------------------


def test_a_new_conversation_in_the_middle_of_another_starts_afresh(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/status")
        await send(app, CASE)
        await send(app, "/report")  # /status is left: the next text is not its name
        await send(app, "孙丽")
        await press(app, with_buttons(api), CONSUMPTION)
        await send(app, "/status")
        await send(app, "/cancel")
        await send(app, "/cancel")

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert said[2].startswith("提交举报")
    assert said[3] == "没有看懂这条消息。请点选上面消息中的按钮。\n发送 /cancel 可随时取消。"
    assert said[-3].startswith("查询移除进度") and said[-2:] == [
        "已取消。",
        "当前没有进行中的操作，无需取消。",
    ]


def test_cancel_ends_a_conversation_and_outside_one_there_is_nothing_to_cancel(
    cw: Casework,
) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        await send(app, "/cancel")
        await send(app, "/report")
        await press(app, last(api), CONSUMPTION)
        categories = last(api)
        await send(app, "/cancel")
        await send(app, "张伟")  # a search again, no longer the conversation's answer
        await press(app, categories, HOTEL)  # a button of the cancelled form
        await send(app, "/status")
        await send(app, CASE)
        await send(app, "/cancel", "en")
        assert "'form'" not in kept_state(app)

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert said[0] == "当前没有进行中的操作，无需取消。"
    assert said[3] == "已取消。"
    assert said[4].startswith("找到 1 条公开条目")
    assert said[5].startswith("这次填写已经结束，未提交任何内容")
    assert said[-1] == "Cancelled."
    assert cw.cases.queue(cw.unit("tourism")) == []


def test_anything_not_understood_gets_what_the_step_expects(cw: Casework, tmp_path: Path) -> None:
    cw.cases.evidence_store = EvidenceStore(tmp_path / "evidence")
    cw.cases.evidence_policy = EvidencePolicy(max_file_bytes=1000, max_files=1)
    api = LocalBotApi()
    zip_file = api.upload(b"PK\x03\x04" + b"\x00" * 40)
    big = api.upload(JPEG * 100)

    async def scenario(app: App) -> None:
        await send(app, "/report")
        await send(app, "酒店")  # buttons expected
        await press(app, with_buttons(api), CONSUMPTION)
        await press(app, with_buttons(api), HOTEL)
        await file_update(app, photo_update(big, len(JPEG * 100)))  # a text expected
        await send(app, "张三")  # not on the list: a name
        await send(app, "x" * 5001)
        await send(app, "看到他在酒店。")
        await press(app, with_buttons(api), "跳过")
        await press(app, with_buttons(api), "跳过")
        await send(app, "照片在这里")  # a file expected
        await file_update(app, document_update(zip_file, "a.zip", "application/zip", 44))
        await file_update(app, photo_update(big, len(JPEG * 100)))
        await send(app, "/report", "en")  # starts over
        await send(app, "hotel", "en")

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert said[1] == "没有看懂这条消息。请点选上面消息中的按钮。\n发送 /cancel 可随时取消。"
    assert "请发送案号、本站条目页面的链接或被执行人的姓名或名称。" in said[5]
    assert said[6] == "被执行人：张三"
    assert said[8] == "太长了：最多 5000 个字，请精简后重新发送。"
    assert "请发送照片或 PDF 文件，或点“完成”。" in said[-5]
    assert said[-4].startswith("只接受照片（JPEG、PNG、WebP、HEIC）或 PDF 文件")
    assert said[-3].startswith("文件“photo-1.jpg”有 8 KB，超过每个文件的上限（1000 字节）")
    assert said[-1].startswith("Sorry, I did not understand that. Please press one of the")


def test_a_long_text_is_cut_in_the_summary_and_filed_in_full(cw: Casework) -> None:
    api = LocalBotApi()
    long_text = "他每周都在五星级酒店宴请客户。" * 333  # 4995 characters

    async def scenario(app: App) -> None:
        await send(app, "/report")
        await press(app, last(api), CONSUMPTION)
        await press(app, last(api), HOTEL)
        await send(app, "张三")
        await send(app, long_text)
        for _ in range(2):
            await press(app, last(api), "跳过")  # when, where; no files taken here
        await press(app, last(api), "跳过")  # no email
        await press(app, last(api), "确认提交")

    with_bot(cw, api, scenario)
    summary = next(s for s in api.to(USER_CHAT) if s.startswith("请核对后提交："))
    assert len(summary) < 4096 and f"（共 {len(long_text)} 字，将完整提交）" in summary
    (queued,) = cw.cases.queue(cw.unit("tourism"))
    assert queued.what == long_text and queued.debtor_name == "张三"


def test_a_file_telegram_no_longer_has_is_asked_for_again(cw: Casework, tmp_path: Path) -> None:
    cw.cases.evidence_store = EvidenceStore(tmp_path / "evidence")
    cw.cases.evidence_policy = EvidencePolicy()
    api = LocalBotApi()
    pdf = api.upload(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

    async def scenario(app: App) -> None:
        await send(app, "/report")
        await press(app, last(api), CONSUMPTION)
        await press(app, last(api), HOTEL)
        await send(app, "张三")
        await send(app, "看到他在酒店。")
        await press(app, last(api), "跳过")
        await press(app, last(api), "跳过")
        await file_update(app, document_update(pdf, "收据.pdf", "application/pdf", 60))
        await press(app, last(api), "完成")
        await press(app, last(api), "跳过")
        del api.files[pdf]  # gone from Telegram's side meanwhile
        await press(app, last(api), "确认提交")
        await press(app, last(api), "完成")  # on without it
        await press(app, last(api), "跳过")
        await press(app, last(api), "确认提交")

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert "已收到第 1 个文件（收据.pdf）。可继续发送，发完后点“完成”。" in said
    assert "无法从 Telegram 取回文件“收据.pdf”，请重新发送该文件。" in said
    (queued,) = cw.cases.queue(cw.unit("tourism"))
    assert queued.evidence == []


def test_a_file_that_is_not_what_it_claims_is_refused_by_its_content(
    cw: Casework, tmp_path: Path
) -> None:
    cw.cases.evidence_store = EvidenceStore(tmp_path / "evidence")
    cw.cases.evidence_policy = EvidencePolicy()
    api = LocalBotApi()
    fake = api.upload(b"<html><script>alert(1)</script></html>")

    async def scenario(app: App) -> None:
        await send(app, "/complain")
        await press(app, last(api), "失信信息不准确，申请更正")
        await send(app, "(2023)京0105执1234号")
        await send(app, "出生日期有误。")
        await press(app, last(api), "跳过")
        await press(app, last(api), "跳过")
        await file_update(app, document_update(fake, "判决书.pdf", "application/pdf", 38))
        await press(app, last(api), "完成")
        await press(app, last(api), "跳过")
        await press(app, last(api), "确认提交")
        await send(app, "/mine")

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    refused = next(s for s in said if s.startswith("提交未成功："))
    assert "“判决书.pdf”不是 JPEG、PNG、WebP、HEIC 图片或 PDF 文件" in refused
    assert said[-2].startswith("第 6 步（可选）：请发送照片或 PDF 文件")  # asked again
    assert said[-1].startswith("本会话没有绑定任何事项")  # nothing was filed
