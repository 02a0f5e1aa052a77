"""What watch mails say, and the links every one of them carries.

Every alert and digest ends with two links: the manage page and the one-click unsubscribe
(RFC 8058). Both carry the address's token, ``<subscriber id>.<HMAC>`` under the list's key
(``SHIXIN_ID_HASH_KEY``, which never changes for a running list, so old mails keep working):
the token is the credential, computed again on every use, so none is stored. The mail sender
turns the unsubscribe link back into ``List-Unsubscribe`` headers (``list_headers``), and
only for a token that matches the message's recipient: no other mail can claim them.

Chinese first, a short English line after it: a mail has no language switch.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from datetime import date

SUBJECT_CONFIRM = "请确认关注提醒邮件 / Please confirm your watch"
SUBJECT_DIGEST = "失信名单关注每日汇总（{day}）"
MANAGE_PATH = "/watch/manage/"
UNSUBSCRIBE_PATH = "/watch/unsubscribe/"
_TOKEN = r"[0-9]+\.[0-9a-f]{32}"
_UNSUBSCRIBE = re.compile(re.escape(UNSUBSCRIBE_PATH) + f"({_TOKEN})")


def address_token(key: str, subscriber_id: int, address: str) -> str:
    mac = hmac.new(key.encode(), f"watch-mail:{subscriber_id}:{address}".encode(), "sha256")
    return f"{subscriber_id}.{mac.hexdigest()[:32]}"


def token_subscriber(token: str) -> int | None:
    """The subscriber id a token names (still to be checked with ``token_matches``)."""
    if not re.fullmatch(_TOKEN, token):
        return None
    return int(token.partition(".")[0])


def token_matches(key: str, token: str, subscriber_id: int, address: str) -> bool:
    return hmac.compare_digest(token, address_token(key, subscriber_id, address))


def confirm_hash(token: str) -> str:
    """A confirmation token is random; only this hash of it is stored."""
    return hashlib.sha256(f"watch-confirm:{token}".encode()).hexdigest()


def link(public_url: str | None, path: str) -> str:
    return f"{public_url or ''}{path}"


def footer(public_url: str | None, token: str) -> str:
    return (
        "——\n"
        f"管理关注、改为每日汇总（Manage）：{link(public_url, MANAGE_PATH + token)}\n"
        f"退订全部提醒（Unsubscribe）：{link(public_url, UNSUBSCRIBE_PATH + token)}"
    )


def confirmation(label: str, confirm_url: str, hours: int) -> str:
    return (
        f"有人用本邮箱地址在失信被执行人名单公开查询网站申请关注「{label}」。\n\n"
        f"确认请打开下面的链接（{hours} 小时内有效）：\n{confirm_url}\n\n"
        "确认之前不会发送任何提醒。如果不是您本人申请，请忽略本邮件。\n\n"
        f"Someone asked to watch “{label}” with this address. Open the link above within "
        f"{hours} hours to confirm; nothing is sent before that. Not you? Ignore this mail."
    )


def alert_mail(alert: str, public_url: str | None, token: str) -> str:
    return f"{alert}\n\n{footer(public_url, token)}"


def digest_subject(day: date) -> str:
    return SUBJECT_DIGEST.format(day=day.isoformat())


def digest_mail(alerts: Sequence[str], day: date, public_url: str | None, token: str) -> str:
    head = f"{day.isoformat()} 每日汇总：自上次汇总以来共 {len(alerts)} 条提醒。"
    return "\n\n".join([head, *alerts, footer(public_url, token)])


def list_headers(key: str, public_url: str | None) -> Callable[[str, str], dict[str, str]]:
    """For the mail sender: the ``List-Unsubscribe`` headers of a watch mail (found by its
    unsubscribe link, checked against the recipient), none for any other mail. They need
    an https address, so none without ``SHIXIN_PUBLIC_URL``."""

    def headers(recipient: str, body: str) -> dict[str, str]:
        if not public_url:
            return {}
        match = _UNSUBSCRIBE.search(body)
        if match is None:
            return {}
        token = match.group(1)
        subscriber = token_subscriber(token)
        if subscriber is None or not token_matches(key, token, subscriber, recipient.lower()):
            return {}
        return {
            "List-Unsubscribe": f"<{public_url}{UNSUBSCRIBE_PATH}{token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }

    return headers
