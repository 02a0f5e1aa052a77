"""A real SMTP server for the tests: aiosmtpd on a free port of 127.0.0.1, keeping every
message it accepts (parsed with the email package) so a test can read what each person
received. It can be stopped and started again on the same port (an outage), refuse given
addresses with 550, answer slowly, and record logins. Holds no tests itself.

Use the ``smtp`` fixture (import ``smtp_fixture``), or ``MailServer`` directly for a server
a module-scoped portal points at.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from casework.mail import SmtpTarget


@dataclass
class Received:
    """One message as the server got it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self, subtype: str = "plain") -> str:
        part = self.message.get_body((subtype,))
        assert part is not None, f"no text/{subtype} part"
        return str(part.get_content()).replace("\r\n", "\n")  # base64 lines end in CRLF


class Inbox:
    """The aiosmtpd handler: refuses the addresses in ``refuse`` with 550, keeps the rest.
    The server calls it from its own thread, so the list is read under a lock."""

    def __init__(self) -> None:
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self.refuse: set[str] = set()
        self.delay = 0.0
        self.logins: list[str] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self._received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 accepted"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def wait_for(
        self, address: str, wanted: str = "", *, timeout: float = 30.0, subject: str = ""
    ) -> Received:
        """The first message to ``address`` whose plain text holds ``wanted`` and whose
        subject holds ``subject``, polled for while a portal's mail loop sends it."""
        deadline = time.monotonic() + timeout
        while True:
            for received in self.to(address):
                if wanted in received.text() and subject in received.subject:
                    return received
            if time.monotonic() > deadline:
                subjects = [r.subject for r in self.to(address)]
                pytest.fail(
                    f"no mail to {address} with {wanted or subject!r} within {timeout} s;"
                    f" it has: {subjects}"
                )
            time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailServer:
    """aiosmtpd on a fixed port: ``stop()`` and ``start()`` again for an outage; the inbox
    outlives the restarts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self, **kw: Any) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kw)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def target(self, **kw: Any) -> SmtpTarget:
        return SmtpTarget("127.0.0.1", self.port, start_tls=False, timeout=5, **kw)

    @property
    def url(self) -> str:
        """``SHIXIN_SMTP_URL`` for a portal that sends here."""
        return f"smtp://127.0.0.1:{self.port}?starttls=0&timeout=5"


@pytest.fixture(name="smtp")
def smtp_fixture() -> Iterator[MailServer]:
    """A running SMTP server, stopped after the test."""
    server = MailServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
