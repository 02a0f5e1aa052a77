"""API keys, asked for by mail: an address asks for a key for its organization, gets a
confirmation mail through the outbox, and only the link in it (then a button) issues the key.

- A key is ``sx_`` and 32 random bytes (``secrets.token_urlsafe``): shown once, on the page
  that issues it; only its sha256 is stored (a random 256-bit key needs no slow hash).
- The confirmation token is random too; only its hash is stored, it expires after
  ``CONFIRM_HOURS`` and works once.
- The issuing mail carries the owner's manage link (usage, revoke), never the key.
- ``check`` answers a request's key: its id, or ``KeyError`` for an unknown or revoked key.
  One indexed read per keyed request; counting is batched (api_keys/usage.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from api_keys import mail_texts
from api_keys.tables import api_key_requests, api_key_usage, api_keys
from api_keys.usage import UsageCounter
from core.china_time import CST
from core.db import Store
from core.outbox import enqueue

PREFIX = "sx_"
CHANNEL = "email"
CONFIRM_HOURS = 48
MAX_OPEN_REQUESTS = 3  # unconfirmed requests an address may have: no mail bombing
MAX_ORGANIZATION = 200
MAX_PURPOSE = 1000
USAGE_DAYS = 30  # days of usage the owner's page shows
MAX_REASON = 500  # characters of why a key was revoked
# Writes the audit record of a revocation with the revoking connection, at its time.
Audit = Callable[[Connection, datetime], None]
_KEY = re.compile(r"sx_[A-Za-z0-9_-]{43}")
_ADDRESS = re.compile(r"[^@\s<>\"',;()\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")


class ApiKeyError(Exception):
    """``code`` names what went wrong; the pages say it in words."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Pending:
    organization: str
    email: str


@dataclass(frozen=True, slots=True)
class Issued:
    key: str  # the only time the key exists outside the client
    shown: str
    organization: str
    manage_token: str


@dataclass(frozen=True, slots=True)
class KeyView:
    id: int
    shown: str
    organization: str
    email: str
    purpose: str
    created_at: datetime
    revoked_at: datetime | None
    total: int  # requests counted so far
    today: int
    usage: tuple[tuple[date, int], ...] = ()  # newest day first


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def beijing_day(at: datetime) -> date:
    return at.astimezone(CST).date()


class ApiKeys:
    def __init__(
        self,
        store: Store,
        secret: str,
        public_url: str | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.secret = secret
        self.public_url = public_url
        self.clock = clock  # which day a request is counted on (tests inject one)
        self.usage = UsageCounter(store)
        self._revoked: set[int] = set()

    # --- asking and issuing ---------------------------------------------------------------

    def request(self, organization: str, email: str, purpose: str) -> Pending:
        """Keep the request and mail its confirmation link. Raises ApiKeyError
        ("no_organization", "bad_address", "no_purpose", "too_long", "too_many_requests")."""
        now = self.clock()
        organization, email, purpose = _checked(organization, email, purpose)
        token = secrets.token_urlsafe(32)
        with self.store.write() as conn:
            open_requests = conn.execute(
                select(func.count())
                .select_from(api_key_requests)
                .where(
                    api_key_requests.c.email == email,
                    api_key_requests.c.used_at.is_(None),
                    api_key_requests.c.expires_at > now,
                )
            ).scalar()
            if (open_requests or 0) >= MAX_OPEN_REQUESTS:
                raise ApiKeyError("too_many_requests")
            conn.execute(
                api_key_requests.insert().values(
                    token_hash=mail_texts.confirm_hash(token),
                    organization=organization,
                    email=email,
                    purpose=purpose,
                    expires_at=now + timedelta(hours=CONFIRM_HOURS),
                    created_at=now,
                )
            )
            url = self._link(mail_texts.CONFIRM_PATH + token)
            body = mail_texts.confirmation(organization, url, CONFIRM_HOURS)
            enqueue(conn, now, CHANNEL, email, mail_texts.SUBJECT_CONFIRM, body)
        return Pending(organization, email)

    def pending(self, token: str) -> Pending:
        """What a confirmation link would issue; ApiKeyError("bad_token"/"expired_token")."""
        with self.store.read() as conn:
            row = _open_request(conn, token, self.clock())
        return Pending(row.organization, row.email)

    def issue(self, token: str) -> Issued:
        """The key the link asks for (once); the issuing mail carries the manage link."""
        now = self.clock()
        key = PREFIX + secrets.token_urlsafe(32)
        hashed = key_hash(key)
        shown = key[:8] + "…"
        with self.store.write() as conn:
            row = _open_request(conn, token, now)
            conn.execute(
                update(api_key_requests).where(api_key_requests.c.id == row.id).values(used_at=now)
            )
            key_id = conn.execute(
                api_keys.insert().values(
                    key_hash=hashed,
                    shown=shown,
                    organization=row.organization,
                    email=row.email,
                    purpose=row.purpose,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            manage = mail_texts.manage_token(self.secret, int(key_id), hashed)
            url = self._link(mail_texts.MANAGE_PATH + manage)
            body = mail_texts.issued(row.organization, shown, url)
            enqueue(conn, now, CHANNEL, row.email, mail_texts.SUBJECT_ISSUED, body)
        return Issued(key, shown, row.organization, manage)

    # --- using ----------------------------------------------------------------------------

    def check(self, key: str) -> int:
        """The id of a live key, counted for today; KeyError if unknown or revoked."""
        if not _KEY.fullmatch(key):
            raise KeyError("malformed")
        with self.store.read() as conn:
            row = conn.execute(
                select(api_keys.c.id, api_keys.c.revoked_at).where(
                    api_keys.c.key_hash == key_hash(key)
                )
            ).first()
        if row is None:
            raise KeyError("unknown")
        if row.revoked_at is not None:
            raise KeyError("revoked")
        self.counted(int(row.id))
        return int(row.id)

    def counted(self, key_id: int) -> None:
        """One more request of the key today (in memory; written by ``usage.flush``)."""
        self.usage.count(key_id, beijing_day(self.clock()))

    def live(self, key_id: int) -> bool:
        """False for a key revoked in this process (a cached check must not outlive it)."""
        return key_id not in self._revoked

    # --- the owner's and the administrator's pages -----------------------------------------

    def owned(self, token: str) -> KeyView | None:
        """The key a manage token belongs to, with its daily usage; None if no key."""
        key_id = mail_texts.token_key(token)
        if key_id is None:
            return None
        with self.store.read() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None:
            return None
        expected = mail_texts.manage_token(self.secret, key_id, row.key_hash)
        if not hmac.compare_digest(token, expected):
            return None
        return self._views([row], days=USAGE_DAYS)[0]

    def all(self) -> list[KeyView]:
        """Every key, newest first, with its totals (the administrator's list)."""
        with self.store.read() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.id.desc())).all()
        return self._views(rows, days=0)

    def revoke(self, key_id: int, audit: Audit | None = None) -> bool:
        """Refuse the key from now on; False if there is no such live key. ``audit`` writes
        who revoked it and why (casework's audit trail) in the same transaction, so a key is
        never revoked without its record, nor a record left of a revocation that failed."""
        now = self.clock()
        with self.store.write() as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
            if done and audit is not None:
                audit(conn, now)
        self._revoked.add(key_id)
        return bool(done)

    # --- inside ---------------------------------------------------------------------------

    def _views(self, rows: Sequence[Row[Any]], days: int) -> list[KeyView]:
        self.usage.flush()  # this worker's latest counts are in the figures
        today = beijing_day(self.clock())
        ids = [int(row.id) for row in rows]
        with self.store.read() as conn:
            counted = conn.execute(
                select(api_key_usage).where(api_key_usage.c.key_id.in_(ids))
            ).all()
        by_key: dict[int, list[tuple[date, int]]] = {i: [] for i in ids}
        for line in counted:
            by_key[int(line.key_id)].append((line.day, int(line.requests)))
        views = []
        for row in rows:
            lines = sorted(by_key[int(row.id)], reverse=True)
            recent = tuple(x for x in lines if (today - x[0]).days < days)
            views.append(
                KeyView(
                    id=int(row.id),
                    shown=row.shown,
                    organization=row.organization,
                    email=row.email,
                    purpose=row.purpose,
                    created_at=row.created_at,
                    revoked_at=row.revoked_at,
                    total=sum(n for _day, n in lines),
                    today=sum(n for day, n in lines if day == today),
                    usage=recent,
                )
            )
        return views

    def _link(self, path: str) -> str:
        return f"{self.public_url or ''}{path}"


def _checked(organization: str, email: str, purpose: str) -> tuple[str, str, str]:
    organization = " ".join(organization.split())
    purpose = purpose.strip()
    email = email.strip().lower()
    if not organization:
        raise ApiKeyError("no_organization")
    if len(email) > 254 or not _ADDRESS.fullmatch(email):
        raise ApiKeyError("bad_address")
    if not purpose:
        raise ApiKeyError("no_purpose")
    if len(organization) > MAX_ORGANIZATION or len(purpose) > MAX_PURPOSE:
        raise ApiKeyError("too_long")
    return organization, email, purpose


def _open_request(conn: Connection, token: str, now: datetime) -> Row[Any]:
    row = conn.execute(
        select(api_key_requests).where(
            api_key_requests.c.token_hash == mail_texts.confirm_hash(token)
        )
    ).first()
    if row is None or row.used_at is not None:
        raise ApiKeyError("bad_token")
    if row.expires_at <= now:
        raise ApiKeyError("expired_token")
    return row
