"""Which addresses a webhook may be sent to: HTTPS to a public address only, against SSRF
(a webhook must never reach the server's own network, a cloud metadata service at
169.254.169.254, or a database on 10.x).

The host is resolved at registration and again before every send, and every address it
resolves to must be public (``ipaddress``'s ``is_global``): one private address among them
refuses the host. The request then goes to the address that was checked (``pinned``): the
host name travels in the ``Host`` header and, for TLS, as the server name the certificate is
checked against, so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot redirect it. Redirects are never followed.

Plain http is refused, and so is loopback, unless ``SHIXIN_WEBHOOKS_ALLOW_HTTP_LOOPBACK`` is
on (tests, a receiver on the same machine): then http and https to a loopback host only.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_URL = 2000
Resolver = Callable[..., list[Any]]  # socket.getaddrinfo's signature
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressError(ValueError):
    """``code``: bad_url, too_long, not_https, private_address, unresolvable."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    scheme: str
    host: str  # lower case, IDNA-encoded, IPv6 without brackets
    port: int
    path: str  # with the query


@dataclass(frozen=True, slots=True)
class Pinned:
    """A request to ``url`` (the checked address), naming the host in headers and TLS."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


def parse(url: str, *, allow_http_loopback: bool = False) -> Target:
    """The endpoint a URL names, or AddressError. Says nothing yet of what the host
    resolves to (``resolve`` does)."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise AddressError("too_long")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressError("bad_url") from exc
    host = _ascii_host(parts.hostname or "")
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise AddressError("bad_url")  # no credentials in a stored address, nothing after #
    if parts.scheme not in ("https", "http"):
        raise AddressError("not_https")
    if parts.scheme == "http" and not (allow_http_loopback and _loopback_name(host)):
        raise AddressError("not_https")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default = 443 if parts.scheme == "https" else 80
    return Target(url, parts.scheme, host, port or default, path)


def resolve(
    target: Target, *, allow_loopback: bool = False, getaddrinfo: Resolver = socket.getaddrinfo
) -> Address:
    """The address to connect to: the first the host resolves to, all of them allowed."""
    try:
        answers = getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressError("unresolvable") from exc
    addresses = [ipaddress.ip_address(str(a[4][0]).partition("%")[0]) for a in answers]
    if not addresses:
        raise AddressError("unresolvable")
    if not all(allowed(a, allow_loopback=allow_loopback) for a in addresses):
        raise AddressError("private_address")
    if target.scheme == "http" and not all(_unmapped(a).is_loopback for a in addresses):
        raise AddressError("not_https")  # a loopback name that resolves elsewhere
    return addresses[0]


def allowed(address: Address, *, allow_loopback: bool = False) -> bool:
    address = _unmapped(address)
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not address.is_multicast


def pinned(target: Target, address: Address) -> Pinned:
    literal = f"[{address}]" if address.version == 6 else str(address)
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    host_header = host if target.port == default else f"{host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    url = f"{target.scheme}://{literal}:{target.port}{target.path}"
    return Pinned(url, {"Host": host_header}, extensions)


def _unmapped(address: Address) -> Address:
    """``::ffff:10.0.0.1`` is 10.0.0.1."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def _loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return _unmapped(ipaddress.ip_address(host)).is_loopback
    except ValueError:
        return False
