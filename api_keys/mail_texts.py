"""What API-key mails say, and the owner's manage token.

The manage token is ``<key id>.<HMAC>`` under the list's key (``SHIXIN_ID_HASH_KEY``), like
a watch mail's (watches/mail_texts.py): computed again on every use, so none is stored.
Chinese first, a short English line after it: a mail has no language switch.
"""

from __future__ import annotations

import hashlib
import hmac
import re

SUBJECT_CONFIRM = "请确认 API 密钥申请 / Please confirm your API key request"
SUBJECT_ISSUED = "API 密钥已签发 / Your API key was issued"
CONFIRM_PATH = "/api/keys/confirm/"
MANAGE_PATH = "/api/keys/manage/"
_TOKEN = r"[0-9]+\.[0-9a-f]{32}"


def manage_token(secret: str, key_id: int, key_hash: str) -> str:
    mac = hmac.new(secret.encode(), f"api-key:{key_id}:{key_hash}".encode(), "sha256")
    return f"{key_id}.{mac.hexdigest()[:32]}"


def token_key(token: str) -> int | None:
    """The key id a manage token names (still to be checked with ``manage_token``)."""
    if not re.fullmatch(_TOKEN, token):
        return None
    return int(token.partition(".")[0])


def confirm_hash(token: str) -> str:
    """A confirmation token is random; only this hash of it is stored."""
    return hashlib.sha256(f"api-key-confirm:{token}".encode()).hexdigest()


def confirmation(organization: str, url: str, hours: int) -> str:
    return (
        f"有人用本邮箱地址为「{organization}」申请失信被执行人名单公开查询网站的 API 密钥。\n\n"
        f"确认并领取密钥请打开下面的链接（{hours} 小时内有效）：\n{url}\n\n"
        "密钥只在该页面上显示一次。如果不是您本人申请，请忽略本邮件。\n\n"
        f"Someone asked for an API key for “{organization}” with this address. Open the "
        f"link above within {hours} hours to get it; it is shown once. Not you? Ignore this."
    )


def issued(organization: str, shown: str, url: str) -> str:
    return (
        f"「{organization}」的 API 密钥（{shown}）已签发。本邮件不含密钥本身。\n\n"
        f"查看每日用量或吊销密钥：\n{url}\n\n"
        f"The API key {shown} for “{organization}” was issued (this mail does not contain "
        "it). See its daily usage or revoke it at the link above."
    )
