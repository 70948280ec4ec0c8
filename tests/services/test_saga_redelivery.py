"""At-least-once delivery: every saga event delivered twice, three times, or out of order
within its saga, and every payment webhook likewise, ends in the same state as one
delivery of each in order."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from carebook import Actor
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.domain.events import Event
from carebook.domain.payments.payment import PaymentIntent
from carebook.domain.payments.saga import SagaStatus
from carebook.pricing import PromoCode
from carebook.testing.saga_world import (
    SECRET,
    SagaClinic,
    make_saga_clinic,
    money_problems,
    quota_problems,
)

Pattern = Callable[[list[Event]], list[Event]]


class DeclinesPackages(SimulatedPaymentGateway):
    """Outcomes that depend on the payment, not on the order calls arrive in: a
    discounted Package (INR 1,320.00) is declined, everything else approved."""

    def authorise(self, **kwargs: Any) -> PaymentIntent:
        self.set_mode("fail" if kwargs["amount"] == 132_000 else "success")
        return super().authorise(**kwargs)


def _by_saga(events: list[Event]) -> dict[object, list[Event]]:
    groups: dict[object, list[Event]] = {}
    for event in events:
        groups.setdefault(getattr(event, "saga_id", None), []).append(event)
    return groups


PATTERNS: dict[str, Pattern] = {
    "once": lambda events: events,
    "twice": lambda events: [e for e in events for _ in range(2)],
    "three times": lambda events: [e for e in events for _ in range(3)],
    "reversed within each saga": lambda events: [
        e for group in _by_saga(events).values() for e in reversed(group)
    ],
    "shuffled, some twice": lambda events: random.Random(4).sample(events * 2, 2 * len(events)),
}


def _world() -> SagaClinic:
    clinic = make_saga_clinic(gateway=DeclinesPackages(), dispatch="manual")
    clinic.cb.pricing.create_promo_code(
        Actor.admin(), organisation_id=clinic.org.id, promo=PromoCode.percent_off("TEN", 10)
    )
    kinds: list[dict[str, Any]] = [
        {},
        {"discounted": True},
        {"promo": "TEN"},
        {"discounted": True},
        {},
        {"promo": "TEN"},
    ]
    for n, kwargs in enumerate(kinds):
        clinic.request(n, key=f"request-{n}", **kwargs)
    return clinic


def _deliver(clinic: SagaClinic, pattern: Pattern) -> None:
    """Hand the outbox's events to the saga coordinator as ``pattern`` orders them,
    until no new event appears."""
    delivered: set[object] = set()
    while True:
        fresh = [e for e in clinic.cb.events.pending(10_000) if e.event_id not in delivered]
        if not fresh:
            return
        for event in pattern(fresh):
            clinic.cb.sagas.handle_event(event)
        delivered |= {e.event_id for e in fresh}


def _state(clinic: SagaClinic) -> list[tuple[object, ...]]:
    """Everything the delivery could have changed, without the random ids."""
    rows: list[tuple[object, ...]] = []
    with clinic.cb.storage.unit_of_work() as uow:
        for saga in clinic.sagas():
            hold = uow.appointments.get(saga.appointment_id)
            assert hold is not None
            charges = [
                e.kind.value
                for step in ("authorise", "capture", "cancel", "refund")
                for e in clinic.gateway.charges_for(saga.key(step))
            ]
            rows.append(
                (
                    saga.status,
                    saga.amount,
                    saga.failure_reason,
                    sorted(saga.compensated),
                    saga.payment_status,
                    hold.status,
                    charges,
                    [e.type for e in uow.sagas.timeline(saga.id)],
                    uow.pricing.promo_usage(clinic.org.id, "TEN", saga.patient_id),
                )
            )
        rows.append(
            ("quota", uow.pricing.quota_used(clinic.org.id, clinic.sagas()[1].requested_at.date()))
        )
    return rows


@pytest.fixture(scope="module")
def single_delivery() -> list[tuple[object, ...]]:
    clinic = _world()
    _deliver(clinic, PATTERNS["once"])
    statuses = {s.status for s in clinic.sagas()}
    assert statuses == {SagaStatus.CONFIRMED, SagaStatus.FAILED}
    sagas = clinic.sagas()
    assert money_problems(sagas, clinic.gateway, settled=True) == []
    with clinic.cb.storage.unit_of_work() as uow:
        assert quota_problems(sagas, uow.pricing.quota_used) == []
    return _state(clinic)


@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p != "once"])
def test_saga_events_delivered_again_or_out_of_order_end_the_same(
    pattern: str, single_delivery: list[tuple[object, ...]]
) -> None:
    clinic = _world()
    _deliver(clinic, PATTERNS[pattern])
    assert _state(clinic) == single_delivery
    _deliver(clinic, PATTERNS[pattern])  # and everything once more: nothing moves
    everything = [e for s in clinic.sagas() for e in clinic.cb.sagas.timeline(Actor.admin(), s.id)]
    for event in PATTERNS[pattern](everything):
        clinic.cb.sagas.handle_event(event)
    assert _state(clinic) == single_delivery


WEBHOOK_PATTERNS: dict[str, Callable[[list[Any]], list[Any]]] = {
    "once": lambda hooks: hooks,
    "twice": lambda hooks: [h for h in hooks for _ in range(2)],
    "three times": lambda hooks: [h for h in hooks for _ in range(3)],
    "reversed": lambda hooks: list(reversed(hooks)),
    "reversed, twice each": lambda hooks: [h for h in reversed(hooks) for _ in range(2)],
}


def _webhook_world(pattern: str) -> tuple[SagaClinic, list[tuple[object, ...]]]:
    gateway = SimulatedPaymentGateway(mode="timeout")
    clinic = make_saga_clinic(gateway=gateway, dispatch="manual")
    timed_out = clinic.cb.sagas.advance(clinic.request(1, key="late").id)
    clinic.clock.advance(minutes=10)
    paid = clinic.cb.sagas.advance(clinic.request(0, discounted=True, key="paid").id)
    assert paid.status is timed_out.status is SagaStatus.AWAITING_PAYMENT
    gateway.set_mode("success")
    clinic.clock.advance(minutes=6)  # the first request's payment is now too late
    now = clinic.clock.now()
    second, first = gateway.intents()
    authorised = gateway.webhook_for(first.id, SECRET, now)
    gateway.capture(first.id, idempotency_key=paid.key("capture"))  # as the saga would
    captured = gateway.webhook_for(first.id, SECRET, now)
    late = gateway.webhook_for(second.id, SECRET, now)
    outcomes = [
        clinic.cb.sagas.handle_webhook(h.body, h.signature).result
        for h in WEBHOOK_PATTERNS[pattern]([authorised, captured, late])
    ]
    assert outcomes.count("applied") == 3
    return clinic, _state(clinic)


@pytest.mark.parametrize("pattern", sorted(WEBHOOK_PATTERNS))
def test_webhooks_delivered_again_or_out_of_order_end_the_same(pattern: str) -> None:
    clinic, state = _webhook_world(pattern)
    _, baseline = _webhook_world("once")
    assert state == baseline
    late, paid = clinic.sagas()
    assert (paid.status, late.status) == (SagaStatus.CONFIRMED, SagaStatus.FAILED)
    assert money_problems(clinic.sagas(), clinic.gateway, settled=True) == []
