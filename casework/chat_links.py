"""Tickets bound to Telegram chats, for the bot's handlers (bot/app.py).

One object over casework/telegram_links.py's ``link_chat`` and ``unlink_chat``, holding the store,
the casework clock and the public address the confirmations link to, so that the handlers
never handle the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from casework.tables import tickets
from casework.telegram_links import LinkResult, link_chat, unlink_chat
from casework.tickets import STATE_NAMES, State
from core.db import Store


@dataclass(frozen=True, slots=True)
class ChatTicket:
    """A ticket bound to a chat, as ``/mine`` lists it: never its access code."""

    number: str
    state: str
    state_name: str


class ChatLinks:
    def __init__(
        self, store: Store, clock: Callable[[], datetime], public_url: str | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._public_url = public_url

    def link(self, token: str, chat_id: int | str) -> LinkResult:
        """Bind the ticket behind a receipt's ``/start`` token to ``chat_id`` (a valid,
        unused, unexpired token only; anything else changes nothing)."""
        return link_chat(self._store, token, chat_id, self._clock(), public_url=self._public_url)

    def unlink(self, chat_id: int | str) -> list[str]:
        """Remove ``chat_id`` from every ticket (``/stop``); the tickets' numbers."""
        return unlink_chat(self._store, chat_id, self._clock())

    def tickets(self, chat_id: int | str) -> list[ChatTicket]:
        """The tickets bound to ``chat_id`` (``/mine``), oldest first."""
        return chat_tickets(self._store, chat_id)


def chat_tickets(store: Store, chat_id: int | str) -> list[ChatTicket]:
    query = (
        select(tickets.c.number, tickets.c.state)
        .where(tickets.c.contact_telegram == str(chat_id))
        .order_by(tickets.c.id)
    )
    with store.read() as conn:
        return [
            ChatTicket(r.number, r.state, STATE_NAMES[State(r.state)]) for r in conn.execute(query)
        ]
