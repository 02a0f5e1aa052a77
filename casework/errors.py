"""Casework's exceptions: each carries an HTTP-like status and a Chinese detail for the views.

NotFound is also what a unit gets for another unit's ticket, so that guessing ids tells
nothing about which exist.
"""

from __future__ import annotations


class CaseworkError(Exception):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(CaseworkError):
    status = 422

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class NotFound(CaseworkError):
    status = 404

    def __init__(self, detail: str = "未找到该事项") -> None:
        super().__init__(detail)


class Forbidden(CaseworkError):
    status = 403


class InvalidTransition(CaseworkError):
    status = 409


class LoginFailed(CaseworkError):
    """Wrong password, unknown login, disabled account or lockout: one answer for all,
    except that ``locked`` says to wait (it is the same for known and unknown logins)."""

    status = 401

    def __init__(self, locked: bool = False) -> None:
        super().__init__("登录过于频繁，请15分钟后再试" if locked else "用户名或密码错误")
        self.locked = locked
