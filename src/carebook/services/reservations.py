"""Reserving a slot inside a unit of work: the glue every booking path shares.

Booking (:mod:`carebook.services.booking.book`), the saga's request
(:mod:`carebook.services.saga.request`) and a walk-in
(:mod:`carebook.services.walkins.reserve`) all load the patient and the calendar, read
the busy time the request can collide with, take the domain's decision
(:func:`carebook.domain.scheduling.reservation.decide_reservation`) and add the
appointment through storage, which refuses an overlap a concurrent writer made.
"""

from __future__ import annotations

from collections.abc import Callable

import pendulum

from carebook.domain.ids import AppointmentId, LocationId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.calendar import Patient
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.reservation import busy_window, decide_reservation
from carebook.domain.scheduling.rules import BookingRequest
from carebook.errors import NotFoundError
from carebook.ports import UnitOfWork
from carebook.services.context import Deps

__all__ = ["check", "load_booking", "reserve"]


def load_booking(
    uow: UnitOfWork, patient_id: PatientId, location_id: LocationId
) -> tuple[Patient, ClinicCalendar]:
    """The patient and the calendar of their organisation, which must hold the location.

    An unknown location is NotFoundError("location", ...) whoever the patient is; a
    patient who does not exist and a patient of another organisation than the
    location's are the same NotFoundError("patient", ...): nothing tells them apart.
    The usual case costs one patient read and one calendar load.
    """
    patient = uow.patients.get(patient_id)
    calendar = None if patient is None else uow.calendar.load(patient.organisation_id)
    if patient is None or calendar is None or location_id not in calendar.locations:
        if uow.calendar.get_location(location_id) is None:
            raise NotFoundError("location", location_id)
        raise NotFoundError("patient", patient_id)
    return patient, calendar


def check(
    uow: UnitOfWork,
    deps: Deps,
    calendar: ClinicCalendar,
    request: BookingRequest,
    now: pendulum.DateTime,
    exclude: AppointmentId | None = None,
) -> Appointment:
    """Check every rule against current busy time (without appointment ``exclude``);
    return the appointment to store, not stored yet."""
    window = busy_window(calendar, request)
    busy = uow.appointments.busy_intervals(
        window.start,
        window.end,
        practitioner_ids=window.practitioner_ids,
        resource_ids=window.resource_ids,
        patient_ids=window.patient_ids,
        now=now,
        exclude=exclude,
    )
    return decide_reservation(
        calendar,
        request,
        busy,
        deps.rules,
        now,
        appointment_id=AppointmentId(deps.new_id()),
        exclude=exclude,
    )


def _as_decided(appointment: Appointment) -> Appointment:
    return appointment


def reserve(
    uow: UnitOfWork,
    deps: Deps,
    calendar: ClinicCalendar,
    request: BookingRequest,
    now: pendulum.DateTime,
    *,
    finish: Callable[[Appointment], Appointment] = _as_decided,
) -> Appointment:
    """:func:`check`, then store the appointment as ``finish`` completes it (status, hold
    expiry, idempotency key); returns what was stored."""
    appointment = finish(check(uow, deps, calendar, request, now))
    uow.appointments.add(appointment, now=now)
    return appointment
