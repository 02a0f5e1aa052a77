"""``SHIXIN_SMTP_URL``: where mail is sent, checked when the settings load and parsed by
the sender::

    smtp://[USER[:PASSWORD]@]HOST[:PORT][?starttls=1|0][&timeout=SECONDS][&helo=NAME]
    smtps://[USER[:PASSWORD]@]HOST[:PORT][?timeout=SECONDS][&helo=NAME]

``smtps`` is TLS from the first byte (port 465 by default). ``smtp`` uses port 25 (587
with ``starttls=1``); ``starttls=1`` requires STARTTLS, ``starttls=0`` never uses it, and
without the parameter STARTTLS is used when the server offers it, and required when a user
name is given (credentials never travel in clear text unless ``starttls=0`` says so). User
and password are percent-encoded (``%40`` for ``@``). ``timeout`` (default 30) bounds the
connection and each command; ``helo`` is the name this host gives in EHLO.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["SmtpTarget", "parse_smtp_url"]


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False  # smtps: TLS from the first byte
    start_tls: bool | None = None  # True: required; False: never; None: when offered
    timeout: float = 30.0
    helo: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    """Parse ``SHIXIN_SMTP_URL`` (format in the module docstring). Error messages never
    repeat the URL: it may hold a password."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ValueError("the scheme must be smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("no host name")
    try:
        explicit_port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = set(query) - {"starttls", "timeout", "helo"}
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(sorted(unknown))}")

    def one(name: str) -> str | None:
        values = query.get(name)
        return values[-1].strip() if values else None

    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    starttls_raw = one("starttls")
    start_tls: bool | None
    if starttls_raw is None or starttls_raw == "":
        start_tls = True if (username and scheme == "smtp") else None
    elif starttls_raw.lower() in ("1", "true", "yes", "on"):
        start_tls = True
    elif starttls_raw.lower() in ("0", "false", "no", "off"):
        start_tls = False
    else:
        raise ValueError("starttls must be 1 or 0")
    if scheme == "smtps":
        if starttls_raw and start_tls:
            raise ValueError("smtps:// is TLS from the start: drop starttls")
        start_tls = False
    timeout_raw = one("timeout")
    try:
        timeout = float(timeout_raw) if timeout_raw else 30.0
    except ValueError:
        raise ValueError("timeout must be a number of seconds") from None
    if not 0 < timeout <= 600:
        raise ValueError("timeout must be between 0 and 600 seconds")
    default_port = 465 if scheme == "smtps" else (587 if starttls_raw and start_tls else 25)
    return SmtpTarget(
        hostname=parts.hostname,
        port=explicit_port or default_port,
        username=username,
        password=password,
        use_tls=scheme == "smtps",
        start_tls=start_tls,
        timeout=timeout,
        helo=one("helo") or None,
    )
