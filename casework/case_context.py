"""What every concern of casework shares: the store, the routing file in force, the calendar,
the clock, the evidence store and its limits, and the public address for links.

CaseService (casework/service.py) is this context plus its front methods; the concern modules
(intake, submitter_actions, unit_workflow, sweeps, ticket_views, notifications) take a
CaseContext, so they see the shared state but never each other's entry points.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from casework.evidence import EvidencePolicy, EvidenceStore
from casework.routing import Category, Routing
from core.db import Store
from core.workdays import WorkCalendar


class CaseContext:
    def __init__(
        self,
        store: Store,
        routing: Routing,
        calendar: WorkCalendar,
        clock: Callable[[], datetime] | None = None,
        *,
        evidence_store: EvidenceStore | None = None,
        evidence_policy: EvidencePolicy | None = None,
        public_url: str | None = None,
    ) -> None:
        self.store = store
        # SHIXIN_PUBLIC_URL: notifications link to the page they talk about (notice_texts.py).
        self.public_url = public_url
        # Replaced by CaseService.refresh_routing; read it here each time, never keep a copy.
        self.routing = routing
        self.calendar = calendar
        self._clock = clock or (lambda: datetime.now(UTC))
        # Without a store (some tests), files are refused like over the limit of 0.
        self.evidence_store = evidence_store
        self.evidence_policy = (
            (evidence_policy or EvidencePolicy()) if evidence_store else EvidencePolicy(0, 0)
        )

    def now(self) -> datetime:
        return self._clock()

    def unit_name(self, code: str | None) -> str:
        """The unit's name in the routing file in force; its code if the file dropped it."""
        if code is None:
            return ""
        unit = self.routing.unit(code)
        return unit.name if unit else code

    def category_of(self, row: dict[str, Any]) -> Category:
        """The ticket's category, for its deadlines."""
        category = self.routing.category(row["category"])
        if category is None:  # the routing file dropped it since: keep its ticket moving
            fallback = (
                self.routing.complaints() if row["kind"] == "complaint" else self.routing.reports()
            )
            return fallback[0]
        return category
