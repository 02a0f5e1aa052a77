"""Watches by email, with double opt-in: an address asks for a watch, gets a confirmation
mail through the outbox, and only the link in it adds the watch (channel ``email``). No
alert reaches an address before that.

- The confirmation token is random (``secrets.token_urlsafe``); only its hash is stored,
  it expires after ``CONFIRM_HOURS`` and works once.
- The watch waits prepared (``WatchService.code_watch`` and its siblings): a person watch's
  ID number is hashed before anything is stored, so no full ID number is ever kept.
- An address that unsubscribes loses every watch, its collected alerts and its confirmation:
  a new watch needs a new confirmation.
- The manage and unsubscribe pages are reached by the address's token (watches/mail_texts.py),
  which is the credential: no account, no login.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from core.db import Store
from core.outbox import enqueue
from watches import mail_texts
from watches.digest import DIGEST, MODES
from watches.service import CHANNELS, Watch, WatchError, WatchService, add_prepared
from watches.tables import email_alerts, email_requests, email_subscribers, watches

CHANNEL = "email"
CONFIRM_HOURS = 48
MAX_OPEN_REQUESTS = 5  # unconfirmed requests an address may have: no mail bombing
KINDS = ("code", "person", "search")
_ADDRESS = re.compile(r"[^@\s<>\"',;()\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
assert CHANNEL in CHANNELS


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    address: str
    mode: str
    digest_hour: int
    confirmed: bool
    token: str


@dataclass(frozen=True, slots=True)
class Requested:
    address: str
    label: str


class EmailWatches:
    def __init__(self, store: Store, key: str, public_url: str | None) -> None:
        self.store = store
        self.key = key
        self.public_url = public_url
        self.watching = WatchService(store, key)

    # --- asking and confirming ------------------------------------------------------------

    def request(
        self, address: str, kind: str, fields: Mapping[str, str], now: datetime | None = None
    ) -> Requested:
        """Validate the watch, keep it prepared and mail the confirmation link. Raises
        WatchError ("bad_address", "bad_kind", "too_many_requests", or the watch's own)."""
        now = now or datetime.now(UTC)
        address = normalize_address(address)
        watch = self._prepare(kind, fields)
        token = secrets.token_urlsafe(32)
        with self.store.write() as conn:
            subscriber = _subscriber_id(conn, address, now)
            open_requests = conn.execute(
                select(func.count())
                .select_from(email_requests)
                .where(
                    email_requests.c.subscriber_id == subscriber,
                    email_requests.c.used_at.is_(None),
                    email_requests.c.expires_at > now,
                )
            ).scalar()
            if (open_requests or 0) >= MAX_OPEN_REQUESTS:
                raise WatchError("too_many_requests")
            conn.execute(
                email_requests.insert().values(
                    subscriber_id=subscriber,
                    token_hash=mail_texts.confirm_hash(token),
                    watch=json.dumps(watch, ensure_ascii=False),
                    expires_at=now + timedelta(hours=CONFIRM_HOURS),
                    created_at=now,
                )
            )
            url = mail_texts.link(self.public_url, f"/watch/confirm/{token}")
            body = mail_texts.confirmation(watch["label"], url, CONFIRM_HOURS)
            enqueue(conn, now, CHANNEL, address, mail_texts.SUBJECT_CONFIRM, body)
        return Requested(address, watch["label"])

    def pending(self, token: str, now: datetime | None = None) -> Requested:
        """What a confirmation link would confirm; WatchError("bad_token") if nothing."""
        with self.store.read() as conn:
            row = _open_request(conn, token, now or datetime.now(UTC))
        return Requested(row["address"], json.loads(row["watch"])["label"])

    def confirm(self, token: str, now: datetime | None = None) -> Watch:
        """Add the watch the link asks for (once) and confirm the address."""
        now = now or datetime.now(UTC)
        with self.store.write() as conn:
            row = _open_request(conn, token, now)
            conn.execute(
                update(email_requests).where(email_requests.c.id == row["id"]).values(used_at=now)
            )
            conn.execute(
                update(email_subscribers)
                .where(
                    email_subscribers.c.id == row["subscriber_id"],
                    email_subscribers.c.confirmed_at.is_(None),
                )
                .values(confirmed_at=now)
            )
            return add_prepared(conn, CHANNEL, row["address"], json.loads(row["watch"])).watch

    def entry_form(self, name: str, card: str | None) -> dict[str, str]:
        """The subscribe form's fields for an entry of the list (``WatchService.entry_watch``):
        its credit code, else its plain name as a search; just the name when neither fits."""
        try:
            watch = self.watching.entry_watch(name, card)
        except WatchError:
            return {"kind": "search", "name": name}
        if watch["kind"] == "code":
            return {"kind": "code", "code": watch["credit_code"]}
        return {"kind": "search", "name": name.strip()}

    # --- the manage page ------------------------------------------------------------------

    def subscriber_of(self, address: str) -> Subscriber | None:
        with self.store.read() as conn:
            number = conn.execute(
                select(email_subscribers.c.id).where(email_subscribers.c.address == address)
            ).scalar()
        if number is None:
            return None
        return self.subscriber(mail_texts.address_token(self.key, int(number), address))

    def subscriber(self, token: str) -> Subscriber | None:
        """The address a manage or unsubscribe token belongs to, or None."""
        number = mail_texts.token_subscriber(token)
        if number is None:
            return None
        with self.store.read() as conn:
            row = (
                conn.execute(select(email_subscribers).where(email_subscribers.c.id == number))
                .mappings()
                .first()
            )
        if row is None or not mail_texts.token_matches(self.key, token, number, row["address"]):
            return None
        return Subscriber(
            row["id"],
            row["address"],
            row["mode"],
            row["digest_hour"],
            row["confirmed_at"] is not None,
            token,
        )

    def watches_of(self, subscriber: Subscriber) -> list[Watch]:
        return self.watching.list(CHANNEL, subscriber.address)

    def remove(self, subscriber: Subscriber, watch_id: int) -> bool:
        return self.watching.remove(CHANNEL, subscriber.address, watch_id)

    def set_mode(self, subscriber: Subscriber, mode: str, hour: int) -> None:
        if mode not in MODES:
            raise WatchError("bad_mode")
        if not 0 <= hour <= 23:
            raise WatchError("bad_hour")
        with self.store.write() as conn:
            conn.execute(
                update(email_subscribers)
                .where(email_subscribers.c.id == subscriber.id)
                .values(mode=mode, digest_hour=hour if mode == DIGEST else subscriber.digest_hour)
            )

    def unsubscribe(self, subscriber: Subscriber) -> int:
        """Every watch and waiting alert of the address ends; returns how many watches."""
        with self.store.write() as conn:
            ended = conn.execute(
                delete(watches).where(
                    watches.c.channel == CHANNEL, watches.c.recipient == subscriber.address
                )
            ).rowcount
            conn.execute(delete(email_alerts).where(email_alerts.c.subscriber_id == subscriber.id))
            conn.execute(
                delete(email_requests).where(email_requests.c.subscriber_id == subscriber.id)
            )
            conn.execute(
                update(email_subscribers)
                .where(email_subscribers.c.id == subscriber.id)
                .values(confirmed_at=None)
            )
            return int(ended or 0)

    # --- inside ---------------------------------------------------------------------------

    def _prepare(self, kind: str, fields: Mapping[str, str]) -> dict[str, Any]:
        get = lambda name: (fields.get(name) or "").strip()  # noqa: E731
        if kind == "code":
            return self.watching.code_watch(get("code"))
        if kind == "person":
            return self.watching.person_watch(get("name"), get("id_number"))
        if kind == "search":
            return self.watching.search_watch(
                get("name"),
                region=get("region") or None,
                court=get("court") or None,
                party_type=get("party_type") or None,
            )
        raise WatchError("bad_kind")


def normalize_address(address: str) -> str:
    address = address.strip().lower()
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise WatchError("bad_address")
    return address


def _subscriber_id(conn: Connection, address: str, now: datetime) -> int:
    found = conn.execute(
        select(email_subscribers.c.id).where(email_subscribers.c.address == address)
    ).scalar()
    if found is not None:
        return int(found)
    row = {"address": address, "mode": "immediate", "digest_hour": 8, "created_at": now}
    return int(conn.execute(email_subscribers.insert().values(row)).inserted_primary_key[0])


def _open_request(conn: Connection, token: str, now: datetime) -> Any:
    row = (
        conn.execute(
            select(email_requests, email_subscribers.c.address)
            .join(email_subscribers, email_subscribers.c.id == email_requests.c.subscriber_id)
            .where(email_requests.c.token_hash == mail_texts.confirm_hash(token))
        )
        .mappings()
        .first()
    )
    if row is None or row["used_at"] is not None:
        raise WatchError("bad_token")
    if row["expires_at"] <= now:
        raise WatchError("expired_token")
    return row
