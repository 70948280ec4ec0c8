"""Hold and book: run the reservation rules, then let storage guarantee no overlap."""

from __future__ import annotations

import attrs
import pendulum

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.ids import AppointmentId, PatientId
from carebook.domain.instants import Interval, to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.availability import AvailabilityQuery, find_slots
from carebook.domain.scheduling.busy import BusyInterval
from carebook.domain.scheduling.calendar import Patient
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.rules import BookingRequest, RuleContext, run_rules
from carebook.errors import (
    IdempotencyConflictError,
    NotFoundError,
    RuleRejectedError,
    SlotUnavailableError,
    ValidationError,
)
from carebook.ports import UnitOfWork
from carebook.services import authz
from carebook.services.booking.commands import BookAppointment, HoldSlot, fingerprint, scoped_key
from carebook.services.context import Deps

__all__ = ["book", "hold"]


def _patient(uow: UnitOfWork, patient_id: PatientId) -> Patient:
    patient = uow.patients.get(patient_id)
    if patient is None:
        raise NotFoundError("patient", patient_id)
    return patient


def _calendar(uow: UnitOfWork, patient: Patient) -> ClinicCalendar:
    calendar = uow.calendar.load(patient.organisation_id)
    if calendar is None:
        raise NotFoundError("organisation", patient.organisation_id)
    return calendar


def _reserve(
    uow: UnitOfWork,
    deps: Deps,
    calendar: ClinicCalendar,
    request: BookingRequest,
    now: pendulum.DateTime,
    exclude: AppointmentId | None = None,
) -> Appointment:
    """Check every rule against current busy time; return the appointment to store."""
    location = calendar.location(request.location_id)
    calendar.practitioner(request.practitioner_id)
    services = [calendar.service(s) for s in request.service_ids]
    shape_start = to_epoch(request.start)
    before = services[0].buffer_before * 60
    length = sum(s.duration for s in services) * 60 + services[-1].buffer_after * 60
    resource_ids = [
        r.id
        for r in calendar.resources.values()
        if r.location_id == location.id and any(r.category in s.needs for s in services)
    ]
    busy: list[BusyInterval] = uow.appointments.busy_intervals(
        shape_start - before,
        shape_start + length,
        practitioner_ids=(request.practitioner_id,),
        resource_ids=resource_ids,
        patient_ids=(request.patient_id,),
        now=now,
        exclude=exclude,
    )
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
            request.practitioner_id, request.location_id, shape_start
        )
    ctx = RuleContext(
        calendar=calendar,
        request=request,
        busy=busy,
        now=now,
        offer=offer,
        exclude_appointment=exclude,
    )
    run_rules(deps.rules, ctx)
    assert offer is not None  # the slot_offered rule guarantees it
    return Appointment(
        id=AppointmentId(deps.new_id()),
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


def _request(cmd: HoldSlot | BookAppointment) -> BookingRequest:
    return BookingRequest(
        location_id=cmd.location_id,
        practitioner_id=cmd.practitioner_id,
        patient_id=cmd.patient_id,
        service_ids=cmd.service_ids,
        start=cmd.start,
    )


def hold(deps: Deps, actor: Actor, cmd: HoldSlot, correlation_id: str | None = None) -> Appointment:
    """Reserve a slot for ``hold_minutes`` (status ``proposed``)."""
    stamp = deps.stamp(correlation_id)
    authz.require_may_book(actor, cmd.patient_id, cmd.location_id)

    def work(uow: UnitOfWork) -> Appointment:
        patient = _patient(uow, cmd.patient_id)
        calendar = _calendar(uow, patient)
        draft = _reserve(uow, deps, calendar, _request(cmd), stamp.now)
        policy = calendar.policy_for(cmd.location_id)
        appointment = attrs.evolve(
            draft, hold_expires_at=stamp.now.add(minutes=policy.hold_minutes)
        )
        uow.appointments.add(appointment, now=stamp.now)
        uow.outbox.append([appointment.booked_event(stamp)])
        return appointment

    appointment = deps.write(work)
    deps.info(stamp, "held appointment=%s", appointment.id)
    deps.after_commit()
    return appointment


def book(
    deps: Deps, actor: Actor, cmd: BookAppointment, correlation_id: str | None = None
) -> Appointment:
    """Book ``cmd``; see :class:`BookAppointment` for idempotency."""
    stamp = deps.stamp(correlation_id)
    digest = fingerprint(cmd)
    authz.require_may_book(actor, cmd.patient_id, cmd.location_id)
    key = scoped_key(cmd)
    replayed: list[Appointment] = []

    def work(uow: UnitOfWork) -> Appointment:
        existing = uow.appointments.by_idempotency_key(key)
        if existing is not None:
            if existing.request_fingerprint != digest:
                raise IdempotencyConflictError(
                    "this idempotency key was used for a different request"
                )
            replayed.append(existing)
            return authz.load_appointment(uow, actor, existing.id)
        patient = _patient(uow, cmd.patient_id)
        calendar = _calendar(uow, patient)
        held = _held(uow, actor, cmd) if cmd.hold_id is not None else None
        draft = _reserve(
            uow,
            deps,
            calendar,
            _request(cmd),
            stamp.now,
            exclude=held.id if held is not None else None,
        )
        policy = calendar.policy_for(cmd.location_id)
        confirmed = actor.kind is not ActorKind.PATIENT or not policy.require_confirmation
        status = AppointmentStatus.BOOKED if confirmed else AppointmentStatus.PENDING
        if held is not None:
            appointment, events = held.finalise_hold(stamp, confirmed=confirmed)
            appointment = attrs.evolve(appointment, idempotency_key=key, request_fingerprint=digest)
            uow.appointments.update(appointment)
        else:
            appointment = attrs.evolve(
                draft,
                status=status,
                idempotency_key=key,
                request_fingerprint=digest,
            )
            uow.appointments.add(appointment, now=stamp.now)
            events = [appointment.booked_event(stamp)]
        uow.outbox.append(events)
        return appointment

    try:
        appointment = deps.write(work)
    except (SlotUnavailableError, RuleRejectedError):
        # A concurrent retry of this very request may have taken the slot first; it
        # committed while this one was checking, so look for it before refusing.
        with deps.storage.unit_of_work() as uow:
            winner = uow.appointments.by_idempotency_key(key)
            if winner is None or winner.request_fingerprint != digest:
                raise
            return authz.load_appointment(uow, actor, winner.id)
    if replayed:
        return appointment
    deps.info(stamp, "booked appointment=%s status=%s", appointment.id, appointment.status)
    deps.after_commit()
    return appointment


def _held(uow: UnitOfWork, actor: Actor, cmd: BookAppointment) -> Appointment:
    assert cmd.hold_id is not None
    held = authz.load_appointment(uow, actor, cmd.hold_id)
    same = (
        held.location_id == cmd.location_id
        and held.practitioner_id == cmd.practitioner_id
        and held.patient_id == cmd.patient_id
        and held.service_ids == cmd.service_ids
        and held.start == cmd.start
    )
    if not same:
        raise ValidationError(f"hold {held.id} is for a different slot than the booking")
    return held
