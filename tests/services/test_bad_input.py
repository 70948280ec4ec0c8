"""Bad input: every malformed or unknown thing gives a typed CarebookError with a clear
message, changes nothing, and never echoes patient contact data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest

import carebook
from carebook import (
    Actor,
    AppointmentId,
    CarebookConfig,
    CarebookError,
    ConfigurationError,
    Interval,
    LocationId,
    Money,
    NotFoundError,
    OrganisationId,
    PatientId,
    PractitionerId,
    RuleRejectedError,
    ServiceId,
    ValidationError,
)
from carebook.builtin.clocks import ManualClock
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.scheduling import (
    AvailabilityQuery,
    BookAppointment,
    BookingPolicy,
    CancelAppointment,
    Closure,
    HoldSlot,
    Location,
    Patient,
    Service,
    WeeklyHours,
    WorkingPlan,
)
from carebook.testing.world import DAY, T0, World, at, make_world

PLANTED = "tel:+44 7700 900123 alice.smith@example.org"
"""A contact reference that must never appear in an error message."""

NAIVE = dt.datetime(2025, 3, 4, 11, 0)
UNKNOWN = uuid.UUID("00000000-0000-4000-8000-000000000bad")


def world_with_history() -> World:
    """Alice (with a planted contact ref) has one booked appointment; dispatch is manual,
    so every event of the set-up is still visible in the outbox."""
    w = make_world(dispatch="manual")
    alice = w.new_patient(contact_ref=PLANTED)
    w.patients[:] = [alice, w.patients[1]]
    w.book(w.alice, at(10), actor=w.staff)
    annex = w.cb.admin.add_location(
        Actor.admin(), organisation_id=w.org.id, name="Annex", timezone="Europe/London"
    )
    w.cb.admin.add_service(
        Actor.admin(),
        organisation_id=w.org.id,
        name="Annex only",
        duration=30,
        price=Money(1000, "GBP"),
        practitioner_ids={w.pr.id},
        location_ids={annex.id},
    )
    return w


def state(w: World) -> tuple[Any, ...]:
    with w.cb.storage.unit_of_work() as uow:
        calendar: ClinicCalendar | None = uow.calendar.load(w.org.id)
        patients = [uow.patients.get(p.id) for p in w.patients]
    return (*w.snapshot(), calendar, patients)


def _messages(error: BaseException) -> str:
    """The message of ``error`` and of every error chained to it."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 10:
        parts.append(f"{seen} {seen.args!r}")
        seen = seen.__cause__ or seen.__context__
    return " | ".join(parts)


@attrs.frozen
class Bad:
    call: Callable[[World], object]
    error: type[CarebookError]
    message: str
    """A regular expression the message must match: it says what was wrong."""
    reason_code: str | None = None


def service(w: World, **fields: Any) -> object:
    base: dict[str, Any] = {
        "name": "Massage",
        "duration": 30,
        "price": Money(4000, "GBP"),
        "practitioner_ids": {w.pr.id},
    }
    return w.cb.admin.add_service(Actor.admin(), organisation_id=w.org.id, **{**base, **fields})


def book(w: World, **changes: Any) -> object:
    command = attrs.evolve(w.command(w.alice, at(11)), **changes)
    return w.cb.booking.book(Actor.admin(), command)


def search(w: World, organisation_id: OrganisationId | None = None, **fields: Any) -> object:
    base: dict[str, Any] = {
        "service_ids": (w.svc.id,),
        "window": Interval(DAY, DAY.add(days=1)),
    }
    query = AvailabilityQuery(**{**base, **fields})
    return w.cb.booking.search_availability(Actor.system(), organisation_id or w.org.id, query)


def raw_book(w: World, **fields: Any) -> object:
    base: dict[str, Any] = {
        "location_id": w.loc.id,
        "practitioner_id": w.pr.id,
        "patient_id": w.alice.id,
        "service_ids": (w.svc.id,),
        "start": at(11),
        "idempotency_key": "k-raw",
    }
    return w.cb.booking.book(w.staff, BookAppointment(**{**base, **fields}))


def annex_only_service(w: World) -> ServiceId:
    """The service set up in :func:`world_with_history` that only the annex offers."""
    with w.cb.storage.unit_of_work() as uow:
        calendar = uow.calendar.load(w.org.id)
    assert calendar is not None
    (found,) = [s.id for s in calendar.services.values() if s.name == "Annex only"]
    return found


CAREBOOK_CASES: dict[str, Bad] = {
    # -- naive datetimes and empty intervals, built inside the call --------------------
    "book-naive-start": Bad(lambda w: raw_book(w, start=NAIVE), ValidationError, "aware"),
    "book-pendulum-naive-start": Bad(
        lambda w: raw_book(w, start=pendulum.naive(2025, 3, 4, 11)), ValidationError, "aware"
    ),
    "book-string-start": Bad(
        lambda w: raw_book(w, start="2025-03-04T11:00:00Z"), ValidationError, "datetime"
    ),
    "hold-naive-start": Bad(
        lambda w: w.cb.booking.hold(
            w.staff,
            HoldSlot(
                location_id=w.loc.id,
                practitioner_id=w.pr.id,
                patient_id=w.alice.id,
                service_ids=(w.svc.id,),
                start=NAIVE,
            ),
        ),
        ValidationError,
        "aware",
    ),
    "search-naive-window": Bad(
        lambda w: search(w, window=Interval(NAIVE, at(18))), ValidationError, "aware"
    ),
    "closure-end-before-start": Bad(
        lambda w: w.cb.admin.add_closure(
            Actor.admin(), w.loc.id, Closure(interval=Interval(at(13), at(12)))
        ),
        ValidationError,
        "end must be after",
    ),
    "time-off-empty": Bad(
        lambda w: w.cb.admin.add_time_off(Actor.admin(), w.pr.id, Interval(at(13), at(13))),
        ValidationError,
        "end must be after",
    ),
    "search-window-too-long": Bad(
        lambda w: search(w, window=Interval(DAY, DAY.add(days=63))), ValidationError, "62 days"
    ),
    # -- durations, money, zones, policy -----------------------------------------------
    "service-zero-duration": Bad(lambda w: service(w, duration=0), ValidationError, "duration"),
    "service-negative-duration": Bad(
        lambda w: service(w, duration=-30), ValidationError, "duration"
    ),
    "service-float-duration": Bad(lambda w: service(w, duration=30.0), ValidationError, "duration"),
    "service-bool-duration": Bad(lambda w: service(w, duration=True), ValidationError, "duration"),
    "service-negative-buffer": Bad(
        lambda w: service(w, buffer_after=-5), ValidationError, "buffer_after"
    ),
    "service-float-money": Bad(
        lambda w: service(w, price=Money(12.5, "USD")),  # type: ignore[arg-type]
        ValidationError,
        "integer minor units",
    ),
    "service-unknown-currency": Bad(
        lambda w: service(w, price=Money(5000, "XYZ")),
        ValidationError,
        "currency must be a known ISO 4217",
    ),
    "location-unknown-zone": Bad(
        lambda w: w.cb.admin.add_location(
            Actor.admin(), organisation_id=w.org.id, name="Base", timezone="Mars/Olympus"
        ),
        ValidationError,
        "timezone must be an IANA time zone name",
    ),
    "location-zone-change-unknown": Bad(
        lambda w: w.cb.admin.update_location(Actor.admin(), w.loc.id, timezone="Mars/Olympus"),
        ValidationError,
        "timezone must be an IANA time zone name",
    ),
    "patient-unknown-zone": Bad(
        lambda w: w.cb.admin.register_patient(
            Actor.admin(), organisation_id=w.org.id, contact_ref=PLANTED, timezone="Mars/Olympus"
        ),
        ValidationError,
        "timezone must be an IANA time zone name",
    ),
    "policy-negative-minutes": Bad(
        lambda w: w.cb.admin.create_organisation(Actor.admin(), name="Neg", min_notice=-5),
        ValidationError,
        "min_notice",
    ),
    "policy-bool-minutes": Bad(
        lambda w: w.cb.admin.create_organisation(Actor.admin(), name="Bool", slot_interval=True),
        ValidationError,
        "slot_interval",
    ),
    "location-id-change": Bad(
        lambda w: w.cb.admin.update_location(Actor.admin(), w.loc.id, id=LocationId(UNKNOWN)),
        ValidationError,
        "cannot change",
    ),
    # -- unknown ids ----------------------------------------------------------------------
    "book-unknown-patient": Bad(
        lambda w: book(w, patient_id=PatientId(UNKNOWN)), NotFoundError, "patient .* not found"
    ),
    "book-unknown-practitioner": Bad(
        lambda w: book(w, practitioner_id=PractitionerId(UNKNOWN)),
        NotFoundError,
        "practitioner .* not found",
    ),
    "book-unknown-service": Bad(
        lambda w: book(w, service_ids=(w.svc.id, ServiceId(UNKNOWN))),
        NotFoundError,
        "service .* not found",
    ),
    "book-unknown-location": Bad(
        lambda w: book(w, location_id=LocationId(UNKNOWN)), NotFoundError, "location .* not found"
    ),
    "book-unknown-hold": Bad(
        lambda w: book(w, hold_id=AppointmentId(UNKNOWN)),
        NotFoundError,
        "appointment .* not found",
    ),
    "get-unknown-appointment": Bad(
        lambda w: w.cb.queries.get_appointment(Actor.system(), AppointmentId(UNKNOWN)),
        NotFoundError,
        "appointment .* not found",
    ),
    "confirm-unknown-appointment": Bad(
        lambda w: w.cb.lifecycle.confirm(w.staff, AppointmentId(UNKNOWN)),
        NotFoundError,
        "appointment .* not found",
    ),
    "cancel-unknown-appointment": Bad(
        lambda w: w.cb.lifecycle.cancel(
            w.staff, CancelAppointment(appointment_id=AppointmentId(UNKNOWN))
        ),
        NotFoundError,
        "appointment .* not found",
    ),
    "list-unknown-patient": Bad(
        lambda w: w.cb.queries.patient_appointments(w.staff, PatientId(UNKNOWN)),
        NotFoundError,
        "patient .* not found",
    ),
    "search-unknown-organisation": Bad(
        lambda w: search(w, organisation_id=OrganisationId(UNKNOWN)),
        NotFoundError,
        "organisation .* not found",
    ),
    "search-unknown-service": Bad(
        lambda w: search(w, service_ids=(ServiceId(UNKNOWN),)),
        NotFoundError,
        "service .* not found",
    ),
    "search-unknown-practitioner": Bad(
        lambda w: search(w, practitioner_ids={PractitionerId(UNKNOWN)}),
        NotFoundError,
        "practitioner .* not found",
    ),
    "search-unknown-location": Bad(
        lambda w: search(w, location_ids={LocationId(UNKNOWN)}),
        NotFoundError,
        "location .* not found",
    ),
    "location-unknown-organisation": Bad(
        lambda w: w.cb.admin.add_location(
            Actor.admin(),
            organisation_id=OrganisationId(UNKNOWN),
            name="Lost",
            timezone="Europe/London",
        ),
        NotFoundError,
        "organisation .* not found",
    ),
    "resource-unknown-location": Bad(
        lambda w: w.cb.admin.add_resource(
            Actor.admin(), location_id=LocationId(UNKNOWN), name="Room", category="room"
        ),
        NotFoundError,
        "location .* not found",
    ),
    "practitioner-plan-unknown-location": Bad(
        lambda w: w.cb.admin.add_practitioner(
            Actor.admin(),
            organisation_id=w.org.id,
            name="Dr Lost",
            plans=[WorkingPlan(location_id=LocationId(UNKNOWN), hours=WeeklyHours())],
        ),
        NotFoundError,
        "location .* not found",
    ),
    "service-unknown-practitioner": Bad(
        lambda w: service(w, practitioner_ids={PractitionerId(UNKNOWN)}),
        NotFoundError,
        "practitioner .* not found",
    ),
    "register-unknown-organisation": Bad(
        lambda w: w.cb.admin.register_patient(
            Actor.admin(), organisation_id=OrganisationId(UNKNOWN), contact_ref=PLANTED
        ),
        NotFoundError,
        "organisation .* not found",
    ),
    # -- slots the availability search does not offer ----------------------------------
    "book-off-grid": Bad(
        lambda w: book(w, start=at(11, 7)),
        RuleRejectedError,
        "slot_not_offered",
        "slot_not_offered",
    ),
    "book-off-grid-by-seconds": Bad(
        lambda w: book(w, start=at(11).add(seconds=30)),
        RuleRejectedError,
        "slot_not_offered",
        "slot_not_offered",
    ),
    "book-in-the-past": Bad(
        lambda w: book(w, start=T0.subtract(hours=1)), RuleRejectedError, "past", "in_past"
    ),
    "book-without-notice": Bad(
        lambda w: book(w, start=T0.add(minutes=45)),
        RuleRejectedError,
        "60 minutes",
        "minimum_notice",
    ),
    "book-beyond-horizon": Bad(
        lambda w: book(w, start=at(11).add(days=120)),
        RuleRejectedError,
        "90 days",
        "beyond_horizon",
    ),
    "book-before-opening": Bad(
        lambda w: book(w, start=at(7)), RuleRejectedError, "not open", "location_closed"
    ),
    "book-before-the-practitioner-starts": Bad(
        lambda w: book(w, start=at(8, 30)),
        RuleRejectedError,
        "not working",
        "practitioner_unavailable",
    ),
    "book-service-elsewhere": Bad(
        lambda w: book(w, service_ids=(annex_only_service(w),)),
        RuleRejectedError,
        "not offered",
        "service_not_offered",
    ),
    # -- empty or repeated service lists, keys, reasons ----------------------------------
    "book-no-services": Bad(lambda w: raw_book(w, service_ids=()), ValidationError, "at least one"),
    "book-service-twice": Bad(
        lambda w: raw_book(w, service_ids=(w.svc.id, w.svc.id)), ValidationError, "twice"
    ),
    "book-services-as-string": Bad(
        lambda w: raw_book(w, service_ids=str(w.svc.id)), ValidationError, "sequence"
    ),
    "search-no-services": Bad(lambda w: search(w, service_ids=[]), ValidationError, "at least one"),
    "book-empty-key": Bad(lambda w: raw_book(w, idempotency_key=""), ValidationError, "key"),
    "cancel-empty-reason": Bad(
        lambda w: w.cb.lifecycle.cancel(
            w.staff, CancelAppointment(appointment_id=w.appointments()[0].id, reason=" ")
        ),
        ValidationError,
        "reason",
    ),
}


@pytest.mark.parametrize("name", sorted(CAREBOOK_CASES))
def test_bad_input_through_a_carebook_is_refused_and_changes_nothing(name: str) -> None:
    case = CAREBOOK_CASES[name]
    w = world_with_history()
    before = state(w)

    with pytest.raises(CarebookError) as caught:
        case.call(w)

    error = caught.value
    assert isinstance(error, case.error), f"{type(error).__name__}: {error}"
    assert error.__class__.__module__ == "carebook.errors"
    assert str(error).strip()
    assert caught.match(case.message)
    if case.reason_code is not None:
        assert isinstance(error, RuleRejectedError)
        assert error.reason_code == case.reason_code
    assert PLANTED not in _messages(error)
    assert state(w) == before


def test_after_every_refusal_the_clinic_still_books() -> None:
    w = world_with_history()
    for case in CAREBOOK_CASES.values():
        with pytest.raises(CarebookError):
            case.call(w)
    assert w.book(w.bob, at(11)).start == at(11)


# --- bad values built without a Carebook ---------------------------------------------------

DOMAIN_CASES: dict[str, tuple[Callable[[], object], str]] = {
    "interval-naive-start": (lambda: Interval(NAIVE, at(12)), "aware"),
    "interval-naive-end": (lambda: Interval(at(10), NAIVE), "aware"),
    "interval-string": (lambda: Interval("2025-03-04T10:00Z", at(12)), "datetime"),
    "interval-end-equals-start": (lambda: Interval(at(10), at(10)), "end must be after"),
    "interval-end-before-start": (lambda: Interval(at(10), at(9)), "end must be after"),
    "clock-naive-start": (lambda: ManualClock(NAIVE), "aware"),
    "clock-naive-set": (lambda: ManualClock(T0).set(NAIVE), "aware"),
    "clock-backwards-set": (lambda: ManualClock(T0).set(T0.subtract(seconds=1)), "forward"),
    "clock-backwards-advance": (lambda: ManualClock(T0).advance(minutes=-1), "forward"),
    "book-command-naive": (
        lambda: BookAppointment(
            location_id=LocationId(UNKNOWN),
            practitioner_id=PractitionerId(UNKNOWN),
            patient_id=PatientId(UNKNOWN),
            service_ids=(ServiceId(UNKNOWN),),
            start=NAIVE,
            idempotency_key="k",
        ),
        "aware",
    ),
    "book-command-no-services": (
        lambda: BookAppointment(
            location_id=LocationId(UNKNOWN),
            practitioner_id=PractitionerId(UNKNOWN),
            patient_id=PatientId(UNKNOWN),
            service_ids=[],
            start=at(10),
            idempotency_key="k",
        ),
        "at least one",
    ),
    "query-no-services": (
        lambda: AvailabilityQuery(service_ids=(), window=Interval(at(9), at(10))),
        "at least one",
    ),
    "money-float": (lambda: Money(12.5, "USD"), "integer minor units"),  # type: ignore[arg-type]
    "money-decimal": (lambda: Money(Decimal("12.50"), "USD"), "integer"),  # type: ignore[arg-type]
    "money-bool": (lambda: Money(True, "USD"), "integer"),
    "money-unknown-currency": (lambda: Money(1250, "XYZ"), "currency must be a known ISO 4217"),
    "money-lowercase-currency": (lambda: Money(1250, "usd"), "currency must be a known ISO 4217"),
    "location-unknown-zone": (
        lambda: Location(
            id=LocationId(UNKNOWN),
            organisation_id=OrganisationId(UNKNOWN),
            name="Base",
            timezone="Mars/Olympus",
        ),
        "timezone must be an IANA time zone name",
    ),
    "location-fixed-offset": (
        lambda: Location(
            id=LocationId(UNKNOWN),
            organisation_id=OrganisationId(UNKNOWN),
            name="Base",
            timezone="+02:00",
        ),
        "time zone",
    ),
    "patient-unknown-zone": (
        lambda: Patient(
            id=PatientId(UNKNOWN),
            organisation_id=OrganisationId(UNKNOWN),
            contact_ref=PLANTED,
            timezone="Mars/Olympus",
        ),
        "time zone",
    ),
    "policy-zero-slot-interval": (lambda: BookingPolicy(slot_interval=0), "slot_interval"),
    "config-bad-dispatch": (lambda: CarebookConfig(dispatch="sometimes"), "dispatch"),
    "config-unknown-storage": (
        lambda: carebook.bootstrap(CarebookConfig(storage="floppy")),
        "no storage adapter named 'floppy'; installed: .*memory",
    ),
    "config-unknown-key": (
        lambda: CarebookConfig.from_mapping({"storage": "memory", "colour": "blue"}),
        "unknown configuration keys",
    ),
}


@pytest.mark.parametrize("name", sorted(DOMAIN_CASES))
def test_bad_values_are_refused_with_a_typed_error(name: str) -> None:
    call, message = DOMAIN_CASES[name]
    with pytest.raises(CarebookError, match=message) as caught:
        call()
    expected = ConfigurationError if name.startswith("config-") else ValidationError
    assert isinstance(caught.value, expected)
    assert PLANTED not in _messages(caught.value)


# --- gaps in validation (bugs, reported) -----------------------------------------------------


def test_a_service_price_must_be_money() -> None:
    w = world_with_history()
    before = state(w)
    with pytest.raises(ValidationError, match="price"):
        service(w, price=12.5)
    assert state(w) == before


def test_a_service_needs_string_is_not_split_into_characters() -> None:
    w = world_with_history()
    try:
        created = service(w, needs="laser-room")
    except ValidationError:
        return  # refusing a bare string is fine too
    assert isinstance(created, Service)
    assert created.needs == frozenset({"laser-room"})
