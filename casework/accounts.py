"""Credentials: argon2 password hashes, login with lockout, and sessions.

- Passwords are hashed with argon2id (argon2-cffi's defaults) and rehashed on login when
  the parameters change.
- Lockout: LOCK_AFTER failures within FAILURE_WINDOW lock a login name for LOCK_FOR. Failures
  are counted per name whether or not an account has it, and an unknown name costs the same
  hash check, so the answers never tell which names exist.
- Sessions: a random token (given to the caller once; only its SHA-256 stored) that ends
  after IDLE_TIMEOUT without use or SESSION_MAX after login, at logout, or when the
  password is reset or the account disabled.
- Housekeeping: ``sweep_expired`` deletes throttle rows whose window is long past (and that
  lock nothing) and sessions that ended or ran out, so neither table only grows.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, or_, select, update

from casework import admin_audit
from casework.errors import InvalidInput, LoginFailed
from casework.tables import case_login_throttle, case_sessions, case_units, case_users
from core.db import Store

LOCK_AFTER = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # write last_seen_at at most this often
MIN_PASSWORD = 12  # a password typed by an administrator; generated ones have 20 characters
MAX_PASSWORD = 1000  # the login form's limit

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password: equalizes the time of unknown logins")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user of a unit (from a session), for CaseService."""

    user_id: int
    unit_code: str
    login: str
    role: str  # unit | staff | admin

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def check_password(password: str) -> str:
    """A password chosen by a person: long enough, and one the login form can send."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password", f"密码至少{MIN_PASSWORD}个字符（留空则自动生成）")
    if len(password) > MAX_PASSWORD or password != password.strip():
        raise InvalidInput("password", f"密码最多{MAX_PASSWORD}个字符，且首尾不能有空格")
    if any(ord(c) < 32 for c in password):
        raise InvalidInput("password", "密码含有无法输入的控制字符")
    return password


def _login_key(login: str) -> str:
    return hashlib.sha256(login.strip().casefold().encode()).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def login(store: Store, login_name: str, password: str, now: datetime | None = None) -> Actor:
    """The Actor for a correct login; LoginFailed otherwise (see the module doc)."""
    now = _now(now)
    key = _login_key(login_name)
    with store.read() as conn:
        throttle = (
            conn.execute(select(case_login_throttle).where(case_login_throttle.c.login_key == key))
            .mappings()
            .first()
        )
        user = (
            conn.execute(
                select(case_users, case_units.c.disabled_at.label("unit_disabled_at"))
                .join(case_units, case_units.c.code == case_users.c.unit_code)
                .where(case_users.c.login == login_name.strip())
            )
            .mappings()
            .first()
        )
    if throttle and throttle["locked_until"] and throttle["locked_until"] > now:
        raise LoginFailed(locked=True)
    ok = _verify(user["password_hash"] if user else _DUMMY_HASH, password)
    usable = user is not None and user["disabled_at"] is None and user["unit_disabled_at"] is None
    if not (ok and usable):
        locked = _record_failure(store, key, throttle, now)
        raise LoginFailed(locked=locked)
    assert user is not None
    with store.write() as conn:
        conn.execute(case_login_throttle.delete().where(case_login_throttle.c.login_key == key))
        if _hasher.check_needs_rehash(user["password_hash"]):
            conn.execute(
                update(case_users)
                .where(case_users.c.id == user["id"])
                .values(password_hash=_hasher.hash(password))
            )
    return Actor(user["id"], user["unit_code"], user["login"], user["role"])


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _record_failure(store: Store, key: str, throttle: object, now: datetime) -> bool:
    """Count a failure; True when this one locks the name."""
    with store.write() as conn:
        row = (
            conn.execute(select(case_login_throttle).where(case_login_throttle.c.login_key == key))
            .mappings()
            .first()
        )
        if row is None:
            conn.execute(
                case_login_throttle.insert().values(login_key=key, failures=1, window_start=now)
            )
            return LOCK_AFTER <= 1
        fresh = now - row["window_start"] > FAILURE_WINDOW
        failures = 1 if fresh else row["failures"] + 1
        locked = failures >= LOCK_AFTER
        conn.execute(
            update(case_login_throttle)
            .where(case_login_throttle.c.login_key == key)
            .values(
                failures=0 if locked else failures,
                window_start=now if fresh or locked else row["window_start"],
                locked_until=now + LOCK_FOR if locked else row["locked_until"],
            )
        )
        return locked


def start_session(store: Store, actor: Actor, now: datetime | None = None) -> str:
    """A new session for ``actor``; the token is returned once and never stored."""
    now = _now(now)
    token = secrets.token_urlsafe(32)
    with store.write() as conn:
        conn.execute(
            case_sessions.insert().values(
                token_hash=_token_hash(token),
                user_id=actor.user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + SESSION_MAX,
            )
        )
    return token


def session_actor(store: Store, token: str, now: datetime | None = None) -> Actor | None:
    """The Actor of a live session, or None (unknown, idle too long, expired, ended, or the
    user or unit disabled). Using a session keeps it alive."""
    if not token or len(token) > 200:
        return None
    now = _now(now)
    digest = _token_hash(token)
    with store.read() as conn:
        row = (
            conn.execute(
                select(
                    case_sessions.c.id,
                    case_sessions.c.last_seen_at,
                    case_sessions.c.expires_at,
                    case_sessions.c.ended_at,
                    case_users.c.id.label("user_id"),
                    case_users.c.unit_code,
                    case_users.c.login,
                    case_users.c.role,
                    case_users.c.disabled_at,
                    case_units.c.disabled_at.label("unit_disabled_at"),
                )
                .join(case_users, case_users.c.id == case_sessions.c.user_id)
                .join(case_units, case_units.c.code == case_users.c.unit_code)
                .where(case_sessions.c.token_hash == digest)
            )
            .mappings()
            .first()
        )
    if (
        row is None
        or row["ended_at"] is not None
        or row["disabled_at"] is not None
        or row["unit_disabled_at"] is not None
        or now >= row["expires_at"]
        or now - row["last_seen_at"] >= IDLE_TIMEOUT
    ):
        return None
    if now - row["last_seen_at"] >= TOUCH_EVERY:
        with store.write() as conn:
            conn.execute(
                update(case_sessions)
                .where(case_sessions.c.id == row["id"])
                .values(last_seen_at=now)
            )
    return Actor(row["user_id"], row["unit_code"], row["login"], row["role"])


def end_session(store: Store, token: str, now: datetime | None = None) -> None:
    with store.write() as conn:
        conn.execute(
            update(case_sessions)
            .where(
                case_sessions.c.token_hash == _token_hash(token), case_sessions.c.ended_at.is_(None)
            )
            .values(ended_at=_now(now))
        )


def end_sessions_of(conn: object, user_id: int, now: datetime) -> None:
    """End every session of a user (inside a write transaction), e.g. on a password reset."""
    conn.execute(  # type: ignore[attr-defined]
        update(case_sessions)
        .where(case_sessions.c.user_id == user_id, case_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )


def lock_state(store: Store, login_names: list[str], now: datetime | None = None) -> set[str]:
    """Which of ``login_names`` are locked out now."""
    now = _now(now)
    keys = {_login_key(name): name for name in login_names}
    with store.read() as conn:
        rows = conn.execute(
            select(case_login_throttle.c.login_key).where(
                case_login_throttle.c.login_key.in_(list(keys)),
                case_login_throttle.c.locked_until > now,
            )
        ).all()
    return {keys[r[0]] for r in rows}


def unlock(
    store: Store, login_name: str, *, by: str | None = None, now: datetime | None = None
) -> bool:
    """Lift a lockout (and forget the failures counted so far); True if there was one.
    ``by``: the administrator, for the audit trail."""
    with store.write() as conn:
        result = conn.execute(
            delete(case_login_throttle).where(
                case_login_throttle.c.login_key == _login_key(login_name)
            )
        )
        if by is not None:
            admin_audit.record(conn, _now(now), by, "login.unlock", login_name)
    return bool(result.rowcount)


def sweep_expired(store: Store, now: datetime | None = None) -> tuple[int, int]:
    """Delete throttle rows that count and lock nothing any more, and sessions that ended,
    expired or went idle; returns (throttle rows, sessions) deleted."""
    now = _now(now)
    with store.write() as conn:
        throttle = conn.execute(
            delete(case_login_throttle).where(
                case_login_throttle.c.window_start < now - FAILURE_WINDOW,
                or_(
                    case_login_throttle.c.locked_until.is_(None),
                    case_login_throttle.c.locked_until <= now,
                ),
            )
        ).rowcount
        sessions = conn.execute(
            delete(case_sessions).where(
                or_(
                    case_sessions.c.ended_at.is_not(None),
                    case_sessions.c.expires_at <= now,
                    case_sessions.c.last_seen_at <= now - IDLE_TIMEOUT,
                )
            )
        ).rowcount
    return throttle, sessions
