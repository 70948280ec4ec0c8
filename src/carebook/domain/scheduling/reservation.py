"""Reserving a slot, as one pure decision that booking, the saga and walk-ins all take.

Two steps, with the busy-time read between them (the service does the read):

1. :func:`busy_window` says which busy time the request can collide with: the span it
   would occupy (buffers included), for its practitioner, the location's resources its
   services need, and its patient.
2. :func:`decide_reservation` runs the ordered reservation-rule pipeline
   (:mod:`carebook.domain.scheduling.rules`) for the requested span against that busy
   time and returns the appointment to store, ``proposed``. The caller finishes it
   (status, hold expiry, idempotency key) and announces it with
   :meth:`~carebook.domain.scheduling.appointment.Appointment.booked_event`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pendulum
from attrs import frozen

from carebook.domain.ids import AppointmentId, PatientId, PractitionerId, ResourceId
from carebook.domain.instants import Interval, to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.availability import AvailabilityQuery, find_slots
from carebook.domain.scheduling.busy import BusyInterval
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.rules import BookingRequest, ReservationRule, RuleContext, run_rules

__all__ = ["BusyWindow", "busy_window", "decide_reservation"]


@frozen(kw_only=True)
class BusyWindow:
    """The busy time a reservation is checked against: every span of these owners
    overlapping ``[start, end)`` (epoch seconds)."""

    start: int
    end: int
    practitioner_ids: tuple[PractitionerId, ...]
    resource_ids: tuple[ResourceId, ...]
    patient_ids: tuple[PatientId, ...]


def busy_window(calendar: ClinicCalendar, request: BookingRequest) -> BusyWindow:
    """What to read before :func:`decide_reservation`; NotFoundError for an unknown
    location, practitioner or service."""
    location = calendar.location(request.location_id)
    calendar.practitioner(request.practitioner_id)
    services = [calendar.service(s) for s in request.service_ids]
    start = to_epoch(request.start)
    before = services[0].buffer_before * 60
    length = sum(s.duration for s in services) * 60 + services[-1].buffer_after * 60
    resource_ids = tuple(
        r.id
        for r in calendar.resources.values()
        if r.location_id == location.id and any(r.category in s.needs for s in services)
    )
    return BusyWindow(
        start=start - before,
        end=start + length,
        practitioner_ids=(request.practitioner_id,),
        resource_ids=resource_ids,
        patient_ids=(request.patient_id,),
    )


def decide_reservation(
    calendar: ClinicCalendar,
    request: BookingRequest,
    busy: Sequence[BusyInterval],
    rules: Sequence[ReservationRule],
    now: pendulum.DateTime,
    *,
    appointment_id: AppointmentId,
    exclude: AppointmentId | None = None,
) -> Appointment:
    """The appointment ``request`` may be stored as (status ``proposed``), given the busy
    time of its :func:`busy_window` (without appointment ``exclude``, the hold being
    turned into a booking).

    ``rules`` run by their ``order``; the first rejection raises RuleRejectedError and
    nothing is decided. Storage still refuses an overlap that a concurrent writer made.
    """
    location = calendar.location(request.location_id)
    services = [calendar.service(s) for s in request.service_ids]
    before = services[0].buffer_before * 60
    query = AvailabilityQuery(
        service_ids=request.service_ids,
        window=Interval(request.start, request.start.add(seconds=1)),
        location_ids=(request.location_id,),
        practitioner_ids=(request.practitioner_id,),
        patient_id=request.patient_id,
    )
    offer = None
    whole_second = request.start.microsecond == 0
    if whole_second and all(s.offered_at(location.id) for s in services):
        offer = find_slots(calendar, busy, query, now, exclude_appointment=exclude).offer(
            request.practitioner_id, request.location_id, to_epoch(request.start)
        )
    ctx = RuleContext(
        calendar=calendar,
        request=request,
        busy=busy,
        now=now,
        offer=offer,
        exclude_appointment=exclude,
    )
    run_rules(rules, ctx)
    assert offer is not None  # the slot_offered rule guarantees it
    return Appointment(
        id=appointment_id,
        organisation_id=calendar.organisation.id,
        location_id=request.location_id,
        practitioner_id=request.practitioner_id,
        patient_id=request.patient_id,
        service_ids=request.service_ids,
        resource_ids=offer.resource_ids,
        start=offer.start,
        end=offer.end,
        occupied_start=offer.start.subtract(seconds=before),
        occupied_end=offer.end.add(seconds=services[-1].buffer_after * 60),
        status=AppointmentStatus.PROPOSED,
        created_at=now,
    )
