"""What a message about one notification may show, read from storage at send time.

The outbox and the notification carry ids only; this is the one place that turns them
into names, a zone and local times, in one read-only unit of work, and never keeps them.
"""

from __future__ import annotations

import attrs

from carebook.domain.ids import OrganisationId
from carebook.domain.messaging import MessageContext
from carebook.domain.money import Money
from carebook.domain.notifications import Notification
from carebook.domain.scheduling.calendar import Patient, Service
from carebook.ports import UnitOfWork

__all__ = ["Resolved", "resolve"]


@attrs.frozen(kw_only=True)
class Resolved:
    """A notification's context, and the recipient's opaque contact ref (patients
    only), which the host's contact directory turns into an address."""

    context: MessageContext
    organisation_id: OrganisationId
    contact_ref: str | None = attrs.field(default=None, repr=False)


def resolve(uow: UnitOfWork, notification: Notification) -> Resolved | None:
    """The context of ``notification``, or None when its appointment or organisation is
    gone (nothing is left to say)."""
    appointment = uow.appointments.get(notification.appointment_id)
    if appointment is None:
        return None
    # The organisation's calendar: decoded once per calendar version and shared by the
    # storage's units of work, so a round of notices reads it once, not per notice.
    calendar = uow.calendar.load(appointment.organisation_id)
    location = None if calendar is None else calendar.locations.get(appointment.location_id)
    if calendar is None or location is None:
        return None
    organisation = calendar.organisation
    practitioner = calendar.practitioners.get(appointment.practitioner_id)
    services = [calendar.services[s] for s in appointment.service_ids if s in calendar.services]
    patient: Patient | None = None
    if notification.recipient_role == "patient":
        patient = uow.patients.get(appointment.patient_id)
    language = (patient.language if patient else None) or organisation.language
    context = MessageContext(
        notification=attrs.evolve(notification, locale=language),
        locale=language,
        timezone=location.timezone,
        organisation_name=organisation.name,
        location_name=location.name,
        practitioner_name=practitioner.name if practitioner else None,
        service_name=" + ".join(s.name for s in services) or None,
        start=appointment.start,
        end=appointment.end,
        price=_list_price(services),
    )
    return Resolved(
        context=context,
        organisation_id=appointment.organisation_id,
        contact_ref=patient.contact_ref if patient else None,
    )


def _list_price(services: list[Service]) -> Money | None:
    if not services or len({s.price.currency for s in services}) != 1:
        return None
    return Money(sum(s.price.amount for s in services), services[0].price.currency)
