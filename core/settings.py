"""Configuration from the environment (``SHIXIN_*``), with safe embedded defaults.

Everything configurable lives here so the rest of the code never reads ``os.environ``.
Secrets are wrapped in :class:`Secret` so they stay out of tracebacks and logs.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


# What `shixin demo-data` writes into the data directory by default; its presence marks the
# directory as a demo (shixin/demo_cases.py reads the same name).
DEMO_FILE_NAME = "demo.jsonl"


class Secret:
    """A string that does not print itself."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return self._value

    def reveal(self) -> str:
        return self._value


class ConfigError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, never later."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    index_backend: str  # "sqlite" (embedded default) or "meili"
    index_path: Path
    meili_url: str | None
    meili_key: Secret | None
    meili_index: str
    id_hash_key: Secret
    secret_key: Secret  # signs CSRF tokens; changing it only invalidates open forms
    holidays_file: Path | None
    ingest_max_bytes: int
    sync_interval_seconds: float
    reconcile_interval_seconds: float
    expire_interval_seconds: float
    threads: int  # worker threads per portal process for store and index calls
    # Of those, how many may run searches at once: a search on the embedded index is CPU
    # work under Python's GIL, where a second thread only adds switching (one by default);
    # Meilisearch's searches wait on the network (``threads`` by default).
    search_threads: int
    # Several hosts on one store, each with an embedded index of its own (search_index/
    # replicas.py): this host's replica, and how long one may stay silent and still count.
    index_replica: str = "main"
    index_replica_timeout_seconds: float = 30.0
    # ``shixin import``: the page cache, in MiB, of its writing connection to an SQLite
    # store (core/db.py) and of the process filling the embedded index beside it
    # (search_index/follow.py). A portal's connections, which write small batches, keep less.
    import_cache_mib: int = 384
    # The web front (portal/ratelimit.py, security.py, accesslog.py); defaults suit one worker.
    rate_limit_enabled: bool = True
    rate_limit_pages: str = "120/minute"  # per client: search, entry, status and stats pages
    rate_limit_api: str = "60/minute"  # per client: the JSON API
    rate_limit_api_keyed: str = "600/minute"  # per API key (api_keys/), instead of the above
    rate_limit_forms: str = "10/minute"  # per client: form posts outside the API
    redis_url: Secret | None = None  # shared rate-limit storage for several workers
    trusted_proxies: tuple[str, ...] = ()  # addresses/networks whose X-Forwarded-For we trust
    https: bool = False  # served over https (behind TLS): HSTS and Secure cookies
    form_max_bytes: int = 1024 * 1024
    access_log: bool = True
    routing_file: Path | None = None  # complaints and reports routing (casework/routing.py)
    # Notification email (casework/mail.py): no SMTP URL writes .eml files to
    # DATA_DIR/mail-outbox/ instead (the embedded default).
    smtp_url: Secret | None = None
    mail_from: str = "失信被执行人名单公开查询 <noreply@localhost>"
    mail_reply_to: str | None = None
    mail_interval_seconds: float = 5.0
    mail_max_attempts: int = 12
    sweep_interval_seconds: float = 300.0  # how often overdue casework deadlines are flagged
    # Evidence files on the intake forms (casework/evidence.py): images and PDF, typed by
    # content, kept under DATA_DIR/evidence; upload_max_bytes caps a whole multipart request.
    evidence_max_file_bytes: int = 10 * 1024 * 1024
    evidence_max_files: int = 5
    upload_max_bytes: int = 32 * 1024 * 1024
    # Screening uploads (screening/jobs.py): kept, results too, this long, then deleted;
    # matched in the background every screening_interval_seconds.
    screening_retention_hours: float = 24.0
    screening_interval_seconds: float = 2.0
    # POST /api/v1/ingest with "Prefer: respond-async" (ingest_jobs/): a body this large or
    # larger is run in the background and answered 202; a smaller one stays synchronous.
    ingest_async_min_bytes: int = 1024 * 1024
    ingest_job_interval_seconds: float = 1.0
    # Proof of work on the intake forms (portal/altcha.py). A submission without a solved
    # challenge (no JavaScript) is still taken, within the much smaller unproven budget.
    altcha_enabled: bool = True
    altcha_cost: int = 10000  # PBKDF2 iterations per try; ~256 tries: higher, slower
    rate_limit_unproven: str = "3/hour"
    # Telegram (bot/, casework/telegram_links.py): without a token there is no bot and no
    # Telegram notifications; the username builds the t.me links on receipts.
    telegram_token: Secret | None = None
    telegram_bot_username: str | None = None
    telegram_interval_seconds: float = 5.0
    # Webhook mode (portal/telegram_webhook.py): with the token, the portal receives the
    # updates at /telegram/webhook, checking Telegram's secret header against this.
    telegram_webhook_secret: Secret | None = None
    # A chat id (or @channel) that hears of the bot's errors, plain text and rate-limited.
    telegram_admin_chat: str | None = None
    # Who runs the site and where it lives (the about page, the footer, notification links).
    # public_url has no trailing slash; None keeps notifications to relative wording.
    public_url: str | None = None
    # Webhooks (webhooks/addresses.py) go to public HTTPS addresses only; this lets them go
    # to loopback, over http too (tests, a receiver on the same machine). Never in production.
    webhooks_allow_http_loopback: bool = False
    # Demo data (a banner 「演示数据，非真实名单」 on every page, in the bot and exports):
    # SHIXIN_DEMO, or when unset implied by the file `shixin demo-data` writes into DATA_DIR.
    demo: bool = False
    operator_name: str = "本站运营者（未配置）"
    operator_contact: str | None = None  # an email address or a telephone number
    operator_address: str | None = None
    privacy_contact: str | None = None  # defaults to operator_contact on the about page
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1/0, true/false, yes/no or on/off, got {raw!r}")


def _rate(env: dict[str, str], name: str, default: str) -> str:
    """A limit such as ``120/minute`` or ``10/second;500/hour`` (the `limits` notation)."""
    from limits import parse_many  # only the portal needs it; keep other commands light

    value = (env.get(name) or default).strip()
    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigError(
            f"{name} must look like '120/minute' or '5/second;100/hour', got {value!r}"
        ) from exc
    return value


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    import ipaddress

    items = [part.strip() for part in (env.get(name) or "").split(",") if part.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ConfigError(f"{name}: {item!r} is not an IP address or network") from exc
    return tuple(items)


def _id_hash_key(env: dict[str, str], data_dir: Path) -> Secret:
    """The key for hashing ID numbers. Production sets it; the embedded default keeps
    one in the data directory so hashes stay stable across restarts."""
    value = env.get("SHIXIN_ID_HASH_KEY")
    if value:
        if len(value) < 16:
            raise ConfigError("SHIXIN_ID_HASH_KEY must be at least 16 characters")
        return Secret(value)
    key_file = data_dir / "id_hash.key"
    if key_file.exists():
        return Secret(key_file.read_text(encoding="ascii").strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    log.warning(
        "SHIXIN_ID_HASH_KEY is not set: generated %s. Set the variable in production "
        "and keep it: changing it makes every stored ID hash unmatchable.",
        key_file,
    )
    return Secret(value)


def _secret_key(env: dict[str, str], data_dir: Path) -> Secret:
    """The key that signs form tokens. Every worker must share it, so the embedded default
    keeps one in the data directory rather than a fresh one per process."""
    value = env.get("SHIXIN_SECRET_KEY")
    if value:
        if len(value) < 16:
            raise ConfigError("SHIXIN_SECRET_KEY must be at least 16 characters")
        return Secret(value)
    key_file = data_dir / "secret.key"
    if key_file.exists():
        return Secret(key_file.read_text(encoding="ascii").strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first: use theirs
        return Secret(key_file.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    log.info("SHIXIN_SECRET_KEY is not set: generated %s", key_file)
    return Secret(value)


def _smtp_url(env: dict[str, str]) -> Secret | None:
    value = (env.get("SHIXIN_SMTP_URL") or "").strip()
    if not value:
        return None
    from core.smtp_url import parse_smtp_url

    try:
        parse_smtp_url(value)
    except ValueError as exc:  # the message never repeats the URL: it may hold a password
        raise ConfigError(f"SHIXIN_SMTP_URL: {exc}") from None
    return Secret(value)


def _mail_address(env: dict[str, str], name: str, default: str | None) -> str | None:
    from email.utils import parseaddr

    value = (env.get(name) or "").strip() or default
    if value is None:
        return None
    if any(c in value for c in "\r\n") or "@" not in parseaddr(value)[1]:
        raise ConfigError(f"{name} must be an address such as '平台 <noreply@example.cn>'")
    return value


def _mail_from(env: dict[str, str], smtp_url: Secret | None) -> str:
    if smtp_url is not None and not (env.get("SHIXIN_MAIL_FROM") or "").strip():
        raise ConfigError("SHIXIN_SMTP_URL needs SHIXIN_MAIL_FROM (the sender address)")
    value = _mail_address(env, "SHIXIN_MAIL_FROM", Settings.mail_from)
    assert value is not None
    return value


def _telegram_token(env: dict[str, str]) -> Secret | None:
    value = (env.get("SHIXIN_TELEGRAM_TOKEN") or "").strip()
    if not value:
        return None
    if not re.fullmatch(r"[0-9]+:[A-Za-z0-9_-]{20,}", value):
        raise ConfigError("SHIXIN_TELEGRAM_TOKEN does not look like a bot token from @BotFather")
    return Secret(value)


def _telegram_username(env: dict[str, str]) -> str | None:
    value = (env.get("SHIXIN_TELEGRAM_BOT_USERNAME") or "").strip().removeprefix("@")
    if not value:
        return None
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", value):
        raise ConfigError("SHIXIN_TELEGRAM_BOT_USERNAME must be a bot's username, e.g. shixin_bot")
    return value


def _telegram_webhook_secret(env: dict[str, str]) -> Secret | None:
    value = (env.get("SHIXIN_TELEGRAM_WEBHOOK_SECRET") or "").strip()
    if not value:
        return None
    # Telegram's own rule for secret_token; 32 characters or more make guessing hopeless.
    if not re.fullmatch(r"[A-Za-z0-9_-]{32,256}", value):
        raise ConfigError(
            "SHIXIN_TELEGRAM_WEBHOOK_SECRET must be 32 to 256 characters of A-Z, a-z, 0-9, _ "
            "and -, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return Secret(value)


def _telegram_admin_chat(env: dict[str, str]) -> str | None:
    value = (env.get("SHIXIN_TELEGRAM_ADMIN_CHAT") or "").strip()
    if not value:
        return None
    if not re.fullmatch(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}", value):
        raise ConfigError(
            "SHIXIN_TELEGRAM_ADMIN_CHAT must be a chat id (e.g. -1001234567890) or @channel"
        )
    return value


def _public_url(env: dict[str, str]) -> str | None:
    from urllib.parse import urlsplit

    value = (env.get("SHIXIN_PUBLIC_URL") or "").strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            "SHIXIN_PUBLIC_URL must be the site's address, e.g. https://shixin.example.cn"
        )
    return value


def _demo(env: dict[str, str], data_dir: Path) -> bool:
    """SHIXIN_DEMO wins; unset, the data directory holding `shixin demo-data`'s file says it."""
    if (env.get("SHIXIN_DEMO") or "").strip():
        return _bool(env, "SHIXIN_DEMO", False)
    return (data_dir / DEMO_FILE_NAME).exists()


def _index_replica(env: dict[str, str], backend: str) -> str:
    value = (env.get("SHIXIN_INDEX_REPLICA") or "").strip()
    if not value:
        return Settings.index_replica
    if backend == "meili":  # one index every host shares: nothing to name per host
        raise ConfigError("SHIXIN_INDEX_REPLICA is for the embedded index; Meilisearch is shared")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,25}", value):
        raise ConfigError(
            "SHIXIN_INDEX_REPLICA must be 1 to 26 lowercase letters, digits, _ or -, "
            f"such as web1, got {value!r}"
        )
    return value


def _text(env: dict[str, str], name: str, default: str | None = None) -> str | None:
    value = (env.get(name) or "").strip()
    return value or default


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    data_dir = Path(env.get("SHIXIN_DATA_DIR") or "data").resolve()
    database_url = env.get("SHIXIN_DATABASE_URL") or f"sqlite:///{data_dir / 'shixin.sqlite3'}"
    backend = (env.get("SHIXIN_INDEX") or "sqlite").lower()
    if backend not in ("sqlite", "meili"):
        raise ConfigError(f"SHIXIN_INDEX must be 'sqlite' or 'meili', got {backend!r}")
    meili_url = env.get("SHIXIN_MEILI_URL") or None
    if backend == "meili" and not meili_url:
        raise ConfigError("SHIXIN_INDEX=meili needs SHIXIN_MEILI_URL")
    holidays = env.get("SHIXIN_HOLIDAYS_FILE")
    threads = max(1, _int(env, "SHIXIN_THREADS", 4))
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        index_backend=backend,
        index_path=Path(env.get("SHIXIN_INDEX_PATH") or data_dir / "index.sqlite3"),
        meili_url=meili_url,
        meili_key=Secret(env["SHIXIN_MEILI_KEY"]) if env.get("SHIXIN_MEILI_KEY") else None,
        meili_index=env.get("SHIXIN_MEILI_INDEX") or "entries",
        id_hash_key=_id_hash_key(env, data_dir),
        secret_key=_secret_key(env, data_dir),
        holidays_file=Path(holidays) if holidays else None,
        ingest_max_bytes=_int(env, "SHIXIN_INGEST_MAX_BYTES", 64 * 1024 * 1024),
        import_cache_mib=max(1, _int(env, "SHIXIN_IMPORT_CACHE_MIB", Settings.import_cache_mib)),
        sync_interval_seconds=_float(env, "SHIXIN_SYNC_INTERVAL", 1.0),
        reconcile_interval_seconds=_float(env, "SHIXIN_RECONCILE_INTERVAL", 600.0),
        expire_interval_seconds=_float(env, "SHIXIN_EXPIRE_INTERVAL", 3600.0),
        threads=threads,
        search_threads=max(
            1,
            min(threads, _int(env, "SHIXIN_SEARCH_THREADS", 1 if backend == "sqlite" else threads)),
        ),
        index_replica=_index_replica(env, backend),
        index_replica_timeout_seconds=max(
            1.0, _float(env, "SHIXIN_INDEX_REPLICA_TIMEOUT", Settings.index_replica_timeout_seconds)
        ),
        rate_limit_enabled=_bool(env, "SHIXIN_RATE_LIMIT_ENABLED", True),
        rate_limit_pages=_rate(env, "SHIXIN_RATE_LIMIT_PAGES", "120/minute"),
        rate_limit_api=_rate(env, "SHIXIN_RATE_LIMIT_API", "60/minute"),
        rate_limit_api_keyed=_rate(env, "SHIXIN_RATE_LIMIT_API_KEYED", "600/minute"),
        rate_limit_forms=_rate(env, "SHIXIN_RATE_LIMIT_FORMS", "10/minute"),
        redis_url=Secret(env["SHIXIN_REDIS_URL"]) if env.get("SHIXIN_REDIS_URL") else None,
        trusted_proxies=_networks(env, "SHIXIN_TRUSTED_PROXIES"),
        https=_bool(env, "SHIXIN_HTTPS", False),
        form_max_bytes=max(1024, _int(env, "SHIXIN_FORM_MAX_BYTES", 1024 * 1024)),
        access_log=_bool(env, "SHIXIN_ACCESS_LOG", True),
        routing_file=Path(env["SHIXIN_ROUTING_FILE"]) if env.get("SHIXIN_ROUTING_FILE") else None,
        smtp_url=(smtp_url := _smtp_url(env)),
        mail_from=_mail_from(env, smtp_url),
        mail_reply_to=_mail_address(env, "SHIXIN_MAIL_REPLY_TO", None),
        mail_interval_seconds=max(0.1, _float(env, "SHIXIN_MAIL_INTERVAL", 5.0)),
        mail_max_attempts=max(1, _int(env, "SHIXIN_MAIL_MAX_ATTEMPTS", 12)),
        sweep_interval_seconds=_float(env, "SHIXIN_SWEEP_INTERVAL", 300.0),
        evidence_max_file_bytes=max(1024, _int(env, "SHIXIN_EVIDENCE_MAX_FILE_BYTES", 10 << 20)),
        evidence_max_files=max(0, _int(env, "SHIXIN_EVIDENCE_MAX_FILES", 5)),
        upload_max_bytes=max(1024, _int(env, "SHIXIN_UPLOAD_MAX_BYTES", 32 << 20)),
        screening_retention_hours=max(0.1, _float(env, "SHIXIN_SCREENING_RETENTION_HOURS", 24.0)),
        screening_interval_seconds=max(0.1, _float(env, "SHIXIN_SCREENING_INTERVAL", 2.0)),
        ingest_async_min_bytes=max(0, _int(env, "SHIXIN_INGEST_ASYNC_BYTES", 1 << 20)),
        ingest_job_interval_seconds=max(0.1, _float(env, "SHIXIN_INGEST_JOB_INTERVAL", 1.0)),
        altcha_enabled=_bool(env, "SHIXIN_ALTCHA_ENABLED", True),
        altcha_cost=max(1, _int(env, "SHIXIN_ALTCHA_COST", 10000)),
        rate_limit_unproven=_rate(env, "SHIXIN_RATE_LIMIT_UNPROVEN", "3/hour"),
        telegram_token=_telegram_token(env),
        telegram_bot_username=_telegram_username(env),
        telegram_interval_seconds=max(0.1, _float(env, "SHIXIN_TELEGRAM_INTERVAL", 5.0)),
        telegram_webhook_secret=_telegram_webhook_secret(env),
        telegram_admin_chat=_telegram_admin_chat(env),
        public_url=_public_url(env),
        webhooks_allow_http_loopback=_bool(env, "SHIXIN_WEBHOOKS_ALLOW_HTTP_LOOPBACK", False),
        demo=_demo(env, data_dir),
        operator_name=_text(env, "SHIXIN_OPERATOR_NAME", Settings.operator_name) or "",
        operator_contact=_text(env, "SHIXIN_OPERATOR_CONTACT"),
        operator_address=_text(env, "SHIXIN_OPERATOR_ADDRESS"),
        privacy_contact=_text(env, "SHIXIN_PRIVACY_CONTACT"),
    )
