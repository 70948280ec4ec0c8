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

from carebook.domain.ids import AppointmentId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.calendar import Patient
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.reservation import busy_window, decide_reservation
from carebook.domain.scheduling.rules import BookingRequest
from carebook.errors import NotFoundError
from carebook.ports import UnitOfWork
from carebook.services.context import Deps

__all__ = ["check", "load_calendar", "load_patient", "reserve"]


def load_patient(uow: UnitOfWork, patient_id: PatientId) -> Patient:
    """The patient, or NotFoundError."""
    patient = uow.patients.get(patient_id)
    if patient is None:
        raise NotFoundError("patient", patient_id)
    return patient


def load_calendar(uow: UnitOfWork, patient: Patient) -> ClinicCalendar:
    """The calendar of the patient's organisation, or NotFoundError."""
    calendar = uow.calendar.load(patient.organisation_id)
    if calendar is None:
        raise NotFoundError("organisation", patient.organisation_id)
    return calendar


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
