"""Routing files installed by an administrator (the back office or ``shixin routing
--install``), kept in ``routing_files`` with every version.

- The newest row is in force, ahead of SHIXIN_ROUTING_FILE and the packaged file, so every
  worker routes by the same file; a worker checks the newest row id now and then
  (``newer``) and the one that installed a file switches at once.
- Installing validates the text exactly as load_routing does; on any error nothing is
  written. A version string names one content: tickets keep the version they were filed
  under, so a different file under a version already used is refused.
- Rolling back is installing an older file again: it becomes the newest row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from casework import admin_audit
from casework.routing import (
    DEFAULT_FILE,
    Installed,
    Routing,
    RoutingError,
    load_routing,
    load_routing_text,
)
from casework.tables import routing_files
from core.db import Store

MAX_BYTES = 512 * 1024  # the packaged file is about 20 KB


@dataclass(frozen=True, slots=True)
class Version:
    """One installed file, for the history."""

    id: int
    version: str
    sha256: str
    installed_by: str
    installed_at: datetime


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def origin_of(row_id: int) -> Path:
    """How errors and the CLI name an installed file."""
    return Path(f"routing_files#{row_id}")


def decode(data: bytes) -> str:
    """An uploaded file's text; RoutingError if it is too large or not UTF-8."""
    if len(data) > MAX_BYTES:
        raise RoutingError(f"the file: 文件过大（最多 {MAX_BYTES // 1024} KB）")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise RoutingError("the file: 文件不是 UTF-8 编码的文本") from None


def _load(row: Any) -> Routing:
    installed = Installed(row["id"], row["sha256"], row["installed_by"], row["installed_at"])
    return load_routing_text(row["text"], origin_of(row["id"]), installed)


def _newest(conn: Connection) -> Any:
    return (
        conn.execute(select(routing_files).order_by(routing_files.c.id.desc()).limit(1))
        .mappings()
        .first()
    )


def in_force(store: Store, path: Path | None) -> Routing:
    """The newest installed file, else the file at ``path``, else the packaged one."""
    with store.read() as conn:
        row = _newest(conn)
    return _load(row) if row is not None else load_routing(path)


def newer(store: Store, current: Routing) -> Routing | None:
    """The newest installed file if it is not ``current``; None when nothing changed."""
    with store.read() as conn:
        newest_id = conn.execute(select(func.max(routing_files.c.id))).scalar()
        if newest_id is None or (current.installed and current.installed.id == newest_id):
            return None
        row = _newest(conn)
    return _load(row)


def text_of(store: Store, routing: Routing) -> str:
    """The text of the file ``routing`` was loaded from, for download."""
    if routing.installed is None:
        return routing.origin.read_text(encoding="utf-8")
    with store.read() as conn:
        return conn.execute(
            select(routing_files.c.text).where(routing_files.c.id == routing.installed.id)
        ).scalar_one()


def install(
    store: Store, text: str, by: str, base: Path | None, now: datetime | None = None
) -> Routing:
    """Validate ``text`` and make it the file in force; RoutingError (nothing written) if it
    is wrong, reuses a version for other content (of an installed file, or of ``base``: the
    SHIXIN_ROUTING_FILE, else the packaged file), or is already the file in force."""
    now = now or datetime.now(UTC)
    if not text.strip():
        raise RoutingError("the file: 文件是空的")
    routing = load_routing_text(text, Path("upload"))
    sha = digest(text)
    with store.write() as conn:
        newest = _newest(conn)
        if newest is not None and newest["sha256"] == sha:
            raise RoutingError(f"the file: 这个文件已是当前生效的路由文件（#{newest['id']}）")
        used = conn.execute(
            select(routing_files.c.id).where(
                routing_files.c.version == routing.version, routing_files.c.sha256 != sha
            )
        ).first()
        if used is not None or _base_clash(base, routing.version, sha):
            raise RoutingError(
                f"version: 版本号 {routing.version!r} 已用于内容不同的路由文件，"
                "已受理的事项按版本号记录所依据的文件，请换用新的版本号"
            )
        row_id = conn.execute(
            routing_files.insert().values(
                version=routing.version,
                sha256=sha,
                text=text,
                installed_by=by,
                installed_at=now,
            )
        ).inserted_primary_key[0]
        admin_audit.record(
            conn, now, by, "routing.install", routing.version, id=int(row_id), sha256=sha
        )
    installed = Installed(int(row_id), sha, by, now)
    return load_routing_text(text, origin_of(int(row_id)), installed)


def _base_clash(base: Path | None, version: str, sha: str) -> bool:
    """Whether the file configured (or packaged) uses ``version`` for other content."""
    try:
        text = (base or DEFAULT_FILE).read_text(encoding="utf-8")
        return load_routing_text(text, base or DEFAULT_FILE).version == version and (
            digest(text) != sha
        )
    except (OSError, UnicodeDecodeError, RoutingError):
        return False  # a broken or missing file names no version


def history(store: Store) -> list[Version]:
    """Every installed file, newest first."""
    with store.read() as conn:
        rows = conn.execute(
            select(
                routing_files.c.id,
                routing_files.c.version,
                routing_files.c.sha256,
                routing_files.c.installed_by,
                routing_files.c.installed_at,
            ).order_by(routing_files.c.id.desc())
        ).all()
    return [Version(*r) for r in rows]


def version_text(store: Store, row_id: int) -> tuple[str, str] | None:
    """(version, text) of an installed file, to download it again (say, to roll back)."""
    with store.read() as conn:
        row = conn.execute(
            select(routing_files.c.version, routing_files.c.text).where(
                routing_files.c.id == row_id
            )
        ).first()
    return None if row is None else (row[0], row[1])
