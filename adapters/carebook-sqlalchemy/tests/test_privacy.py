"""Patient data never reaches a log line or an exception message through SQLAlchemy.

The engine always hides bound parameters (``hide_parameters=True``) and never logs result
rows, so ``echo=True``, ``echo="debug"``, or a host that turns the ``sqlalchemy.engine``
logger up to DEBUG, shows the statements and none of a patient's birth date or contact
reference. Checked on SQLite and PostgreSQL with planted values.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import SQLAlchemyError

from carebook import Actor, Carebook, CarebookConfig, Interval, ManualClock, Money, bootstrap
from carebook.builtin.publishers import RecordingPublisher
from carebook.errors import ConfigurationError
from carebook.scheduling import AvailabilityQuery, BookAppointment, WeeklyHours, WorkingPlan
from carebook.serialization import event_to_json
from carebook_sqlalchemy.engine import make_engine
from carebook_sqlalchemy.schema import Base
from carebook_sqlalchemy.storage import SqlStorage

BIRTH = dt.date(1987, 6, 5)
CONTACT = "tel:+44-7700-900123"
PLANTED = ("1987-06-05", "1987, 6, 5", "7700-900123", CONTACT)
T0 = pendulum.datetime(2025, 3, 3, 8, 0, tz="UTC")
DAY = pendulum.datetime(2025, 3, 4, tz="UTC")


@pytest.fixture(autouse=True)
def _restore_sqlalchemy_loggers() -> Iterator[None]:
    """``echo`` adds a stdout handler to SQLAlchemy's loggers (bound to this test's
    captured stdout); take it away again, and any level a test set."""
    names = [n for n in logging.root.manager.loggerDict if n.startswith("sqlalchemy")]
    before = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).level) for n in names}
    yield
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("sqlalchemy")]:
        logger = logging.getLogger(name)
        handlers, level = before.get(name, ([], logging.NOTSET))
        for handler in list(logger.handlers):
            if handler not in handlers:
                logger.removeHandler(handler)
        logger.setLevel(level)


def _work(url: str, **options: Any) -> None:
    """Register a patient with a planted birth date and contact, book, list and search."""
    cb: Carebook = bootstrap(
        CarebookConfig(
            storage="sqlalchemy", storage_options={"url": url, "migrate": True, **options}
        ),
        clock=ManualClock(T0),
    )
    try:
        admin = Actor.admin()
        org = cb.admin.create_organisation(admin, name="Northside")
        loc = cb.admin.add_location(
            admin,
            organisation_id=org.id,
            name="High Street",
            timezone="Europe/London",
            opening_hours=WeeklyHours.every_day("08:00-18:00"),
        )
        hours = WeeklyHours.every_day("09:00-17:00")
        pr = cb.admin.add_practitioner(
            admin,
            organisation_id=org.id,
            name="Dr Grey",
            plans=[WorkingPlan(location_id=loc.id, hours=hours)],
        )
        svc = cb.admin.add_service(
            admin,
            organisation_id=org.id,
            name="Consultation",
            duration=30,
            price=Money(5000, "GBP"),
            practitioner_ids={pr.id},
        )
        her = cb.admin.register_patient(
            admin, organisation_id=org.id, sex="female", birth_date=BIRTH, contact_ref=CONTACT
        )
        cb.booking.book(
            Actor.patient(her.id),
            BookAppointment(
                location_id=loc.id,
                practitioner_id=pr.id,
                patient_id=her.id,
                service_ids=(svc.id,),
                start=DAY.add(hours=10),
                idempotency_key="k-1",
            ),
        )
        assert cb.queries.patient_appointments(admin, her.id)
        query = AvailabilityQuery(
            service_ids=(svc.id,), window=Interval(DAY, DAY.add(days=1)), patient_id=her.id
        )
        assert cb.booking.search_availability(admin, org.id, query)
    finally:
        cb.close()


def _assert_clean(logged: str) -> None:
    assert "INSERT INTO patients" in logged, "the statements are logged (the test sees them)"
    assert "FROM patients" in logged
    for secret in PLANTED:
        assert secret not in logged


@pytest.mark.parametrize("echo", [True, "debug"])
def test_echo_logs_statements_but_no_patient_data(
    db_url: str, echo: object, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    if echo == "debug":
        _work_with_engine_echo_debug(db_url)
    else:
        _work(db_url, echo=True)
    _assert_clean(caplog.text + capsys.readouterr().out)


def _work_with_engine_echo_debug(url: str) -> None:
    """``echo="debug"`` is not a storage option; pass it to the engine directly."""
    engine = make_engine(url, echo="debug")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE patients (id INTEGER, data TEXT)"))
            connection.execute(
                text("INSERT INTO patients (id, data) VALUES (:id, :data)"),
                {"id": 1, "data": f'{{"birth_date": "{BIRTH.isoformat()}", "c": "{CONTACT}"}}'},
            )
            rows = connection.execute(text("SELECT data FROM patients")).all()
            assert BIRTH.isoformat() in rows[0].data
            connection.execute(text("DROP TABLE patients"))
    finally:
        engine.dispose()


def test_the_sqlalchemy_logger_at_debug_shows_no_patient_data(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    _work(db_url)
    _assert_clean(caplog.text)


def test_a_failed_statement_does_not_quote_its_parameters(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(SQLAlchemyError) as caught, engine.connect() as connection:
            connection.execute(text("SELECT :v FROM no_such_table"), {"v": CONTACT})
    finally:
        engine.dispose()
    assert CONTACT not in str(caught.value)
    assert "no_such_table" in str(caught.value)


def test_parameters_cannot_be_shown(db_url: str) -> None:
    with pytest.raises(ConfigurationError, match="hide_parameters"):
        make_engine(db_url, hide_parameters=False)
    make_engine(db_url, hide_parameters=True).dispose()


# -- events written before the price left them ------------------------------------------------


def _old_saga_event(event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "event_id": str(uuid.uuid4()),
        "occurred_at": T0.isoformat(),
        "correlation_id": "c-old",
        "organisation_id": str(uuid.uuid4()),
        "saga_id": str(uuid.uuid4()),
        "appointment_id": str(uuid.uuid4()),
        "location_id": str(uuid.uuid4()),
        "patient_id": str(uuid.uuid4()),
        **fields,
    }


def test_old_outbox_rows_still_load_and_leave_without_the_price(db_url: str) -> None:
    """An outbox row written by an older carebook carries the price and may be a
    discount-quota step; it still loads, is published without the price, and a quota
    step is marked done without being published."""
    publisher = RecordingPublisher()
    config = CarebookConfig(
        storage="sqlalchemy",
        storage_options={"url": db_url, "migrate": True},
        dispatch="manual",
        notifiers=(),
    )
    cb = bootstrap(config, clock=ManualClock(T0), publisher=publisher)
    try:
        storage = cb.storage
        assert isinstance(storage, SqlStorage)
        old = [
            _old_saga_event(
                "PricingCalculated",
                base_amount=50_000,
                amount=44_000,
                currency="INR",
                discount="birthday_or_high_value",
            ),
            _old_saga_event("DiscountQuotaReserved", quota_day="2025-03-03"),
            _old_saga_event("PaymentCompleted", intent_id="pi_1", amount=44_000, currency="INR"),
        ]
        outbox = Base.metadata.tables["outbox"]
        with storage.engine.begin() as connection:
            connection.execute(
                insert(outbox),
                [
                    {
                        "event_id": uuid.UUID(e["event_id"]),
                        "correlation_id": e["correlation_id"],
                        "type": e["type"],
                        "occurred_at": int(T0.timestamp()),
                        "payload": json.dumps(e),
                        "dispatched_at": None,
                    }
                    for e in old
                ],
            )
        assert [e.type for e in cb.events.pending()] == [e["type"] for e in old]
        cb.events.dispatch()
        assert [e.type for e in publisher.published] == ["PricingCalculated", "PaymentCompleted"]
        for event in publisher.published:
            payload = json.loads(event_to_json(event))
            assert not {"amount", "base_amount", "discount", "currency"} & set(payload)
        assert cb.events.pending() == []
    finally:
        cb.close()
