"""Adding, listing and removing a subscriber's watches.

A watch follows one of:

- a credit code (``add_code``): normalized and checked; matched by its keyed hash against
  the entries' ``card_key``;
- a name plus ID number (``add_person``): the ID number is hashed at once with the list's
  key (``search_index.identifiers.keyed_hash``, as the list hashes full ID numbers) and only
  the hash is kept; the label shows the masked number;
- a saved search (``add_search``): a name (required, matched exactly after normalization),
  and optionally a region, a court and a party type.

A new watch starts at the list's current change (``since_seq``): it is not alerted for what
was published before it existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select

from core.db import Store
from search_index.identifiers import (
    IdentifierError,
    IdentifierKind,
    classify_identifier,
    keyed_hash,
    mask_id_number,
)
from search_index.normalize import normalize_name, place_key
from search_index.tables import entries
from search_index.types import PartyType
from watches.tables import watches

MAX_PER_SUBSCRIBER = 50  # watches one subscriber may hold
MAX_NAME = 100  # characters of a watched name
CHANNELS = ("telegram", "email")


class WatchError(ValueError):
    """A watch that cannot be added; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Watch:
    id: int
    channel: str
    recipient: str
    kind: str
    label: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Added:
    watch: Watch
    created: bool  # False: the subscriber already had this watch


class WatchService:
    def __init__(self, store: Store, id_hash_key: str) -> None:
        self.store = store
        self._key = id_hash_key

    # --- adding ---------------------------------------------------------------------------

    def add_code(self, channel: str, recipient: str, code: str) -> Added:
        return self._add(channel, recipient, self.code_watch(code))

    def add_person(self, channel: str, recipient: str, name: str, id_number: str) -> Added:
        return self._add(channel, recipient, self.person_watch(name, id_number))

    def add_search(
        self,
        channel: str,
        recipient: str,
        name: str,
        *,
        region: str | None = None,
        court: str | None = None,
        party_type: str | None = None,
    ) -> Added:
        watch = self.search_watch(name, region=region, court=court, party_type=party_type)
        return self._add(channel, recipient, watch)

    # --- preparing: a watch's stored values, before it has a subscriber (an email watch
    # waits for its confirmation link with these) -------------------------------------------

    def code_watch(self, code: str) -> dict[str, Any]:
        try:
            kind, normalized = classify_identifier(code)
        except IdentifierError as exc:
            raise WatchError("bad_credit_code") from exc
        if kind is not IdentifierKind.CREDIT_CODE:
            raise WatchError("bad_credit_code")
        return {
            "kind": "code",
            "dedupe_key": f"code:{normalized}",
            "label": f"统一社会信用代码 {normalized}",
            "credit_code": normalized,
            "card_hash": keyed_hash(self._key, normalized),
        }

    def person_watch(self, name: str, id_number: str) -> dict[str, Any]:
        """The ID number is hashed here; only the hash and a masked label go on."""
        name_norm = normalize_name(name.strip())
        if not name_norm:
            raise WatchError("no_name")
        try:
            kind, normalized = classify_identifier(id_number)
        except IdentifierError as exc:
            raise WatchError("bad_id_number") from exc
        if kind is not IdentifierKind.ID_NUMBER:
            raise WatchError("bad_id_number")
        card_hash = keyed_hash(self._key, normalized)
        return {
            "kind": "person",
            "dedupe_key": f"person:{card_hash}:{keyed_hash(self._key, name_norm)}",
            "label": f"{name.strip()} {mask_id_number(normalized)}",
            "card_hash": card_hash,
            "name_norm": name_norm,
        }

    def search_watch(
        self,
        name: str,
        *,
        region: str | None = None,
        court: str | None = None,
        party_type: str | None = None,
    ) -> dict[str, Any]:
        name_norm = normalize_name(name.strip())
        if not name_norm:
            raise WatchError("no_name")
        if len(name.strip()) > MAX_NAME:
            raise WatchError("name_too_long")
        region_key = place_key(region) if region and region.strip() else None
        court_key = place_key(court) if court and court.strip() else None
        if party_type is not None and party_type not in {p.value for p in PartyType}:
            raise WatchError("bad_party_type")
        parts = [name.strip(), region or "", court or "", party_type or ""]
        label = "搜索 " + " / ".join(p.strip() for p in parts if p and p.strip())
        dedupe = f"search:{name_norm}|{region_key or ''}|{court_key or ''}|{party_type or ''}"
        return {
            "kind": "search",
            "dedupe_key": dedupe[:200],
            "label": label,
            "name_norm": name_norm,
            "region": region_key,
            "court": court_key,
            "party_type": party_type,
        }

    def add_entry(self, channel: str, recipient: str, name: str, card: str | None) -> Added:
        return self._add(channel, recipient, self.entry_watch(name, card))

    def entry_watch(self, name: str, card: str | None) -> dict[str, Any]:
        """Watch an entry seen on the public list (its ``iname`` and public ``cardNum``): its
        credit code when it shows a full one, else its name as a saved search when that is a
        plain name (no digits, no masking stars). Raises WatchError("not_watchable")."""
        if card:
            try:
                kind, _ = classify_identifier(card)
            except IdentifierError:
                kind = None
            if kind is IdentifierKind.CREDIT_CODE:
                return self.code_watch(card)
        plain = name.strip()
        if not plain or len(plain) > MAX_NAME or any(c.isdigit() or c == "*" for c in plain):
            raise WatchError("not_watchable")
        return self.search_watch(plain)

    def _add(self, channel: str, recipient: str, values: dict[str, Any]) -> Added:
        with self.store.write() as conn:
            return add_prepared(conn, channel, recipient, values)

    # --- listing and removing -------------------------------------------------------------

    def list(self, channel: str, recipient: str) -> list[Watch]:
        query = (
            select(watches)
            .where(watches.c.channel == channel, watches.c.recipient == recipient)
            .order_by(watches.c.id)
        )
        with self.store.read() as conn:
            return [_watch(r) for r in conn.execute(query).mappings()]

    def remove(self, channel: str, recipient: str, watch_id: int) -> bool:
        """Only the subscriber's own watch; False when there is none by that id."""
        with self.store.write() as conn:
            result = conn.execute(
                delete(watches).where(
                    watches.c.id == watch_id,
                    watches.c.channel == channel,
                    watches.c.recipient == recipient,
                )
            )
            return bool(result.rowcount)

    def remove_all_for(self, channel: str, recipient: str) -> int:
        """Every watch of a subscriber (a chat that blocked the bot). Returns how many."""
        return remove_subscriber(self.store, channel, recipient)


def remove_subscriber(store: Store, channel: str, recipient: str) -> int:
    """Every watch of a subscriber, for a sender that learns the address is gone (a chat
    that blocked the bot): no key needed. Returns how many."""
    with store.write() as conn:
        result = conn.execute(
            delete(watches).where(watches.c.channel == channel, watches.c.recipient == recipient)
        )
        return int(result.rowcount or 0)


def add_prepared(conn: Connection, channel: str, recipient: str, values: dict[str, Any]) -> Added:
    """Add a prepared watch (``WatchService.code_watch`` and its siblings) in the caller's
    transaction; an existing equal watch of the subscriber is returned instead."""
    if channel not in CHANNELS:
        raise WatchError("bad_channel")
    if not recipient:
        raise WatchError("no_recipient")
    mine = watches.c.channel == channel, watches.c.recipient == recipient
    existing = (
        conn.execute(select(watches).where(*mine, watches.c.dedupe_key == values["dedupe_key"]))
        .mappings()
        .first()
    )
    if existing is not None:
        return Added(_watch(existing), created=False)
    count = conn.execute(select(func.count()).select_from(watches).where(*mine)).scalar() or 0
    if count >= MAX_PER_SUBSCRIBER:
        raise WatchError("too_many_watches")
    now = datetime.now(UTC)
    row = {
        **values,
        "channel": channel,
        "recipient": recipient,
        "since_seq": _head(conn),
        "created_at": now,
    }
    new_id = conn.execute(watches.insert().values(row)).inserted_primary_key[0]
    return Added(Watch(new_id, channel, recipient, values["kind"], values["label"], now), True)


def _head(conn: Connection) -> int:
    return conn.execute(select(func.max(entries.c.seq))).scalar() or 0


def _watch(row: Any) -> Watch:
    return Watch(
        row["id"], row["channel"], row["recipient"], row["kind"], row["label"], row["created_at"]
    )
