"""Loading and saving chat state: a JSON value under a namespace and a key.

Each call is one transaction of its own. A value is stored as JSON text, the very text that
was checked first: a value that is not JSON (say, a live object, or a dict
with integer keys, which JSON would turn into strings behind the caller's back) is refused,
and so is one whose JSON holds a full ID number (18 characters, 17 digits and a digit or
``X``). The bot never keeps one on purpose (a search by ID number keeps the ids of what it
found); this is the second line, so that a handler's mistake cannot put a number on disk.
A refused value is logged without the value, the row keeps what it held, and ``save``
answers False.

What is kept is keyed by Telegram user and chat ids, personal data: ``forget_idle`` deletes
what was not saved for a while, so the memory of a user who went away goes too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update

from chat_state.tables import chat_state
from core.db import Store

log = logging.getLogger("shixin.chat_state")
# As the bot tests' scanner: 17 digits and a check character, not part of a longer number.
FULL_ID = re.compile(r"(?<![0-9*])\d{17}[0-9Xx](?![0-9])")


class ChatStateService:
    def __init__(self, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    def load(self, namespace: str) -> dict[str, Any]:
        """Every key of ``namespace`` with its value."""
        query = select(chat_state.c.key, chat_state.c.data).where(
            chat_state.c.namespace == namespace
        )
        with self.store.read() as conn:
            return {key: orjson.loads(data) for key, data in conn.execute(query)}

    def save(self, namespace: str, key: str, value: Any) -> bool:
        """Store ``value`` under ``namespace`` and ``key``; False when it is refused."""
        data = _checked_json(namespace, value)
        if data is None:
            return False
        row = chat_state.c
        at = (row.namespace == namespace) & (row.key == key)
        now = self._clock()
        # One writer at a time (Store.write), so a read then an insert or update is safe.
        with self.store.write() as conn:
            if conn.execute(select(row.key).where(at)).first() is None:
                values = {"namespace": namespace, "key": key, "data": data, "updated_at": now}
                conn.execute(insert(chat_state).values(values))
            else:
                conn.execute(update(chat_state).where(at).values(data=data, updated_at=now))
        return True

    def forget_idle(self, age: timedelta) -> int:
        """Delete every value not saved for ``age``; how many were."""
        cutoff = self._clock() - age
        with self.store.write() as conn:
            return conn.execute(delete(chat_state).where(chat_state.c.updated_at < cutoff)).rowcount

    def delete(self, namespace: str, key: str) -> None:
        row = chat_state.c
        with self.store.write() as conn:
            conn.execute(delete(chat_state).where((row.namespace == namespace) & (row.key == key)))


def _checked_json(namespace: str, value: Any) -> str | None:
    """``value`` as JSON text, or None when it is refused."""
    # The log names the namespace only: never the value, nor the chat or user it belongs to.
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        log.warning("chat state refused in %s: the value is not JSON", namespace)
        return None
    if FULL_ID.search(text):
        log.warning("chat state refused in %s: the value holds a full ID number", namespace)
        return None
    return text
