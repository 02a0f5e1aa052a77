"""CaseService: the one entry point for complaints and reports (views and bot call this).

- Submitters act with the ticket number and access code; a wrong code and an unknown number
  get the same answer (None, or NotFound).
- Units act through an Actor (casework.accounts). A unit sees and acts on its own tickets
  only; any other ticket id is NotFound, exactly like one that does not exist. A
  supervising unit may read (and annotate) tickets escalated to it.
- Every change writes its event, deadline rows and outbox notifications in one transaction.
- Evidence files (casework/evidence.py) are checked by content before anything is written
  and stored, by hash, inside the transaction that records them; only a unit that may see
  the ticket can fetch them.

CaseService is the shared state (casework/case_context.py) plus these front methods, each
handing over to the module of its concern:

- casework/intake.py: a submission becoming a ticket (Submission, Receipt, one-time keys)
- casework/submitter_actions.py: tracking, adding information, contesting
- casework/unit_workflow.py: a unit's queue and its actions on a ticket
- casework/sweeps.py: overdue deadlines and orphaned evidence files
- casework/ticket_views.py: TicketView, what the views show of a ticket
- casework/notifications.py: the notices a change queues in the outbox
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from casework import intake, submitter_actions, sweeps, unit_workflow
from casework.accounts import Actor
from casework.case_context import CaseContext
from casework.evidence import EvidencePolicy, EvidenceStore, Upload
from casework.intake import Receipt, Submission
from casework.routing_store import in_force, newer
from casework.stats import UnitStats, accountability
from casework.ticket_views import EvidenceView, TicketView
from core.db import Store
from core.settings import Settings
from core.workdays import default_calendar


# A CaseContext itself, so the concern modules get ``self``: they see the shared state (and
# a routing file swapped in by refresh_routing) but none of these front methods.
class CaseService(CaseContext):
    @classmethod
    def from_settings(cls, settings: Settings, store: Store | None = None) -> CaseService:
        store = store or Store(settings.database_url)
        return cls(
            store,
            in_force(store, settings.routing_file),  # an installed file wins over the settings
            default_calendar(settings.holidays_file),
            evidence_store=EvidenceStore.from_settings(settings),
            evidence_policy=EvidencePolicy.from_settings(settings),
            public_url=settings.public_url,
        )

    def refresh_routing(self) -> bool:
        """Switch to the routing file an administrator installed last, if it is not the one
        in use (every worker checks now and then, see portal/app.py); True if it switched.
        Tickets keep the routing version they were filed under."""
        fresh = newer(self.store, self.routing)
        if fresh is None:
            return False
        self.routing = fresh
        return True

    # --- submitters (intake.py, submitter_actions.py) --------------------------------------

    def validate(self, sub: Submission) -> None:
        """The checks of ``submit`` that need no database (fields, category, evidence files):
        the portal runs them before it spends the submitter's proof of work on a typo."""
        intake.validate(self, sub)

    def submit(self, sub: Submission) -> Receipt:
        """File a ticket. Raises InvalidInput (nothing filed, no file kept) or
        AlreadySubmitted when ``sub.once_key`` was used within the last hour."""
        return intake.submit(self, sub)

    def already_submitted(self, once_key: str) -> bool:
        """Whether a form with this one-time key was filed within the last hour (checked
        before costlier checks, so a double click lands on the receipt)."""
        return intake.already_submitted(self, once_key)

    def spend_proof(self, key: str, expires_at: datetime, slack: timedelta) -> bool:
        """Record a solved proof-of-work challenge (portal/altcha.py) as used until
        ``expires_at`` plus ``slack``: True the first time, False if it already was."""
        return intake.spend_proof(self, key, expires_at, slack)

    def track(self, number: str, code: str) -> TicketView | None:
        """The public view of a ticket; None for an unknown number or a wrong code alike."""
        return submitter_actions.track(self, number, code)

    def add_info(
        self, number: str, code: str, text: str, evidence: tuple[Upload, ...] = ()
    ) -> TicketView:
        """The submitter adds information (text, files or both); on an answered ticket this
        reopens it."""
        return submitter_actions.add_info(self, number, code, text, evidence)

    def contest(self, number: str, code: str, reason: str) -> TicketView:
        """The submitter contests a reply or decline: the unit owes a new reply."""
        return submitter_actions.contest(self, number, code, reason)

    # --- units (unit_workflow.py) -----------------------------------------------------------

    def queue(self, actor: Actor, states: set[str] | None = None) -> list[TicketView]:
        """The actor's unit's tickets, oldest first (open ones by default)."""
        return unit_workflow.queue(self, actor, states)

    def escalated(self, actor: Actor) -> list[TicketView]:
        """Tickets of other units escalated to the actor's unit as their supervisor."""
        return unit_workflow.escalated(self, actor)

    def ticket(self, actor: Actor, ticket_id: int) -> TicketView:
        return unit_workflow.ticket(self, actor, ticket_id)

    def evidence_file(
        self, actor: Actor, ticket_id: int, evidence_id: int
    ) -> tuple[EvidenceView, Path]:
        """A file of a ticket the actor may see (as ``ticket()``). Another ticket's or
        unit's file id is NotFound, exactly like one that does not exist."""
        return unit_workflow.evidence_file(self, actor, ticket_id, evidence_id)

    def accept(self, actor: Actor, ticket_id: int, message: str | None = None) -> TicketView:
        return unit_workflow.accept(self, actor, ticket_id, message)

    def transfer(
        self, actor: Actor, ticket_id: int, to_unit: str, reason: str, note: str | None = None
    ) -> TicketView:
        """Send the ticket to another unit, with a public reason. The new unit's acceptance
        clock starts now; this unit's deadlines stay on its record."""
        return unit_workflow.transfer(self, actor, ticket_id, to_unit, reason, note)

    def decline(
        self, actor: Actor, ticket_id: int, reason: str, note: str | None = None
    ) -> TicketView:
        """Outside this unit's remit: a public reason is required."""
        return unit_workflow.decline(self, actor, ticket_id, reason, note)

    def reply(
        self,
        actor: Actor,
        ticket_id: int,
        message: str,
        *,
        upheld: bool | None = None,
        note: str | None = None,
    ) -> TicketView:
        """The unit's answer. For a complaint with a correction period, ``upheld=True``
        starts the correction clock (e.g. 3 working days to correct or revoke)."""
        return unit_workflow.reply(self, actor, ticket_id, message, upheld=upheld, note=note)

    def record_correction(self, actor: Actor, ticket_id: int, message: str) -> TicketView:
        """The correction, removal or lifting of a measure promised in an upheld reply is done."""
        return unit_workflow.record_correction(self, actor, ticket_id, message)

    def close(self, actor: Actor, ticket_id: int, message: str | None = None) -> TicketView:
        return unit_workflow.close(self, actor, ticket_id, message)

    def note(self, actor: Actor, ticket_id: int, text: str) -> TicketView:
        """An internal note (never shown to the submitter); supervisors may add one too."""
        return unit_workflow.note(self, actor, ticket_id, text)

    # --- sweeps and accountability (sweeps.py, stats.py) -----------------------------------

    def sweep_overdue(self) -> list[tuple[str, str, str | None]]:
        """Flag every deadline now past, once: an event on the ticket, escalation to the
        unit's supervisor, notifications. Returns (ticket number, unit, supervisor)."""
        return sweeps.sweep_overdue(self)

    def sweep_orphan_evidence(self) -> int:
        """Delete evidence files no ticket refers to (left by submissions whose transaction
        failed after the file was written) once they are a day old; how many went."""
        return sweeps.sweep_orphan_evidence(self)

    def accountability(self, since: datetime | None = None) -> list[UnitStats]:
        with self.store.read() as conn:
            return accountability(conn, self.now(), since, self.unit_name)
