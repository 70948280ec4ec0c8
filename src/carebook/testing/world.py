"""A small clinic built through the public API, for tests of use cases.

``make_world()`` returns a :class:`World`: one organisation with one location in
Europe/London, one practitioner working 09:00-17:00 on weekdays, one 30-minute service,
two patients (``alice`` and ``bob``), a ManualClock at Monday 2025-03-03 08:00 UTC and a
recording notifier. Appointments are booked for Tuesday (``at(10)`` is 10:00 that day).
Host applications may use it in their own tests the same way.
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pendulum
import pluggy

import carebook
from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    Event,
    Interval,
)
from carebook.builtin.clocks import ManualClock
from carebook.builtin.notifiers import RecordingNotifier
from carebook.builtin.publishers import InProcessPublisher
from carebook.domain.notifications import Notification
from carebook.ports import ChannelNotifier, ContactDirectory, Notifier, PaymentGateway, Storage
from carebook.scheduling import (
    Appointment,
    AvailabilityQuery,
    BookAppointment,
    HoldSlot,
    Location,
    Organisation,
    Patient,
    Practitioner,
    Service,
)
from carebook.testing.clinic import ClinicBuilder, open_carebook

__all__ = ["DAY", "T0", "World", "add_practitioner", "at", "make_world"]

T0 = pendulum.datetime(2025, 3, 3, 8, 0, tz="UTC")
"""Monday 08:00 UTC; Europe/London is on UTC until the end of March."""
DAY = pendulum.datetime(2025, 3, 4, tz="UTC")
"""Tuesday: the day appointments are booked for."""


def at(hour: int, minute: int = 0) -> pendulum.DateTime:
    return DAY.add(hours=hour, minutes=minute)


@attrs.define
class World:
    cb: Carebook
    clock: ManualClock
    org: Organisation
    loc: Location
    pr: Practitioner
    svc: Service
    patients: list[Patient]
    config: CarebookConfig = attrs.field(factory=CarebookConfig)

    @property
    def builder(self) -> ClinicBuilder:
        """Adds more rows to this world's organisation."""
        return ClinicBuilder(self.cb, self.org)

    @property
    def alice(self) -> Patient:
        return self.patients[0]

    @property
    def bob(self) -> Patient:
        return self.patients[1]

    @property
    def staff(self) -> Actor:
        return Actor.staff(self.loc.id)

    def new_patient(self, contact_ref: str | None = None) -> Patient:
        patient = self.builder.patient(contact_ref=contact_ref or f"tel:{uuid.uuid4().hex}")
        self.patients.append(patient)
        return patient

    def command(
        self,
        patient: Patient,
        start: pendulum.DateTime,
        *,
        key: str | None = None,
        services: tuple[Service, ...] | None = None,
        practitioner: Practitioner | None = None,
        hold_id: carebook.AppointmentId | None = None,
    ) -> BookAppointment:
        return BookAppointment(
            location_id=self.loc.id,
            practitioner_id=(practitioner or self.pr).id,
            patient_id=patient.id,
            service_ids=tuple(s.id for s in (services or (self.svc,))),
            start=start,
            idempotency_key=key or uuid.uuid4().hex,
            hold_id=hold_id,
        )

    def book(
        self,
        patient: Patient,
        start: pendulum.DateTime,
        *,
        actor: Actor | None = None,
        correlation_id: str | None = None,
        **kwargs: Any,
    ) -> Appointment:
        return self.cb.booking.book(
            actor or Actor.patient(patient.id),
            self.command(patient, start, **kwargs),
            correlation_id=correlation_id,
        )

    def hold_command(self, patient: Patient, start: pendulum.DateTime) -> HoldSlot:
        return HoldSlot(
            location_id=self.loc.id,
            practitioner_id=self.pr.id,
            patient_id=patient.id,
            service_ids=(self.svc.id,),
            start=start,
        )

    def hold(self, patient: Patient, start: pendulum.DateTime) -> Appointment:
        return self.cb.booking.hold(Actor.patient(patient.id), self.hold_command(patient, start))

    def another(
        self, storage: Storage, *, notifiers: dict[str, Notifier] | None = None
    ) -> Carebook:
        """A second Carebook with this world's config and clock on ``storage``, this
        world's storage opened again: another process of the host application."""
        return carebook.bootstrap(
            self.config, storage=storage, clock=self.clock, notifiers=notifiers
        )

    def appointments(self, cb: Carebook | None = None) -> list[Appointment]:
        """Every appointment of every patient, as stored (read through ``cb``)."""
        reader = cb or self.cb
        return [
            a
            for p in self.patients
            for a in reader.queries.patient_appointments(Actor.system(), p.id)
        ]

    def starts(
        self, patient: Patient | None = None, cb: Carebook | None = None
    ) -> list[pendulum.DateTime]:
        """Offered starts on DAY for the default service and practitioner (searched
        through ``cb``)."""
        query = AvailabilityQuery(
            service_ids=(self.svc.id,),
            window=Interval(DAY, DAY.add(days=1)),
            practitioner_ids={self.pr.id},
            patient_id=patient.id if patient else None,
        )
        found = (cb or self.cb).booking.search_availability(Actor.system(), self.org.id, query)
        return [s.start for s in found]

    @property
    def sent(self) -> list[Notification]:
        notifier = self.cb.notifiers.get("recording") or self.cb.notifiers["first"]
        assert isinstance(notifier, RecordingNotifier)
        return notifier.sent

    def snapshot(self) -> tuple[list[Appointment], list[Event], list[Notification]]:
        return self.appointments(), self.cb.events.pending(1000), list(self.sent)

    def record_events(self) -> list[Event]:
        """Subscribe to the in-process publisher; returns the list it fills."""
        seen: list[Event] = []
        publisher = self.cb.publisher
        assert isinstance(publisher, InProcessPublisher)
        publisher.subscribe(seen.append)
        return seen


def make_world(
    *,
    dispatch: str = "inline",
    plugin_manager: pluggy.PluginManager | None = None,
    notifiers: dict[str, Notifier] | None = None,
    payment_gateway: PaymentGateway | None = None,
    name: str = "carebook",
    storage: Storage | None = None,
    channel_notifiers: dict[str, ChannelNotifier] | None = None,
    contacts: ContactDirectory | None = None,
    language: str = "en",
    **policy: Any,
) -> World:
    """The world of the module docstring, on ``storage`` (default: a new memory storage);
    ``policy`` goes to the organisation's booking policy, ``language`` is its language
    of messages; ``channel_notifiers`` and ``contacts`` go to bootstrap."""
    config = CarebookConfig(notifiers=("recording",), dispatch=dispatch, name=name)
    cb, clock = open_carebook(
        config,
        start=T0,
        storage=storage,
        plugin_manager=plugin_manager,
        notifiers=notifiers,
        payment_gateway=payment_gateway,
        channel_notifiers=channel_notifiers,
        contacts=contacts,
    )
    clinic = ClinicBuilder.create(cb, "Northside Clinics", language=language, **policy)
    loc = clinic.location("High Street")
    pr = clinic.practitioner("Dr Grey", loc)
    svc = clinic.service(practitioners=[pr])
    world = World(cb, clock, clinic.org, loc, pr, svc, [], config)
    world.new_patient()
    world.new_patient()
    return world


def add_practitioner(cb: Carebook, org: Organisation, loc: Location, name: str) -> Practitioner:
    """Another practitioner of ``org`` working 09:00-17:00 at ``loc``."""
    return ClinicBuilder(cb, org).practitioner(name, loc)
