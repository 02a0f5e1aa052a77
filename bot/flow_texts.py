"""What the bot's conversations say (/status, /report, /complain, /cancel), in Chinese first
and in English for English-speaking users, like bot/search_texts.py. Plain text.

The /status answers follow the site's status page (templates/status.html) word for word in
Chinese: a mismatch says what the page says and nothing more. A report's summary and its
receipt are here too; category, unit and measure names come from the routing file (Chinese,
as on the site)."""

from __future__ import annotations

from typing import Any

from casework.intake import Receipt
from casework.routing import Routing
from core.china_time import CST

T: dict[str, dict[str, str]] = {
    "zh": {
        # --- every conversation
        "cancelled": "已取消。",
        "nothing_to_cancel": "当前没有进行中的操作，无需取消。",
        "expect": "没有看懂这条消息。{expected}\n发送 /cancel 可随时取消。",
        "skip": "跳过",
        "done": "完成",
        "back": "« 返回",
        "id_masked": "为保护个人信息，您消息中的证件号码已隐去{deleted}。",
        "id_masked_deleted": "，原消息已删除",
        # --- /status
        "ask_case": "查询移除进度（供被执行人本人查询）。三项都相符才会显示结果；"
        "证件号码读取后即删除您的消息，不会保存。\n\n第 1 步（共 3 步）：请发送案号，"
        "例如 (2019)京0105执12345号",
        "ask_name": "第 2 步（共 3 步）：请发送姓名或名称。",
        "ask_card": "第 3 步（共 3 步）：请发送完整的身份证号码或统一社会信用代码。"
        "带星号的打码号码是公开的，不能证明您是当事人。机器人读取后会立即删除这条消息。",
        "again_case": "请发送案号，例如 (2019)京0105执12345号",
        "again_name": "请发送姓名或名称。",
        "again_card": "请发送完整的身份证号码或统一社会信用代码。",
        "again_status": "发送 /status 可重新查询。",
        "card_deleted": "含证件号码的消息已删除。",
        "card_not_deleted": "为保护您的信息，请删除您发送的含证件号码的消息。",
        "status_bad": "无法查询：{message}",
        "no_match": "没有找到与这三项信息同时相符的条目\n"
        "· 请核对案号的年份、法院代字和序号；括号样式、全角半角不影响查询。\n"
        "· 请核对姓名或名称的写法；繁体与简体、空格不影响查询。\n"
        "· 请核对证件号码是否为完整号码。\n"
        "· 依法不宜公开、从未在本网站公开过的条目，不在此查询；如有疑问，请向执行法院咨询。\n\n"
        "发送 /status 可重新查询。",
        "found": "查询结果",
        "state": "当前状态：{state}",
        "period_over": "名单有效期已于 {date} 届满，本网站已不再显示，移除正在记录。",
        "public": "该条目正在公布。",
        "valid_until": "有效期至 {date}。",
        "not_public": "该条目已不再公开，本网站不显示其任何内容。",
        "steps": "经过：",
        "removals": "移除记录（北京时间；法定期限为移除生效后第三个工作日结束）：",
        "removal": "· {kind}：法院决定生效 {effective}，本网站收到 {received}，"
        "法定期限 {deadline}，在本网站生效 {removed}；{state}{late}",
        "not_yet": "尚未生效",
        "arrived_late": "（法院报送到达时已超过期限）",
        "repair": "屏蔽或撤销后，可以向实施惩戒的单位申请信用修复。"
        "如认为移除不及时或信息有误，请向执行法院提出。",
        # --- /report and /complain
        "ask_area": "提交举报（共 7 步），可随时发送 /cancel 取消。\n\n"
        "第 1 步：被执行人违反了哪一方面的惩戒措施？请点选：",
        "ask_category": "请点选被执行人违反的惩戒措施：",
        "ask_complaint": "提出投诉（共 7 步），可随时发送 /cancel 取消。\n\n"
        "第 1 步：请点选投诉类型：",
        "ask_measure_area": "这类投诉交给实施该措施的单位办理。请点选所涉及的惩戒措施所属方面：",
        "ask_measure": "请点选所涉及的惩戒措施：",
        "chosen": "已选择：{name}",
        "ask_entry": "第 2 步：被执行人是谁？请发送案号，或本站条目页面的链接（或条目编号）；"
        "被执行人不在本站名单中的，直接发送其姓名或名称。",
        "skip_entry": "不在名单中，填写名称",
        "ask_debtor": "请发送被执行人的姓名或名称。",
        "entry_chosen": "被执行人：{label}",
        "pick_entry": "案号 {case} 下有 {n} 个公开条目，请点选：",
        "no_case": "没有找到这个案号的公开条目。请核对案号，或直接发送被执行人的姓名或名称。",
        "entry_missing": "未找到该条目。请核对链接，或发送案号或被执行人的姓名或名称。",
        "entry_gone": "该条目已不再公开，不能举报。被执行人仍有违反惩戒措施的行为的，"
        "请发送其姓名或名称。",
        "entry_gone_ok": "条目 {id}（已不再公开）",
        "ask_what_report": "第 3 步：请写明看到的情况：何人、做了什么，以及您是如何知道的。"
        "请不要填写身份证号码等与事项无关的个人信息。",
        "ask_what_complaint": "第 3 步：请写明投诉的理由：哪些信息有误、正确的情况，"
        "以及已经履行、和解或被裁定终结执行等理由。",
        "ask_when": "第 4 步（可选）：发生的时间，例如“2026年9月28日晚”；不需要请点“跳过”。",
        "ask_where": "第 5 步（可选）：发生的地点，例如“某某大酒店”；不需要请点“跳过”。",
        "ask_evidence": "第 6 步（可选）：请发送照片或 PDF 文件作为证据材料，最多 {n} 个，"
        "每个不超过 {size}。文件只交给办理单位，不会公开。发完后点“完成”，没有请点“跳过”。",
        "evidence_got": "已收到第 {n} 个文件（{name}）。可继续发送，发完后点“完成”。",
        "evidence_full": "最多 {n} 个文件，已达上限。请点“完成”。",
        "evidence_too_big": "文件“{name}”有 {size}，超过每个文件的上限（{limit}）。"
        "请换一个较小的文件。",
        "evidence_type": "只接受照片（JPEG、PNG、WebP、HEIC）或 PDF 文件。"
        "请以照片或 PDF 文件发送，或点“完成”。",
        "ask_contact": "第 7 步：受理、转办、答复等每一步都会通知到本会话。"
        "如还需通过电子邮件接收，请发送邮箱地址；不需要请点“跳过”。",
        "bad_email": "电子邮箱格式不正确，请重新发送，或点“跳过”。",
        "too_long": "太长了：最多 {n} 个字，请精简后重新发送。",
        "bad_text": "这条消息含有无法保存的字符，请重新发送。",
        "summary": "请核对后提交：",
        "s_kind_report": "举报事项：{name}",
        "s_kind_complaint": "投诉类型：{name}",
        "s_measure": "所涉及的惩戒措施：{name}",
        "s_debtor": "被执行人：{label}",
        "s_what": "情况：{what}",
        "s_cut": "……（共 {n} 字，将完整提交）",
        "s_when": "时间：{when}",
        "s_where": "地点：{where}",
        "s_files": "证据材料：{n} 个文件",
        "s_contact": "通知：本会话{email}",
        "s_email": "，以及电子邮箱 {email}",
        "again_buttons": "请点选上面消息中的按钮。",
        "again_entry": "请发送案号、本站条目页面的链接或被执行人的姓名或名称。",
        "again_what": "请用文字写明情况。",
        "again_optional": "请用文字发送，或点“跳过”。",
        "again_evidence": "请发送照片或 PDF 文件，或点“完成”。",
        "again_contact": "请发送电子邮箱地址，或点“跳过”。",
        "confirm": "确认提交",
        "abort": "取消",
        "confirm_expected": "请点“确认提交”或“取消”。",
        "refused": "提交未成功：{detail}",
        "download_failed": "无法从 Telegram 取回文件“{name}”，请重新发送该文件。",
        "already": "该表单已经提交过，未重复提交。发送 /mine 查看本会话的事项。",
        "stale": "这次填写已经结束，未提交任何内容。发送 /report 或 /complain 重新填写。",
        "receipt": "已提交{kind}，交由{unit}办理，{due}前受理。\n\n"
        "事项编号：{number}\n查询码：{code}\n\n"
        "查询码只显示这一次，请记下。"
        "之后每一步进展都会通知到本会话；也可发送 /track {number} 查询码 查看进展，"
        "或在本站“事项查询”页面查询。",
    },
    "en": {
        "cancelled": "Cancelled.",
        "nothing_to_cancel": "Nothing is in progress, so there is nothing to cancel.",
        "expect": "Sorry, I did not understand that. {expected}\nSend /cancel to stop at any time.",
        "skip": "Skip",
        "done": "Done",
        "back": "« Back",
        "id_masked": "To protect personal data, the ID number in your message was masked{deleted}.",
        "id_masked_deleted": " and your message deleted",
        "ask_case": "Removal status (for the debtor themselves). An answer comes only when all "
        "three match; the message with the ID number is deleted once read and nothing is kept."
        "\n\nStep 1 of 3: send the case number, e.g. (2019)京0105执12345号",
        "ask_name": "Step 2 of 3: send the name.",
        "ask_card": "Step 3 of 3: send the full ID number or unified social credit code. A masked "
        "number with * is public and proves nothing. The bot deletes that message at once.",
        "again_case": "Send the case number, e.g. (2019)京0105执12345号",
        "again_name": "Send the name.",
        "again_card": "Send the full ID number or unified social credit code.",
        "again_status": "Send /status to check again.",
        "card_deleted": "The message with the ID number was deleted.",
        "card_not_deleted": "To protect your data, please delete your message with the ID number.",
        "status_bad": "Cannot check: {message}",
        "no_match": "No entry matches all three.\n"
        "· Check the year, court code and serial of the case number; bracket style and width do "
        "not matter.\n"
        "· Check how the name is written; traditional or simplified characters and spaces do not "
        "matter.\n"
        "· Check that the ID number is the full number.\n"
        "· Entries not fit for publication, and entries never public on this site, are not "
        "answered here; ask the enforcing court.\n\nSend /status to check again.",
        "found": "Result",
        "state": "Current status: {state}",
        "period_over": "The listing period ended on {date}; this site no longer shows the entry "
        "and the removal is being recorded.",
        "public": "The entry is published.",
        "valid_until": "Listed until {date}.",
        "not_public": "The entry is no longer published; this site shows none of its content.",
        "steps": "History:",
        "removals": "Removals (China time; the deadline is the end of the third working day "
        "after the removal took effect):",
        "removal": "· {kind}: court decision effective {effective}, received here {received}, "
        "deadline {deadline}, effective here {removed}; {state}{late}",
        "not_yet": "not yet",
        "arrived_late": " (the court's notice arrived after the deadline)",
        "repair": "After shielding or revocation you may ask the punishing units for credit "
        "repair. If the removal was late or the data is wrong, contact the enforcing court.",
        "ask_area": "File a report (7 steps); send /cancel at any time to stop.\n\n"
        "Step 1: which kind of measure did the debtor break? Choose:",
        "ask_category": "Choose the measure the debtor broke:",
        "ask_complaint": "File a complaint (7 steps); send /cancel at any time to stop.\n\n"
        "Step 1: choose the kind of complaint:",
        "ask_measure_area": "Such a complaint goes to the unit applying the measure. Choose the "
        "kind of measure:",
        "ask_measure": "Choose the measure:",
        "chosen": "Chosen: {name}",
        "ask_entry": "Step 2: who is the debtor? Send the case number, or the link (or id) of the "
        "entry's page on this site; for a debtor not on the site's list, send the name.",
        "skip_entry": "Not on the list: type a name",
        "ask_debtor": "Send the debtor's name.",
        "entry_chosen": "Debtor: {label}",
        "pick_entry": "Case {case} has {n} public entries; choose one:",
        "no_case": "No public entry has that case number. Check it, or send the debtor's name.",
        "entry_missing": "Entry not found. Check the link, or send a case number or the debtor's "
        "name.",
        "entry_gone": "This entry is no longer public and cannot be reported. If the debtor still "
        "breaks a measure, send their name.",
        "entry_gone_ok": "entry {id} (no longer public)",
        "ask_what_report": "Step 3: describe what you saw: who did what, and how you know. Please "
        "leave out ID numbers and other personal data the matter does not need.",
        "ask_what_complaint": "Step 3: give the reasons: which data is wrong and what is right, "
        "or that the debt was paid, settled or enforcement was ended.",
        "ask_when": "Step 4 (optional): when it happened, e.g. 2026年9月28日晚; or press Skip.",
        "ask_where": "Step 5 (optional): where it happened, e.g. a hotel's name; or press Skip.",
        "ask_evidence": "Step 6 (optional): send photos or PDF files as evidence, at most {n}, "
        "each up to {size}. Only the handling unit sees them. Press Done when finished, or Skip.",
        "evidence_got": "File {n} received ({name}). Send more, or press Done.",
        "evidence_full": "That is the limit of {n} files. Press Done.",
        "evidence_too_big": "The file “{name}” is {size}, over the limit of {limit} per file. "
        "Please send a smaller one.",
        "evidence_type": "Only photos (JPEG, PNG, WebP, HEIC) or PDF files are accepted. Send a "
        "photo or a PDF file, or press Done.",
        "ask_contact": "Step 7: every step (accepted, transferred, answered) is sent to this chat. "
        "To get emails too, send your email address; otherwise press Skip.",
        "bad_email": "That is not an email address. Send it again, or press Skip.",
        "too_long": "Too long: at most {n} characters. Please shorten it and send it again.",
        "bad_text": "That message holds characters that cannot be stored; please send it again.",
        "summary": "Please check, then submit:",
        "s_kind_report": "Report about: {name}",
        "s_kind_complaint": "Complaint: {name}",
        "s_measure": "Measure: {name}",
        "s_debtor": "Debtor: {label}",
        "s_what": "What: {what}",
        "s_cut": "… ({n} characters, submitted in full)",
        "s_when": "When: {when}",
        "s_where": "Where: {where}",
        "s_files": "Evidence: {n} file(s)",
        "s_contact": "Notices: this chat{email}",
        "s_email": " and email {email}",
        "again_buttons": "Please press one of the buttons above.",
        "again_entry": "Send a case number, an entry page's link or the debtor's name.",
        "again_what": "Please describe it in text.",
        "again_optional": "Send it as text, or press Skip.",
        "again_evidence": "Send a photo or a PDF file, or press Done.",
        "again_contact": "Send an email address, or press Skip.",
        "confirm": "Submit",
        "abort": "Cancel",
        "confirm_expected": "Press Submit or Cancel.",
        "refused": "Not submitted: {detail}",
        "download_failed": "Could not fetch the file “{name}” from Telegram; please send it again.",
        "already": "This form was already submitted; nothing was filed twice. Send /mine for this "
        "chat's tickets.",
        "stale": "This form is over; nothing was submitted. Send /report or /complain to start "
        "again.",
        "receipt": "Your {kind} was filed; {unit} handles it and accepts it by {due}.\n\n"
        "Ticket number: {number}\nAccess code: {code}\n\n"
        "The access code is shown only this once: note it down. Every step is sent to this chat; "
        "you can also send /track {number} <access code>, or use the site's tracking page.",
    },
}
SUMMARY_WHAT = 1500
KIND_EN = {"report": "report", "complaint": "complaint"}
KIND_ZH = {"report": "举报", "complaint": "投诉"}
# The site's names (templates/status.html), and their English (portal/translations.py).
STATUS_NAMES = {
    "zh": {
        "published": "公布中",
        "corrected": "公布中，已更正",
        "shielded": "已屏蔽",
        "deleted": "已删除",
        "revoked": "已撤销",
        "expired": "有效期届满，已移除",
    },
    "en": {
        "published": "Listed",
        "corrected": "Listed, corrected",
        "shielded": "Shielded",
        "deleted": "Deleted",
        "revoked": "Revoked",
        "expired": "Expired, removed",
    },
}
STEP_NAMES = {
    "zh": {
        "publish": "公布",
        "correct": "更正",
        "shield": "屏蔽",
        "delete": "删除",
        "revoke": "撤销",
        "expire": "有效期届满",
    },
    "en": {
        "publish": "published",
        "correct": "corrected",
        "shield": "shielded",
        "delete": "deleted",
        "revoke": "revoked",
        "expire": "listing period ended",
    },
}
REMOVAL_STATES = {
    "zh": {
        "on_time": "在法定期限内生效",
        "late": "超过法定期限后生效",
        "pending": "正在移除，尚在法定期限内",
        "overdue": "已超过法定期限，仍在移除",
    },
    "en": {
        "on_time": "took effect within the deadline",
        "late": "took effect after the deadline",
        "pending": "in progress, within the deadline",
        "overdue": "past the deadline, still in progress",
    },
}


def t(lang: str, key: str, **kw: Any) -> str:
    text = T.get(lang, T["zh"])[key]
    return text.format(**kw) if kw else text


def name_of(table: dict[str, dict[str, str]], lang: str, key: str) -> str:
    return table.get(lang, table["zh"]).get(key, key)


def kind_name(lang: str, kind: str) -> str:
    return (KIND_EN if lang == "en" else KIND_ZH)[kind]


def summary(lang: str, draft: dict[str, Any], routing: Routing) -> str:
    """The draft of bot/report_flow.py as the user confirms it."""

    def name(code: str | None) -> str:
        found = routing.category(code or "")
        return found.name if found else code or ""

    lines = [
        t(lang, "summary"),
        t(lang, f"s_kind_{draft['kind']}", name=name(draft["category"])),
    ]
    if draft.get("measure"):
        lines.append(t(lang, "s_measure", name=name(draft["measure"])))
    lines.append(t(lang, "s_debtor", label=draft.get("entry_label") or draft.get("debtor_name")))
    what = draft["what"]
    if len(what) > SUMMARY_WHAT:  # a message holds 4096 characters: the text is shown cut
        what = what[:SUMMARY_WHAT] + t(lang, "s_cut", n=len(what))
    lines.append(t(lang, "s_what", what=what))
    for key in ("when", "where"):
        if draft.get(key):
            lines.append(t(lang, f"s_{key}", **{key: draft[key]}))
    if draft.get("files"):
        lines.append(t(lang, "s_files", n=len(draft["files"])))
    email = t(lang, "s_email", email=draft["email"]) if draft.get("email") else ""
    lines.append(t(lang, "s_contact", email=email))
    return "\n".join(lines)


def receipt_text(lang: str, kind: str, receipt: Receipt) -> str:
    """The answer to a filed ticket: its number and, this once, its access code."""
    return t(
        lang,
        "receipt",
        kind=kind_name(lang, kind),
        unit=receipt.unit_name,
        due=receipt.accept_due.astimezone(CST).strftime("%Y-%m-%d"),
        number=receipt.number,
        code=receipt.access_code,
    )
