"""The bot's conversation memory kept in the store, so a restart forgets nothing a user set.

``chat_state.service.ChatStateService`` loads a namespace and saves or deletes one key;
``bot/persistence.py`` is the python-telegram-bot persistence built on it.
"""
