"""Email from the notification outbox: Chinese plain text with an HTML alternative, sent
with aiosmtplib to ``SHIXIN_SMTP_URL``, or written as ``.eml`` files to
``DATA_DIR/mail-outbox/`` when no SMTP server is configured (the embedded default).

``MailSender.deliver_pending()`` is one round: claim due ``email`` rows for a lease
(casework/outbox.py; one round per row even with several portal workers), send them over one
SMTP connection, mark each sent, or failed (retried with backoff, given up after
``SHIXIN_MAIL_MAX_ATTEMPTS``). A refused recipient fails only its own message. Rows of a
round that died are claimed again once the lease has run out.

The SMTP URL and its parameters are described in ``core/smtp_url.py``.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from casework import notice_texts, outbox
from casework.delivery import DeliveryRound, RoundStops, Undeliverable
from casework.outbox import RoundReport
from core.china_time import CST
from core.smtp_url import SmtpTarget, parse_smtp_url

if TYPE_CHECKING:
    import aiosmtplib

    from core.db import Store
    from core.settings import Settings

log = logging.getLogger("shixin.mail")
CHANNEL = "email"
OUTBOX_FOLDER = "mail-outbox"


# --- composing ---------------------------------------------------------------------------


def mail_subject(subject: str, number: str | None) -> str:
    """One line, prefixed with the ticket number (taken out of the text if it was there):
    ``您的事项 JB-2026-000001：已受理`` → ``[JB-2026-000001] 您的事项已受理``."""
    subject = " ".join(subject.split())
    if not number:
        return subject
    rest = re.sub(rf"\s*{re.escape(number)}[：:]?\s*", "", subject, count=1).strip()
    return f"[{number}] {rest}" if rest else f"[{number}]"


# The characters of the links casework/notice_texts.py writes (/track?number=…, /unit/tickets/N).
_LINK_PATH = r"/[A-Za-z0-9._~/?=&%-]*"


def _html_line(line: str, link: re.Pattern[str] | None) -> str:
    """One line escaped; the site's own links (and only those) become real links."""
    if link is None:
        return html.escape(line)
    out: list[str] = []
    at = 0
    for match in link.finditer(line):
        url = match.group(0)
        out.append(html.escape(line[at : match.start()]))
        out.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        at = match.end()
    out.append(html.escape(line[at:]))
    return "".join(out)


def html_body(title: str, text: str, public_url: str | None = None) -> str:
    """The HTML alternative: the same text, every character escaped, paragraphs and line
    breaks kept; no images or scripts, and no links but to the site itself (``public_url``:
    a link a submitter or a unit typed stays text, so a message cannot carry phishing)."""
    link = re.compile(re.escape(public_url) + _LINK_PATH) if public_url else None
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    rendered = "".join(
        f'<p dir="auto">{"<br>".join(_html_line(line, link) for line in p.split(chr(10)))}</p>\n'
        for p in paragraphs
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n"
        '<body style="font-family: sans-serif; line-height: 1.6; max-width: 40em">\n'
        f"{rendered}</body>\n</html>\n"
    )


def _domain(address: str) -> str:
    addr = parseaddr(address)[1]
    return addr.rpartition("@")[2] or "localhost"


def compose(
    message: outbox.Message,
    mail_from: str,
    reply_to: str | None = None,
    public_url: str | None = None,
    demo: bool = False,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The email for one outbox row; links to ``public_url`` in the text become links in
    the HTML part, and on demo data (``demo``) the subject and the text say so; ``headers``
    are added as they are (a watch mail's ``List-Unsubscribe``). Raises
    ValueError for an address that cannot be written into a header (such a row is given
    up at once)."""
    if any(c in message.recipient for c in '\r\n\t ,;<>"') or "@" not in message.recipient:
        raise ValueError("recipient is not a plain email address")
    domain = _domain(mail_from)
    subject = mail_subject(message.subject, message.ticket_number)
    body = message.body
    if demo:
        subject = f"[演示] {subject}"
        body = f"{body}\n\n{notice_texts.DEMO_NOTE}"
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = subject
    msg["From"] = mail_from
    msg["To"] = Address(addr_spec=message.recipient)
    if reply_to:
        msg["Reply-To"] = reply_to
    created = message.created_at.astimezone(UTC)
    msg["Date"] = format_datetime(message.created_at.astimezone(CST))
    # Stable per row: a message delivered twice (after a crash) is recognizably the same.
    msg["Message-ID"] = f"<outbox.{message.id}.{created:%Y%m%d%H%M%S}@{domain}>"
    if message.ticket_number:  # mail clients thread a ticket's messages together
        msg["References"] = f"<ticket.{message.ticket_number.lower()}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, charset="utf-8", cte="base64")
    msg.add_alternative(html_body(subject, body, public_url), subtype="html", cte="base64")
    return msg


# --- delivering --------------------------------------------------------------------------


class ConnectFailed(Exception):
    """The server could not be reached or refused the login: the whole round waits."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(describe(cause))


class _Connection:
    """One SMTP session per round, opened at the first message, reopened after a drop."""

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target
        self.client: aiosmtplib.SMTP | None = None

    async def send(self, email: EmailMessage, sender: str, recipient: str) -> None:
        import aiosmtplib

        if self.client is None:
            t = self.target
            self.client = aiosmtplib.SMTP(
                hostname=t.hostname,
                port=t.port,
                use_tls=t.use_tls,
                start_tls=t.start_tls,
                timeout=t.timeout,
                local_hostname=t.helo,
            )
            try:
                await self.client.connect()
                if t.username:
                    await self.client.login(t.username, t.password or "")
            except Exception as exc:
                await self.close()
                raise ConnectFailed(exc) from exc
            except BaseException:
                await self.close()
                raise
        try:
            await self.client.send_message(email, sender=sender, recipients=[recipient])
        except aiosmtplib.SMTPRecipientsRefused:
            raise  # the session stays usable (aiosmtplib resets the envelope)
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # the server is closing the session
                await self.close()
            raise
        except BaseException:  # a dropped connection, a timeout: start afresh
            await self.close()
            raise

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except Exception:
            client.close()


def describe(exc: BaseException) -> str:
    """A short reason for the outbox row and the log (never the message or address)."""
    import aiosmtplib

    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.code} {r.message}" for r in exc.recipients) or "recipient refused"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return f"{type(exc).__name__}: {exc}"[:500]


class MailSender(DeliveryRound):
    """Delivers the outbox's ``email`` rows (one round: ``casework/delivery.py``); safe to run
    in several processes at once."""

    channel = CHANNEL
    failed_command = "shixin mail --failed"
    log = log

    def __init__(
        self,
        store: Store,
        *,
        mail_from: str,
        smtp: SmtpTarget | None = None,
        outbox_dir: Path | None = None,
        reply_to: str | None = None,
        public_url: str | None = None,
        demo: bool = False,
        extra_headers: Callable[[str, str], Mapping[str, str]] | None = None,
        clock: Callable[[], datetime] | None = None,
        lease: timedelta = outbox.DEFAULT_LEASE,
        max_attempts: int = outbox.MAX_ATTEMPTS,
        batch: int = 20,
    ) -> None:
        if smtp is None and outbox_dir is None:
            raise ValueError("either an SMTP server or an outbox folder")
        super().__init__(store, clock=clock, lease=lease, max_attempts=max_attempts, batch=batch)
        self.mail_from = mail_from
        self.sender_address = parseaddr(mail_from)[1]
        self.smtp = smtp
        self.outbox_dir = outbox_dir
        self.reply_to = reply_to
        self.public_url = public_url
        self.demo = demo  # SHIXIN_DEMO: each email says it comes from a demo site
        # (recipient, body) -> headers, for mails without a ticket: the wiring passes the
        # watches' List-Unsubscribe (watches/mail_texts.py), which casework does not know.
        self.extra_headers = extra_headers
        self._connection: _Connection | None = None

    @classmethod
    def from_settings(cls, settings: Settings, store: Store, **kw: object) -> MailSender:
        return cls(
            store,
            mail_from=settings.mail_from,
            smtp=parse_smtp_url(settings.smtp_url.reveal()) if settings.smtp_url else None,
            outbox_dir=settings.data_dir / OUTBOX_FOLDER,
            reply_to=settings.mail_reply_to,
            public_url=settings.public_url,
            demo=settings.demo,
            max_attempts=settings.mail_max_attempts,
            **kw,  # type: ignore[arg-type]
        )

    def deliver_pending(self) -> RoundReport:
        """One round, from synchronous code (a worker thread, the CLI)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.deliver_pending_async())
        # This thread runs an event loop already (a sync wrapper such as Playwright's):
        # give the round a thread and a loop of its own.
        with ThreadPoolExecutor(1, thread_name_prefix="shixin-mail") as pool:
            return pool.submit(lambda: asyncio.run(self.deliver_pending_async())).result()

    async def deliver_pending_async(self) -> RoundReport:
        return await self.deliver_round()

    async def open(self) -> None:
        # One SMTP session for the round, opened at its first message.
        self._connection = _Connection(self.smtp) if self.smtp else None

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def send(self, message: outbox.Message, report: RoundReport) -> None:
        headers = None
        if self.extra_headers is not None and message.ticket_id is None:
            headers = self.extra_headers(message.recipient, message.body)
        try:
            email = compose(
                message, self.mail_from, self.reply_to, self.public_url, self.demo, headers
            )
        except ValueError as exc:
            raise Undeliverable(f"unsendable: {exc}") from exc
        if self._connection is None:
            self._write_file(message, email)
            return
        try:
            await self._connection.send(email, self.sender_address, message.recipient)
        except ConnectFailed as exc:  # no server: the rest of the round waits too
            raise RoundStops(str(exc)) from exc

    def describe(self, exc: BaseException) -> str:
        return describe(exc)

    def _write_file(self, message: outbox.Message, email: EmailMessage) -> Path:
        """Write ``<time>-<id>.eml`` atomically: a temporary name, fsync, then rename."""
        assert self.outbox_dir is not None
        folder = self.outbox_dir
        folder.mkdir(parents=True, exist_ok=True)
        created = message.created_at.astimezone(UTC)
        final = folder / f"{created:%Y%m%dT%H%M%SZ}-{message.id:08d}.eml"
        temp = folder / f".{final.name}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(email.as_bytes())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return final
