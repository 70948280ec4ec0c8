"""Walk-in values and decisions: settings, the wait limit, opening, the stand-in service."""

from __future__ import annotations

import uuid

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.ids import AppointmentId, LocationId, ServiceId
from carebook.domain.instants import Interval, to_epoch
from carebook.domain.scheduling.calendar import Closure, ClosureKind, PatientKind
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.domain.walkins.queue import (
    CheckIn,
    CheckInChannel,
    NoAvailability,
    QueueStatus,
    WalkInSettings,
    decide,
    is_open,
    search_calendar,
    walk_in_service,
)
from carebook.errors import ValidationError
from carebook.serialization import dumps, loads
from carebook.testing import builders as b

NOW = to_epoch(pendulum.datetime(2025, 3, 3, 10, 0, 0, tz="UTC"))


def settings(**changes: object) -> WalkInSettings:
    return WalkInSettings(
        location_id=LocationId(uuid.uuid4()),
        organisation_id=b.organisation().id,
        service_id=ServiceId(uuid.uuid4()),
        **changes,  # type: ignore[arg-type]
    )


# -- settings ---------------------------------------------------------------------------


def test_default_settings_are_the_clinics_numbers() -> None:
    value = settings()
    assert (value.new_patient_slots, value.returning_patient_slots) == (2, 1)
    assert value.wait_limit == 45
    assert value.slots_for(PatientKind.NEW) == 2
    assert value.slots_for(PatientKind.RETURNING) == 1


def test_settings_change_the_slots_per_kind() -> None:
    value = settings(new_patient_slots=3, returning_patient_slots=2)
    assert value.slots_for(PatientKind.NEW) == 3
    assert value.slots_for(PatientKind.RETURNING) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"new_patient_slots": 0},
        {"returning_patient_slots": 17},
        {"wait_limit": -1},
        {"wait_limit": 45.0},
        {"no_show_grace": True},
        {"grid_minutes": 0},
        {"overrun_minutes": "5"},
    ],
)
def test_bad_settings_are_validation_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(**bad)


def test_settings_round_trip_through_json() -> None:
    value = settings(wait_limit=30, grid_minutes=10)
    assert loads(dumps(value), WalkInSettings) == value


# -- the wait limit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wait", "reserved"),
    [(0, True), (44 * 60 + 59, True), (45 * 60, True), (45 * 60 + 1, False), (3600, False)],
)
def test_the_wait_limit_is_exact_to_the_second(wait: int, reserved: bool) -> None:
    reason, found = decide(NOW, NOW + wait, 45)
    assert found == wait
    assert (reason is None) is reserved
    if not reserved:
        assert reason == "wait_limit_exceeded"


def test_nobody_to_take_the_patient_has_no_wait() -> None:
    assert decide(NOW, None, 45) == ("no_practitioner_available", None)


@given(st.integers(-3600, 24 * 3600), st.integers(0, 1440))
def test_decide_reserves_exactly_when_the_wait_is_within_the_limit(offset: int, limit: int) -> None:
    reason, wait = decide(NOW, NOW + offset, limit)
    assert wait == max(0, offset)
    assert (reason is None) == (max(0, offset) <= limit * 60)


def test_no_availability_rounds_its_wait_up_to_minutes() -> None:
    refused = NoAvailability(
        location_id=LocationId(uuid.uuid4()),
        reason_code="wait_limit_exceeded",
        wait_seconds=45 * 60 + 1,
        wait_limit=45,
    )
    assert refused.wait_minutes == 46 and refused.reserved is False


# -- opening ----------------------------------------------------------------------------


def test_a_location_is_open_inside_its_hours_and_outside_closures() -> None:
    org = b.organisation()
    loc = b.location(org, hours=("08:00-18:00",), timezone="Europe/London")
    day = pendulum.datetime(2025, 3, 3, tz="Europe/London")
    assert is_open(loc, to_epoch(day.add(hours=8)))
    assert is_open(loc, to_epoch(day.add(hours=17, minutes=59)))
    assert not is_open(loc, to_epoch(day.add(hours=18)))
    assert not is_open(loc, to_epoch(day.add(hours=7, minutes=59)))
    closed = attrs.evolve(
        loc,
        closures=[
            Closure(
                interval=Interval(day.add(hours=12), day.add(hours=13)),
                kind=ClosureKind.EMERGENCY,
            )
        ],
    )
    assert not is_open(closed, to_epoch(day.add(hours=12, minutes=30)))
    assert is_open(closed, to_epoch(day.add(hours=13)))


# -- the stand-in service and the search calendar ----------------------------------------


def test_the_stand_in_service_is_n_slots_long_and_offered_by_the_same_people() -> None:
    clinic = b.small_clinic()
    service = attrs.evolve(clinic.service, duration=15, buffer_after=5)
    assert walk_in_service(service, 1) is service
    double = walk_in_service(service, 2)
    assert double.duration == 30 and double.buffer_after == 5
    assert double.practitioner_ids == service.practitioner_ids
    assert double.id != service.id
    assert walk_in_service(service, 2).id == double.id  # stable


def test_the_search_calendar_drops_minimum_notice_and_uses_the_walk_in_grid() -> None:
    clinic = b.small_clinic()
    calendar = ClinicCalendar.build(
        attrs.evolve(clinic.organisation, policy=BookingPolicy(min_notice=120, slot_interval=30)),
        [clinic.location],
        clinic.practitioners,
        [clinic.service],
    )
    value = WalkInSettings(
        location_id=clinic.location.id,
        organisation_id=clinic.organisation.id,
        service_id=clinic.service.id,
        grid_minutes=5,
    )
    stand_in = walk_in_service(clinic.service, 2)
    derived = search_calendar(calendar, value, stand_in)
    policy = derived.policy_for(clinic.location.id)
    assert (policy.min_notice, policy.slot_interval) == (0, 5)
    assert derived.service(stand_in.id) == stand_in
    assert calendar.policy_for(clinic.location.id).min_notice == 120  # unchanged
    assert stand_in.id not in calendar.services


# -- commands and entries ---------------------------------------------------------------


def test_a_check_in_command_validates_its_channel_and_key() -> None:
    loc, patient = LocationId(uuid.uuid4()), b.patient(b.organisation())
    command = CheckIn(location_id=loc, patient_id=patient.id, channel="app")
    assert command.channel is CheckInChannel.APP
    assert loads(dumps(command), CheckIn) == command
    with pytest.raises(ValidationError):
        CheckIn(location_id=loc, patient_id=patient.id, channel="phone")
    with pytest.raises(ValidationError):
        CheckIn(location_id=loc, patient_id=patient.id, idempotency_key="")
    booked = CheckIn(
        location_id=loc, patient_id=patient.id, appointment_id=AppointmentId(uuid.uuid4())
    )
    assert loads(dumps(booked), CheckIn) == booked


def test_an_entry_moves_through_its_statuses_one_version_at_a_time() -> None:
    clinic = b.small_clinic()
    appointment = clinic.appointment(pendulum.datetime(2025, 3, 3, 10, tz="UTC"))
    from carebook.testing.contracts.storage.walkins import entry_for

    waiting = entry_for(appointment)
    assert waiting.active and waiting.reserved_seconds == 30 * 60
    started = waiting.moved(QueueStatus.IN_SESSION, appointment.start)
    assert started.started_at == appointment.start and started.version == 2 and started.active
    done = started.moved(QueueStatus.DONE, appointment.end)
    assert done.ended_at == appointment.end and done.version == 3 and not done.active
    with pytest.raises(ValidationError):
        attrs.evolve(waiting, status="lost")
