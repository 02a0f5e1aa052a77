"""What the mail says when an endpoint is disabled after a day of failures. Chinese first,
a short English paragraph after it: a mail has no language switch."""

from __future__ import annotations

from datetime import datetime

from core.china_time import CST

SUBJECT_DISABLED = "Webhook 已停用 / Your webhook was disabled"


def disabled(
    organization: str, key_shown: str, url: str, since: datetime, error: str, manage_url: str
) -> str:
    when = f"{since.astimezone(CST):%Y-%m-%d %H:%M}"
    return (
        f"「{organization}」的 API 密钥（{key_shown}）登记的 webhook 地址\n{url}\n"
        f"自 {when}（北京时间）起连续推送失败满一天，已停用，不再推送。\n"
        f"最后一次错误：{error}\n\n"
        "排除故障后可在下面的页面重新启用；停用以来的变更会在启用后补发：\n"
        f"{manage_url}\n\n"
        f"The webhook {url} of the API key {key_shown} (“{organization}”) has failed since "
        f"{when} Beijing time, for a whole day, and was disabled. Last error: {error}. "
        "Once it is fixed, enable it again at the link above: the changes since it stopped "
        "are sent then."
    )
