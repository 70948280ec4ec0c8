"""Events, commands and domain values round-trip through JSON; bad JSON is a ValidationError."""

from __future__ import annotations

import json
import uuid
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.events import EVENT_TYPES, Event
from carebook.domain.ids import PractitionerId
from carebook.domain.instants import Interval
from carebook.domain.money import Money
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Patient,
    Practitioner,
    Resource,
    Service,
    WeeklyHours,
)
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.errors import ValidationError
from carebook.serialization import dumps, event_from_json, event_to_json, loads
from carebook.services.booking.commands import BookAppointment, CancelAppointment, HoldSlot
from carebook.testing import builders
from carebook.testing import strategies as cs

# --- events -------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_every_event_type_round_trips_through_json_with_its_type_tag(
    event_type: type[Event], data: st.DataObject
) -> None:
    event = data.draw(cs.events_of_type(event_type))
    text = event_to_json(event)
    assert json.loads(text)["type"] == event_type.__name__
    back = event_from_json(text)
    assert type(back) is event_type
    assert back == event
    assert back.occurred_at.timezone_name == "UTC"


@given(cs.events())
def test_any_event_serialises_canonically(event: Event) -> None:
    text = event_to_json(event)
    assert event_to_json(event_from_json(text)) == text


def test_events_carry_no_patient_data_fields() -> None:
    forbidden = {"name", "birth_date", "phone", "email", "notes", "note", "contact_ref"}
    for event in builders.one_event_of_each_type():
        assert not forbidden & set(json.loads(event_to_json(event)))


# --- commands -----------------------------------------------------------------------------


@given(cs.commands())
def test_commands_round_trip_through_json(
    command: HoldSlot | BookAppointment | CancelAppointment,
) -> None:
    assert loads(dumps(command), type(command)) == command


# --- domain values ------------------------------------------------------------------------

VALUES: list[tuple[type[Any], st.SearchStrategy[Any]]] = [
    (Organisation, cs.organisations()),
    (Location, cs.locations()),
    (Practitioner, cs.practitioners()),
    (Service, cs.services()),
    (Resource, cs.resources()),
    (Patient, cs.patients()),
    (Appointment, cs.appointments()),
    (BookingPolicy, cs.booking_policies()),
    (Money, cs.money()),
    (Interval, cs.intervals()),
    (WeeklyHours, cs.weekly_hours()),
]


@pytest.mark.parametrize(("cls", "values"), VALUES, ids=[cls.__name__ for cls, _ in VALUES])
@given(data=st.data())
def test_domain_values_round_trip_through_json(
    cls: type[Any], values: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    value = data.draw(values)
    assert loads(dumps(value), cls) == value


def test_dumps_writes_sets_in_a_canonical_order() -> None:
    ids = frozenset(PractitionerId(uuid.UUID(int=n)) for n in (1, 8))
    assert [str(i) for i in ids] != sorted(str(i) for i in ids), "precondition: hash order"
    service = builders.service(builders.organisation())
    raw = json.loads(dumps(attrs.evolve(service, practitioner_ids=ids)))
    assert raw["practitioner_ids"] == sorted(str(i) for i in ids)


# --- malformed input ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "{", "{'single': 'quotes'}", "[1, 2,]", "nul"])
def test_text_that_is_not_json_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError):
        loads(text, BookingPolicy)
    with pytest.raises(ValidationError):
        event_from_json(text)


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        ("[]", BookingPolicy),
        ("123", BookingPolicy),
        ('{"amount": 100}', Money),
        ('{"amount": 100, "currency": "XYZ"}', Money),
        ('{"slot_interval": 0}', BookingPolicy),
        ('{"start": "2030-01-07T10:00:00+00:00", "end": "2030-01-07T09:00:00+00:00"}', Interval),
        ('{"type": "NoSuchEvent"}', Event),
    ],
)
def test_json_of_the_wrong_shape_is_a_validation_error(text: str, cls: type[Any]) -> None:
    with pytest.raises(ValidationError):
        loads(text, cls)


def _appointment_json(**changes: Any) -> str:
    clinic = builders.small_clinic()
    raw = json.loads(dumps(clinic.appointment(pendulum.datetime(2030, 1, 8, 9))))
    raw.update(changes)
    return json.dumps(raw)


@pytest.mark.parametrize(
    "instant", ["2030-01-08T09:00:00", "2030-01-08", "tomorrow", "", 1893488400]
)
def test_a_naive_or_malformed_datetime_is_a_validation_error(instant: object) -> None:
    with pytest.raises(ValidationError):
        loads(_appointment_json(start=instant), Appointment)
    event = json.loads(event_to_json(builders.one_event_of_each_type()[0]))
    event["occurred_at"] = instant
    with pytest.raises(ValidationError):
        event_from_json(json.dumps(event))


def test_a_naive_command_start_is_a_validation_error() -> None:
    clinic = builders.small_clinic()
    command = HoldSlot(
        location_id=clinic.location.id,
        practitioner_id=clinic.practitioners[0].id,
        patient_id=clinic.patients[0].id,
        service_ids=(clinic.service.id,),
        start=pendulum.datetime(2030, 1, 8, 9),
    )
    raw = json.loads(dumps(command))
    raw["start"] = "2030-01-08T09:00:00"
    with pytest.raises(ValidationError):
        loads(json.dumps(raw), HoldSlot)


@pytest.mark.parametrize(
    "amount",
    [
        12.5,
        12.0,
        "1250",
        True,
        None,
    ],
)
def test_money_amount_that_is_not_an_integer_is_a_validation_error(amount: object) -> None:
    with pytest.raises(ValidationError):
        loads(json.dumps({"amount": amount, "currency": "EUR"}), Money)
    service = json.loads(dumps(builders.service(builders.organisation())))
    service["price"]["amount"] = amount
    with pytest.raises(ValidationError):
        loads(json.dumps(service), Service)


def test_enums_come_back_as_their_enum_type_not_plain_strings() -> None:
    from carebook.domain.scheduling.appointment import AppointmentStatus
    from carebook.domain.scheduling.calendar import ClosureKind, PatientKind, ResourceKind
    from carebook.serialization import structure

    for cls in (AppointmentStatus, ClosureKind, PatientKind, ResourceKind):
        for member in cls:
            value = structure(member.value, cls)
            assert type(value) is cls
            assert value is member
