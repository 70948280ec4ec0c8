"""Availability and booking agree, through the service layer, for random calendars.

Each example builds a fresh Carebook (memory storage, manual clock): one location open
07:00-19:00 local time in a random zone, two practitioners working 08:00-18:00 with a
random break each, a few services with random durations and buffers (one needs a room),
one or two rooms, and random closures. Appointments are booked through the library.

Properties:

(a) every offered slot's occupied span avoids the practitioner's appointments, every
    closure, every break and (when searched for) the patient's appointments; and the
    search offers exactly the grid starts an independent brute-force oracle accepts;
(b) every offered slot books at exactly that instant (and cancelling gives it back);
(c) under any sequence of book and cancel calls, booking succeeds exactly when the
    search offered that start, and no two occupying appointments ever overlap for a
    practitioner, a room or a patient.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    Interval,
    InvalidTransitionError,
    Money,
    RuleRejectedError,
    SlotUnavailableError,
)
from carebook.scheduling import (
    Appointment,
    AppointmentStatus,
    AvailabilityQuery,
    AvailabilityResult,
    BookAppointment,
    CancelAppointment,
    Closure,
    ClosureKind,
    HoldSlot,
    Location,
    Organisation,
    Patient,
    Practitioner,
    Resource,
    Service,
    Slot,
    WeeklyHours,
)
from carebook.testing.clinic import ClinicBuilder, open_carebook

NOW = pendulum.datetime(2026, 5, 30, 12, tz="UTC")
MONDAY = dt.date(2026, 6, 1)
DAYS = (MONDAY, MONDAY + dt.timedelta(days=1))
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
WORK = (8 * 60, 18 * 60)  # every practitioner's plan, local minutes

Span = tuple[int, int]

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the random calendar --------------------------------------------------------------------


@attrs.frozen
class ServiceSpec:
    duration: int
    before: int
    after: int
    needs_room: bool


@attrs.frozen
class ClosureSpec:
    day: int
    start_minute: int
    length: int
    emergency: bool


@attrs.frozen
class Spec:
    tz: str
    interval: int
    breaks: tuple[Span | None, ...]  # per practitioner, local minutes
    services: tuple[ServiceSpec, ...]
    rooms: int
    closures: tuple[ClosureSpec, ...]


service_specs = st.builds(
    ServiceSpec,
    duration=st.sampled_from([15, 20, 30, 45, 60]),
    before=st.sampled_from([0, 5, 10, 15]),
    after=st.sampled_from([0, 5, 10, 15]),
    needs_room=st.booleans(),
)

breaks = st.one_of(
    st.none(),
    st.tuples(st.integers(10 * 4, 15 * 4), st.integers(1, 6)).map(
        lambda t: (t[0] * 15, t[0] * 15 + t[1] * 15)
    ),
)

closure_specs = st.builds(
    ClosureSpec,
    day=st.integers(0, 1),
    start_minute=st.integers(7 * 12, 18 * 12).map(lambda n: n * 5),
    length=st.integers(1, 36).map(lambda n: n * 5),
    emergency=st.booleans(),
)

specs = st.builds(
    Spec,
    tz=st.sampled_from(ZONES),
    interval=st.sampled_from([5, 10, 15, 20, 30]),
    breaks=st.tuples(breaks, breaks),
    services=st.lists(service_specs, min_size=2, max_size=3).map(tuple),
    rooms=st.integers(1, 2),
    closures=st.lists(closure_specs, max_size=3).map(tuple),
)


def local(day: dt.date, minute: int, tz: str) -> pendulum.DateTime:
    """Wall-clock ``minute`` (0..1440) of ``day`` in ``tz``; the dates used have no DST change."""
    hour, mins = divmod(minute, 60)
    return pendulum.datetime(day.year, day.month, day.day, tz=tz).add(hours=hour, minutes=mins)


def epoch(instant: dt.datetime) -> int:
    return int(instant.timestamp())


def overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@attrs.define
class Scenario:
    """A clinic built through ``cb.admin`` from a :class:`Spec`."""

    spec: Spec
    cb: Carebook
    org: Organisation
    location: Location
    practitioners: list[Practitioner]
    services: list[Service]
    rooms: list[Resource]
    patients: list[Patient]
    closures: list[Interval] = attrs.field(factory=list)
    appointments: list[Appointment] = attrs.field(factory=list)

    @property
    def window(self) -> Interval:
        return Interval(local(DAYS[0], 0, self.spec.tz), local(DAYS[-1], 1440, self.spec.tz))

    def add_closures(self) -> None:
        staff = Actor.staff(self.location.id)
        for c in self.spec.closures:
            start = local(DAYS[c.day], c.start_minute, self.spec.tz)
            interval = Interval(start, start.add(minutes=c.length))
            kind = ClosureKind.EMERGENCY if c.emergency else ClosureKind.CLOSURE
            self.cb.admin.add_closure(
                staff, self.location.id, Closure(interval=interval, kind=kind)
            )
            self.closures.append(interval)

    def search(
        self, services: Sequence[Service], patient: Patient | None = None
    ) -> AvailabilityResult:
        query = AvailabilityQuery(
            service_ids=[s.id for s in services],
            window=self.window,
            patient_id=patient.id if patient else None,
        )
        actor = Actor.patient(patient.id) if patient else Actor.admin()
        return self.cb.booking.search_availability(actor, self.org.id, query)

    def book(
        self, services: Sequence[Service], slot: Slot, patient: Patient, key: str
    ) -> Appointment:
        command = BookAppointment(
            location_id=slot.location_id,
            practitioner_id=slot.practitioner_id,
            patient_id=patient.id,
            service_ids=[s.id for s in services],
            start=slot.start,
            idempotency_key=key,
        )
        appointment = self.cb.booking.book(Actor.admin(), command)
        self.appointments.append(appointment)
        return appointment

    def current(self) -> list[Appointment]:
        """Every appointment booked so far, re-read from storage, that occupies time."""
        now = self.cb.clock.now()
        fresh = [self.cb.queries.get_appointment(Actor.admin(), a.id) for a in self.appointments]
        return [a for a in fresh if a.occupies(now)]

    def break_spans(self, index: int) -> list[Span]:
        span = self.spec.breaks[index]
        if span is None:
            return []
        return [
            (epoch(local(day, span[0], self.spec.tz)), epoch(local(day, span[1], self.spec.tz)))
            for day in DAYS
        ]

    def blocks(self, index: int) -> list[Span]:
        """The practitioner's working blocks, computed independently of the library."""
        out: list[Span] = []
        span = self.spec.breaks[index]
        pieces = [WORK] if span is None else [(WORK[0], span[0]), (span[1], WORK[1])]
        for day in DAYS:
            out.extend(
                (epoch(local(day, s, self.spec.tz)), epoch(local(day, e, self.spec.tz)))
                for s, e in pieces
                if s < e
            )
        return out


def build(spec: Spec) -> Scenario:
    cb, _ = open_carebook(CarebookConfig(notifiers=("recording",)), start=NOW)
    clinic = ClinicBuilder.create(
        cb, "Property clinic", min_notice=0, horizon_days=60, slot_interval=spec.interval
    )
    org = clinic.org
    loc = clinic.location(timezone=spec.tz, hours="07:00-19:00")
    practitioners = []
    for n, pause in enumerate(spec.breaks):
        breaks = (
            WeeklyHours()
            if pause is None
            else WeeklyHours.every_day(
                f"{pause[0] // 60:02d}:{pause[0] % 60:02d}-{pause[1] // 60:02d}:{pause[1] % 60:02d}"
            )
        )
        practitioners.append(
            clinic.practitioner(f"Dr {n + 1}", loc, hours="08:00-18:00", breaks=breaks)
        )
    services = [
        clinic.service(
            f"Service {n + 1}",
            practitioners=practitioners,
            duration=s.duration,
            buffer_before=s.before,
            buffer_after=s.after,
            price=Money(1000, "EUR"),
            needs={"room"} if s.needs_room else (),
        )
        for n, s in enumerate(spec.services)
    ]
    rooms = [clinic.resource(loc, f"Room {n + 1}") for n in range(spec.rooms)]
    patients = clinic.patients(3)
    return Scenario(spec, cb, org, loc, practitioners, services, rooms, patients)


def shape(services: Sequence[Service]) -> tuple[int, int, int]:
    """(before, duration, after) in seconds of services run back to back."""
    return (
        services[0].buffer_before * 60,
        sum(s.duration for s in services) * 60,
        services[-1].buffer_after * 60,
    )


def occupied(slot: Slot, services: Sequence[Service]) -> Span:
    before, _, after = shape(services)
    return epoch(slot.start) - before, epoch(slot.end) + after


def needs_room(services: Iterable[Service]) -> bool:
    return any("room" in s.needs for s in services)


def combos(scenario: Scenario) -> list[list[Service]]:
    """Single services and ordered pairs (the search's margin covers two services)."""
    singles = [[s] for s in scenario.services]
    pairs = [list(p) for p in itertools.permutations(scenario.services, 2)]
    return singles + pairs


def populate(scenario: Scenario, picks: Sequence[tuple[int, int, int]]) -> None:
    """Book one offered slot per pick (service, patient, which slot); every one must book."""
    for n, (svc_i, pat_i, slot_i) in enumerate(picks):
        services = [scenario.services[svc_i % len(scenario.services)]]
        patient = scenario.patients[pat_i % len(scenario.patients)]
        slots = list(scenario.search(services, patient))
        if not slots:
            continue
        slot = slots[slot_i % len(slots)]
        appointment = scenario.book(services, slot, patient, f"populate-{n}")
        assert appointment.start == slot.start
        assert appointment.status is AppointmentStatus.BOOKED


booking_picks = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 10_000)), max_size=6
)


# --- (a) no offered slot overlaps anything it must avoid; nothing bookable is missing -------------


def oracle(
    scenario: Scenario, services: Sequence[Service], patient: Patient | None
) -> set[tuple[object, int]]:
    """Every (practitioner, start) a brute-force reading of the rules accepts."""
    before, duration, after = shape(services)
    step = scenario.spec.interval * 60
    appointments = scenario.current()
    closures = [(epoch(c.start), epoch(c.end)) for c in scenario.closures]
    patient_busy = [
        a.occupied_epochs
        for a in appointments
        if patient is not None and a.patient_id == patient.id
    ]
    now = epoch(scenario.cb.clock.now())
    expected: set[tuple[object, int]] = set()
    for index, doc in enumerate(scenario.practitioners):
        mine = [a.occupied_epochs for a in appointments if a.practitioner_id == doc.id]
        for bs, be in scenario.blocks(index):
            t = bs
            while t + duration + after <= be:
                span = (t - before, t + duration + after)
                free = (
                    span[0] >= bs
                    and t >= now
                    and not any(overlaps(span, c) for c in closures + mine + patient_busy)
                )
                if free and needs_room(services):
                    free = any(
                        not any(
                            overlaps(span, a.occupied_epochs)
                            for a in appointments
                            if room.id in a.resource_ids
                        )
                        for room in scenario.rooms
                    )
                if free:
                    expected.add((doc.id, t))
                t += step
    return expected


@FAST
@given(
    spec=specs,
    picks=booking_picks,
    probe=st.integers(0, 100),
    searcher=st.one_of(st.none(), st.integers(0, 2)),
)
def test_offered_slots_avoid_busy_time_closures_and_breaks(
    spec: Spec, picks: list[tuple[int, int, int]], probe: int, searcher: int | None
) -> None:
    scenario = build(spec)
    populate(scenario, picks)
    scenario.add_closures()
    services = combos(scenario)[probe % len(combos(scenario))]
    patient = None if searcher is None else scenario.patients[searcher]
    result = scenario.search(services, patient)

    appointments = scenario.current()
    closures = [(epoch(c.start), epoch(c.end)) for c in scenario.closures]
    _, duration, _ = shape(services)
    window = scenario.window
    pauses = {p.id: scenario.break_spans(i) for i, p in enumerate(scenario.practitioners)}
    blocks = {p.id: scenario.blocks(i) for i, p in enumerate(scenario.practitioners)}
    slots = list(result)
    for slot in slots:
        span = occupied(slot, services)
        assert epoch(slot.end) - epoch(slot.start) == duration
        assert window.start <= slot.start < window.end
        assert not any(overlaps(span, c) for c in closures), "slot overlaps a closure"
        assert not any(overlaps(span, b) for b in pauses[slot.practitioner_id]), "in a break"
        assert any(bs <= span[0] and span[1] <= be for bs, be in blocks[slot.practitioner_id])
        for a in appointments:
            taken = a.occupied_epochs
            if a.practitioner_id == slot.practitioner_id:
                assert not overlaps(span, taken), "slot overlaps the practitioner's appointment"
            if patient is not None and a.patient_id == patient.id:
                assert not overlaps(span, taken), "slot overlaps the patient's appointment"
            if set(slot.resource_ids) & set(a.resource_ids):
                assert not overlaps(span, taken), "slot's room is taken"
        if needs_room(services):
            assert len(slot.resource_ids) == 1
            assert slot.resource_ids[0] in {r.id for r in scenario.rooms}
        else:
            assert slot.resource_ids == ()

    starts = [s.start for s in slots]
    assert starts == sorted(starts)
    offered = {(s.practitioner_id, epoch(s.start)) for s in slots}
    assert len(offered) == len(slots) == len(result)
    assert offered == oracle(scenario, services, patient)


# --- (b) every offered slot books at that instant -----------------------------------------------


@FAST
@given(
    spec=specs,
    picks=booking_picks,
    probe=st.integers(0, 100),
    searcher=st.integers(0, 2),
    samples=st.lists(st.integers(0, 10_000), min_size=1, max_size=5),
    as_patient=st.booleans(),
)
def test_every_offered_slot_books_at_that_instant(
    spec: Spec,
    picks: list[tuple[int, int, int]],
    probe: int,
    searcher: int,
    samples: list[int],
    as_patient: bool,
) -> None:
    scenario = build(spec)
    populate(scenario, picks)
    scenario.add_closures()
    services = combos(scenario)[probe % len(combos(scenario))]
    patient = scenario.patients[searcher]
    before = list(scenario.search(services, patient))
    if not before:
        return
    chosen = sorted({0, *(n % len(before) for n in samples)})
    actor = Actor.patient(patient.id) if as_patient else Actor.staff(scenario.location.id)
    for n in chosen:
        slot = before[n]
        command = BookAppointment(
            location_id=slot.location_id,
            practitioner_id=slot.practitioner_id,
            patient_id=patient.id,
            service_ids=[s.id for s in services],
            start=slot.start,
            idempotency_key=f"sample-{n}",
        )
        appointment = scenario.cb.booking.book(actor, command)
        assert appointment.start == slot.start
        assert appointment.end == slot.end
        assert appointment.practitioner_id == slot.practitioner_id
        assert appointment.resource_ids == slot.resource_ids
        assert (epoch(appointment.occupied_start), epoch(appointment.occupied_end)) == occupied(
            slot, services
        )
        expected = AppointmentStatus.PENDING if as_patient else AppointmentStatus.BOOKED
        assert appointment.status is expected
        # The booked start is no longer offered to this practitioner.
        after = scenario.search(services, patient)
        assert after.offer(slot.practitioner_id, slot.location_id, epoch(slot.start)) is None
        cancelled = scenario.cb.lifecycle.cancel(
            actor, CancelAppointment(appointment_id=appointment.id)
        )
        assert cancelled.status is AppointmentStatus.CANCELLED
    # Cancelling gave every sampled slot back.
    assert list(scenario.search(services, patient)) == before


# --- (c) random sequences of book and cancel keep the calendar consistent ------------------------


@attrs.frozen
class BookOp:
    practitioner: int
    patient: int
    combo: int
    day: int
    minute: int  # local minutes from midnight, multiples of 5
    actor: str


@attrs.frozen
class CancelOp:
    which: int
    as_patient: bool


operations = st.lists(
    st.one_of(
        st.builds(
            BookOp,
            practitioner=st.integers(0, 1),
            patient=st.integers(0, 1),
            combo=st.integers(0, 100),
            day=st.sampled_from([0, 0, 0, 1]),
            minute=st.one_of(
                st.integers(9, 12).map(lambda h: h * 60),  # on every grid (60 = k x interval)
                st.integers(7 * 12, 18 * 12).map(lambda n: n * 5),  # anywhere, often off grid
            ),
            actor=st.sampled_from(["admin", "staff", "patient"]),
        ),
        st.builds(CancelOp, which=st.integers(0, 100), as_patient=st.booleans()),
    ),
    min_size=3,
    max_size=25,
)


def assert_no_overlaps(appointments: Sequence[Appointment]) -> None:
    for a, b in itertools.combinations(appointments, 2):
        if not overlaps(a.occupied_epochs, b.occupied_epochs):
            continue
        assert a.practitioner_id != b.practitioner_id, "practitioner double-booked"
        assert a.patient_id != b.patient_id, "patient double-booked"
        assert not set(a.resource_ids) & set(b.resource_ids), "room double-booked"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs, ops=operations)
def test_book_and_cancel_sequences_never_double_book(
    spec: Spec, ops: list[BookOp | CancelOp]
) -> None:
    scenario = build(spec)
    scenario.add_closures()
    cb = scenario.cb
    all_combos = combos(scenario)
    for step, op in enumerate(ops):
        if isinstance(op, BookOp):
            services = all_combos[op.combo % len(all_combos)]
            doc = scenario.practitioners[op.practitioner]
            patient = scenario.patients[op.patient]
            start = local(DAYS[op.day], op.minute, spec.tz)
            query = AvailabilityQuery(
                service_ids=[s.id for s in services],
                window=Interval(start, start.add(seconds=1)),
                location_ids={scenario.location.id},
                practitioner_ids={doc.id},
                patient_id=patient.id,
            )
            offered = cb.booking.search_availability(Actor.admin(), scenario.org.id, query).offer(
                doc.id, scenario.location.id, epoch(start)
            )
            actor = {
                "admin": Actor.admin(),
                "staff": Actor.staff(scenario.location.id),
                "patient": Actor.patient(patient.id),
            }[op.actor]
            command = BookAppointment(
                location_id=scenario.location.id,
                practitioner_id=doc.id,
                patient_id=patient.id,
                service_ids=[s.id for s in services],
                start=start,
                idempotency_key=f"op-{step}",
            )
            try:
                appointment = cb.booking.book(actor, command)
            except (RuleRejectedError, SlotUnavailableError) as exc:
                assert offered is None, f"an offered slot was refused: {exc}"
                event(f"refused: {getattr(exc, 'reason_code', '?')}")
            else:
                event("booked")
                assert offered is not None, "a slot the search did not offer was booked"
                assert appointment.start == start
                assert appointment.resource_ids == offered.resource_ids
                scenario.appointments.append(appointment)
        elif isinstance(op, CancelOp) and scenario.appointments:
            target = scenario.appointments[op.which % len(scenario.appointments)]
            current = cb.queries.get_appointment(Actor.admin(), target.id)
            actor = Actor.patient(target.patient_id) if op.as_patient else Actor.admin()
            if current.status is AppointmentStatus.CANCELLED:
                with pytest.raises(InvalidTransitionError):
                    cb.lifecycle.cancel(actor, CancelAppointment(appointment_id=target.id))
            else:
                cancelled = cb.lifecycle.cancel(actor, CancelAppointment(appointment_id=target.id))
                assert cancelled.status is AppointmentStatus.CANCELLED
        live = scenario.current()
        assert_no_overlaps(live)
        for patient in scenario.patients:
            theirs = cb.queries.patient_appointments(Actor.patient(patient.id), patient.id)
            assert {a.id for a in theirs if a.occupies(cb.clock.now())} == {
                a.id for a in live if a.patient_id == patient.id
            }


# --- known gaps found while writing these properties ------------------------------------------


def test_three_services_back_to_back_see_busy_time_beyond_the_margin() -> None:
    spec = Spec(
        tz="UTC",
        interval=15,
        breaks=(None, None),
        services=(ServiceSpec(60, 0, 0, False),) * 3,
        rooms=1,
        closures=(),
    )
    scenario = build(spec)
    doc = scenario.practitioners[0]
    first, second, third = scenario.services
    # Busy 11:30-12:30: a three-hour visit starting at 09:00 would overlap it.
    busy_slot = Slot(
        local(MONDAY, 11 * 60 + 30, "UTC"),
        local(MONDAY, 12 * 60 + 30, "UTC"),
        scenario.location.id,
        doc.id,
    )
    scenario.book([first], busy_slot, scenario.patients[0], "busy")
    query = AvailabilityQuery(
        service_ids=[first.id, second.id, third.id],
        window=Interval(local(MONDAY, 9 * 60, "UTC"), local(MONDAY, 9 * 60 + 15, "UTC")),
        practitioner_ids={doc.id},
    )
    result = scenario.cb.booking.search_availability(Actor.admin(), scenario.org.id, query)
    assert result.offer(doc.id, scenario.location.id, epoch(local(MONDAY, 9 * 60, "UTC"))) is None


def test_a_patients_own_search_hides_times_they_are_already_booked() -> None:
    scenario = build(
        Spec(
            tz="UTC",
            interval=15,
            breaks=(None, None),
            services=(ServiceSpec(30, 0, 0, False),) * 2,
            rooms=1,
            closures=(),
        )
    )
    first, second = scenario.practitioners
    patient = scenario.patients[0]
    ten = local(MONDAY, 10 * 60, "UTC")
    booked = Slot(ten, ten.add(minutes=30), scenario.location.id, first.id)
    scenario.book([scenario.services[0]], booked, patient, "mine")
    query = AvailabilityQuery(
        service_ids=[scenario.services[0].id], window=Interval(ten, ten.add(minutes=1))
    )
    result = scenario.cb.booking.search_availability(
        Actor.patient(patient.id), scenario.org.id, query
    )
    # The other practitioner is free at 10:00, but the patient is not.
    assert result.offer(second.id, scenario.location.id, epoch(ten)) is None


# --- holds through the service layer --------------------------------------------------------------


def test_live_hold_hides_its_slot_and_an_expired_hold_gives_it_back() -> None:
    cb, clock = open_carebook(CarebookConfig(notifiers=("recording",)), start=NOW)
    clinic = ClinicBuilder.create(cb, "Hold clinic", min_notice=0, hold_minutes=10)
    org = clinic.org
    loc = clinic.location(timezone="UTC")
    doc = clinic.practitioner("Dr Hold", loc)
    svc = clinic.service("Check-up", practitioners=[doc], price=Money(1000, "EUR"))
    holder, other = clinic.patients(2)
    ten = local(MONDAY, 10 * 60, "UTC")
    query = AvailabilityQuery(service_ids=[svc.id], window=Interval(ten, ten.add(minutes=1)))

    def offered() -> bool:
        found = cb.booking.search_availability(Actor.patient(other.id), org.id, query)
        return found.offer(doc.id, loc.id, epoch(ten)) is not None

    assert offered()
    cb.booking.hold(
        Actor.patient(holder.id),
        HoldSlot(
            location_id=loc.id,
            practitioner_id=doc.id,
            patient_id=holder.id,
            service_ids=[svc.id],
            start=ten,
        ),
    )
    assert not offered()
    command = BookAppointment(
        location_id=loc.id,
        practitioner_id=doc.id,
        patient_id=other.id,
        service_ids=[svc.id],
        start=ten,
        idempotency_key="other",
    )
    with pytest.raises(RuleRejectedError) as refused:
        cb.booking.book(Actor.patient(other.id), command)
    assert refused.value.reason_code == "practitioner_busy"
    clock.advance(minutes=10)  # the hold expires exactly now
    assert offered()
    assert cb.booking.book(Actor.patient(other.id), command).start == ten
