"""How long work reports how far it got, without knowing who is watching.

A domain function that may run for minutes (an import, a rebuild) takes an optional
``Progress`` and calls ``advance`` as it goes; the command line shows it as a bar or as a
line every few seconds (``shixin.progress``). The domain never learns which, so it stays
free of terminal code.

``advance`` is called once per chunk of thousands of lines and must stay cheap: the
``Tally`` the command line hands in only adds to an integer, and the display reads it at
its own rate from another thread.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Work done so far, out of ``total`` units (None until known)."""

    total: int | None

    def advance(self, n: int) -> None: ...


class Tally:
    """A ``Progress`` that only counts; whoever shows it reads ``done`` and ``total``."""

    __slots__ = ("done", "total")

    def __init__(self, total: int | None = None) -> None:
        self.done = 0
        self.total = total

    def advance(self, n: int) -> None:
        self.done += n


class NoProgress:
    """For callers that do not watch: the default of every function taking a Progress."""

    total: int | None = None

    def advance(self, n: int) -> None:
        pass


NO_PROGRESS = NoProgress()
