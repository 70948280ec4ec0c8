"""The booking saga as a pure state machine: next actions, transitions, events."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.events import EventStamp, leaves_core
from carebook.domain.payments.payment import PaymentIntent, PaymentStatus
from carebook.domain.payments.saga import BookingSaga, Compensation, SagaAction, SagaStatus
from carebook.errors import InvalidTransitionError
from carebook.serialization import dumps, event_to_json, loads
from carebook.testing import builders
from carebook.testing.contracts.storage.base import NOW
from carebook.testing.contracts.storage.sagas import booking_saga

clinic = builders.small_clinic()
HOLD = clinic.appointment(NOW.add(days=1), hold_expires_at=NOW.add(minutes=20))


def saga(**changes: object) -> BookingSaga:
    return booking_saga(HOLD, **changes)


def stamp(minutes: int = 1) -> EventStamp:
    return EventStamp(NOW.add(minutes=minutes), "corr-1", uuid.uuid4)


def intent(status: PaymentStatus, **changes: object) -> PaymentIntent:
    values: dict[str, object] = {
        "id": "pi_1",
        "amount": 96_800,
        "currency": "EUR",
        "status": status,
        "idempotency_key": "k",
    }
    values.update(changes)
    return PaymentIntent(**values)  # type: ignore[arg-type]


def test_a_saga_awaiting_payment_pays_until_its_deadline() -> None:
    s = saga()
    assert s.next_action(NOW) is SagaAction.PAY
    assert s.next_action(s.payment_deadline.subtract(microseconds=1)) is SagaAction.PAY
    assert s.next_action(s.payment_deadline) is SagaAction.TIME_OUT


def test_payment_keys_are_derived_from_the_saga_and_the_step() -> None:
    s = saga()
    assert s.key("authorise") == f"{s.id}:authorise" != s.key("capture")


def test_compensation_runs_discount_hold_payment_then_fails() -> None:
    failed, events = saga().payment_failed(stamp(), "card_declined")
    assert [e.type for e in events] == ["PaymentFailed", "CompensationTriggered"]
    assert failed.next_action(NOW) is SagaAction.RELEASE_DISCOUNT
    released, events = failed.discount_released(stamp())
    assert [e.type for e in events] == ["DiscountQuotaReleased"]
    assert released.next_action(NOW) is SagaAction.RELEASE_HOLD
    unheld = released.hold_released(stamp())
    assert unheld.next_action(NOW) is SagaAction.VOID_PAYMENT  # the payment is unknown
    voided, events = unheld.payment_voided(stamp(), intent(PaymentStatus.CANCELLED))
    assert [e.type for e in events] == ["PaymentCancelled"]
    assert voided.next_action(NOW) is SagaAction.FAIL
    done, events = voided.failed(stamp())
    assert (done.status, done.next_action(NOW), done.version) == (
        SagaStatus.FAILED,
        SagaAction.NONE,
        6,
    )
    assert [(e.type, e.reason) for e in events] == [("BookingFailed", "card_declined")]  # type: ignore[attr-defined]


def test_a_declined_payment_needs_no_void_and_no_quota_means_no_release() -> None:
    declined, _ = saga(quota_day=None).payment_failed(
        stamp(), "card_declined", intent(PaymentStatus.FAILED)
    )
    assert declined.next_action(NOW) is SagaAction.RELEASE_HOLD
    assert declined.hold_released(stamp()).next_action(NOW) is SagaAction.FAIL


def test_a_saga_cannot_fail_before_its_compensation_is_done() -> None:
    compensating, _ = saga().payment_failed(stamp(), "card_declined")
    with pytest.raises(InvalidTransitionError):
        compensating.failed(stamp())


def test_a_confirmed_saga_moves_no_more() -> None:
    confirmed, events = saga().confirm(
        stamp(), intent(PaymentStatus.CAPTURED, amount_captured=96_800)
    )
    assert [e.type for e in events] == ["PaymentCompleted", "BookingConfirmed"]
    assert confirmed.next_action(NOW.add(days=9)) is SagaAction.NONE
    changes: list[Callable[[], object]] = [
        lambda: confirmed.payment_failed(stamp(), "late"),
        lambda: confirmed.confirm(stamp(), None),
        lambda: confirmed.hold_lost(stamp(), "x"),
        lambda: confirmed.discount_released(stamp()),
    ]
    for change in changes:
        with pytest.raises(InvalidTransitionError):
            change()


def test_paid_but_the_hold_was_lost_compensates_with_a_refund() -> None:
    captured = intent(PaymentStatus.CAPTURED, amount_captured=96_800)
    lost, events = saga().captured_but_lost(stamp(), captured, "hold_expired")
    assert [e.type for e in events] == ["PaymentCompleted", "CompensationTriggered"]
    assert (lost.intent_id, lost.payment_status, lost.may_hold_money) == (
        "pi_1",
        PaymentStatus.CAPTURED,
        True,
    )
    refunded = intent(PaymentStatus.REFUNDED, amount_captured=96_800, amount_refunded=96_800)
    unheld = lost.discount_released(stamp())[0].hold_released(stamp())
    voided, events = unheld.payment_voided(stamp(), refunded)
    assert [(e.type, e.intent_id) for e in events] == [("PaymentRefunded", "pi_1")]  # type: ignore[attr-defined]
    assert Compensation.VOID_PAYMENT in voided.compensated


@given(st.permutations(list(PaymentStatus)))
def test_an_observed_payment_status_never_moves_backwards(order: list[PaymentStatus]) -> None:
    seen = saga()
    for status in order:
        seen = seen.observe(status, "pi_9")
    assert seen.payment_status is PaymentStatus.REFUNDED and seen.intent_id == "pi_9"


def test_events_carry_neither_the_price_nor_the_discount() -> None:
    s = saga(discount="birthday", discount_policy="birthday_or_high_value")
    events = s.started_events(stamp(), HOLD.start, HOLD.end)
    assert [e.type for e in events] == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
    ]
    for event in events:
        payload = event_to_json(event)
        assert "birthday" not in payload and str(s.amount) not in payload
    assert [leaves_core(e) for e in events] == [True, True, False]
    assert "birthday'" not in repr(s)


def test_a_saga_round_trips_through_json() -> None:
    s = attrs.evolve(
        saga(discount="high_value", promo_code="SPRING"),
        compensated=frozenset({Compensation.RELEASE_HOLD}),
        payment_status=PaymentStatus.AUTHORISED,
    )
    assert loads(dumps(s), BookingSaga) == s
