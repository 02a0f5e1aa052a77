"""One-time keys: a key is good once per purpose, until it expires.

The ``once_keys`` table (core/tables.py) remembers the keys already used, by purpose, each
until its ``expires_at``. Two purposes use it today: ``"altcha"``, solved proof-of-work
challenges (a solution buys one submission), and ``"submit"``, the intake forms' submission
keys (a double post files once). Purposes never collide: the same key may be spent once
for each.

- :func:`spend` records a key in a transaction of its own and sweeps expired rows (of every
  purpose) in the same transaction: an indexed range, cheap, and the table stays tiny.
- :func:`spend_in` records a key inside the caller's transaction (first, so that a
  concurrent second attempt waits on the primary key and then fails); a remembered key
  that has expired counts as unused.
- :func:`is_spent` tells whether a key is remembered and unexpired.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from core.db import Store
from core.tables import once_keys

ALTCHA = "altcha"
SUBMIT = "submit"


def spend(
    store: Store,
    purpose: str,
    key: str,
    expires_at: datetime,
    *,
    now: datetime | None = None,
    slack: timedelta = timedelta(0),
) -> bool:
    """Record ``key`` as used for ``purpose`` until ``expires_at``: True the first time,
    False when it already was. Rows expired more than ``slack`` before ``now`` (the current
    time by default) are swept first; a slack keeps a key a little past its expiry, for
    workers whose clocks differ."""
    cutoff = (now or datetime.now(UTC)) - slack
    try:
        with store.write() as conn:
            conn.execute(delete(once_keys).where(once_keys.c.expires_at < cutoff))
            conn.execute(insert(once_keys).values(purpose=purpose, key=key, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def spend_in(conn: Connection, purpose: str, key: str, expires_at: datetime, now: datetime) -> bool:
    """Record ``key`` as used for ``purpose`` until ``expires_at`` in the caller's
    transaction: True the first time, False when it is remembered and unexpired at ``now``
    (also when a concurrent transaction recorded it first). An expired record is replaced."""
    where = (once_keys.c.purpose == purpose) & (once_keys.c.key == key)
    spent = conn.execute(select(once_keys.c.expires_at).where(where)).scalar()
    if spent is not None and spent > now:
        return False
    if spent is not None:
        conn.execute(delete(once_keys).where(where))
    try:
        with conn.begin_nested():  # a failed insert must not end the caller's transaction
            conn.execute(insert(once_keys).values(purpose=purpose, key=key, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def is_spent(store: Store, purpose: str, key: str, now: datetime) -> bool:
    """Whether ``key`` was used for ``purpose`` and its record has not expired at ``now``."""
    with store.read() as conn:
        expires = conn.execute(
            select(once_keys.c.expires_at).where(
                once_keys.c.purpose == purpose, once_keys.c.key == key
            )
        ).scalar()
    return expires is not None and expires > now
