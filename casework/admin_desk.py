"""The administrator's desk: what the back office (portal/admin_pages.py) reads and changes.

One object over the functions of casework/units.py, casework/accounts.py,
casework/admin_audit.py and casework/routing_store.py, holding the store, the routing in
force and the clock of a CaseService, so that the pages never handle the store. It checks
nothing of who asks: the pages let only an administrator reach it, and every change names
the administrator (``by``) for the audit trail, written by the function that makes it.
"""

from __future__ import annotations

from pathlib import Path

from casework import accounts, admin_audit, routing_store, units
from casework.admin_audit import AuditItem
from casework.routing_store import Version
from casework.service import CaseService
from casework.units import UnitInfo, UserInfo

API_KEY_REVOKE = "api_key.revoke"


def api_key_target(key_id: int) -> str:
    """How the audit trail names an API key."""
    return f"api_key:{key_id}"


def api_key_revocation(key_id: int, reason: str, *, by: str) -> admin_audit.Recorder:
    """The audit record of revoking ``key_id``, for ``ApiKeys.revoke`` to write in its own
    transaction; ``by`` is the administrator's login or ``admin_audit.OWNER``."""
    return admin_audit.recorder(by, API_KEY_REVOKE, api_key_target(key_id), reason=reason)


class AdminDesk:
    def __init__(self, cases: CaseService) -> None:
        self._cases = cases
        self._store = cases.store

    # --- units and accounts -------------------------------------------------------------

    def list_units(self) -> list[UnitInfo]:
        return units.list_units(self._store)

    def list_users(self) -> list[UserInfo]:
        return units.list_users(self._store)

    def lock_state(self, logins: list[str]) -> set[str]:
        """Which of ``logins`` are locked out now."""
        return accounts.lock_state(self._store, logins)

    def recent_audit(self) -> list[AuditItem]:
        return admin_audit.recent(self._store)

    def api_key_revocations(self, key_ids: list[int]) -> dict[int, AuditItem]:
        """Who revoked each of these API keys, when and why (keys without a record left out)."""
        found = admin_audit.latest(
            self._store, API_KEY_REVOKE, [api_key_target(i) for i in key_ids]
        )
        return {i: found[api_key_target(i)] for i in key_ids if api_key_target(i) in found}

    def add_unit(
        self,
        code: str,
        *,
        login: str | None,
        email: str | None,
        password: str | None,
        by: str,
    ) -> tuple[str, str]:
        """A unit of the routing in force (or a court) and its account: (login, password)."""
        cases = self._cases
        return units.add_unit(
            self._store,
            cases.routing,
            code,
            login=login,
            email=email,
            password=password,
            by=by,
            now=cases.now(),
        )

    def add_staff(
        self, unit_code: str, login: str, display_name: str, *, password: str | None, by: str
    ) -> str:
        """A named user under a unit; returns the password (given or generated)."""
        return units.add_staff(
            self._store,
            unit_code,
            login,
            display_name,
            self._cases.now(),
            password=password,
            by=by,
        )

    def reset_password(self, login: str, *, by: str) -> str:
        """A new generated password, ending the login's sessions."""
        return units.reset_password(self._store, login, self._cases.now(), by=by)

    def unlock(self, login: str, *, by: str) -> bool:
        return accounts.unlock(self._store, login, by=by, now=self._cases.now())

    def set_user_disabled(self, login: str, disabled: bool, *, by: str) -> None:
        units.set_user_disabled(self._store, login, disabled, by=by, now=self._cases.now())

    def set_unit_email(self, code: str, email: str | None, *, by: str) -> None:
        units.set_email(self._store, code, email, by=by, now=self._cases.now())

    def set_unit_disabled(self, code: str, disabled: bool, *, by: str) -> None:
        units.set_unit_disabled(self._store, code, disabled, by=by, now=self._cases.now())

    # --- the routing file ---------------------------------------------------------------

    def routing_history(self) -> list[Version]:
        """Every installed routing file, newest first."""
        return routing_store.history(self._store)

    def routing_text(self) -> str:
        """The text of the routing file in force."""
        return routing_store.text_of(self._store, self._cases.routing)

    def routing_version_text(self, row_id: int) -> tuple[str, str] | None:
        """(version, text) of an installed file; None for an unknown id."""
        return routing_store.version_text(self._store, row_id)

    def install_routing(self, data: bytes, *, by: str, base: Path | None) -> None:
        """Make the uploaded file the one in force: at once in this worker, in the others at
        their next check. Raises RoutingError (nothing written) for a file that is wrong."""
        text = routing_store.decode(data)
        routing_store.install(self._store, text, by, base, self._cases.now())
        self._cases.refresh_routing()
