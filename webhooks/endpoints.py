"""The endpoints of an API key, as its owner manages them (register, list, disable, enable,
delete: portal/webhook_pages.py), and their health as the deliveries find it.

- Registering checks the address (webhooks/addresses.py), makes the secret (shown once;
  how it is kept: webhooks/signing.py) and starts the endpoint at the feed's current end:
  it gets the changes from then on (a new mirror starts from a snapshot or an export and
  follows the feed from their cursor; each delivery names its cursors, see delivery.py).
- Disabling, by the owner or after a day of failures, gives up the open delivery and moves
  the endpoint's cursor back to where that delivery began: enabling it again sends every
  change since, nothing is lost.
- A failure starts the endpoint's failing clock; a success stops it. A failure a day or more
  after the clock started disables the endpoint and mails its owner (through the outbox).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update

from api_keys import mail_texts as key_mail
from api_keys.tables import api_keys
from core.db import Store
from core.outbox import enqueue
from search_index.tables import entries
from webhooks import addresses, mail_texts, queue, signing
from webhooks.addresses import AddressError
from webhooks.tables import webhook_endpoints

MAX_ENDPOINTS = 5  # per key
DISABLE_AFTER = timedelta(days=1)
MAIL_CHANNEL = "email"


class WebhookError(Exception):
    """``code`` names what went wrong (addresses.AddressError's codes, and revoked_key,
    too_many, duplicate, not_found); the pages say it in words."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class EndpointView:
    id: int
    url: str
    secret_shown: str
    created_at: datetime
    disabled_at: datetime | None
    disabled_by: str | None  # "owner" or "failures"
    failing_since: datetime | None
    last_success_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Registered:
    endpoint: EndpointView
    secret: str  # the only time it is shown


class Webhooks:
    def __init__(
        self,
        store: Store,
        list_key: str,
        *,
        allow_http_loopback: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        getaddrinfo: addresses.Resolver = socket.getaddrinfo,
    ) -> None:
        self.store = store
        self.list_key = list_key
        self.allow_http_loopback = allow_http_loopback
        self.clock = clock
        self.getaddrinfo = getaddrinfo

    def endpoints(self, key_id: int) -> list[EndpointView]:
        """The key's endpoints, oldest first."""
        query = select(webhook_endpoints).where(webhook_endpoints.c.key_id == key_id)
        with self.store.read() as conn:
            rows = conn.execute(query.order_by(webhook_endpoints.c.id)).all()
        return [_view(row) for row in rows]

    def register(self, key_id: int, url: str) -> Registered:
        """A new endpoint for a live key. Raises WebhookError."""
        try:
            target = addresses.parse(url, allow_http_loopback=self.allow_http_loopback)
            addresses.resolve(
                target, allow_loopback=self.allow_http_loopback, getaddrinfo=self.getaddrinfo
            )
        except AddressError as exc:
            raise WebhookError(exc.code) from exc
        now = self.clock()
        seed = signing.new_seed()
        secret = signing.endpoint_secret(self.list_key, seed)
        with self.store.write() as conn:
            _check_room(conn, key_id, target.url)
            head = conn.execute(select(func.max(entries.c.seq))).scalar() or 0
            endpoint_id = conn.execute(
                webhook_endpoints.insert().values(
                    key_id=key_id,
                    url=target.url,
                    secret_seed=seed,
                    secret_shown=signing.shown(secret),
                    cursor=int(head),
                    created_at=now,
                )
            ).inserted_primary_key[0]
            row = _endpoint(conn, key_id, int(endpoint_id))
        return Registered(_view(row), secret)

    def disable(self, key_id: int, endpoint_id: int) -> bool:
        with self.store.write() as conn:
            row = _endpoint(conn, key_id, endpoint_id)
            if row.disabled_at is not None:
                return False
            _stop(conn, row, self.clock(), "owner", "disabled by its owner")
        return True

    def enable(self, key_id: int, endpoint_id: int) -> bool:
        with self.store.write() as conn:
            row = _endpoint(conn, key_id, endpoint_id)
            if row.disabled_at is None:
                return False
            if _key_revoked(conn, key_id):
                raise WebhookError("revoked_key")
            conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == endpoint_id)
                .values(disabled_at=None, disabled_by=None, failing_since=None, last_error=None)
            )
        return True

    def delete(self, key_id: int, endpoint_id: int) -> None:
        with self.store.write() as conn:
            _endpoint(conn, key_id, endpoint_id)
            queue.forget(conn, endpoint_id)
            conn.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id))


# --- health, as the deliveries report it -----------------------------------------------------


def record_success(store: Store, endpoint_id: int, now: datetime) -> None:
    with store.write() as conn:
        conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint_id)
            .values(failing_since=None, last_success_at=now, last_error=None)
        )


def record_failure(
    store: Store,
    endpoint_id: int,
    error: str,
    now: datetime,
    *,
    list_key: str,
    public_url: str | None,
) -> bool:
    """Count a failed delivery; True when it disabled the endpoint (its owner is mailed)."""
    with store.write() as conn:
        row = conn.execute(
            select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
        ).first()
        if row is None or row.disabled_at is not None:
            return False
        since = row.failing_since or now
        if now - since < DISABLE_AFTER:
            conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == endpoint_id)
                .values(failing_since=since, last_error=error[:2000])
            )
            return False
        _stop(conn, row, now, "failures", error)
        _mail_disabled(conn, row, since, error, now, list_key, public_url)
        return True


# --- inside ----------------------------------------------------------------------------------


def _stop(conn: Connection, row: Row[Any], now: datetime, by: str, reason: str) -> None:
    rewound = queue.withdraw(conn, int(row.id), now, reason)
    values: dict[str, Any] = {"disabled_at": now, "disabled_by": by, "last_error": reason[:2000]}
    if by == "owner":
        values["last_error"] = row.last_error
    if rewound is not None:
        values["cursor"] = min(rewound, int(row.cursor))
    conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == row.id).values(values))


def _mail_disabled(
    conn: Connection,
    row: Row[Any],
    since: datetime,
    error: str,
    now: datetime,
    list_key: str,
    public_url: str | None,
) -> None:
    key = conn.execute(select(api_keys).where(api_keys.c.id == row.key_id)).first()
    if key is None:
        return
    token = key_mail.manage_token(list_key, int(key.id), key.key_hash)
    manage_url = f"{public_url or ''}{key_mail.MANAGE_PATH}{token}"
    body = mail_texts.disabled(key.organization, key.shown, row.url, since, error, manage_url)
    enqueue(conn, now, MAIL_CHANNEL, key.email, mail_texts.SUBJECT_DISABLED, body)


def _check_room(conn: Connection, key_id: int, url: str) -> None:
    if _key_revoked(conn, key_id):
        raise WebhookError("revoked_key")
    urls = list(
        conn.execute(
            select(webhook_endpoints.c.url).where(webhook_endpoints.c.key_id == key_id)
        ).scalars()
    )
    if url in urls:
        raise WebhookError("duplicate")
    if len(urls) >= MAX_ENDPOINTS:
        raise WebhookError("too_many")


def _key_revoked(conn: Connection, key_id: int) -> bool:
    revoked = conn.execute(select(api_keys.c.revoked_at).where(api_keys.c.id == key_id)).first()
    return revoked is None or revoked.revoked_at is not None


def _endpoint(conn: Connection, key_id: int, endpoint_id: int) -> Row[Any]:
    row = conn.execute(
        select(webhook_endpoints).where(
            webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.key_id == key_id
        )
    ).first()
    if row is None:
        raise WebhookError("not_found")
    return row


def _view(row: Row[Any]) -> EndpointView:
    return EndpointView(
        id=int(row.id),
        url=row.url,
        secret_shown=row.secret_shown,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        disabled_by=row.disabled_by,
        failing_since=row.failing_since,
        last_success_at=row.last_success_at,
        last_error=row.last_error,
    )
