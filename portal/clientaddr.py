"""Who is asking: the client's address, behind trusted reverse proxies.

``X-Forwarded-For`` is a list anyone can write to; only the entries appended by proxies we
run can be believed. So the header is read only when the direct peer is a trusted proxy,
and then from the right: each trusted hop is skipped, and the first address that is not
ours is the client (anything further left may be forged by that client).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddress:
    """``resolve(scope)`` gives the client's address as a string (``"unknown"`` if none)."""

    def __init__(self, trusted: Iterable[str] = ()) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(item, strict=False) for item in trusted
        )

    def resolve(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not self.networks or not self._trusted(peer):
            return peer
        forwarded = [
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
        ]
        hops = [hop.strip() for hop in ",".join(forwarded).split(",") if hop.strip()]
        for hop in reversed(hops):
            if not _is_address(hop):
                # A proxy of ours wrote garbage, or a client's junk reached us unparsed:
                # fall back to the last address we know is real.
                return peer
            if not self._trusted(hop):
                return hop
            peer = hop
        return peer  # every hop is ours: the request came from inside

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
