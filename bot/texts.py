"""What the bot says, in Chinese. Plain text: the bot sends no parse mode, so nothing here
is markup and nothing a user typed is ever interpreted.

The terms are the site's (事项编号, 事项查询); with ``public_url`` (SHIXIN_PUBLIC_URL) the
answers that send a user to the site give its address, and with ``demo`` (SHIXIN_DEMO)
/start and /help say first that the site shows invented data."""

from __future__ import annotations

from casework.notice_texts import DEMO_BANNER
from casework.telegram_links import LINK_LIFETIME, LinkResult, LinkStatus

COMMANDS = (
    ("start", "开始使用；从回执页面的链接打开即可绑定事项"),
    ("search", "按姓名或名称查询名单，可加身份证号码或统一社会信用代码"),
    ("case", "按案号查询名单"),
    ("lang", "切换中文 / English"),
    ("stop", "停止本会话的全部 Telegram 通知"),
    ("track", "查询事项进展：/track 事项编号 查询码"),
    ("mine", "本会话绑定的事项"),
    ("watch", "关注信用代码、姓名加身份证号码或姓名"),
    ("watches", "查看和取消关注"),
    ("status", "被执行人本人查询移除进度（案号、姓名、证件号码）"),
    ("report", "举报被执行人违反惩戒措施的行为"),
    ("complain", "对名单条目提出投诉"),
    ("cancel", "取消正在进行的查询或填写"),
    ("help", "帮助"),
)

WELCOME = (
    "您好！这是失信被执行人名单公开查询网站的官方机器人。\n\n"
    "目前它可以把您提交的投诉或举报的进展（受理、转办、答复、办结等）发送到这里："
    "提交时勾选“通过 Telegram 接收通知”，再点击回执页面上的 Telegram 链接即可绑定。\n\n"
    "直接发送姓名或名称（如 张伟）即可查询名单，也可以发送案号；"
    "在任何聊天中输入 @机器人用户名 加姓名也能查询。\n\n"
    "/stop 停止全部通知\n/help 帮助"
)

HELP = (
    "可用命令：\n"
    "直接发送姓名或名称 —— 查询名单（每页 5 条，可翻页、看详情）\n"
    "/search 姓名 [身份证号码或统一社会信用代码] —— 查询名单\n"
    "/case 案号 —— 按案号查询\n"
    "/lang —— 切换中文 / English\n"
    "/start —— 从回执页面上的链接打开，把事项绑定到本会话\n"
    "/stop —— 停止本会话的全部 Telegram 通知，并从事项中删除本会话\n"
    "/track 事项编号 查询码 —— 查询事项进展（读取后删除您的消息）\n"
    "/mine —— 本会话绑定的事项\n"
    "/watch 统一社会信用代码 | 姓名 身份证号码 | 姓名 —— 关注，"
    "名单中出现相关的发布、更正或移出名单时提醒您\n"
    "/watches —— 查看和取消关注\n"
    "/status —— 被执行人本人查询移除进度：依次发送案号、姓名、完整证件号码\n"
    "/report —— 举报被执行人违反惩戒措施的行为（可附照片或 PDF）\n"
    "/complain —— 对名单条目提出投诉（错误纳入、信息有误、应移除而未移除等）\n"
    "/cancel —— 取消正在进行的查询或填写\n"
    "/help —— 显示本帮助\n\n"
    "发送查询码或身份证号码时，机器人读取后会删除您的消息；"
    "回复中只显示脱敏号码，不会重复您的查询码。"
)

NO_CODES_HERE = (
    "也可以在这里发送 /track 事项编号 查询码；为保护您的信息，机器人读取后会删除含查询码的消息。"
)

PRIVATE_ONLY = "请在与机器人的私聊中使用此功能。"
FALLBACK = "没有看懂这条消息。请发送姓名或名称查询名单，或发送 /help 查看可用命令。"
DAYS = LINK_LIFETIME.days

LINK_ANSWERS = {
    LinkStatus.USED: (
        "这个绑定链接已经使用过，不能再次使用，未作任何更改。"
        "如果是您本人绑定的，通知会发送到当初绑定的会话。"
    ),
    LinkStatus.EXPIRED: (
        f"这个绑定链接已过期（提交后 {DAYS} 天内有效），未绑定任何事项。"
        "您仍可凭事项编号和查询码在本站“事项查询”页面查看进展。"
    ),
    LinkStatus.UNKNOWN: (
        "无法识别这个绑定链接，未绑定任何事项。请直接点击回执页面上的链接打开，不要修改链接内容。"
    ),
}


def with_track_link(text: str, public_url: str | None) -> str:
    """``text`` (which names the tracking page) and, on a line of its own so that Telegram
    makes it clickable, the page's address when there is one."""
    return f"{text}\n{public_url}/track" if public_url else text


DEMO_FIRST = f"{DEMO_BANNER}本站运行在演示数据上，名单中的人员均为虚构。"


def _demo_first(text: str, demo: bool) -> str:
    return f"{DEMO_FIRST}\n\n{text}" if demo else text


def welcome(*, demo: bool = False, public_url: str | None = None) -> str:
    text = WELCOME + (f"\n\n网站：{public_url}" if public_url else "")
    return _demo_first(text, demo)


def help_text(*, demo: bool = False) -> str:
    return _demo_first(HELP, demo)


def track(public_url: str | None = None) -> str:
    how = "请在本站“事项查询”页面输入事项编号和查询码，查看事项的全部进展和答复。"
    return f"{with_track_link(how, public_url)}\n\n{NO_CODES_HERE}"


def link_answer(result: LinkResult, public_url: str | None = None) -> str | None:
    """The reply to ``/start <token>``; None when the queued confirmation is the answer."""
    if result.status is LinkStatus.LINKED:
        return None
    if result.status is LinkStatus.ALREADY:
        return f"事项 {result.number} 已绑定本会话，无需重复操作。发送 /stop 可停止通知。"
    answer = LINK_ANSWERS[result.status]
    return with_track_link(answer, public_url) if result.status is LinkStatus.EXPIRED else answer


def stopped(numbers: list[str], public_url: str | None = None) -> str:
    if not numbers:
        return "本会话没有绑定任何事项，不会收到通知。"
    text = (
        f"已停止 {len(numbers)} 件事项的 Telegram 通知（{'、'.join(numbers)}），"
        "本会话已从这些事项中删除。进展仍可在本站“事项查询”页面查看。"
    )
    return with_track_link(text, public_url)
