"""A ValidationError names the field and what is allowed, never the rejected value.

Each case plants a value that could be patient data (or just anything a caller typed)
and checks that the message names the field, and does not carry the planted value back.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pendulum
import pytest

from carebook import Actor, LocationId, Money, OrganisationId, PatientId, ValidationError
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.domain.money import apply_percentage
from carebook.pricing import PricingSettings
from carebook.scheduling import (
    Closure,
    Location,
    Patient,
    TimeRange,
    WeeklyHours,
)
from carebook.serialization import loads
from carebook.testing.world import make_world
from carebook.walkins import CheckIn

PLANT = "Planted-Secret-1987"
ORG = OrganisationId(uuid.uuid4())


def _patient(**fields: Any) -> object:
    return Patient(id=PatientId(uuid.uuid4()), organisation_id=ORG, **fields)


def _location(**fields: Any) -> object:
    return Location(id=LocationId(uuid.uuid4()), organisation_id=ORG, name="High Street", **fields)


def _patient_json(**fields: Any) -> object:
    data = {"id": str(uuid.uuid4()), "organisation_id": str(ORG), **fields}
    return loads(json.dumps(data), Patient)


def _closure_json(start: str) -> object:
    data = {"interval": {"start": start, "end": "2025-03-04T10:00:00+00:00"}, "kind": "closure"}
    return loads(json.dumps(data), Closure)


def _walk_in_setting() -> object:
    w = make_world()
    return w.cb.walkins.configure(Actor.admin(), w.loc.id, service_id=w.svc.id, bogus_setting=PLANT)


def _location_field() -> object:
    w = make_world()
    return w.cb.admin.add_location(
        Actor.admin(), organisation_id=w.org.id, timezone="Europe/London", bogus_field=PLANT
    )


# name: (what is called, the field the message must name, the value it must not quote)
CASES: dict[str, tuple[Callable[[], object], str, str]] = {
    "patient kind": (lambda: _patient(kind=PLANT), "kind", PLANT),
    "patient timezone": (lambda: _patient(timezone=PLANT), "timezone", PLANT),
    "patient sex": (lambda: _patient(sex=PLANT), "sex", PLANT),
    "location timezone": (lambda: _location(timezone=f"Europe/{PLANT}"), "timezone", PLANT),
    "quota timezone": (
        lambda: PricingSettings(quota_timezone=PLANT),
        "quota_timezone",
        PLANT,
    ),
    "combine mode": (lambda: PricingSettings(combine=PLANT), "combine", PLANT),
    "check-in channel": (
        lambda: CheckIn(
            location_id=LocationId(uuid.uuid4()), patient_id=PatientId(uuid.uuid4()), channel=PLANT
        ),
        "channel",
        PLANT,
    ),
    "gateway mode": (lambda: SimulatedPaymentGateway(mode=PLANT), "mode", PLANT),
    "gateway timeout outcome": (
        lambda: SimulatedPaymentGateway(timeout_outcome=PLANT),
        "timeout_outcome",
        PLANT,
    ),
    "currency": (lambda: Money(100, "PLX"), "currency", "PLX"),
    "wall-clock range": (lambda: TimeRange.parse(PLANT), "HH:MM", PLANT),
    "wall-clock time": (lambda: TimeRange.parse("09:00-19:87"), "HH:MM", "19:87"),
    "overlapping ranges": (
        lambda: WeeklyHours({0: ["09:00-12:00", "11:19-13:00"]}),
        "overlap",
        "11:19",
    ),
    "loaded birth date": (
        lambda: _patient_json(birth_date="1987-13-45"),
        "birth_date",
        "1987-13-45",
    ),
    "loaded kind": (lambda: _patient_json(kind=PLANT), "kind", PLANT),
    "loaded sex": (lambda: _patient_json(sex=PLANT), "sex", PLANT),
    "loaded datetime": (lambda: _closure_json(PLANT), "start", PLANT),
    "loaded weekday key": (
        lambda: loads(json.dumps({"days": {PLANT: []}}), WeeklyHours),
        "weekday",
        PLANT,
    ),
    "walk-in setting": (_walk_in_setting, "bogus_setting", PLANT),
    "location field": (_location_field, "bogus_field", PLANT),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_validation_error_names_the_field_not_the_value(case: str) -> None:
    call, field, secret = CASES[case]
    with pytest.raises(ValidationError) as caught:
        call()
    message = str(caught.value)
    assert field in message, message
    assert secret.lower() not in message.lower(), message


def test_an_enum_error_says_what_is_allowed() -> None:
    with pytest.raises(ValidationError) as caught:
        _patient(kind=PLANT)
    assert "new" in str(caught.value) and "returning" in str(caught.value)


@pytest.mark.parametrize("percent", [Decimal("123.987"), Decimal("NaN"), Decimal("-1.987")])
def test_a_percentage_error_does_not_quote_the_percentage(percent: Decimal) -> None:
    with pytest.raises(ValidationError) as caught:
        apply_percentage(Money(1000, "EUR"), percent)
    assert "percentage" in str(caught.value)
    assert "987" not in str(caught.value) and "NaN" not in str(caught.value)


def test_a_refund_error_does_not_quote_the_amount_asked() -> None:
    gateway = SimulatedPaymentGateway()
    intent = gateway.authorise(amount=5000, currency="EUR", idempotency_key="a", metadata={})
    gateway.capture(intent.id, idempotency_key="c")
    with pytest.raises(ValidationError) as caught:
        gateway.refund(intent.id, amount=98_765, idempotency_key="r")
    assert "98765" not in str(caught.value) and "amount" in str(caught.value)


def test_a_loaded_date_error_names_its_field_path() -> None:
    with pytest.raises(ValidationError) as caught:
        _patient_json(birth_date=dt.date(1987, 6, 5).isoformat() + "x")
    assert "birth_date" in str(caught.value)
    assert "1987-06-05" not in str(caught.value)


def test_a_time_zone_error_names_an_example() -> None:
    with pytest.raises(ValidationError) as caught:
        _patient(timezone=PLANT)
    assert "Europe/London" in str(caught.value)
    assert pendulum.timezone("Europe/London")
