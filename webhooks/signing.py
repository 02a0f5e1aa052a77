"""Endpoint secrets and the signature header of every delivery.

Storing a secret: a hash would not do, because signing needs the secret itself. So a row
keeps only a random seed, and the secret is HMAC-SHA256 of it under the list's key
(``SHIXIN_ID_HASH_KEY``, the key that must never change), recomputed at each send: a copy of
the database alone (a backup, a dump) signs for no endpoint, while the server, which holds
both, can always sign. Encrypting the secret would protect it no better (the same key
would open it) and needs more code. The secret is shown once, on the page that registers
the endpoint; a lost secret is replaced by registering the endpoint again.

The signature is verified by ``webhooks/verify.py``, which receivers copy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from webhooks.verify import expected_signature

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Shixin-Signature"
DELIVERY_HEADER = "Shixin-Delivery"


def new_seed() -> str:
    return secrets.token_hex(32)


def endpoint_secret(list_key: str, seed: str) -> str:
    """The endpoint's signing secret, ``whsec_`` and 43 characters."""
    mac = hmac.new(list_key.encode(), f"webhook-secret:{seed}".encode(), hashlib.sha256)
    return SECRET_PREFIX + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def shown(secret: str) -> str:
    """Enough of a secret to tell two apart on the owner's page."""
    return secret[: len(SECRET_PREFIX) + 4] + "…"


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={expected_signature(secret, timestamp, body)}"
