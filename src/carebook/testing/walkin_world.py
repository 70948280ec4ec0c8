"""A walk-in clinic built through the public API, on any storage, for tests and benchmarks.

``make_walkin_clinic()`` sets up one organisation with ``locations`` offices in
Europe/London (on UTC until the end of March), open 08:00-20:00 every day, each with
``practitioners`` practitioners working 08:00-20:00, a 15-minute walk-in visit, and
walk-ins configured with the default settings. The clock starts on Monday 2025-03-03 at
08:00 UTC. Nobody is on duty until a test says so.
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pendulum

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    Event,
    Money,
)
from carebook.builtin.clocks import ManualClock
from carebook.domain.walkins.queue import (
    CheckIn,
    CheckInChannel,
    CheckInOutcome,
    DutyShift,
    QueueEntry,
)
from carebook.domain.walkins.waittime import DurationStats, PublishedWait
from carebook.scheduling import (
    Appointment,
    Location,
    Organisation,
    Patient,
    PatientKind,
    Practitioner,
    Service,
)
from carebook.testing.clinic import ADMIN, ClinicBuilder, open_carebook

__all__ = ["T0", "Snapshot", "WalkInClinic", "make_walkin_clinic"]

T0 = pendulum.datetime(2025, 3, 3, 8, 0, tz="UTC")
"""Monday 08:00 UTC (and Europe/London)."""


@attrs.frozen
class Snapshot:
    """Everything walk-ins can change, read back from storage (for "nothing changed")."""

    appointments: tuple[Appointment, ...]
    patients: tuple[Patient | None, ...]
    entries: tuple[QueueEntry, ...]
    duty: tuple[DutyShift, ...]
    durations: tuple[DurationStats, ...]
    published: tuple[PublishedWait, ...]
    events: tuple[Event, ...]


@attrs.define
class WalkInClinic:
    cb: Carebook
    clock: ManualClock
    org: Organisation
    locations: list[Location]
    practitioners: dict[uuid.UUID, list[Practitioner]]
    service: Service
    patients: list[Patient]

    @property
    def loc(self) -> Location:
        return self.locations[0]

    @property
    def staff(self) -> Actor:
        return Actor.staff(*(loc.id for loc in self.locations))

    def at(self, location: Location | None = None) -> list[Practitioner]:
        return self.practitioners[(location or self.loc).id]

    def new_patient(self, kind: PatientKind = PatientKind.NEW) -> Patient:
        patient = ClinicBuilder(self.cb, self.org).patient(kind=kind)
        self.patients.append(patient)
        return patient

    def on_duty(self, *practitioners: Practitioner, location: Location | None = None) -> None:
        for practitioner in practitioners:
            self.cb.walkins.on_duty(self.staff, (location or self.loc).id, practitioner.id)

    def walk_in(
        self,
        patient: Patient,
        *,
        location: Location | None = None,
        actor: Actor | None = None,
        channel: CheckInChannel = CheckInChannel.DESK,
        key: str | None = None,
    ) -> CheckInOutcome:
        command = CheckIn(
            location_id=(location or self.loc).id,
            patient_id=patient.id,
            channel=channel,
            idempotency_key=key,
        )
        return self.cb.walkins.check_in(actor or self.staff, command)

    def snapshot(self) -> Snapshot:
        ids = [loc.id for loc in self.locations]
        found: list[Appointment] = []
        for patient in self.patients:
            found += self.cb.queries.patient_appointments(Actor.system(), patient.id)
        with self.cb.storage.unit_of_work() as uow:
            return Snapshot(
                appointments=tuple(found),
                patients=tuple(uow.patients.get(p.id) for p in self.patients),
                entries=tuple(uow.walkins.check_ins(ids, T0.subtract(days=1), T0.add(days=30))),
                duty=tuple(uow.walkins.on_duty(ids)),
                durations=tuple(uow.walkins.durations(ids)),
                published=tuple(uow.walkins.published_waits(ids)),
                events=tuple(uow.outbox.pending(10_000)),
            )


def make_walkin_clinic(
    *,
    locations: int = 1,
    practitioners: int = 2,
    patients: int = 4,
    slot_minutes: int = 15,
    hours: str = "08:00-20:00",
    storage: str = "memory",
    storage_options: dict[str, Any] | None = None,
    dispatch: str = "manual",
    policy: dict[str, Any] | None = None,
    **settings: Any,
) -> WalkInClinic:
    """The clinic described in the module docstring; ``settings`` go to every location's
    walk-in configuration and ``policy`` to the organisation's booking policy.
    ``patients`` alternate new and returning (new first)."""
    cb, clock = open_carebook(
        CarebookConfig(
            storage=storage,
            storage_options=storage_options or {},
            notifiers=(),
            dispatch=dispatch,
        ),
        start=T0,
    )
    builder = ClinicBuilder.create(cb, "Walk-in Chiropractic", **(policy or {}))
    offices: list[Location] = []
    staff: dict[uuid.UUID, list[Practitioner]] = {}
    for n in range(locations):
        office = builder.location(f"Office {n + 1:02d}", hours=hours)
        offices.append(office)
        staff[office.id] = [
            builder.practitioner(f"Dr {n + 1:02d}-{k + 1:02d}", office, hours=hours)
            for k in range(practitioners)
        ]
    service = builder.service(
        "Adjustment",
        practitioners=[p for team in staff.values() for p in team],
        duration=slot_minutes,
        price=Money(4_000, "GBP"),
    )
    for office in offices:
        cb.walkins.configure(ADMIN, office.id, service_id=service.id, **settings)
    clinic = WalkInClinic(cb, clock, builder.org, offices, staff, service, [])
    for n in range(patients):
        clinic.new_patient(PatientKind.NEW if n % 2 == 0 else PatientKind.RETURNING)
    return clinic
