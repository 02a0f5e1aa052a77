"""The bot's memory kept in the store: what a user chose (``/lang``), what a chat keeps for
its paging buttons, and where each persistent conversation stands survive a restart.

A python-telegram-bot ``BasePersistence`` over ``chat_state`` (one row per user, per chat
and per conversation key). Not ``bot_data``: it holds the live services the handlers use,
built afresh at start. Not callback data: the bot's buttons carry short strings of their
own. The application hands over what changed every ``UPDATE_INTERVAL`` seconds and once
more when it stops (``flush_on_stop``, then shutdown); each value is written in a
transaction of its own, in a thread, one at a time (the store has a single writer anyway).

Kept for as long as its user or chat is around: at start, what was not saved for
``FORGET_AFTER`` is deleted. The application hands over the user and the chat of every
update, changed or not; a value equal to the one this run last wrote is written again only
once ``TOUCH_EVERY`` has passed, which keeps the state of everyone active fresh at the cost
of one write a day for each of them.

Values are JSON: user and chat ids come back as ints, conversation keys as tuples, and a
value the service refuses (not JSON, or holding a full ID number) is logged there and not
stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
from telegram.ext import Application, BasePersistence, PersistenceInput

from chat_state.service import ChatStateService

UPDATE_INTERVAL = 5.0  # seconds: at most this much of what users set is lost in a crash
FORGET_AFTER = timedelta(days=90)
TOUCH_EVERY = timedelta(days=1)
USERS = "user"
CHATS = "chat"
CONVERSATION = "conversation:"  # + the ConversationHandler's name

Data = dict[str, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]


class StorePersistence(BasePersistence[Data, Data, Data]):
    def __init__(
        self,
        states: ChatStateService,
        clock: Callable[[], datetime],
        update_interval: float = UPDATE_INTERVAL,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self._states = states
        self._clock = clock
        # What this run wrote under each namespace and key, and when.
        self._written: dict[tuple[str, str], tuple[Any, datetime]] = {}
        self._writing = asyncio.Lock()

    # --- loading at start ---------------------------------------------------------------

    async def get_user_data(self) -> dict[int, Data]:
        # The first thing the application loads at start: forget the idle first.
        await asyncio.to_thread(self._states.forget_idle, FORGET_AFTER)
        return {int(key): value for key, value in (await self._load(USERS)).items()}

    async def get_chat_data(self) -> dict[int, Data]:
        return {int(key): value for key, value in (await self._load(CHATS)).items()}

    async def get_conversations(self, name: str) -> ConversationDict:
        loaded = await self._load(CONVERSATION + name)
        return {tuple(orjson.loads(key)): state for key, state in loaded.items()}

    async def get_bot_data(self) -> Data:
        return {}  # never asked: bot_data is not persisted

    async def get_callback_data(self) -> None:
        return None  # never asked: callback data is not persisted

    # --- what changed ------------------------------------------------------------------

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._save(USERS, str(user_id), data)

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        await self._save(CHATS, str(chat_id), data)

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        namespace, row = CONVERSATION + name, orjson.dumps(list(key)).decode()
        if new_state is None:  # the conversation ended
            await self._delete(namespace, row)
        else:
            await self._save(namespace, row, new_state)

    async def drop_user_data(self, user_id: int) -> None:
        await self._delete(USERS, str(user_id))

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._delete(CHATS, str(chat_id))

    async def update_bot_data(self, data: Data) -> None:
        pass  # not persisted (see the module's docstring)

    async def update_callback_data(self, data: Any) -> None:
        pass  # not persisted

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        pass  # only this process writes the bot's state: memory is never behind the store

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        pass

    async def refresh_bot_data(self, bot_data: Data) -> None:
        pass

    async def flush(self) -> None:
        pass  # nothing is buffered: every update above is written before it returns

    # --- the store ---------------------------------------------------------------------

    async def _load(self, namespace: str) -> dict[str, Any]:
        return await asyncio.to_thread(self._states.load, namespace)

    async def _save(self, namespace: str, key: str, value: Any) -> None:
        # Every update from a user marks its user and chat: most carry nothing new. (The
        # application hands over a deep copy, so ``value`` is ours to keep.)
        now = self._clock()
        last = self._written.get((namespace, key))
        if last is not None and last[0] == value and now - last[1] < TOUCH_EVERY:
            return
        async with self._writing:
            if value == {}:  # nothing to keep: a user who never chose anything has no row
                await asyncio.to_thread(self._states.delete, namespace, key)
            else:
                await asyncio.to_thread(self._states.save, namespace, key, value)
        # A refused value is remembered too: it is logged once a day, not at every interval.
        self._written[(namespace, key)] = (value, now)

    async def _delete(self, namespace: str, key: str) -> None:
        async with self._writing:
            await asyncio.to_thread(self._states.delete, namespace, key)
        self._written.pop((namespace, key), None)


async def flush_on_stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_stop: write what changed as soon as the bot stops, before the shutdown steps
    that talk to Telegram (a failure there would skip shutdown's own last write)."""
    await app.update_persistence()
