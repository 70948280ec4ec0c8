"""``cb.reminders``: each organisation's reminder policy, and the scan that sends."""

from __future__ import annotations

from carebook.domain.actors import Actor
from carebook.domain.ids import OrganisationId
from carebook.domain.reminders import DEFAULT_POLICY, ReminderPolicy
from carebook.errors import NotFoundError
from carebook.ports import UnitOfWork
from carebook.services.authz import require_admin
from carebook.services.boundary import checked_api
from carebook.services.context import Deps
from carebook.services.reminders import send

__all__ = ["Reminders"]


@checked_api
class Reminders:
    """Reminder policies (admin) and sending what is due (the worker's job)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def set_policy(
        self, actor: Actor, organisation_id: OrganisationId, policy: ReminderPolicy
    ) -> ReminderPolicy:
        """Set the organisation's reminders (administrators only); NotFoundError for an
        unknown organisation. Reminders already sent stay sent."""
        require_admin(actor, "set reminder policies")

        def work(uow: UnitOfWork) -> None:
            if uow.calendar.get_organisation(organisation_id) is None:
                raise NotFoundError("organisation", organisation_id)
            uow.reminders.set_policy(organisation_id, policy)

        self._deps.write(work)
        return policy

    def policy(self, actor: Actor, organisation_id: OrganisationId) -> ReminderPolicy:
        """The organisation's reminders (the default, 24 h and 2 h before, if it set
        none); administrators only."""
        require_admin(actor, "read reminder policies")
        with self._deps.storage.unit_of_work() as uow:
            if uow.calendar.get_organisation(organisation_id) is None:
                raise NotFoundError("organisation", organisation_id)
            return uow.reminders.policy(organisation_id) or DEFAULT_POLICY

    def send_due(self, actor: Actor, *, correlation_id: str | None = None) -> int:
        """Send every reminder due now (the system or an administrator); returns how
        many. ``carebook worker`` and ``cb.events.run_pending()`` call it."""
        require_admin(actor, "send reminders")
        return send.send_due(self._deps, correlation_id)
