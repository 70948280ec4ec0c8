"""``cb.booking``: search free slots, hold one, book one."""

from __future__ import annotations

from carebook.domain.actors import Actor
from carebook.domain.ids import OrganisationId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.availability import AvailabilityQuery, AvailabilityResult
from carebook.services.booking import book as booking
from carebook.services.booking.commands import BookAppointment, HoldSlot
from carebook.services.booking.search import search_availability
from carebook.services.boundary import checked_api
from carebook.services.context import Deps

__all__ = ["Booking"]


@checked_api
class Booking:
    """Availability, holds and bookings. Every method takes the acting :class:`Actor`
    first; a command that raises changed nothing."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def search_availability(
        self, actor: Actor, organisation_id: OrganisationId, query: AvailabilityQuery
    ) -> AvailabilityResult:
        """Free slots for the query: one calendar load and one busy-time query.

        A patient's search also hides times they are already booked.
        """
        return search_availability(self._deps, actor, organisation_id, query)

    def hold(
        self, actor: Actor, command: HoldSlot, *, correlation_id: str | None = None
    ) -> Appointment:
        """Hold a slot (``proposed``) for the policy's ``hold_minutes``."""
        return booking.hold(self._deps, actor, command, correlation_id)

    def book(
        self, actor: Actor, command: BookAppointment, *, correlation_id: str | None = None
    ) -> Appointment:
        """Book after every reservation rule passes; storage guarantees no overlap.

        Patients' bookings are ``pending`` when the policy requires confirmation;
        staff bookings are ``booked``. Idempotent per (patient, key).
        """
        return booking.book(self._deps, actor, command, correlation_id)
