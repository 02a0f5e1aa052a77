"""Leases: which process may write the index (or rebuild it), and how a dead one's claim ends.

A lease is a row of ``sync_state`` that names its holder and when the claim runs out. The
holder renews it every ``HEARTBEAT`` from a thread of its own while it works, so ``LEASE``
can be short however long the work (a million-entry rebuild keeps its lease). A claim ends
when it is released, when ``LEASE`` passes without a renewal (a process that hangs, or one on
another host that died), or at once when its holder is provably dead: a process on this host
and in this PID namespace that no longer runs (its pid is gone, a zombie, or taken by a
process started at another time). A holder that cannot tell is never taken over early.

The holder is ``host:pid:start:pidns`` (core/process_identity.py, which also tells a dead
holder from a live one; the outbox's delivery rounds name themselves the same way).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, update

from core.db import Store
from core.process_identity import holder_is_dead, identity
from search_index.tables import sync_state

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=10)
HEARTBEAT = 2.0  # seconds between renewals: a holder misses four before its claim runs out
POLL = 0.05  # seconds between attempts while waiting for a lease


class LeaseBusy(RuntimeError):
    """Another process holds the lease."""


class LeaseLost(LeaseBusy):
    """The lease ran out or was taken over while we worked: stop before writing more."""


HOLDER = identity()


def _after_fork() -> None:
    global HOLDER
    HOLDER = identity()  # a forked worker is a holder of its own


os.register_at_fork(after_in_child=_after_fork)


def ensure_row(conn: Connection, name: str) -> None:
    exists = conn.execute(select(sync_state.c.name).where(sync_state.c.name == name)).first()
    if exists is None:
        conn.execute(sync_state.insert().values(name=name, seq=0))


class Lease:
    """A claim on the ``sync_state`` row ``name``, renewed by a heartbeat while held.
    ``wait``: how many seconds to keep trying while another live process holds it."""

    def __init__(self, store: Store, name: str, *, wait: float = 0.0) -> None:
        self.store = store
        self.name = name
        self.wait = wait
        self.holder = HOLDER
        self._stop = threading.Event()
        self._lost = False
        self._valid_until = 0.0  # monotonic: when our last renewal runs out
        self._beat: threading.Thread | None = None

    def __enter__(self) -> Lease:
        deadline = time.monotonic() + self.wait
        while not self._claim():
            if time.monotonic() >= deadline:
                raise LeaseBusy(f"another process holds the {self.name} lease")
            time.sleep(POLL)
        self._beat = threading.Thread(target=self._heartbeat, name=f"lease-{self.name}")
        self._beat.daemon = True
        self._beat.start()
        return self

    def _claim(self) -> bool:
        started = time.monotonic()
        now = datetime.now(UTC)
        with self.store.write() as conn:
            ensure_row(conn, self.name)
            row = conn.execute(
                select(sync_state.c.lease_holder, sync_state.c.lease_until).where(
                    sync_state.c.name == self.name
                )
            ).one()
            holder, until = row.lease_holder, row.lease_until
            free = holder is None or until is None or until < now or holder == self.holder
            if not free and holder_is_dead(holder):
                log.warning("taking over the %s lease of %s, which has died", self.name, holder)
                free = True
            if free:
                conn.execute(
                    update(sync_state)
                    .where(sync_state.c.name == self.name)
                    .values(lease_holder=self.holder, lease_until=now + LEASE)
                )
        if free:
            self._valid_until = started + LEASE.total_seconds()
        return free

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            started = time.monotonic()
            try:
                with self.store.write() as conn:
                    renewed = conn.execute(
                        update(sync_state)
                        .where(
                            sync_state.c.name == self.name,
                            sync_state.c.lease_holder == self.holder,
                        )
                        .values(lease_until=datetime.now(UTC) + LEASE)
                    ).rowcount
            except Exception:
                log.warning("could not renew the %s lease", self.name, exc_info=True)
                continue  # check() notices once the last renewal has run out
            if not renewed:
                log.error("the %s lease was taken over while this process held it", self.name)
                self._lost = True
                return
            self._valid_until = started + LEASE.total_seconds()

    def check(self) -> None:
        """Raise LeaseLost unless the lease is still ours (before each write to the index)."""
        if self._lost or time.monotonic() > self._valid_until:
            raise LeaseLost(f"the {self.name} lease was lost")

    def fence(self, conn: Connection) -> None:
        """Inside a store transaction: raise LeaseLost unless the row still names us, so
        that a round that lost its lease records nothing (writers are serialized)."""
        holder = conn.execute(
            select(sync_state.c.lease_holder).where(sync_state.c.name == self.name)
        ).scalar()
        if holder != self.holder:
            raise LeaseLost(f"the {self.name} lease is held by {holder}")

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        try:
            with self.store.write() as conn:
                conn.execute(
                    update(sync_state)
                    .where(
                        sync_state.c.name == self.name,
                        sync_state.c.lease_holder == self.holder,
                    )
                    .values(lease_holder=None, lease_until=None)
                )
        except Exception:  # the claim runs out by itself; do not hide the block's own error
            log.warning("could not release the %s lease", self.name, exc_info=True)
