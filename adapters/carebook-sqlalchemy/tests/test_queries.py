"""How many SQL statements the use cases cost: never one per slot, practitioner or row.

Statements are counted with a SQLAlchemy ``before_cursor_execute`` listener on the
storage's engine. Measured (SQLite / PostgreSQL):

- ``search_availability``: for 5 and for 50 practitioners alike, exactly one busy-time
  statement over ``appointments``/``appointment_resources`` (a UNION ALL with a branch per
  kind of owner) plus the calendar: five reads the first time (the organisation with its
  ``calendar_version``, locations, practitioners, services, resources), one (the version)
  while the process has that version decoded; plus ``BEGIN`` on SQLite. In all: 7 / 6
  statements for a first search, 3 / 2 for a repeated one.
- ``book`` (calendar cached by a search just before): 6 / 5 statements, the same for a
  history of 10 or of 300 appointments: BEGIN IMMEDIATE (SQLite), the idempotency-key
  lookup, the patient joined with its organisation's calendar version, the busy time for
  the rules, the appointment and the outbox inserts. The release of expired holds and
  (on SQLite) a re-check of the busy time are sent only when the busy read of the same
  transaction did not vouch for the span (it saw an expired hold, or did not cover every
  owner). The test holds the count to at most 6 and the same for both histories, and
  prints it (``-s``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pendulum
import pytest
from sqlalchemy import Engine, event, make_url

import carebook
from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    ManualClock,
    Money,
)
from carebook.scheduling import AvailabilityQuery, BookAppointment, Slot
from carebook.testing.scenarios import AvailabilityScenario, availability_scenario
from carebook_sqlalchemy import SqlStorage

NOW = pendulum.datetime(2026, 5, 31, 12, 0, tz="UTC")
"""The day before the scenario's searched week (it starts 2026-06-01)."""

BUSY_TABLES = re.compile(r"\b(appointments|appointment_resources)\b", re.IGNORECASE)
CALENDAR_TABLES = ("organisations", "locations", "practitioners", "services", "resources")
MAX_BOOKING_STATEMENTS = 6
"""A booking's statements, whatever the history (measured: see the module doc)."""


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent on ``engine`` inside the block, in order."""
    seen: list[str] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def engine_of(cb: Carebook) -> Engine:
    assert isinstance(cb.storage, SqlStorage)
    return cb.storage.engine


def open_carebook(url: str) -> Carebook:
    return carebook.bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": url, "migrate": True},
            notifiers=(),
            dispatch="manual",
        ),
        clock=ManualClock(NOW),
    )


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def busy_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if BUSY_TABLES.search(s)]


def calendar_statements(seen: list[str]) -> list[str]:
    return [
        s
        for s in seen
        if s.startswith("SELECT") and re.search(rf"\bFROM ({'|'.join(CALENDAR_TABLES)})\b", s)
    ]


@pytest.fixture
def scenarios(db_url: str) -> Iterator[tuple[Carebook, dict[int, AvailabilityScenario]]]:
    """One database holding the availability scenario twice, as two organisations: with 5
    and with 50 practitioners (few appointments: the count, not the data, is measured)."""
    cb = open_carebook(db_url)
    try:
        built = {
            size: availability_scenario(
                cb, practitioners=size, locations=5, appointments=60, window_share=0.5, seed=size
            )
            for size in (5, 50)
        }
        yield cb, built
    finally:
        cb.close()


def room_service(cb: Carebook, built: AvailabilityScenario) -> AvailabilityQuery:
    """Give every location a room and add a service that needs one; its 7-day query."""
    admin = Actor.admin()
    calendar = None
    with cb.storage.unit_of_work() as uow:
        calendar = uow.calendar.load(built.organisation_id)
    assert calendar is not None
    for location_id in calendar.locations:
        cb.admin.add_resource(admin, location_id=location_id, name="Room 1", category="room")
    procedure = cb.admin.add_service(
        admin,
        organisation_id=built.organisation_id,
        name="Procedure",
        duration=30,
        price=Money(9000, "USD"),
        practitioner_ids=set(built.practitioner_ids),
        needs={"room"},
    )
    return AvailabilityQuery(service_ids=(procedure.id,), window=built.query.window)


def expected_search_statements(url: str, *, cached: bool, patient: bool = False) -> int:
    """The calendar, the busy query, BEGIN on SQLite, and (``patient``: the query names a
    patient) the read that checks the patient is of the organisation."""
    calendar = 1 if cached else len(CALENDAR_TABLES)
    return calendar + 1 + (1 if is_sqlite(url) else 0) + (1 if patient else 0)


# -- availability search ----------------------------------------------------------------------


def test_search_costs_one_busy_query_and_a_constant_calendar_for_5_or_50_practitioners(
    scenarios: tuple[Carebook, dict[int, AvailabilityScenario]], db_url: str
) -> None:
    cb, built = scenarios
    sent: dict[tuple[int, bool], list[str]] = {}
    for size, scenario in built.items():
        for cached in (False, True):  # the first search decodes the calendar, the next reuses it
            with statements(engine_of(cb)) as seen:
                result = cb.booking.search_availability(
                    Actor.system(), scenario.organisation_id, scenario.query
                )
            assert len(result) > 0
            assert len(busy_statements(seen)) == 1, seen
            assert len(calendar_statements(seen)) == (1 if cached else len(CALENDAR_TABLES)), seen
            assert len(seen) == expected_search_statements(db_url, cached=cached), seen
            sent[size, cached] = seen
    for cached in (False, True):
        assert [_shape(s) for s in sent[5, cached]] == [_shape(s) for s in sent[50, cached]]


def test_a_calendar_change_is_seen_by_the_next_search(
    scenarios: tuple[Carebook, dict[int, AvailabilityScenario]], db_url: str
) -> None:
    cb, built = scenarios
    scenario = built[5]
    before = cb.booking.search_availability(
        Actor.system(), scenario.organisation_id, scenario.query
    )
    query = room_service(cb, scenario)  # adds rooms and a service: the calendar changes

    with statements(engine_of(cb)) as seen:
        after = cb.booking.search_availability(Actor.system(), scenario.organisation_id, query)

    assert len(after) > 0 and len(before) > 0
    assert len(calendar_statements(seen)) == len(CALENDAR_TABLES), "reloaded, not reused"


def test_search_with_rooms_and_a_patient_still_costs_one_busy_query(
    scenarios: tuple[Carebook, dict[int, AvailabilityScenario]], db_url: str
) -> None:
    cb, built = scenarios
    sent: dict[int, list[str]] = {}
    for size, scenario in built.items():
        query = room_service(cb, scenario)
        patient = cb.admin.register_patient(Actor.admin(), organisation_id=scenario.organisation_id)
        with statements(engine_of(cb)) as seen:
            result = cb.booking.search_availability(
                Actor.patient(patient.id), scenario.organisation_id, query
            )
        assert len(result) > 0
        (busy,) = busy_statements(seen)
        # One statement, three branches: the practitioners', the rooms' and the patient's.
        assert "appointment_resources" in busy
        assert busy.upper().count("UNION ALL") == 2, busy
        assert len(seen) == expected_search_statements(db_url, cached=False, patient=True), seen
        sent[size] = seen
    assert [_shape(s) for s in sent[5]] == [_shape(s) for s in sent[50]]


def _shape(statement: str) -> str:
    """A statement without its bound-parameter list (IN lists grow with the ids)."""
    return re.sub(r"IN \((?:[^()]|\([^()]*\))*\)", "IN (...)", statement)


# -- booking ------------------------------------------------------------------------------------


def book_first_free_slot(cb: Carebook, built: AvailabilityScenario) -> list[str]:
    """Book a free slot of the scenario as staff; the statements the booking sent.

    The search before the booking decodes (and caches) the calendar, as a client's would."""
    slot: Slot = cb.booking.search_availability(
        Actor.system(), built.organisation_id, built.query
    ).first()[0]
    patient = cb.admin.register_patient(Actor.admin(), organisation_id=built.organisation_id)
    command = BookAppointment(
        location_id=slot.location_id,
        practitioner_id=slot.practitioner_id,
        patient_id=patient.id,
        service_ids=(built.service_id,),
        start=slot.start,
        idempotency_key=uuid.uuid4().hex,
    )
    with statements(engine_of(cb)) as seen:
        booked = cb.booking.book(Actor.staff(slot.location_id), command)
    assert booked.start == slot.start
    return seen


def test_booking_costs_the_same_bounded_statements_whatever_the_history(db_url: str) -> None:
    sent: dict[int, list[str]] = {}
    for history in (10, 300):
        cb = open_carebook(db_url)
        try:
            built = availability_scenario(
                cb, practitioners=5, locations=2, appointments=history, seed=history
            )
            assert built.appointments == history
            sent[history] = book_first_free_slot(cb, built)
        finally:
            cb.close()

    small, large = sent[10], sent[300]
    print(f"\nbook on {make_url(db_url).get_backend_name()}: {len(small)} statements: {small}")
    assert [_shape(s) for s in small] == [_shape(s) for s in large]
    assert not calendar_statements(small), "the search before cached the calendar"
    # The calendar version comes with the patient, in one statement.
    assert sum("JOIN organisations" in s for s in small) == 1, small
    assert len(small) <= MAX_BOOKING_STATEMENTS, small
    # Exactly: the idempotency-key lookup, the busy time read for the rules (which vouches
    # for the span: no release of expired holds, no re-check), and the insert of the row.
    assert len(busy_statements(small)) == 3, busy_statements(small)
    assert not [s for s in small if s.startswith("UPDATE")], small
    assert sum(s.startswith("INSERT INTO appointments") for s in small) == 1
    assert sum(s.startswith("INSERT INTO outbox") for s in small) == 1
