"""Webhooks (issue 15, item 5), as a republisher meets them: an endpoint registered on the
key's page, the change feed's events pushed to a real HTTP receiver on 127.0.0.1, signed so
that the receivers' helper (webhooks/verify.py) accepts them and refuses a tampered body or
an old timestamp; retries with backoff, disabling after a day of failures with a mail to the
owner, nothing lost or sent twice across a restart, and nothing personal of a removed entry
in any body. Every round runs on an injected clock years from today. Over https, the
receiver's certificate is checked against the host's name, not the address the request is
pinned to (a real TLS server on 127.0.0.1 with a certificate from a test authority).
"""

from __future__ import annotations

import itertools
import re
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import trustme
from casework_site import CaseSite, case_site, post
from site_support import Site, full_ids_in, running
from sqlalchemy import select
from support import KEY, id_number, make_settings, org, person, removal

from casework import outbox
from casework.mail import MailSender
from core.china_time import CST
from core.process_identity import identity
from core.tables import outbox as outbox_table
from webhooks import addresses
from webhooks.addresses import AddressError
from webhooks.delivery import WebhookSender
from webhooks.dispatch import dispatch
from webhooks.endpoints import WebhookError, Webhooks
from webhooks.verify import TOLERANCE, SignatureError, verify

PUBLIC_URL = "https://shixin.example.cn"
OWNER = "data-desk@example-news.cn"
DAY = datetime(2031, 5, 6, 10, tzinfo=CST)  # the clock of every round, years from today
ENV = {"SHIXIN_PUBLIC_URL": PUBLIC_URL, "SHIXIN_WEBHOOKS_ALLOW_HTTP_LOOPBACK": "1"}
SECRET = re.compile(r'id="webhook-secret">(whsec_[A-Za-z0-9_-]{43})<')
CONFIRM = re.compile(r"/api/keys/confirm/([A-Za-z0-9_-]+)")


# --- a receiver --------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def signature(self) -> str:
        return self.headers["Shixin-Signature"]


@dataclass
class Receiver:
    """A real HTTP server: keeps every POST and answers with the next of ``answers``
    (200 once they run out)."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Received) -> int:
        with self.lock:
            self.received.append(request)
            return self.answers.pop(0) if self.answers else 200

    def events(self) -> list[dict[str, Any]]:
        return [event for r in self.received for event in r.json["events"]]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.server.receiver.answer(Received(dict(self.headers), body))  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(server: ThreadingHTTPServer, url: str) -> Iterator[Receiver]:
    """``server`` answering on a thread of its own, as the receiver at ``url``."""
    server.receiver = Receiver(url)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.receiver  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    with serving(server, f"http://127.0.0.1:{server.server_address[1]}/hooks/shixin") as got:
        yield got


@contextmanager
def tls_receiver(authority: trustme.CA, certified_for: str, host: str) -> Iterator[Receiver]:
    """The receiver over TLS, with a certificate for ``certified_for`` from ``authority``;
    its URL names ``host`` (the tests resolve it to 127.0.0.1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(certified_for).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server, f"https://{host}:{server.server_address[1]}/hooks/shixin") as got:
        yield got


# --- the site, the owner and the rounds --------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = DAY

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def cs(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    with case_site(tmp_path, database_url, **ENV) as site:
        yield site


def manage_path(site: Site) -> str:
    """An API key issued through the key service (the mailed link's token), and the path
    of its owner's page."""
    keys = site.app.state.api_keys
    keys.request("财经日报数据部", OWNER, "镜像名单并按时删除")
    (confirmation,) = outbox.pending(site.service.store, channel="email")
    match = CONFIRM.search(confirmation.body)
    assert match
    return f"/api/keys/manage/{keys.issue(match.group(1)).manage_token}"


def register(site: Site, manage: str, url: str) -> str:
    """Register ``url`` on the owner's page; the secret the answer shows once."""
    answer = post(site.client, manage + "/webhooks", {"url": url}, manage)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    match = SECRET.search(answer.text)
    assert match, answer.text
    return match.group(1)


def sender(site: Site, clock: Clock, **kw: Any) -> WebhookSender:
    return WebhookSender(
        site.service.store,
        KEY,
        site.service.calendar,
        public_url=PUBLIC_URL,
        allow_http_loopback=True,
        clock=clock,
        **kw,
    )


def stamp(clock: Clock) -> int:
    return int(clock.now.timestamp())


# --- signatures --------------------------------------------------------------------------------


def test_a_delivery_carries_the_feeds_events_signed_so_the_helper_accepts_it_and_nothing_else(
    cs: CaseSite, receiver: Receiver
) -> None:
    site, clock = cs.site, Clock()
    manage = manage_path(site)
    secret = register(site, manage, receiver.url)
    assert 'id="webhook-list"' in site.client.get(manage).text
    assert (
        receiver.url in site.client.get(manage).text and secret not in site.client.get(manage).text
    )
    cursor = site.service.changes("").next  # what the feed's end was at registration

    site.publish(person("p3", iname="赵六", cardNum=id_number("110108", "19850505")))
    site.publish(removal("shield", "p1"))
    report = sender(site, clock).run()

    assert report.sent == 1
    (delivery,) = receiver.received
    assert delivery.headers["Content-Type"] == "application/json"
    assert verify(secret, delivery.body, delivery.signature, now=stamp(clock)) == stamp(clock)
    body = delivery.json
    assert body["after"] == cursor
    assert body["events"] == site.service.changes(cursor).events  # the feed's, exactly
    assert [e["type"] for e in body["events"]] == ["published", "removed"]
    assert body["delivery"] == delivery.headers["Shixin-Delivery"]

    tampered = delivery.body.replace("赵六".encode(), "赵七".encode())
    with pytest.raises(SignatureError, match="does not match"):
        verify(secret, tampered, delivery.signature, now=stamp(clock))
    with pytest.raises(SignatureError, match="does not match"):
        verify("whsec_" + "A" * 43, delivery.body, delivery.signature, now=stamp(clock))
    for late in (TOLERANCE + 1, -TOLERANCE - 1):  # a replay later, or a clock far off
        with pytest.raises(SignatureError, match="replay window"):
            verify(secret, delivery.body, delivery.signature, now=stamp(clock) + late)
    assert verify(secret, delivery.body, delivery.signature, now=stamp(clock) + TOLERANCE)
    with pytest.raises(SignatureError, match="malformed"):
        verify(secret, delivery.body, "v1=" + "0" * 64, now=stamp(clock))

    assert sender(site, clock).run().sent == 0  # nothing new: nothing sent
    assert len(receiver.received) == 1


def test_the_secret_is_shown_once_and_never_stored(cs: CaseSite, receiver: Receiver) -> None:
    site = cs.site
    manage = manage_path(site)
    secret = register(site, manage, receiver.url)
    store = site.service.store
    with store.read() as conn:
        stored = "\n".join(
            repr(row)
            for table in ("webhook_endpoints", "outbox")
            for row in conn.exec_driver_sql(
                f"SELECT * FROM {table}"  # fixed table names
            )
        )
    assert secret not in stored and secret[6:] not in stored
    assert secret[:10] in site.client.get(manage).text  # enough of it to tell it apart


# --- the owner's page --------------------------------------------------------------------------


def test_plain_http_and_private_addresses_are_refused(cs: CaseSite) -> None:
    site = cs.site
    manage = manage_path(site)
    for url, message in [
        ("http://example.cn/hook", "只接受 https:// 开头的地址"),
        ("https://10.0.0.7/hook", "内网"),
        ("https://169.254.169.254/latest/meta-data", "内网"),
        ("https://[::ffff:192.168.1.1]/hook", "内网"),
        ("https://user:pw@example.cn/hook", "请填写完整的网址"),
        ("webhook please", "请填写完整的网址"),
    ]:
        answer = post(site.client, manage + "/webhooks", {"url": url}, manage)
        assert answer.status_code == 400 and message in answer.text, url
        assert 'id="webhook-error"' in answer.text
    site.client.get(manage + "?lang=en")  # the English page says it in English
    english = post(site.client, manage + "/webhooks", {"url": "http://example.cn/"}, manage)
    assert english.status_code == 400 and "Only https:// addresses are taken" in english.text
    site.client.get(manage + "?lang=zh")

    # Without the loopback setting (production), loopback is refused like any private range.
    public = {
        "intranet.example.cn": ["10.1.2.3"],
        "mixed.example.cn": ["93.184.216.34", "10.0.0.1"],
    }

    def resolver(host: str, port: int, **kw: Any) -> list[Any]:
        literal = [host] if host[0].isdigit() else None  # an address resolves to itself
        found = literal or public.get(host, ["93.184.216.34"])
        return [(2, 1, 6, "", (a, port)) for a in found]

    webhooks = Webhooks(site.service.store, KEY, getaddrinfo=resolver)
    key_id = site.app.state.api_keys.all()[0].id
    for url, code in [
        ("http://127.0.0.1:8080/hook", "not_https"),
        ("https://127.0.0.1/hook", "private_address"),
        ("https://intranet.example.cn/hook", "private_address"),
        ("https://mixed.example.cn/hook", "private_address"),
    ]:
        with pytest.raises(WebhookError) as refused:
            webhooks.register(key_id, url)
        assert refused.value.code == code, url
    assert webhooks.register(key_id, "https://news.example.cn/hook").secret.startswith("whsec_")


def test_the_request_goes_to_the_address_that_was_checked() -> None:
    target = addresses.parse("https://news.example.cn:8443/in?x=1")
    request = addresses.pinned(target, addresses.ipaddress.ip_address("93.184.216.34"))
    assert request.url == "https://93.184.216.34:8443/in?x=1"
    assert request.headers == {"Host": "news.example.cn:8443"}
    assert request.extensions == {"sni_hostname": "news.example.cn"}  # the certificate's name
    with pytest.raises(AddressError):
        addresses.parse("http://[::1]:8000/", allow_http_loopback=False)
    assert addresses.parse("http://[::1]:8000/", allow_http_loopback=True).host == "::1"


def test_a_host_that_turns_private_after_registration_gets_nothing(
    cs: CaseSite, receiver: Receiver
) -> None:
    site, clock = cs.site, Clock()
    register(site, manage_path(site), receiver.url)
    site.publish(person("p3"))

    def rebound(host: str, port: int, **kw: Any) -> list[Any]:
        return [(2, 1, 6, "", ("169.254.169.254", port))]

    report = sender(site, clock, getaddrinfo=rebound).run()
    assert report.retrying == 1 and receiver.received == []
    (row,) = outbox.pending(site.service.store, clock.now + timedelta(hours=1), channel="webhook")
    assert row.last_error == "address refused: private_address"


def test_the_owner_disables_enables_and_deletes_an_endpoint_and_misses_nothing(
    cs: CaseSite, receiver: Receiver
) -> None:
    site, clock = cs.site, Clock()
    manage = manage_path(site)
    register(site, manage, receiver.url)
    endpoint = re.search(r'id="webhook-(\d+)"', site.client.get(manage).text)
    assert endpoint
    actions = f"{manage}/webhooks/{endpoint.group(1)}"

    off = post(site.client, actions + "/disable", {}, manage)
    assert off.status_code == 303
    page = site.client.get(off.headers["location"]).text
    assert "Webhook 已停用。" in page and "已停用" in page
    site.publish(person("p3"))
    assert sender(site, clock).run().sent == 0 and receiver.received == []

    on = post(site.client, actions + "/enable", {}, manage)
    assert on.status_code == 303 and "启用中" in site.client.get(manage).text
    assert sender(site, clock).run().sent == 1
    assert [e["id"] for e in receiver.events()] == ["p3"]  # the change made while it was off

    site.app.state.api_keys.revoke(site.app.state.api_keys.all()[0].id)
    site.publish(person("p5"))
    assert sender(site, clock).run().sent == 0  # a revoked key's webhooks stop
    assert (
        "尚未登记" not in site.client.get(manage).text
        and "/enable" not in site.client.get(manage).text
    )

    gone = post(site.client, actions + "/delete", {}, manage)
    assert gone.status_code == 303 and "尚未登记 webhook 地址。" in site.client.get(manage).text
    site.publish(person("p4"))
    assert sender(site, clock).run().sent == 0
    assert post(site.client, actions + "/delete", {}, "/api/keys").status_code == 404


# --- TLS --------------------------------------------------------------------------------------

HOOK_HOST = "hooks.example-news.cn"


def to_loopback(host: str, port: int, **kw: Any) -> list[Any]:
    """Every name resolves to 127.0.0.1, where the test receivers listen."""
    return [(2, 1, 6, "", ("127.0.0.1", port))]


def register_direct(site: Site, url: str) -> str:
    """Register ``url`` for the owner's key through the service, resolving with
    ``to_loopback`` (the page resolves through the real DNS); the secret."""
    manage_path(site)
    key_id = site.app.state.api_keys.all()[0].id
    webhooks = Webhooks(site.service.store, KEY, allow_http_loopback=True, getaddrinfo=to_loopback)
    return webhooks.register(key_id, url).secret


def trusting(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


def test_an_https_delivery_is_checked_against_the_hosts_name_and_arrives_signed(
    cs: CaseSite,
) -> None:
    site, clock, authority = cs.site, Clock(), trustme.CA()
    with tls_receiver(authority, HOOK_HOST, HOOK_HOST) as receiver:
        secret = register_direct(site, receiver.url)
        site.publish(person("p3", iname="赵六"))
        report = sender(site, clock, getaddrinfo=to_loopback, tls=trusting(authority)).run()

    assert report.sent == 1
    (delivery,) = receiver.received
    port = urlsplit(receiver.url).port
    assert delivery.headers["Host"] == f"{HOOK_HOST}:{port}"  # the name, not 127.0.0.1
    assert verify(secret, delivery.body, delivery.signature, now=stamp(clock)) == stamp(clock)
    assert [e["id"] for e in delivery.json["events"]] == ["p3"]


@pytest.mark.parametrize(
    "certified_for, trusted",
    [
        ("other.example.cn", True),  # a certificate for another host
        ("127.0.0.1", True),  # one for the address the request is pinned to, not the name
        (HOOK_HOST, False),  # the right name, from an authority nobody trusts
    ],
)
def test_a_receiver_without_a_certificate_for_its_name_gets_nothing_and_is_retried(
    cs: CaseSite, certified_for: str, trusted: bool
) -> None:
    site, clock, authority = cs.site, Clock(), trustme.CA()
    tls = trusting(authority) if trusted else None  # None: the public authorities (certifi)
    with tls_receiver(authority, certified_for, HOOK_HOST) as receiver:
        register_direct(site, receiver.url)
        site.publish(person("p3"))
        report = sender(site, clock, getaddrinfo=to_loopback, tls=tls).run()
        assert report.retrying == 1 and report.sent == 0
        assert receiver.received == []
    (row,) = outbox.pending(site.service.store, clock.now + timedelta(hours=1), channel="webhook")
    assert "CERTIFICATE_VERIFY_FAILED" in (row.last_error or ""), row.last_error


# --- retries and disabling ---------------------------------------------------------------------


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    cs: CaseSite, receiver: Receiver
) -> None:
    site, clock = cs.site, Clock()
    manage = manage_path(site)
    secret = register(site, manage, receiver.url)
    receiver.answers = [500, 503]
    site.publish(person("p3"))
    first = stamp(clock)

    assert sender(site, clock).run().retrying == 1
    site.publish(person("p4"))  # waits behind the failing delivery: order is kept
    assert "推送失败，正在重试" in site.client.get(manage).text
    clock.advance(seconds=59)
    assert sender(site, clock).run().claimed == 0  # the first retry comes after a minute
    clock.advance(seconds=1)
    assert sender(site, clock).run().retrying == 1
    clock.advance(seconds=119)
    assert sender(site, clock).run().claimed == 0  # the second after two more
    clock.advance(seconds=1)
    done = sender(site, clock).run()
    assert done.sent == 2  # the retried delivery, then the one that waited

    first_id = receiver.received[0].headers["Shixin-Delivery"]
    attempts = [r for r in receiver.received if r.headers["Shixin-Delivery"] == first_id]
    assert len({r.headers["Shixin-Delivery"] for r in receiver.received}) == 2
    # Each attempt is signed afresh, at the time it was made.
    times = [first, first + 60, first + 180]
    assert [
        verify(secret, r.body, r.signature, now=t) for r, t in zip(attempts, times, strict=True)
    ] == times
    with pytest.raises(SignatureError):  # the first attempt, replayed ten minutes on
        verify(secret, attempts[0].body, attempts[0].signature, now=first + 600)
    assert [e["id"] for e in receiver.events()[-2:]] == ["p3", "p4"]
    assert "启用中" in site.client.get(manage).text and "最近成功" in site.client.get(manage).text


def mails(site: Site) -> list[Any]:
    folder = site.app.state.settings.data_dir / "mail-outbox"
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owner_mailed(
    cs: CaseSite, receiver: Receiver
) -> None:
    site, clock = cs.site, Clock()
    manage = manage_path(site)
    register(site, manage, receiver.url)
    receiver.answers = [500] * 100
    site.publish(person("p3"))

    sender(site, clock).run()
    for _ in range(4):  # every 5 hours (each retry is due well before)
        clock.advance(hours=5)
        sender(site, clock).run()
        assert "推送失败，正在重试" in site.client.get(manage).text
    assert len(receiver.received) == 5 and clock.now - DAY < timedelta(days=1)
    clock.advance(hours=4, minutes=1)  # a day and a minute after the first failure
    report = sender(site, clock).run()
    assert report.given_up == 1 and len(receiver.received) == 6
    assert "已停用：连续失败满一天" in site.client.get(manage).text

    clock.advance(days=2)
    assert sender(site, clock).run().claimed == 0 and len(receiver.received) == 6

    mailer = MailSender.from_settings(site.app.state.settings, site.service.store, clock=clock)
    assert mailer.deliver_pending().sent >= 1
    (mail,) = [m for m in mails(site) if "Webhook" in str(m["Subject"])]
    assert (
        mail["To"] == OWNER and str(mail["Subject"]) == "Webhook 已停用 / Your webhook was disabled"
    )
    text = mail.get_body(("plain",)).get_content()
    assert receiver.url in text and "连续推送失败满一天" in text and "HTTP 500" in text
    assert f"{PUBLIC_URL}{manage}" in text  # where to enable it again

    receiver.answers = []  # fixed: enabled again, it gets what it missed
    enabled = post(site.client, manage + _actions(site, manage, "enable"), {}, manage)
    assert enabled.status_code == 303
    assert sender(site, clock).run().sent == 1
    assert receiver.events()[-1]["id"] == "p3"


def _actions(site: Site, manage: str, action: str) -> str:
    endpoint = re.search(r'id="webhook-(\d+)"', site.client.get(manage).text)
    assert endpoint
    return f"/webhooks/{endpoint.group(1)}/{action}"


# --- restarts ----------------------------------------------------------------------------------


def dead_claimer() -> str:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    host, _pid, start, namespace = identity().split(":")
    return f"{host}:{child.pid}:{start}:{namespace}/abc123"


def test_a_restart_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = make_settings(tmp_path, database_url, **ENV)
    clock = Clock()
    with running(settings) as site:
        register(site, manage_path(site), receiver.url)
        site.publish(person("p1"))
        assert sender(site, clock).run().sent == 1
        site.publish(person("p2"), org("o1"))
        assert dispatch(site.service.store, clock.now) == 1  # queued, then the worker dies
        claimed = outbox.claim(site.service.store, "webhook", dead_claimer(), clock.now)
        assert len(claimed) == 1  # mid-send, even
        site.publish(person("p3"))  # arrives while nothing runs

    clock.advance(seconds=5)
    with running(settings) as site:  # the restarted portal
        assert sender(site, clock).run().sent == 2
        site.publish(removal("shield", "p2"))
        assert sender(site, clock).run().sent == 1
        assert sender(site, clock).run().sent == 0

    bodies = [r.json for r in receiver.received]
    assert [[e["id"] for e in b["events"]] for b in bodies] == [
        ["p1"],
        ["p2", "o1"],
        ["p3"],
        ["p2"],
    ]
    assert len({b["delivery"] for b in bodies}) == 4
    assert all(b["after"] == a["next"] for a, b in itertools.pairwise(bodies))


# --- nothing personal --------------------------------------------------------------------------


def test_no_webhook_body_holds_a_removed_entrys_data_or_a_full_id_number(
    cs: CaseSite, receiver: Receiver
) -> None:
    site, clock = cs.site, Clock()
    register(site, manage_path(site), receiver.url)
    full = id_number("440106", "19900220", "345")
    site.publish(
        person("gone", iname="王秘密", cardNum=full, caseCode="(2024)粤0106执88号"),
        person("kept", iname="赵公开", cardNum=id_number("110105", "19700101")),
        person("never", iname="钱隐藏", cardNum=id_number("110105", "19750101"), disclose=False),
    )
    assert dispatch(site.service.store, clock.now) == 1  # queued while "gone" was public
    site.publish(removal("revoke", "gone"))  # removed before the delivery went out
    while sender(site, clock).run().sent:
        pass

    every_body = b"\n".join(r.body for r in receiver.received).decode()
    assert "王秘密" not in every_body and "(2024)粤0106执88号" not in every_body
    assert full not in every_body and full[:10] not in every_body
    assert "钱隐藏" not in every_body and '"never"' not in every_body
    assert full_ids_in(every_body) == []
    assert "赵公开" in every_body  # the public one is pushed, its ID number masked
    removed = [e for e in receiver.events() if e["type"] == "removed"]
    assert {e["id"] for e in removed} == {"gone"}
    assert all(set(e) == {"type", "id", "removedAt", "mustDeleteBy"} for e in removed)

    # The queue itself names entries only: the bodies are written at send time.
    with site.service.store.read() as conn:
        queued = [r.body for r in conn.execute(select(outbox_table.c.body))]
    assert not any("王秘密" in body or "赵公开" in body for body in queued)


def test_shixin_webhooks_once_delivers_what_is_due_and_lists_what_was_given_up(
    tmp_path: Path,
    database_url: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shixin.cli import main

    settings = make_settings(tmp_path, database_url, **ENV)
    with running(settings) as site:
        register(site, manage_path(site), receiver.url)
        site.publish(person("p1"))
    environment = {
        "SHIXIN_DATA_DIR": str(settings.data_dir),
        "SHIXIN_DATABASE_URL": database_url,
        "SHIXIN_ID_HASH_KEY": KEY,
        **ENV,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert main(["webhooks", "--once"]) == 0
    assert "Webhook：已推送 1" in capsys.readouterr().out
    assert [e["id"] for e in receiver.events()] == ["p1"]
    assert main(["webhooks", "--failed"]) == 0 and capsys.readouterr().out == ""
