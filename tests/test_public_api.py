"""The public API, used the way a host application uses it.

This file is also a typing test: mypy --strict checks it with the rest of tests/, and
``assert_type`` pins the types users see. A change that loosens a public type (to
``Any``, say) or renames a public name fails here.
"""

from __future__ import annotations

import importlib
import importlib.resources
import uuid
from typing import assert_type

import pendulum
import pytest

import carebook
from carebook import (
    Actor,
    ActorKind,
    AppointmentId,
    Carebook,
    CarebookConfig,
    CarebookError,
    ConfigurationError,
    ConflictError,
    Event,
    ForbiddenError,
    IdempotencyConflictError,
    Interval,
    LocationId,
    Money,
    NotFoundError,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    RuleRejectedError,
    ServiceId,
    SlotUnavailableError,
    StorageError,
    ValidationError,
    bootstrap,
)
from carebook.builtin.clocks import ManualClock
from carebook.scheduling import (
    Appointment,
    AppointmentStatus,
    AvailabilityQuery,
    AvailabilityResult,
    BookAppointment,
    BookingPolicy,
    CancelAppointment,
    HoldSlot,
    Location,
    Organisation,
    Patient,
    PatientKind,
    Practitioner,
    Rejection,
    ReservationRule,
    Resource,
    RuleContext,
    Service,
    Slot,
    TimeRange,
    WeeklyHours,
    WorkingPlan,
)

NOW = pendulum.datetime(2025, 6, 2, 13, 0, tz="UTC")  # Monday 09:00 in New York


def test_every_public_name_is_importable() -> None:
    module = importlib.import_module("carebook")
    for name in carebook.__all__:
        assert getattr(module, name) is not None, name


def test_public_names_are_listed_once_and_sorted() -> None:
    assert len(set(carebook.__all__)) == len(carebook.__all__)
    assert list(carebook.__all__) == sorted(carebook.__all__)


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from carebook import *", namespace)
    assert {n for n in namespace if n != "__builtins__"} == set(carebook.__all__)


def test_errors_share_one_root() -> None:
    for error in (
        ConfigurationError,
        ConflictError,
        ForbiddenError,
        IdempotencyConflictError,
        NotFoundError,
        RuleRejectedError,
        SlotUnavailableError,
        StorageError,
        ValidationError,
    ):
        assert issubclass(error, CarebookError)
    assert issubclass(SlotUnavailableError, ConflictError)
    assert issubclass(IdempotencyConflictError, ConflictError)


def test_the_package_ships_type_information() -> None:
    assert (importlib.resources.files("carebook") / "py.typed").is_file()


# -- a host application, typed ----------------------------------------------------------


class OneBookingPerDay:
    """A user-written reservation rule: the Protocol is satisfied structurally."""

    code = "one_booking_per_day"
    order = 950

    def check(self, ctx: RuleContext) -> Rejection | None:
        assert_type(ctx.now, pendulum.DateTime)
        assert_type(ctx.location, Location)
        assert_type(ctx.services, list[Service])
        assert_type(ctx.policy, BookingPolicy)
        assert_type(ctx.request.patient_id, PatientId)
        return None


def set_up(cb: Carebook) -> tuple[Organisation, Location, Practitioner, Service, Patient]:
    admin = Actor.admin()
    org = cb.admin.create_organisation(admin, name="Typed Clinic", min_notice=30)
    assert_type(org, Organisation)
    assert_type(org.id, OrganisationId)
    office = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="Typed Office",
        timezone="America/New_York",
        opening_hours=WeeklyHours.every_day(TimeRange.parse("08:00-18:00")),
    )
    assert_type(office, Location)
    assert_type(office.id, LocationId)
    doctor = cb.admin.add_practitioner(
        admin,
        organisation_id=org.id,
        name="Dr Typed",
        plans=[WorkingPlan(location_id=office.id, hours=WeeklyHours.every_day("09:00-17:00"))],
    )
    assert_type(doctor.id, PractitionerId)
    room = cb.admin.add_resource(admin, location_id=office.id, name="Room 1", category="room")
    assert_type(room, Resource)
    assert_type(room.id, ResourceId)
    visit = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Visit",
        duration=30,
        price=Money(4_500, "USD"),
        practitioner_ids={doctor.id},
        needs={"room"},
    )
    assert_type(visit.id, ServiceId)
    assert_type(visit.price, Money)
    patient = cb.admin.register_patient(admin, organisation_id=org.id, kind=PatientKind.NEW)
    assert_type(patient.id, PatientId)
    return org, office, doctor, visit, patient


def test_a_typed_host_application_books_holds_and_cancels() -> None:
    config = CarebookConfig.from_mapping({"publisher": "recording", "notifiers": ["recording"]})
    cb = bootstrap(config, clock=ManualClock(NOW))
    assert_type(cb, Carebook)
    org, office, doctor, visit, patient = set_up(cb)

    me = Actor.patient(patient.id)
    assert_type(me.kind, ActorKind)
    tuesday = pendulum.datetime(2025, 6, 3, tz=office.timezone)
    query = AvailabilityQuery(
        service_ids=[visit.id],
        window=Interval(tuesday, tuesday.add(days=1)),
        patient_id=patient.id,
    )
    result = cb.booking.search_availability(me, org.id, query)
    assert_type(result, AvailabilityResult)
    slots = result.first(2)
    assert_type(slots, list[Slot])
    first, second = slots
    start, end = first.in_timezone(office.timezone)
    assert_type(start, pendulum.DateTime)
    assert (start.hour, start.minute, end.minute) == (9, 0, 30)

    booked = cb.booking.book(
        me,
        BookAppointment(
            location_id=first.location_id,
            practitioner_id=first.practitioner_id,
            patient_id=patient.id,
            service_ids=[visit.id],
            start=first.start,
            idempotency_key="typed-1",
        ),
    )
    assert_type(booked, Appointment)
    assert_type(booked.id, AppointmentId)
    assert_type(booked.status, AppointmentStatus)
    assert booked.status is AppointmentStatus.PENDING
    assert booked.resource_ids == first.resource_ids

    desk = Actor.staff(office.id)
    confirmed = cb.lifecycle.confirm(desk, booked.id)
    assert confirmed.status is AppointmentStatus.BOOKED

    try:
        cb.booking.book(
            desk,
            BookAppointment(
                location_id=office.id,
                practitioner_id=doctor.id,
                patient_id=patient.id,
                service_ids=[visit.id],
                start=first.start,
                idempotency_key="typed-2",
            ),
        )
    except RuleRejectedError as refusal:
        assert_type(refusal.reason_code, str)
        assert refusal.reason_code == "practitioner_busy"
    else:
        pytest.fail("a double booking must be refused")

    hold = cb.booking.hold(
        me,
        HoldSlot(
            location_id=office.id,
            practitioner_id=doctor.id,
            patient_id=patient.id,
            service_ids=[visit.id],
            start=second.start.add(hours=1),
        ),
    )
    assert hold.status is AppointmentStatus.PROPOSED
    assert_type(hold.hold_expires_at, pendulum.DateTime | None)

    cancelled = cb.lifecycle.cancel(me, CancelAppointment(appointment_id=booked.id, reason="moved"))
    assert cancelled.status is AppointmentStatus.CANCELLED
    mine = cb.queries.patient_appointments(me, patient.id)
    assert_type(mine, list[Appointment])
    assert [a.id for a in mine] == [booked.id, hold.id]

    events = cb.events.pending()
    assert_type(events, list[Event])
    assert events == []  # inline dispatch: delivered already
    assert_type(cb.events.dispatch(), int)
    assert_type(cb.rules, tuple[ReservationRule, ...])
    cb.close()


def test_a_user_rule_satisfies_the_reservation_rule_protocol() -> None:
    rule: ReservationRule = OneBookingPerDay()
    assert isinstance(rule, ReservationRule)
    assert (rule.code, rule.order) == ("one_booking_per_day", 950)


def test_values_are_typed_and_validated_at_construction() -> None:
    price = Money(1_999, "EUR") + Money(1, "EUR")
    assert_type(price, Money)
    assert price.format() == "EUR 20.00"
    with pytest.raises(ValidationError):
        Money(19.99, "EUR")  # type: ignore[arg-type]
    span = Interval(NOW, NOW.add(minutes=30))
    assert_type(span.start, pendulum.DateTime)
    with pytest.raises(ValidationError):
        Interval(NOW.naive(), NOW.add(minutes=30))
    policy = BookingPolicy(slot_interval=20)
    assert_type(policy.slot_interval, int)
    ident = AppointmentId(uuid.uuid4())
    assert_type(ident, AppointmentId)
    assert Actor.admin().is_privileged and not Actor.patient(PatientId(uuid.uuid4())).is_privileged


# -- the public face and the feature modules ------------------------------------------------

FEATURE_MODULES = (
    "carebook.scheduling",
    "carebook.walkins",
    "carebook.pricing",
    "carebook.payments",
    "carebook.staffing",
    "carebook.notifications",
    "carebook.events",
)


def test_the_top_level_face_is_small() -> None:
    assert 25 <= len(carebook.__all__) <= 40


@pytest.mark.parametrize("name", FEATURE_MODULES)
def test_each_feature_module_lists_exactly_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    public = list(module.__all__)  # ruff (RUF022) keeps it sorted
    assert len(set(public)) == len(public)
    for attribute in public:
        assert getattr(module, attribute) is not None
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)
    assert {n for n in namespace if n != "__builtins__"} == set(public)


def test_no_feature_name_is_exported_from_two_feature_modules() -> None:
    """A name has one home; only events appear twice (carebook.events and their feature)."""
    seen: dict[str, str] = {}
    clashes = []
    for name in FEATURE_MODULES[:-1]:
        for attribute in importlib.import_module(name).__all__:
            if attribute in seen:
                clashes.append(f"{attribute}: {seen[attribute]} and {name}")
            seen[attribute] = name
    assert clashes == []


def test_a_typed_walk_in_host_needs_only_public_modules() -> None:
    from carebook import TransientStorageError
    from carebook.walkins import (
        AlreadyCheckedInError,
        CheckedIn,
        CheckIn,
        NoAvailability,
        WaitTimeChanged,
    )

    clock = ManualClock(NOW)
    cb = bootstrap(CarebookConfig(notifiers=(), publisher="recording"), clock=clock)
    _, office, doctor, visit, patient = set_up(cb)
    admin, desk = Actor.admin(), Actor.staff(office.id)
    cb.walkins.configure(admin, office.id, service_id=visit.id)
    cb.walkins.on_duty(desk, office.id, doctor.id)

    outcome = cb.walkins.check_in(desk, CheckIn(location_id=office.id, patient_id=patient.id))
    assert isinstance(outcome, CheckedIn)
    assert_type(outcome.appointment, Appointment)
    assert outcome.appointment.status is AppointmentStatus.ARRIVED
    with pytest.raises(AlreadyCheckedInError):
        cb.walkins.check_in(desk, CheckIn(location_id=office.id, patient_id=patient.id))
    waits = [e for e in cb.events.pending() if isinstance(e, WaitTimeChanged)]
    assert waits == []  # inline dispatch delivered them
    assert issubclass(TransientStorageError, StorageError)
    assert not isinstance(outcome, NoAvailability)
    cb.close()


def test_every_distribution_is_mit_licensed() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    projects = [root, *sorted(p.parent for p in (root / "adapters").glob("*/pyproject.toml"))]
    assert len(projects) >= 2
    for project in projects:
        meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        assert meta["project"]["license"] == "MIT", project
        assert (project / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
