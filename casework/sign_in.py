"""The units' sign-in desk: login and the back-office sessions (casework/accounts.py).

The back office's pages (portal/unit_pages.py, portal/sessions.py) reach the accounts through
this object only. Like the functions it calls it uses the wall clock, not the CaseService's
(a session's idle time and a lockout are real time).
"""

from __future__ import annotations

from casework import accounts
from casework.accounts import Actor
from casework.service import CaseService


class SignIn:
    def __init__(self, cases: CaseService) -> None:
        self._store = cases.store

    def login(self, login: str, password: str) -> Actor:
        """The Actor for a correct login; LoginFailed otherwise (the same for a wrong
        password and an unknown name)."""
        return accounts.login(self._store, login, password)

    def start_session(self, actor: Actor) -> str:
        """A new session for ``actor``: its token, given out once."""
        return accounts.start_session(self._store, actor)

    def session_actor(self, token: str) -> Actor | None:
        """Who holds the session ``token``, or None; using a session keeps it alive."""
        return accounts.session_actor(self._store, token)

    def end_session(self, token: str) -> None:
        accounts.end_session(self._store, token)
