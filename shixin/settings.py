"""Configuration from the environment (``SHIXIN_*``), with safe embedded defaults.

Everything configurable lives here so the rest of the code never reads ``os.environ``.
Secrets are wrapped in :class:`Secret` so they stay out of tracebacks and logs.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


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
    holidays_file: Path | None
    ingest_max_bytes: int
    sync_interval_seconds: float
    reconcile_interval_seconds: float
    expire_interval_seconds: float
    threads: int  # worker threads per portal process for store and index calls
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
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        index_backend=backend,
        index_path=Path(env.get("SHIXIN_INDEX_PATH") or data_dir / "index.sqlite3"),
        meili_url=meili_url,
        meili_key=Secret(env["SHIXIN_MEILI_KEY"]) if env.get("SHIXIN_MEILI_KEY") else None,
        meili_index=env.get("SHIXIN_MEILI_INDEX") or "entries",
        id_hash_key=_id_hash_key(env, data_dir),
        holidays_file=Path(holidays) if holidays else None,
        ingest_max_bytes=_int(env, "SHIXIN_INGEST_MAX_BYTES", 64 * 1024 * 1024),
        sync_interval_seconds=_float(env, "SHIXIN_SYNC_INTERVAL", 1.0),
        reconcile_interval_seconds=_float(env, "SHIXIN_RECONCILE_INTERVAL", 600.0),
        expire_interval_seconds=_float(env, "SHIXIN_EXPIRE_INTERVAL", 3600.0),
        threads=max(1, _int(env, "SHIXIN_THREADS", 4)),
    )
