"""Reserving a walk-in's time: the availability search, then the booking path.

The first practitioner who can take the patient is found by the ordinary availability
search (:func:`carebook.domain.scheduling.availability.find_slots`) over the practitioners on duty,
with their projected queue as extra busy time (a practitioner busy until 10:40 by the
estimate is not offered 10:20, even if the calendar is free). The slot is then reserved
as any booking is (:func:`carebook.services.reservations.reserve`: the reservation rules,
then ``uow.appointments.add``), so storage refuses an overlap exactly as it does for any
booking.
"""

from __future__ import annotations

import uuid

import attrs
import pendulum

from carebook.domain.instants import Interval, to_epoch, zone
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.availability import AvailabilityQuery, Slot, find_slots
from carebook.domain.scheduling.busy import PRACTITIONER, BusyInterval
from carebook.domain.scheduling.calendar import Patient, Service
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.rules import BookingRequest
from carebook.domain.walkins.queue import WalkInSettings, search_calendar, walk_in_service
from carebook.domain.walkins.waittime import WaitEstimate
from carebook.ports import UnitOfWork
from carebook.services import reservations
from carebook.services.context import Deps

__all__ = ["Search", "book_walk_in", "first_slot", "prepare"]

PROJECTED = uuid.UUID(int=0)
"""The appointment id of projected (estimated, not stored) busy time."""


@attrs.frozen
class Search:
    """What a walk-in search used: the stand-in service, the calendar it ran on, the
    real service and the number of slots."""

    service: Service
    slots: int
    stand_in: Service
    calendar: ClinicCalendar


def prepare(calendar: ClinicCalendar, settings: WalkInSettings, patient: Patient) -> Search:
    service = calendar.service(settings.service_id)
    slots = settings.slots_for(patient.kind)
    stand_in = walk_in_service(service, slots)
    return Search(service, slots, stand_in, search_calendar(calendar, settings, stand_in))


def first_slot(
    uow: UnitOfWork,
    search: Search,
    settings: WalkInSettings,
    patient: Patient,
    queue: WaitEstimate,
    now: pendulum.DateTime,
) -> Slot | None:
    """The earliest slot today with a practitioner on duty (ties: by name), or None."""
    calendar, stand_in = search.calendar, search.stand_in
    location = calendar.location(settings.location_id)
    candidates = [p for p, _ in queue.free_at if p in stand_in.practitioner_ids]
    if not candidates:
        return None
    day_end = now.in_timezone(zone(location.timezone)).start_of("day").add(days=1)
    if day_end <= now:
        return None
    now_s, end_s = to_epoch(now), to_epoch(day_end)
    margin = (stand_in.buffer_before + stand_in.duration + stand_in.buffer_after) * 60
    resources = [
        r.id
        for r in calendar.resources.values()
        if r.location_id == location.id and r.category in stand_in.needs
    ]
    busy = uow.appointments.busy_intervals(
        now_s - margin,
        end_s + margin,
        practitioner_ids=candidates,
        resource_ids=resources,
        patient_ids=(patient.id,),
        now=now,
    )
    busy += [
        BusyInterval(PRACTITIONER, p, now_s, free_at, PROJECTED)
        for p, free_at in queue.free_at
        if p in candidates and free_at > now_s
    ]
    query = AvailabilityQuery(
        service_ids=(stand_in.id,),
        window=Interval(now, day_end),
        location_ids={location.id},
        practitioner_ids=candidates,
        patient_id=patient.id,
    )
    found = find_slots(calendar, busy, query, now).first()
    return found[0] if found else None


def book_walk_in(
    uow: UnitOfWork,
    deps: Deps,
    search: Search,
    slot: Slot,
    patient: Patient,
    now: pendulum.DateTime,
    key: str | None,
) -> Appointment:
    """Run the booking rules for ``slot`` and store the walk-in (status ``arrived``)."""
    request = BookingRequest(
        location_id=slot.location_id,
        practitioner_id=slot.practitioner_id,
        patient_id=patient.id,
        service_ids=(search.stand_in.id,),
        start=slot.start,
    )

    def arrived(draft: Appointment) -> Appointment:
        """Stored as ``slots`` visits of the real service, the patient already here."""
        return attrs.evolve(
            draft,
            service_ids=(search.service.id,) * search.slots,
            status=AppointmentStatus.ARRIVED,
            idempotency_key=key,
        )

    return reservations.reserve(uow, deps, search.calendar, request, now, finish=arrived)
