"""The key use cases through a Carebook whose storage is SQL, on SQLite and PostgreSQL.

Each test gets a fresh database (``db_url``): the Carebook is bootstrapped by name,
``CarebookConfig(storage="sqlalchemy", storage_options={"url": ..., "migrate": True})``,
with a manual clock, and set up through ``cb.admin``. Where it matters, a second Carebook
on the same URL plays another process of the host application: it sees what the first
committed, replays its idempotent requests, and shares its outbox and inbox.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import pendulum
import pytest

import carebook
from carebook import (
    Actor,
    AppointmentId,
    Carebook,
    CarebookConfig,
    Event,
    IdempotencyConflictError,
    Interval,
    ManualClock,
    Money,
    RuleRejectedError,
)
from carebook.builtin.notifiers import RecordingNotifier
from carebook.builtin.publishers import InProcessPublisher
from carebook.domain import events as ev
from carebook.domain.notifications import Notification
from carebook.domain.scheduling.appointment import SessionStatus
from carebook.ports import Notifier
from carebook.scheduling import (
    Appointment,
    AppointmentStatus,
    AvailabilityQuery,
    BookAppointment,
    CancelAppointment,
    HoldSlot,
    Location,
    Organisation,
    Patient,
    Practitioner,
    Service,
    WeeklyHours,
    WorkingPlan,
)

T0 = pendulum.datetime(2025, 3, 3, 8, 0, tz="UTC")
"""Monday 08:00 UTC; Europe/London is on UTC until the end of March."""
DAY = pendulum.datetime(2025, 3, 4, tz="UTC")
"""Tuesday: the day appointments are booked for."""


def at(hour: int, minute: int = 0) -> pendulum.DateTime:
    return DAY.add(hours=hour, minutes=minute)


def open_carebook(
    url: str,
    clock: ManualClock,
    *,
    dispatch: str = "manual",
    notifiers: dict[str, Notifier] | None = None,
    migrate: bool = False,
) -> Carebook:
    return carebook.bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": url, "migrate": migrate},
            notifiers=("recording",),
            dispatch=dispatch,
        ),
        clock=clock,
        notifiers=notifiers,
    )


@attrs.define
class World:
    url: str
    cb: Carebook
    clock: ManualClock
    org: Organisation
    loc: Location
    pr: Practitioner
    svc: Service
    patients: list[Patient]
    others: list[Carebook]

    @property
    def alice(self) -> Patient:
        return self.patients[0]

    @property
    def bob(self) -> Patient:
        return self.patients[1]

    @property
    def staff(self) -> Actor:
        return Actor.staff(self.loc.id)

    def another(self, **kwargs: Any) -> Carebook:
        """A second Carebook on the same database: another process of the host app."""
        other = open_carebook(self.url, self.clock, **kwargs)
        self.others.append(other)
        return other

    def command(
        self,
        patient: Patient,
        start: pendulum.DateTime,
        *,
        key: str | None = None,
        hold_id: AppointmentId | None = None,
    ) -> BookAppointment:
        return BookAppointment(
            location_id=self.loc.id,
            practitioner_id=self.pr.id,
            patient_id=patient.id,
            service_ids=(self.svc.id,),
            start=start,
            idempotency_key=key or uuid.uuid4().hex,
            hold_id=hold_id,
        )

    def book(
        self, patient: Patient, start: pendulum.DateTime, *, actor: Actor | None = None
    ) -> Appointment:
        return self.cb.booking.book(
            actor or Actor.patient(patient.id), self.command(patient, start)
        )

    def hold(self, patient: Patient, start: pendulum.DateTime) -> Appointment:
        return self.cb.booking.hold(
            Actor.patient(patient.id),
            HoldSlot(
                location_id=self.loc.id,
                practitioner_id=self.pr.id,
                patient_id=patient.id,
                service_ids=(self.svc.id,),
                start=start,
            ),
        )

    def starts(self, patient: Patient | None = None, cb: Carebook | None = None) -> list[Any]:
        """Offered starts on DAY for the service and practitioner."""
        query = AvailabilityQuery(
            service_ids=(self.svc.id,),
            window=Interval(DAY, DAY.add(days=1)),
            practitioner_ids={self.pr.id},
            patient_id=patient.id if patient else None,
        )
        found = (cb or self.cb).booking.search_availability(Actor.system(), self.org.id, query)
        return [slot.start for slot in found]

    def appointments(self, cb: Carebook | None = None) -> list[Appointment]:
        """Every appointment of every patient, as stored."""
        reader = cb or self.cb
        return [
            a
            for p in self.patients
            for a in reader.queries.patient_appointments(Actor.system(), p.id)
        ]

    def snapshot(self) -> tuple[list[Appointment], list[Event]]:
        return self.appointments(), self.cb.events.pending(1000)

    @property
    def sent(self) -> list[Notification]:
        notifier = self.cb.notifiers["recording"]
        assert isinstance(notifier, RecordingNotifier)
        return notifier.sent


def make_world(
    url: str, *, dispatch: str = "manual", notifiers: dict[str, Notifier] | None = None
) -> World:
    clock = ManualClock(T0)
    cb = open_carebook(url, clock, dispatch=dispatch, notifiers=notifiers, migrate=True)
    admin = Actor.admin()
    org = cb.admin.create_organisation(admin, name="Northside Clinics")
    loc = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="High Street",
        timezone="Europe/London",
        opening_hours=WeeklyHours.every_day("08:00-18:00"),
    )
    pr = cb.admin.add_practitioner(
        admin,
        organisation_id=org.id,
        name="Dr Grey",
        plans=[WorkingPlan(location_id=loc.id, hours=WeeklyHours.every_day("09:00-17:00"))],
    )
    svc = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Consultation",
        duration=30,
        price=Money(5000, "GBP"),
        practitioner_ids={pr.id},
    )
    patients = [cb.admin.register_patient(admin, organisation_id=org.id) for _ in range(2)]
    return World(url, cb, clock, org, loc, pr, svc, patients, [])


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = make_world(db_url)
    try:
        yield w
    finally:
        for cb in (w.cb, *w.others):
            cb.close()


def of_type(events: list[Event], cls: type[Event]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


# -- search and book ------------------------------------------------------------------------


def test_a_searched_slot_is_booked_and_no_longer_offered(world: World) -> None:
    w = world
    query = AvailabilityQuery(
        service_ids=(w.svc.id,), window=Interval(DAY, DAY.add(days=1)), patient_id=w.alice.id
    )
    result = w.cb.booking.search_availability(Actor.patient(w.alice.id), w.org.id, query)
    slot = result.first(3)[2]
    assert slot.start == at(9, 30)  # the third start on the 15-minute grid from 09:00
    booked = w.book(w.alice, slot.start)

    assert (booked.start, booked.end) == (slot.start, slot.end)
    assert booked.status is AppointmentStatus.PENDING  # patients' bookings wait for reception
    assert w.cb.queries.get_appointment(Actor.patient(w.alice.id), booked.id) == booked
    assert w.another().queries.get_appointment(Actor.system(), booked.id) == booked  # it is stored
    assert slot.start not in w.starts()
    assert slot.start not in w.starts(cb=w.another())


@pytest.mark.parametrize("minute", [0, 15])
def test_double_booking_is_refused_as_practitioner_busy_and_changes_nothing(
    world: World, minute: int
) -> None:
    w = world
    first = w.book(w.alice, at(10))
    before = w.snapshot()

    with pytest.raises(RuleRejectedError) as caught:
        w.book(w.bob, at(10, minute))

    assert caught.value.reason_code == "practitioner_busy"
    assert w.snapshot() == before
    assert w.appointments() == [first]


def test_an_idempotent_retry_returns_the_same_appointment(world: World) -> None:
    w = world
    command = w.command(w.alice, at(10), key="client-key-1")
    first = w.cb.booking.book(Actor.patient(w.alice.id), command)
    before = w.snapshot()

    again = w.cb.booking.book(Actor.patient(w.alice.id), command)
    elsewhere = w.another().booking.book(Actor.patient(w.alice.id), command)  # another process

    assert again == first
    assert elsewhere == first
    assert w.snapshot() == before  # nothing new stored, no second event
    with pytest.raises(IdempotencyConflictError):
        w.cb.booking.book(Actor.patient(w.alice.id), attrs.evolve(command, start=at(11)))
    assert w.snapshot() == before


# -- holds ----------------------------------------------------------------------------------


def test_a_hold_is_converted_by_booking_with_its_id(world: World) -> None:
    w = world
    held = w.hold(w.alice, at(10))
    assert held.status is AppointmentStatus.PROPOSED
    assert held.hold_expires_at == T0.add(minutes=10)
    assert at(10) not in w.starts(w.bob)

    booked = w.cb.booking.book(w.staff, w.command(w.alice, at(10), hold_id=held.id))

    assert (booked.id, booked.status) == (held.id, AppointmentStatus.BOOKED)
    assert booked.hold_expires_at is None
    assert w.appointments() == [booked]
    w.clock.advance(minutes=30)  # long past the hold time: the booking keeps its slot
    assert w.cb.lifecycle.expire_holds(Actor.system()) == []
    assert at(10) not in w.starts()
    (booked_event,) = of_type(w.cb.events.pending(1000), ev.AppointmentBooked)
    assert booked_event.appointment_id == held.id


def test_an_expired_hold_frees_the_slot_and_expire_holds_cancels_it(world: World) -> None:
    w = world
    held = w.hold(w.alice, at(10))
    assert w.cb.lifecycle.expire_holds(Actor.system()) == []  # still live

    w.clock.advance(minutes=10)  # half-open: the hold ends at exactly ten minutes
    assert at(10) in w.starts(w.bob)
    bobs = w.book(w.bob, at(10))

    expired = w.cb.lifecycle.expire_holds(Actor.system(), correlation_id="sweep-1")

    assert expired == [held.id]
    after = w.cb.queries.get_appointment(Actor.system(), held.id)
    assert (after.status, after.cancel_reason) == (AppointmentStatus.CANCELLED, "hold_expired")
    (cancelled,) = of_type(w.cb.events.pending(1000), ev.AppointmentCancelled)
    assert (cancelled.appointment_id, cancelled.reason) == (held.id, "hold_expired")
    assert cancelled.correlation_id == "sweep-1"
    assert w.cb.queries.get_appointment(Actor.system(), bobs.id) == bobs  # untouched
    assert w.cb.lifecycle.expire_holds(Actor.system()) == []


def test_booking_with_an_expired_hold_is_refused_as_hold_expired(world: World) -> None:
    w = world
    held = w.hold(w.alice, at(10))
    w.clock.advance(minutes=11)
    before = w.snapshot()

    with pytest.raises(RuleRejectedError) as caught:
        w.cb.booking.book(Actor.patient(w.alice.id), w.command(w.alice, at(10), hold_id=held.id))

    assert caught.value.reason_code == "hold_expired"
    assert w.snapshot() == before


# -- the lifecycle --------------------------------------------------------------------------


def test_the_full_lifecycle_from_booking_to_a_completed_session(world: World) -> None:
    w = world
    booked = w.book(w.alice, at(10))
    assert booked.status is AppointmentStatus.PENDING

    confirmed = w.cb.lifecycle.confirm(w.staff, booked.id)
    assert confirmed.status is AppointmentStatus.BOOKED
    w.clock.set(at(9, 50))
    arrived = w.cb.lifecycle.check_in(Actor.patient(w.alice.id), booked.id)
    assert arrived.status is AppointmentStatus.ARRIVED
    w.clock.set(at(10, 1))
    started = w.cb.lifecycle.start_session(w.staff, booked.id)
    assert started.session is not None
    assert started.session.status is SessionStatus.IN_PROGRESS
    w.clock.set(at(10, 29))
    done = w.cb.lifecycle.complete_session(w.staff, booked.id)

    assert done.status is AppointmentStatus.FULFILLED
    assert done.version == booked.version + 4
    assert w.another().queries.get_appointment(Actor.system(), booked.id) == done
    kinds = [
        type(e)
        for e in w.cb.events.pending(1000)
        if getattr(e, "appointment_id", None) == booked.id
    ]
    assert kinds == [
        ev.AppointmentBooked,
        ev.AppointmentConfirmed,
        ev.PatientArrived,
        ev.SessionStarted,
        ev.SessionCompleted,
    ]
    # A fulfilled appointment still occupies its time.
    assert at(10) not in w.starts()


def test_cancelling_frees_the_slot_for_someone_else(world: World) -> None:
    w = world
    booked = w.book(w.alice, at(10))
    assert at(10) not in w.starts()

    cancelled = w.cb.lifecycle.cancel(
        Actor.patient(w.alice.id), CancelAppointment(appointment_id=booked.id)
    )

    assert cancelled.status is AppointmentStatus.CANCELLED
    assert at(10) in w.starts()
    bobs = w.book(w.bob, at(10))
    assert bobs.start == at(10)
    (event,) = of_type(w.cb.events.pending(1000), ev.AppointmentCancelled)
    assert (event.appointment_id, event.reason, event.by) == (
        booked.id,
        "patient_request",
        "patient",
    )


def test_a_calendar_change_by_another_carebook_is_seen_at_once(world: World) -> None:
    """Each Carebook keeps decoded calendars; a change committed elsewhere must win."""
    w = world
    assert at(10) in w.starts()  # this Carebook has now decoded the calendar
    other = w.another()
    other.admin.set_working_plan(
        Actor.admin(),
        w.pr.id,
        WorkingPlan(location_id=w.loc.id, hours=WeeklyHours.every_day("13:00-17:00")),
    )

    starts = w.starts()

    assert at(10) not in starts
    assert min(starts) == at(13)
    with pytest.raises(RuleRejectedError) as caught:
        w.book(w.alice, at(10))
    assert caught.value.reason_code == "practitioner_unavailable"


# -- events and notifications ---------------------------------------------------------------


def test_events_reach_the_outbox_and_dispatch_marks_them(world: World) -> None:
    w = world
    publisher = w.cb.publisher
    assert isinstance(publisher, InProcessPublisher)
    seen: list[Event] = []
    publisher.subscribe(seen.append)
    setup = w.cb.events.pending(1000)
    assert setup and all(isinstance(e, ev.CalendarChanged) for e in setup)

    booked = w.book(w.alice, at(10))

    pending = w.cb.events.pending(1000)
    assert pending[: len(setup)] == setup
    assert [e.appointment_id for e in of_type(pending, ev.AppointmentBooked)] == [booked.id]
    assert w.another().events.pending(1000) == pending  # committed: every process sees it
    assert seen == []

    assert w.cb.events.dispatch() == len(pending)

    assert [e.event_id for e in seen] == [e.event_id for e in pending]  # commit order
    assert w.cb.events.pending() == []
    assert w.another().events.pending() == []
    assert w.cb.events.dispatch() == 0
    assert len(seen) == len(pending)


def test_notifications_are_sent_once_however_often_dispatch_runs(db_url: str) -> None:
    w = make_world(db_url, dispatch="inline")
    try:
        booked = w.book(w.alice, at(10))

        assert [(n.kind, n.appointment_id) for n in w.sent] == [("appointment_booked", booked.id)]
        assert w.cb.events.dispatch() == 0
        assert w.cb.events.dispatch() == 0
        assert len(w.sent) == 1
        assert w.cb.events.pending() == []
    finally:
        w.cb.close()


class FlakyNotifier(RecordingNotifier):
    """Records notifications, but fails the first send."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def send(self, notification: Notification) -> None:
        if self.failures == 0:
            self.failures += 1
            raise ConnectionError("sms gateway unreachable")
        super().send(notification)


def test_a_redelivered_event_never_notifies_twice_even_from_another_carebook(db_url: str) -> None:
    """The inbox lives in the database: a notifier that already sent for an event does
    not send again when the event is redelivered, whichever process redelivers it."""
    first, second = RecordingNotifier(), FlakyNotifier()
    w = make_world(db_url, dispatch="manual", notifiers={"first": first, "second": second})
    try:
        w.cb.events.dispatch()  # the set-up's calendar events
        booked = w.book(w.alice, at(10))

        assert w.cb.events.dispatch() == 0  # "second" failed: the event stays pending
        assert [n.appointment_id for n in first.sent] == [booked.id]
        assert second.sent == []
        (pending,) = w.cb.events.pending()

        again_first, again_second = RecordingNotifier(), RecordingNotifier()
        other = w.another(notifiers={"first": again_first, "second": again_second})
        assert other.events.dispatch() == 1
        assert other.events.dispatch() == 0
        assert w.cb.events.dispatch() == 0

        assert again_first.sent == []  # "first" already sent this one: not again
        assert [n.event_id for n in again_second.sent] == [pending.event_id]
        assert [n.appointment_id for n in first.sent] == [booked.id]
        assert w.cb.events.pending() == []
    finally:
        for cb in (w.cb, *w.others):
            cb.close()


def test_two_carebooks_dispatching_at_once_notify_each_booking_once(db_url: str) -> None:
    """Two processes drain the same outbox at the same moment: the publisher may see an
    event twice (delivery is at least once), but the inbox lets each notification out once."""
    w = make_world(db_url, dispatch="manual")
    try:
        w.cb.events.dispatch()
        patients = [
            w.cb.admin.register_patient(Actor.admin(), organisation_id=w.org.id) for _ in range(8)
        ]
        booked = [w.book(p, at(9, 30 * n)) for n, p in enumerate(patients)]
        notifiers = [RecordingNotifier(), RecordingNotifier()]
        dispatchers = [w.another(notifiers={"recording": n}) for n in notifiers]
        barrier = threading.Barrier(len(dispatchers))
        errors: list[BaseException] = []

        def drain(cb: Carebook) -> None:
            try:
                barrier.wait(timeout=30)
                cb.events.dispatch()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=drain, args=(cb,)) for cb in dispatchers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        sent = [n for notifier in notifiers for n in notifier.sent]
        assert sorted(str(n.appointment_id) for n in sent) == sorted(str(b.id) for b in booked)
        assert len({n.event_id for n in sent}) == len(booked)
        assert w.cb.events.pending() == []
    finally:
        for cb in (w.cb, *w.others):
            cb.close()
