"""The examples of issue 10, section 4 (the boundary), runnable on any storage.

Each :class:`Example` is one call a fuzzer found escaping as a raw exception, or
accepting a value that broke later calls. :func:`run_example` builds the test clinic on
the storage given (``dispatch="manual"``), makes the call, and checks that it is refused
with the error expected, whose message names the parameter or field and never quotes
the value, and that storage holds exactly what it held before
(:func:`~carebook.testing.snapshot.storage_state`). :func:`check_string_ids` books with
every id in its string form (the usual form in JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import pytest

from carebook import Actor, Interval, ValidationError
from carebook.ports import Storage
from carebook.scheduling import AvailabilityQuery, BookAppointment, WeeklyHours
from carebook.testing.snapshot import storage_state
from carebook.testing.world import DAY, World, at, make_world

__all__ = ["EXAMPLES", "Example", "check_string_ids", "run_example"]

NOT_A_UUID = "nope-not-a-uuid"
LAST_INSTANT = pendulum.datetime(9999, 12, 31, 23, 59, 59, 999999, tz="UTC")


@attrs.frozen
class Example:
    call: Callable[[World], object]
    error: type[Exception]
    names: str
    """What the message must name: the method and parameter, or the field."""
    value: str | None = None
    """The rejected value's text, which the message must not quote."""


def _book(w: World, **changes: Any) -> object:
    return w.cb.booking.book(w.staff, attrs.evolve(w.command(w.alice, at(11)), **changes))


def _query(w: World, **fields: Any) -> object:
    base: dict[str, Any] = {"service_ids": (w.svc.id,), "window": Interval(DAY, DAY.add(days=1))}
    query = AvailabilityQuery(**{**base, **fields})
    return w.cb.booking.search_availability(w.staff, w.org.id, query)


def _service(w: World, **fields: Any) -> object:
    return w.builder.service("Long", practitioners=[w.pr], **fields)


def _quota(w: World, quota: int) -> object:
    return w.cb.pricing.set_daily_quota(Actor.admin(), organisation_id=w.org.id, daily_quota=quota)


def _raw_book(w: World, **fields: Any) -> object:
    command = w.command(w.alice, at(11))
    values = {f.name: getattr(command, f.name) for f in attrs.fields(BookAppointment)}
    return w.cb.booking.book(w.staff, BookAppointment(**{**values, **fields}))


EXAMPLES: dict[str, Example] = {
    "book-actor-none": Example(
        lambda w: w.cb.booking.book(None, w.command(w.alice, at(11))),  # type: ignore[arg-type]
        TypeError,
        "book(): actor must be Actor, not NoneType",
    ),
    "actor-superuser": Example(
        lambda w: Actor("superuser"),
        ValidationError,
        "kind must be one of",
        "superuser",
    ),
    "book-command-none": Example(
        lambda w: w.cb.booking.book(w.staff, None),  # type: ignore[arg-type]
        TypeError,
        "book(): command must be BookAppointment, not NoneType",
    ),
    "query-service-ids-none": Example(
        lambda w: _query(w, service_ids=None), ValidationError, "service_ids"
    ),
    "query-window-none": Example(lambda w: _query(w, window=None), ValidationError, "window"),
    "book-start-year-9999": Example(
        lambda w: _book(w, start=LAST_INSTANT), ValidationError, "start must lie in the years"
    ),
    "key-lone-surrogate": Example(
        lambda w: _raw_book(w, idempotency_key="\ud800"), ValidationError, "idempotency_key"
    ),
    "key-nul": Example(
        lambda w: _raw_book(w, idempotency_key="k\x00ey"), ValidationError, "idempotency_key"
    ),
    "command-patient-id-not-a-uuid": Example(
        lambda w: _raw_book(w, patient_id=NOT_A_UUID), ValidationError, "patient_id", NOT_A_UUID
    ),
    "parameter-appointment-id-not-a-uuid": Example(
        lambda w: w.cb.queries.get_appointment(w.staff, NOT_A_UUID),  # type: ignore[arg-type]
        ValidationError,
        "appointment_id must be a UUID",
        NOT_A_UUID,
    ),
    "weekly-hours-none-range": Example(
        lambda w: WeeklyHours({0: [None]}),  # type: ignore[list-item]
        ValidationError,
        "time ranges",
    ),
    "add-practitioner-plans-none": Example(
        lambda w: w.cb.admin.add_practitioner(
            Actor.admin(),
            organisation_id=w.org.id,
            name="Dr None",
            plans=None,  # type: ignore[arg-type]
        ),
        TypeError,
        "add_practitioner(): plans must be",
    ),
    "register-patient-contact-ref-object": Example(
        lambda w: w.cb.admin.register_patient(
            Actor.admin(),
            organisation_id=w.org.id,
            contact_ref=object(),  # type: ignore[arg-type]
        ),
        TypeError,
        "register_patient(): contact_ref must be str or None, not object",
    ),
    "service-duration-10e18": Example(
        lambda w: _service(w, duration=10**18), ValidationError, "duration must be", "10000"
    ),
    "service-buffer-before-10e12": Example(
        lambda w: _service(w, buffer_before=10**12), ValidationError, "buffer_before", "10000"
    ),
    "daily-quota-2-31": Example(
        lambda w: _quota(w, 2**31), ValidationError, "daily_quota", str(2**31)
    ),
    "daily-quota-2-63": Example(
        lambda w: _quota(w, 2**63), ValidationError, "daily_quota", str(2**63)
    ),
}


def run_example(name: str, storage: Storage) -> None:
    """Run :data:`EXAMPLES` ``[name]`` on a fresh clinic on ``storage``."""
    example = EXAMPLES[name]
    w = make_world(storage=storage, dispatch="manual")
    try:
        before = storage_state(w.cb.storage, w.org.id, [p.id for p in w.patients])
        with pytest.raises(example.error) as refused:
            example.call(w)
        message = str(refused.value)
        assert example.names in message, message
        if example.value is not None:
            assert example.value not in message
        assert storage_state(w.cb.storage, w.org.id, [p.id for p in w.patients]) == before
        assert w.book(w.bob, at(11)).start == at(11)  # the clinic still books
    finally:
        w.cb.close()


def check_string_ids(storage: Storage) -> None:
    """Every id of a booking given as a string books as the UUIDs would, and reads back."""
    w = make_world(storage=storage, dispatch="manual")
    try:
        command = w.command(w.alice, at(11))
        booked = w.cb.booking.book(
            w.staff,
            BookAppointment(
                location_id=str(command.location_id),
                practitioner_id=str(command.practitioner_id),
                patient_id=str(command.patient_id),
                service_ids=[str(s) for s in command.service_ids],
                start=command.start,
                idempotency_key="from-json",
            ),
        )
        assert booked.patient_id == w.alice.id and booked.service_ids == command.service_ids
        assert w.cb.queries.get_appointment(w.staff, str(booked.id)) == booked  # type: ignore[arg-type]
        listed = w.cb.queries.patient_appointments(w.staff, str(w.alice.id))  # type: ignore[arg-type]
        assert listed == [booked]
    finally:
        w.cb.close()
