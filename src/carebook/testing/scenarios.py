"""Seeded, realistic data sets for benchmarks and soak tests (any storage adapter).

``availability_scenario`` builds the issue's reference case: N practitioners spread over
L locations, one service they all offer, and a history of appointments of which a
given share falls in the searched week. Appointments are written through the Storage
port in batches, so the same builder fills memory, SQLite or PostgreSQL.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import attrs
import pendulum

from carebook.app import Carebook
from carebook.domain.ids import (
    AppointmentId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ServiceId,
)
from carebook.domain.instants import Interval
from carebook.domain.money import Money
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.availability import AvailabilityQuery
from carebook.domain.scheduling.calendar import (
    Location,
    PatientKind,
    Practitioner,
    WeeklyHours,
)
from carebook.testing.clinic import ClinicBuilder

__all__ = ["AvailabilityScenario", "availability_scenario"]

_WORKING_HALF_HOURS = [*range(18, 24), *range(26, 34)]  # 09:00-12:00, 13:00-17:00

ZONES = ("America/New_York", "America/Chicago", "Europe/London", "Asia/Kolkata", "Australia/Sydney")


@attrs.frozen
class AvailabilityScenario:
    """What a benchmark needs to run the search the scenario was built for."""

    organisation_id: OrganisationId
    service_id: ServiceId
    practitioner_ids: tuple[PractitionerId, ...]
    query: AvailabilityQuery
    appointments: int


def availability_scenario(
    cb: Carebook,
    *,
    practitioners: int = 200,
    locations: int = 5,
    appointments: int = 50_000,
    window_share: float = 0.2,
    window_start: pendulum.DateTime | None = None,
    days: int = 7,
    seed: int = 7,
    batch: int = 2_000,
) -> AvailabilityScenario:
    """Fill ``cb`` with the reference scenario; return the 7-day query to run.

    Practitioners work 09:00-17:00 local with a 12:00-13:00 break, Monday to Saturday.
    ``window_share`` of the appointments fall in the searched window (on the grid, no
    overlaps); the rest are fulfilled history spread over the preceding year.
    """
    rng = random.Random(seed)
    start = window_start or pendulum.datetime(2026, 6, 1, tz="UTC")
    clinic = ClinicBuilder.create(cb, "Benchmark Clinics", min_notice=0)
    org = clinic.org
    hours = WeeklyHours.every_day("09:00-17:00", weekdays=range(6))
    breaks = WeeklyHours.every_day("12:00-13:00", weekdays=range(6))
    locs = [
        clinic.location(f"Office {n + 1}", timezone=ZONES[n % len(ZONES)]) for n in range(locations)
    ]
    staff = [
        clinic.practitioner(
            f"Practitioner {n + 1}", locs[n % locations], hours=hours, breaks=breaks
        )
        for n in range(practitioners)
    ]
    service = clinic.service(practitioners=staff, price=Money(6000, "USD"))
    patients = clinic.patients(200, kind=PatientKind.RETURNING)
    window = Interval(start, start.add(days=days))
    rows = list(
        _appointments(
            org.id,
            service.id,
            staff,
            [p.id for p in patients],
            locs,
            window,
            appointments,
            window_share,
            rng,
        )
    )
    now = start.subtract(days=400)
    for offset in range(0, len(rows), batch):
        with cb.storage.unit_of_work(write=True) as uow:
            for row in rows[offset : offset + batch]:
                uow.appointments.add(row, now=now)
            uow.commit()
    query = AvailabilityQuery(service_ids=(service.id,), window=window)
    return AvailabilityScenario(org.id, service.id, tuple(p.id for p in staff), query, len(rows))


def _appointments(
    org_id: OrganisationId,
    service_id: ServiceId,
    staff: list[Practitioner],
    patients: list[PatientId],
    locs: list[Location],
    window: Interval,
    total: int,
    window_share: float,
    rng: random.Random,
) -> Iterator[Appointment]:
    zones = {loc.id: loc.timezone for loc in locs}
    in_window = int(total * window_share)
    taken: set[tuple[uuid.UUID, int]] = set()
    patient_taken: set[tuple[PatientId, int]] = set()
    made = 0
    day_count = int(window.duration.total_seconds() // 86_400)
    while made < total:
        practitioner = staff[rng.randrange(len(staff))]
        pid = practitioner.id
        location_id = practitioner.plans[0].location_id
        if made < in_window:
            day = window.start.add(days=rng.randrange(day_count))
        else:
            day = window.start.subtract(days=rng.randrange(1, 366))
        # Half-hour grid inside working hours (local); never overlapping per practitioner.
        local = day.in_timezone(zones[location_id]).start_of("day")
        slot = rng.choice(_WORKING_HALF_HOURS)
        begin = local.add(minutes=30 * slot).in_timezone(pendulum.UTC)
        key = (pid, int(begin.timestamp()))
        patient = patients[rng.randrange(len(patients))]
        if key in taken or (patient, key[1]) in patient_taken:
            continue
        taken.add(key)
        patient_taken.add((patient, key[1]))
        end = begin.add(minutes=30)
        status = AppointmentStatus.BOOKED if made < in_window else AppointmentStatus.FULFILLED
        made += 1
        yield Appointment(
            id=AppointmentId(uuid.UUID(int=rng.getrandbits(128))),
            organisation_id=org_id,
            location_id=location_id,
            practitioner_id=pid,
            patient_id=patient,
            service_ids=(service_id,),
            resource_ids=(),
            start=begin,
            end=end,
            occupied_start=begin,
            occupied_end=end,
            status=status,
            created_at=begin.subtract(days=7),
        )
