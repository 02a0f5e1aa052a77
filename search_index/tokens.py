"""Ingest tokens: one bearer token per court unit for ``POST /api/v1/ingest``.

Only a SHA-256 of each token is stored (tokens are 256-bit random, so a plain hash is
enough); the token itself is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from core.db import Store
from search_index.tables import ingest_tokens

PREFIX = "shx_"


@dataclass(slots=True, frozen=True)
class TokenInfo:
    id: int
    unit: str
    court_scope: str | None  # None: may submit for every court (a regional platform)
    created_at: datetime
    revoked_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: Store, unit: str, court_scope: str | None) -> tuple[str, TokenInfo]:
    token = PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.write() as conn:
        token_id = conn.execute(
            ingest_tokens.insert().values(
                unit=unit, court_scope=court_scope, token_hash=_digest(token), created_at=now
            )
        ).inserted_primary_key[0]
    return token, TokenInfo(token_id, unit, court_scope, now, None)


def authenticate(store: Store, token: str) -> TokenInfo | None:
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = _digest(token)
    with store.read() as conn:
        row = (
            conn.execute(select(ingest_tokens).where(ingest_tokens.c.token_hash == digest))
            .mappings()
            .first()
        )
    if row is None or row["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(row["token_hash"], digest):
        return None
    return _info(row)


def list_tokens(store: Store) -> list[TokenInfo]:
    with store.read() as conn:
        rows = conn.execute(select(ingest_tokens).order_by(ingest_tokens.c.id)).mappings()
        return [_info(row) for row in rows]


def revoke_token(store: Store, token_id: int) -> bool:
    with store.write() as conn:
        result = conn.execute(
            update(ingest_tokens)
            .where(ingest_tokens.c.id == token_id, ingest_tokens.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return bool(result.rowcount)


def _info(row: object) -> TokenInfo:
    return TokenInfo(
        id=row["id"],  # type: ignore[index]
        unit=row["unit"],  # type: ignore[index]
        court_scope=row["court_scope"],  # type: ignore[index]
        created_at=row["created_at"],  # type: ignore[index]
        revoked_at=row["revoked_at"],  # type: ignore[index]
    )
