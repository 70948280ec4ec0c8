"""Nothing that leaves the core lets a reader infer a patient's birthday.

R1 discounts a total under the high-value threshold only for a woman on her birthday, so
an event that carries a price, a discount, or the mere fact that a discount unit was
taken, tells whoever reads the outbox (a broker, a webhook, a host hook) that today is
this patient's birthday. The events that leave the core must look the same for her as
for anyone else; the price breakdown stays on the saga's record, read through
``cb.sagas.status`` by someone allowed to see it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Any

import pytest

from carebook import Actor
from carebook.builtin.publishers import RecordingPublisher
from carebook.domain.events import Event, SagaEvent
from carebook.payments import BookingSaga, RequestBooking, SagaStatus
from carebook.scheduling import Patient
from carebook.serialization import event_from_json, event_to_json
from carebook.testing.saga_world import T0, SagaClinic, make_saga_clinic

BIRTHDAY = dt.date(1990, 6, 2)  # T0 is 2 June 2025 in Kolkata
OTHER_DAY = dt.date(1990, 9, 14)
CONSULT_PRICE = 50_000  # INR 500.00: under the 1,000.00 threshold
DISCOUNTED = 44_000  # 12% off
SECRETS = ("birthday", "high_value", str(DISCOUNTED), "44000", "6000", "quota")


def _patient(clinic: SagaClinic, birth_date: dt.date) -> Patient:
    return clinic.cb.admin.register_patient(
        Actor.admin(), organisation_id=clinic.org.id, sex="female", birth_date=birth_date
    )


def _request(clinic: SagaClinic, patient: Patient, hour: int) -> BookingSaga:
    command = RequestBooking(
        location_id=clinic.loc.id,
        practitioner_id=clinic.practitioners[0].id,
        patient_id=patient.id,
        service_ids=[clinic.consult.id],
        start=T0.add(days=1).start_of("day").add(hours=hour),
        idempotency_key=uuid.uuid4().hex,
    )
    return clinic.cb.sagas.request(Actor.patient(patient.id), command)


def _published(clinic: SagaClinic, saga: BookingSaga) -> list[Event]:
    publisher = clinic.cb.publisher
    assert isinstance(publisher, RecordingPublisher)
    return [
        e
        for e in publisher.published
        if (isinstance(e, SagaEvent) and e.saga_id == saga.id)
        or getattr(e, "appointment_id", None) == saga.appointment_id
    ]


def _shape(events: list[Event]) -> list[tuple[str, list[str]]]:
    """Each event's type and payload keys: what a reader sees, ids and times aside."""
    return [(e.type, sorted(json.loads(event_to_json(e)))) for e in events]


def _assert_says_nothing(events: list[Event]) -> None:
    for event in events:
        text = event_to_json(event)
        payload = json.loads(text)
        assert not {"amount", "base_amount", "discount", "quota_day"} & set(payload), text
        for secret in SECRETS:
            assert secret not in text.lower(), text


@pytest.mark.parametrize("gateway_mode", ["success", "fail"])
def test_a_birthday_booking_looks_like_any_other_outside_the_core(gateway_mode: str) -> None:
    clinic = make_saga_clinic()
    clinic.gateway.set_mode(gateway_mode)
    her = _request(clinic, _patient(clinic, BIRTHDAY), 9)
    anyone = _request(clinic, _patient(clinic, OTHER_DAY), 10)

    assert (her.amount, her.discount) == (DISCOUNTED, "birthday"), "the discount applied"
    assert (anyone.amount, anyone.discount) == (CONSULT_PRICE, None)
    hers, theirs = _published(clinic, her), _published(clinic, anyone)
    assert hers and _shape(hers) == _shape(theirs)
    _assert_says_nothing(hers)
    assert clinic.cb.events.pending() == []


def test_the_price_breakdown_stays_on_the_saga_record() -> None:
    clinic = make_saga_clinic()
    her = _request(clinic, _patient(clinic, BIRTHDAY), 9)
    stored = clinic.cb.sagas.status(Actor.patient(her.patient_id), her.id)
    assert stored.status is SagaStatus.CONFIRMED
    assert (stored.base_amount, stored.amount, stored.currency) == (
        CONSULT_PRICE,
        DISCOUNTED,
        "INR",
    )
    assert (stored.discount, stored.quota_day) == ("birthday", T0.date())
    steps = [e.type for e in clinic.cb.sagas.timeline(clinic.admin, her.id)]
    assert "DiscountQuotaReserved" in steps, "the authorised timeline shows every step"


def test_the_quota_steps_never_reach_the_outbox() -> None:
    clinic = make_saga_clinic(dispatch="manual")
    clinic.gateway.set_mode("fail")
    her = _request(clinic, _patient(clinic, BIRTHDAY), 9)
    clinic.cb.sagas.advance(her.id)
    steps = [e.type for e in clinic.cb.sagas.timeline(clinic.admin, her.id)]
    assert {"DiscountQuotaReserved", "DiscountQuotaReleased"} <= set(steps)
    pending = clinic.cb.events.pending(1000)
    assert pending
    assert not {"DiscountQuotaReserved", "DiscountQuotaReleased"} & {e.type for e in pending}
    _assert_says_nothing([e for e in pending if isinstance(e, SagaEvent)])


def test_the_saga_logs_no_price_or_discount(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="carebook")
    clinic = make_saga_clinic()
    _request(clinic, _patient(clinic, BIRTHDAY), 9)
    assert "booking requested" in caplog.text
    for secret in ("birthday", str(DISCOUNTED), "discount_policy"):
        assert secret not in caplog.text


OLD_PAYLOADS: dict[str, dict[str, Any]] = {
    "PricingCalculated": {
        "base_amount": 50_000,
        "amount": 44_000,
        "currency": "INR",
        "discount": "birthday_or_high_value",
    },
    "PaymentCompleted": {"intent_id": "pi_1", "amount": 44_000, "currency": "INR"},
    "PaymentCancelled": {"intent_id": "pi_1", "amount": 44_000, "currency": "INR"},
    "PaymentRefunded": {"intent_id": "pi_1", "amount": 44_000, "currency": "INR"},
}


@pytest.mark.parametrize("event_type", list(OLD_PAYLOADS))
def test_an_old_payload_with_the_price_still_loads_and_is_written_without_it(
    event_type: str,
) -> None:
    old = {
        "type": event_type,
        "event_id": str(uuid.uuid4()),
        "occurred_at": T0.isoformat(),
        "correlation_id": "c-1",
        "organisation_id": str(uuid.uuid4()),
        "saga_id": str(uuid.uuid4()),
        "appointment_id": str(uuid.uuid4()),
        "location_id": str(uuid.uuid4()),
        "patient_id": str(uuid.uuid4()),
        **OLD_PAYLOADS[event_type],
    }
    event = event_from_json(json.dumps(old))
    assert event.type == event_type
    rewritten = json.loads(event_to_json(event))
    assert not {"amount", "base_amount", "discount", "currency"} & set(rewritten)
