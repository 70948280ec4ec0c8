"""Every command a client may retry checks its idempotency key by one rule, in the same words."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pendulum
import pytest

from carebook.domain.ids import LocationId, PatientId, PractitionerId, ServiceId
from carebook.domain.walkins.queue import CheckIn
from carebook.errors import ValidationError
from carebook.services.booking.commands import BookAppointment
from carebook.services.saga.request import RequestBooking

LOCATION = LocationId(uuid.uuid4())
PRACTITIONER = PractitionerId(uuid.uuid4())
PATIENT = PatientId(uuid.uuid4())
SERVICE = ServiceId(uuid.uuid4())
START = pendulum.datetime(2026, 6, 1, 10, tz="UTC")


def book(key: object) -> object:
    return BookAppointment(
        location_id=LOCATION,
        practitioner_id=PRACTITIONER,
        patient_id=PATIENT,
        service_ids=(SERVICE,),
        start=START,
        idempotency_key=key,  # type: ignore[arg-type]
    )


def request(key: object) -> object:
    return RequestBooking(
        location_id=LOCATION,
        practitioner_id=PRACTITIONER,
        patient_id=PATIENT,
        service_ids=(SERVICE,),
        start=START,
        idempotency_key=key,  # type: ignore[arg-type]
    )


def check_in(key: object) -> object:
    return CheckIn(location_id=LOCATION, patient_id=PATIENT, idempotency_key=key)  # type: ignore[arg-type]


COMMANDS: dict[str, Callable[[object], object]] = {
    "book": book,
    "request_booking": request,
    "check_in": check_in,
}


@pytest.mark.parametrize("make", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize(
    "key",
    ["", "x" * 201, 42, b"bytes", "a\x00b", "\ud800"],
    ids=["empty", "201", "int", "bytes", "nul", "lone-surrogate"],
)
def test_a_bad_idempotency_key_is_refused_with_one_message(
    make: Callable[[object], object], key: object
) -> None:
    with pytest.raises(ValidationError) as refused:
        make(key)
    assert str(refused.value) == (
        "idempotency_key must be a string of 1 to 200 characters, "
        "without NUL characters or lone surrogates"
    )


@pytest.mark.parametrize("make", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("key", ["k", "x" * 200])
def test_keys_of_one_to_two_hundred_characters_are_accepted(
    make: Callable[[object], object], key: str
) -> None:
    assert getattr(make(key), "idempotency_key") == key  # noqa: B009


def test_a_check_in_may_come_without_a_key() -> None:
    assert CheckIn(location_id=LOCATION, patient_id=PATIENT).idempotency_key is None
