"""Related parties by name: the listed organizations whose legal representative
(``businessEntity``) has the same name as a listed person.

A name is all the list gives, and namesakes are common (thousands of people are called 张伟),
so this is a lead for a reader to check, never a finding that the two are one person: every
channel shows it apart from the person's own entries and says so. The lookup is the index's
exact-name tag (``IndexBackend.represented_by``), so it serves exactly what the index serves:
never a removed, shielded, expired or never-public entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from search_index.normalize import name_key
from search_index.types import IndexBackend, IndexDoc, PartyType

SHOWN = 10  # organizations shown per name; beyond that, a link to the full search
BASIS = "sameName"  # how the organizations are related: by the name alone


@dataclass(frozen=True, slots=True)
class Related:
    name: str  # the person's name as published (the first form met)
    key: str  # normalize.name_key(name): what the representative search takes
    organizations: list[dict[str, Any]]  # public JSON (IndexDoc.to_api), newest first, ≤ SHOWN
    more: bool  # whether more than SHOWN organizations have this representative


def persons_names(docs: Iterable[IndexDoc]) -> list[str]:
    """The names of the persons among ``docs``, in order (organizations have no namesakes
    here: their own representative is on their entry)."""
    return [doc.name for doc in docs if doc.party_type == PartyType.PERSON]


def related_organizations(index: IndexBackend, names: Iterable[str]) -> list[Related]:
    """One ``Related`` per distinct name (by its normalized key) that represents at least one
    listed organization, in the order the names came."""
    first: dict[str, str] = {}
    for name in names:
        key = name_key(name)
        if key:
            first.setdefault(key, name)
    found = index.represented_by(list(first), SHOWN + 1)
    return [
        Related(name, key, found[key][:SHOWN], len(found[key]) > SHOWN)
        for key, name in first.items()
        if key in found
    ]
