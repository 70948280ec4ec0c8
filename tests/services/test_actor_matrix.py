"""Who may do what: every actor kind against every use case, from one explicit table.

To a patient, "not yours" and "does not exist" are the same NotFoundError, with the
same message shape; so, to anyone, is another organisation's patient. A refused
command changes nothing.
"""

from __future__ import annotations

import inspect
import typing
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import pytest

import carebook
from carebook import (
    Actor,
    AppointmentId,
    Carebook,
    ForbiddenError,
    Interval,
    Money,
    NotFoundError,
    PatientId,
)
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.payments import RequestBooking
from carebook.scheduling import (
    AvailabilityQuery,
    BookAppointment,
    CancelAppointment,
    Closure,
    ClosureKind,
    Location,
    Patient,
    WeeklyHours,
)
from carebook.testing.world import DAY, World, add_practitioner, at, make_world
from carebook.walkins import CheckIn

# --- the actors --------------------------------------------------------------------------

ACTORS = (
    "patient-own",
    "patient-other",
    "staff-here",
    "staff-elsewhere",
    "staff-other-org",
    "admin",
    "system",
)


@attrs.define
class Matrix:
    """A world with a second location where the practitioner does not work, and a
    second organisation (``far``) with a patient of its own (``zed``), booked at 10:00
    with that organisation's practitioner."""

    w: World
    elsewhere: Location
    far: Location
    zed: Patient

    def actor(self, name: str) -> Actor:
        return {
            "patient-own": Actor.patient(self.w.alice.id),
            "patient-other": Actor.patient(self.w.bob.id),
            "staff-here": Actor.staff(self.w.loc.id),
            "staff-elsewhere": Actor.staff(self.elsewhere.id),
            "staff-other-org": Actor.staff(self.far.id),
            "admin": Actor.admin(),
            "system": Actor.system(),
        }[name]

    def calendar(self) -> ClinicCalendar | None:
        with self.w.cb.storage.unit_of_work() as uow:
            return uow.calendar.load(self.w.org.id)

    def state(self) -> tuple[Any, ...]:
        return (*self.w.snapshot(), self.calendar())


def make_matrix() -> Matrix:
    w = make_world(dispatch="manual", payment_gateway=SimulatedPaymentGateway())
    admin = Actor.admin()
    elsewhere = w.cb.admin.add_location(
        admin,
        organisation_id=w.org.id,
        name="Riverside",
        timezone="Europe/London",
        opening_hours=WeeklyHours.every_day("08:00-18:00"),
    )
    w.cb.walkins.configure(admin, w.loc.id, service_id=w.svc.id)
    other = w.cb.admin.create_organisation(admin, name="Southside")
    far = w.cb.admin.add_location(
        admin,
        organisation_id=other.id,
        name="Far Away",
        timezone="Europe/London",
        opening_hours=WeeklyHours.every_day("08:00-18:00"),
    )
    dr = add_practitioner(w.cb, other, far, "Dr Far")
    visit = w.cb.admin.add_service(
        admin,
        organisation_id=other.id,
        name="Visit",
        duration=30,
        price=Money(5000, "GBP"),
        practitioner_ids={dr.id},
    )
    zed = w.cb.admin.register_patient(admin, organisation_id=other.id, contact_ref="tel:zed-far")
    w.cb.booking.book(
        admin,
        BookAppointment(
            location_id=far.id,
            practitioner_id=dr.id,
            patient_id=zed.id,
            service_ids=(visit.id,),
            start=at(10),
            idempotency_key="zed",
        ),
    )
    w.cb.events.dispatch()
    return Matrix(w, elsewhere, far, zed)


# --- the use cases -------------------------------------------------------------------------
# Each prepares Alice's 10:00 appointment in the state the use case needs (and moves the
# clock there), then runs the use case as the given actor on that appointment.


def booked(m: Matrix) -> AppointmentId:
    return m.w.book(m.w.alice, at(10), actor=m.w.staff).id


def pending(m: Matrix) -> AppointmentId:
    return m.w.book(m.w.alice, at(10)).id


def arrived(m: Matrix) -> AppointmentId:
    aid = booked(m)
    m.w.clock.set(at(9, 50))
    m.w.cb.lifecycle.check_in(m.w.staff, aid)
    return aid


def in_session(m: Matrix) -> AppointmentId:
    aid = arrived(m)
    m.w.cb.lifecycle.start_session(m.w.staff, aid)
    return aid


def past_grace(m: Matrix) -> AppointmentId:
    aid = booked(m)
    m.w.clock.set(at(10, 20))
    return aid


def checking_in(m: Matrix) -> AppointmentId:
    aid = booked(m)
    m.w.clock.set(at(9, 50))
    return aid


def with_expired_hold(m: Matrix) -> AppointmentId:
    aid = booked(m)
    m.w.hold(m.w.bob, at(11))
    m.w.clock.advance(minutes=11)
    return aid


def search(m: Matrix, actor: Actor, _: AppointmentId) -> object:
    query = AvailabilityQuery(
        service_ids=(m.w.svc.id,), window=Interval(DAY, DAY.add(days=1)), patient_id=m.w.alice.id
    )
    return m.w.cb.booking.search_availability(actor, m.w.org.id, query)


def hold(m: Matrix, actor: Actor, _: AppointmentId) -> object:
    return m.w.cb.booking.hold(actor, m.w.hold_command(m.w.alice, at(11)))


def book(m: Matrix, actor: Actor, _: AppointmentId) -> object:
    return m.w.cb.booking.book(actor, m.w.command(m.w.alice, at(11)))


def request_booking(m: Matrix, actor: Actor, _: AppointmentId) -> object:
    return m.w.cb.sagas.request(actor, saga_command(m, m.w.alice.id))


def saga_command(m: Matrix, patient_id: PatientId) -> RequestBooking:
    return RequestBooking(
        location_id=m.w.loc.id,
        practitioner_id=m.w.pr.id,
        patient_id=patient_id,
        service_ids=(m.w.svc.id,),
        start=at(11),
        idempotency_key=uuid.uuid4().hex,
    )


def walk_in(m: Matrix, actor: Actor, aid: AppointmentId) -> object:
    command = CheckIn(location_id=m.w.loc.id, patient_id=m.w.alice.id, appointment_id=aid)
    return m.w.cb.walkins.check_in(actor, command)


def closure(m: Matrix, actor: Actor, _: AppointmentId) -> object:
    shut = Closure(interval=Interval(at(12), at(13)), kind=ClosureKind.EMERGENCY, label="flood")
    return m.w.cb.admin.add_closure(actor, m.w.loc.id, shut)


def on_appointment(
    call: Callable[[Carebook], Any],
) -> Callable[[Matrix, Actor, AppointmentId], object]:
    def run(m: Matrix, actor: Actor, aid: AppointmentId) -> object:
        return call(m.w.cb)(actor, aid)

    return run


@attrs.frozen
class UseCase:
    prepare: Callable[[Matrix], AppointmentId]
    run: Callable[[Matrix, Actor, AppointmentId], object]
    command: bool = True


USE_CASES: dict[str, UseCase] = {
    "search_availability": UseCase(booked, search, command=False),
    "hold": UseCase(booked, hold),
    "book": UseCase(booked, book),
    "sagas.request": UseCase(booked, request_booking),
    "walkins.check_in": UseCase(checking_in, walk_in),
    "get_appointment": UseCase(
        booked, on_appointment(lambda cb: cb.queries.get_appointment), False
    ),
    "patient_appointments": UseCase(
        booked, lambda m, actor, _: m.w.cb.queries.patient_appointments(actor, m.w.alice.id), False
    ),
    "confirm": UseCase(pending, on_appointment(lambda cb: cb.lifecycle.confirm)),
    "check_in": UseCase(booked, on_appointment(lambda cb: cb.lifecycle.check_in)),
    "start_session": UseCase(arrived, on_appointment(lambda cb: cb.lifecycle.start_session)),
    "complete_session": UseCase(
        in_session, on_appointment(lambda cb: cb.lifecycle.complete_session)
    ),
    "mark_no_show": UseCase(past_grace, on_appointment(lambda cb: cb.lifecycle.mark_no_show)),
    "cancel": UseCase(
        booked,
        lambda m, actor, aid: m.w.cb.lifecycle.cancel(actor, CancelAppointment(appointment_id=aid)),
    ),
    "enter_in_error": UseCase(booked, on_appointment(lambda cb: cb.lifecycle.enter_in_error)),
    "expire_holds": UseCase(
        with_expired_hold, lambda m, actor, _: m.w.cb.lifecycle.expire_holds(actor)
    ),
    "admin.add_location": UseCase(
        booked,
        lambda m, actor, _: m.w.cb.admin.add_location(
            actor, organisation_id=m.w.org.id, name="Annex", timezone="Europe/London"
        ),
    ),
    "admin.add_closure": UseCase(booked, closure),
    "admin.register_patient": UseCase(
        booked,
        lambda m, actor, _: m.w.cb.admin.register_patient(actor, organisation_id=m.w.org.id),
    ),
}

# --- the expected outcomes -----------------------------------------------------------------

OK = "allowed"
Outcome = str | type[Exception]
F: Outcome = ForbiddenError
N: Outcome = NotFoundError

# "staff-other-org" works for another organisation: Alice is not their patient, so
# a use case that names her is NotFoundError to them, as for a patient who does not exist.
# fmt: off
EXPECTED: dict[str, tuple[Outcome, ...]] = {
    #                        own  other  staff-here  staff-elsewhere  other-org  admin  system
    "search_availability":    (OK, F,     OK,         OK,              N,         OK,    OK),
    "hold":                   (OK, N,     OK,         F,               F,         OK,    OK),
    "book":                   (OK, N,     OK,         F,               F,         OK,    OK),
    "sagas.request":          (OK, N,     OK,         F,               F,         OK,    OK),
    "walkins.check_in":       (OK, N,     OK,         F,               F,         OK,    OK),
    "get_appointment":        (OK, N,     OK,         F,               F,         OK,    OK),
    "patient_appointments":   (OK, N,     OK,         OK,              N,         OK,    OK),
    "confirm":                (F,  N,     OK,         F,               F,         OK,    OK),
    "check_in":               (OK, N,     OK,         F,               F,         OK,    OK),
    "start_session":          (F,  N,     OK,         F,               F,         OK,    OK),
    "complete_session":       (F,  N,     OK,         F,               F,         OK,    OK),
    "mark_no_show":           (F,  N,     OK,         F,               F,         OK,    OK),
    "cancel":                 (OK, N,     OK,         F,               F,         OK,    OK),
    "enter_in_error":         (F,  N,     OK,         F,               F,         OK,    OK),
    "expire_holds":           (F,  F,     F,          F,               F,         OK,    OK),
    "admin.add_location":     (F,  F,     F,          F,               F,         OK,    OK),
    "admin.add_closure":      (F,  F,     OK,         F,               F,         OK,    OK),
    "admin.register_patient": (F,  F,     OK,         OK,              F,         OK,    OK),
}
# fmt: on


def _cells() -> list[Any]:
    cells = []
    for use_case, outcomes in EXPECTED.items():
        for actor, outcome in zip(ACTORS, outcomes, strict=True):
            cells.append(pytest.param(use_case, actor, outcome, id=f"{use_case}-{actor}"))
    return cells


def test_the_table_covers_every_use_case_and_actor() -> None:
    assert set(EXPECTED) == set(USE_CASES)
    assert all(len(row) == len(ACTORS) for row in EXPECTED.values())


@pytest.mark.parametrize(("use_case", "actor_name", "outcome"), _cells())
def test_actor_matrix(use_case: str, actor_name: str, outcome: Outcome) -> None:
    m = make_matrix()
    case = USE_CASES[use_case]
    aid = case.prepare(m)
    actor = m.actor(actor_name)
    before = m.state()

    if outcome == OK:
        case.run(m, actor, aid)
        after = m.state()
        if case.command:
            assert len(after[1]) > len(before[1]), "an allowed command records an event"
        else:
            assert after == before, "a query changes nothing"
        return

    assert isinstance(outcome, type)
    with pytest.raises(outcome) as caught:
        case.run(m, actor, aid)
    assert type(caught.value) is outcome
    assert str(caught.value)
    assert m.state() == before, "a refused use case changed something"


def test_staff_elsewhere_see_none_of_the_patients_appointments_here() -> None:
    m = make_matrix()
    aid = booked(m)
    assert [
        a.id for a in m.w.cb.queries.patient_appointments(Actor.staff(m.w.loc.id), m.w.alice.id)
    ] == [aid]
    assert m.w.cb.queries.patient_appointments(Actor.staff(m.elsewhere.id), m.w.alice.id) == []


# --- "not yours" looks exactly like "does not exist" -------------------------------------


def _same_shape(theirs: Exception, missing: Exception, real: object, fake: object) -> None:
    assert type(theirs) is type(missing)
    assert str(theirs).replace(str(real), "<id>") == str(missing).replace(str(fake), "<id>")
    assert getattr(theirs, "kind", None) == getattr(missing, "kind", None)


def _reveals_nothing(m: Matrix, error: Exception) -> None:
    message = str(error)
    for secret in (
        m.w.alice.id,
        m.w.alice.contact_ref,
        m.w.pr.id,
        m.w.loc.id,
        at(10).isoformat(),
        "booked",
        "pending",
        "arrived",
    ):
        assert str(secret) not in message


APPOINTMENT_USE_CASES = [
    name
    for name, row in EXPECTED.items()
    if row[1] is N and name not in ("hold", "book", "sagas.request", "walkins.check_in")
]
APPOINTMENT_USE_CASES.remove("patient_appointments")


@pytest.mark.parametrize("use_case", APPOINTMENT_USE_CASES)
def test_to_a_patient_another_patients_appointment_looks_missing(use_case: str) -> None:
    m = make_matrix()
    case = USE_CASES[use_case]
    aid = case.prepare(m)
    stranger = m.actor("patient-other")
    nowhere = AppointmentId(uuid.uuid4())
    before = m.state()

    with pytest.raises(NotFoundError) as theirs:
        case.run(m, stranger, aid)
    with pytest.raises(NotFoundError) as missing:
        case.run(m, stranger, nowhere)

    _same_shape(theirs.value, missing.value, aid, nowhere)
    _reveals_nothing(m, theirs.value)
    assert m.state() == before


def test_to_a_patient_another_patients_list_looks_missing() -> None:
    m = make_matrix()
    booked(m)
    stranger = m.actor("patient-other")
    nobody = PatientId(uuid.uuid4())

    with pytest.raises(NotFoundError) as theirs:
        m.w.cb.queries.patient_appointments(stranger, m.w.alice.id)
    with pytest.raises(NotFoundError) as missing:
        m.w.cb.queries.patient_appointments(stranger, nobody)

    _same_shape(theirs.value, missing.value, m.w.alice.id, nobody)
    assert m.w.alice.contact_ref is not None
    assert m.w.alice.contact_ref not in str(theirs.value)


def test_to_a_patient_searching_for_another_patient_looks_like_searching_for_nobody() -> None:
    m = make_matrix()
    stranger = m.actor("patient-other")

    def query(patient_id: PatientId) -> AvailabilityQuery:
        return AvailabilityQuery(
            service_ids=(m.w.svc.id,), window=Interval(DAY, DAY.add(days=1)), patient_id=patient_id
        )

    nobody = PatientId(uuid.uuid4())
    with pytest.raises(ForbiddenError) as theirs:
        m.w.cb.booking.search_availability(stranger, m.w.org.id, query(m.w.alice.id))
    with pytest.raises(ForbiddenError) as missing:
        m.w.cb.booking.search_availability(stranger, m.w.org.id, query(nobody))
    _same_shape(theirs.value, missing.value, m.w.alice.id, nobody)


@pytest.mark.parametrize("use_case", ["hold", "book"])
def test_to_a_patient_booking_for_another_patient_looks_like_booking_for_nobody(
    use_case: str,
) -> None:
    m = make_matrix()
    stranger = m.actor("patient-other")
    nobody = attrs.evolve(m.w.alice, id=PatientId(uuid.uuid4()))
    before = m.state()

    def attempt(patient: Patient) -> Exception:
        try:
            if use_case == "hold":
                m.w.cb.booking.hold(stranger, m.w.hold_command(patient, at(11)))
            else:
                m.w.cb.booking.book(stranger, m.w.command(patient, at(11)))
        except carebook.CarebookError as exc:
            return exc
        raise AssertionError("a patient booked for someone else")

    theirs, missing = attempt(m.w.alice), attempt(nobody)

    assert m.state() == before
    _same_shape(theirs, missing, m.w.alice.id, nobody.id)


@pytest.mark.parametrize("whose", ["other-organisation", "no-location"])
def test_staff_register_patients_only_in_their_own_organisation(whose: str) -> None:
    m = make_matrix()
    other = m.w.cb.admin.create_organisation(Actor.admin(), name="Southside")
    far = m.w.cb.admin.add_location(
        Actor.admin(), organisation_id=other.id, name="Far Away", timezone="Europe/London"
    )
    location_id = far.id if whose == "other-organisation" else carebook.LocationId(uuid.uuid4())
    before = m.state()
    try:
        m.w.cb.admin.register_patient(Actor.staff(location_id), organisation_id=m.w.org.id)
    except ForbiddenError:
        assert m.state() == before
        return
    raise AssertionError("staff registered a patient in an organisation they do not work for")


# --- another organisation's patient looks exactly like no patient --------------------------

PatientCase = Callable[[Matrix, Actor, PatientId], object]


def _search_for(m: Matrix, actor: Actor, patient_id: PatientId) -> object:
    query = AvailabilityQuery(
        service_ids=(m.w.svc.id,), window=Interval(DAY, DAY.add(days=1)), patient_id=patient_id
    )
    return m.w.cb.booking.search_availability(actor, m.w.org.id, query)


def _for(patient_id: PatientId, m: Matrix) -> Patient:
    return attrs.evolve(m.w.alice, id=patient_id)


# Every public use case that takes a patient id (checked below against the facade), run
# here in organisation one with the given patient id.
PATIENT_ID_USE_CASES: dict[str, PatientCase] = {
    "booking.search_availability": _search_for,
    "booking.hold": lambda m, actor, pid: m.w.cb.booking.hold(
        actor, m.w.hold_command(_for(pid, m), at(11))
    ),
    "booking.book": lambda m, actor, pid: m.w.cb.booking.book(
        actor, m.w.command(_for(pid, m), at(11))
    ),
    "sagas.request": lambda m, actor, pid: m.w.cb.sagas.request(actor, saga_command(m, pid)),
    "walkins.check_in": lambda m, actor, pid: m.w.cb.walkins.check_in(
        actor, CheckIn(location_id=m.w.loc.id, patient_id=pid)
    ),
    "queries.patient_appointments": lambda m, actor, pid: m.w.cb.queries.patient_appointments(
        actor, pid
    ),
}
FEATURES = ("booking", "lifecycle", "queries", "sagas", "walkins", "staffing", "admin", "pricing")


def _takes_a_patient_id(method: Callable[..., Any]) -> bool:
    hints = typing.get_type_hints(method)
    hints.pop("return", None)
    hints.pop("actor", None)  # the caller, not a parameter naming a patient
    for hint in hints.values():
        if hint is PatientId or (attrs.has(hint) and "patient_id" in attrs.fields_dict(hint)):
            return True
    return False


def test_the_cross_organisation_cases_cover_every_use_case_that_takes_a_patient_id() -> None:
    cb = make_matrix().w.cb
    found = {
        f"{feature}.{name}"
        for feature in FEATURES
        for name, method in inspect.getmembers(getattr(cb, feature), inspect.ismethod)
        if not name.startswith("_") and _takes_a_patient_id(method)
    }
    assert found == set(PATIENT_ID_USE_CASES)
    in_matrix = {name.removeprefix("booking.").removeprefix("queries.") for name in found}
    assert in_matrix <= set(EXPECTED)


def _cross_cells() -> list[Any]:
    return [
        pytest.param(name, actor, id=f"{name}-{actor}")
        for name in PATIENT_ID_USE_CASES
        for actor in ("staff-here", "admin", "system")
        # admin and system are of no organisation: they may list anyone's appointments
        if not (name == "queries.patient_appointments" and actor != "staff-here")
    ]


@pytest.mark.parametrize(("use_case", "actor_name"), _cross_cells())
def test_another_organisations_patient_looks_like_no_patient(
    use_case: str, actor_name: str
) -> None:
    m = make_matrix()
    booked(m)
    run = PATIENT_ID_USE_CASES[use_case]
    actor = m.actor(actor_name)
    nobody = PatientId(uuid.uuid4())
    before = m.state()

    with pytest.raises(NotFoundError) as theirs:
        run(m, actor, m.zed.id)
    with pytest.raises(NotFoundError) as missing:
        run(m, actor, nobody)

    assert m.state() == before
    _same_shape(theirs.value, missing.value, m.zed.id, nobody)
    assert theirs.value.kind == "patient"
    assert "tel:zed-far" not in str(theirs.value)
