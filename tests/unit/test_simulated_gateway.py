"""The simulated payment gateway: modes, the ledger, timeouts, options, webhooks."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pendulum
import pytest

from carebook import CarebookConfig, bootstrap
from carebook.builtin.clocks import ManualClock
from carebook.builtin.payments import SimulatedMode, SimulatedPaymentGateway
from carebook.domain.payments.payment import PaymentIntent, PaymentStatus
from carebook.domain.payments.webhooks import fold_payment_events, verify_and_parse
from carebook.errors import (
    AdapterError,
    ConfigurationError,
    IdempotencyConflictError,
    InvalidTransitionError,
    PaymentTimeoutError,
    ValidationError,
)
from carebook.plugins import collect_adapters, make_plugin_manager
from carebook.ports import PaymentGateway

NOW = pendulum.datetime(2025, 6, 2, 10, 0, tz="UTC")
SECRET = "whsec_test"


def pay(gateway: SimulatedPaymentGateway, key: str = "k1", amount: int = 4_000) -> PaymentIntent:
    return gateway.authorise(amount=amount, currency="EUR", idempotency_key=key, metadata={})


# -- modes -------------------------------------------------------------------------------


def test_success_mode_approves_and_records_each_movement() -> None:
    gateway = SimulatedPaymentGateway()
    intent = pay(gateway)
    gateway.capture(intent.id, idempotency_key="c1")
    gateway.refund(intent.id, amount=1_000, idempotency_key="r1")
    assert [(e.kind, e.amount, e.idempotency_key) for e in gateway.ledger] == [
        (PaymentStatus.AUTHORISED, 4_000, "k1"),
        (PaymentStatus.CAPTURED, 4_000, "c1"),
        (PaymentStatus.PARTIALLY_REFUNDED, 1_000, "r1"),
    ]
    assert [e.sequence for e in gateway.ledger] == [1, 2, 3]
    assert (gateway.captured_total(), gateway.refunded_total(), gateway.net_captured()) == (
        4_000,
        1_000,
        3_000,
    )


def test_fail_mode_declines_and_a_retry_returns_the_same_decline() -> None:
    gateway = SimulatedPaymentGateway(mode="fail", decline_code="insufficient_funds")
    declined = pay(gateway)
    assert declined.status is PaymentStatus.FAILED
    assert declined.failure_code == "insufficient_funds"
    assert pay(gateway) == declined
    assert len(gateway.charges_for("k1")) == 1
    assert gateway.captured_total() == 0
    with pytest.raises(InvalidTransitionError):
        gateway.capture(declined.id, idempotency_key="c1")


def outcomes(seed: int, rate: float | Decimal, n: int = 200) -> list[PaymentStatus]:
    gateway = SimulatedPaymentGateway(mode="random", seed=seed, failure_rate=rate)
    return [pay(gateway, f"k{i}").status for i in range(n)]


def test_random_mode_is_replayed_by_its_seed() -> None:
    first = outcomes(42, 0.3)
    assert first == outcomes(42, 0.3)
    assert first != outcomes(43, 0.3)
    failed = first.count(PaymentStatus.FAILED)
    assert 30 <= failed <= 90  # about 30% of 200
    assert set(outcomes(1, 1)) == {PaymentStatus.FAILED}
    assert set(outcomes(1, Decimal(0))) == {PaymentStatus.AUTHORISED}


def test_a_replay_does_not_draw_from_the_random_sequence() -> None:
    gateway = SimulatedPaymentGateway(mode="random", seed=42, failure_rate=0.3)
    statuses = []
    for i in range(50):
        statuses.append(pay(gateway, f"k{i}").status)
        pay(gateway, f"k{i}")  # a retry
    assert statuses == outcomes(42, 0.3, 50)


def test_timeout_on_authorise_leaves_a_pending_intent_that_a_retry_settles() -> None:
    gateway = SimulatedPaymentGateway(mode="timeout")
    with pytest.raises(PaymentTimeoutError) as timeout:
        pay(gateway)
    assert isinstance(timeout.value, AdapterError)
    assert (timeout.value.operation, timeout.value.idempotency_key) == ("authorise", "k1")
    [pending] = gateway.intents()
    assert pending.status is PaymentStatus.PENDING
    settled = pay(gateway)  # the retry with the same key answers, acting no second time
    assert settled.id == pending.id
    assert settled.status is PaymentStatus.AUTHORISED
    assert [e.kind for e in gateway.charges_for("k1")] == [
        PaymentStatus.PENDING,
        PaymentStatus.AUTHORISED,
    ]
    assert len(gateway.intents()) == 1


def test_a_pending_intent_is_settled_by_retrieve_to_the_configured_outcome() -> None:
    gateway = SimulatedPaymentGateway(mode="timeout", timeout_outcome="failed")
    with pytest.raises(PaymentTimeoutError):
        pay(gateway)
    [pending] = gateway.intents()
    settled = gateway.retrieve(pending.id)
    assert settled.status is PaymentStatus.FAILED
    assert gateway.retrieve(pending.id) == settled  # settled once
    assert len(gateway.ledger) == 2


def test_a_timed_out_capture_has_acted_and_its_retry_does_not_charge_again() -> None:
    gateway = SimulatedPaymentGateway()
    intent = pay(gateway)
    gateway.set_mode(SimulatedMode.TIMEOUT)
    with pytest.raises(PaymentTimeoutError):
        gateway.capture(intent.id, idempotency_key="c1")
    assert gateway.retrieve(intent.id).status is PaymentStatus.CAPTURED
    again = gateway.capture(intent.id, idempotency_key="c1")
    assert again.status is PaymentStatus.CAPTURED
    assert gateway.captured_total() == 4_000
    assert len(gateway.charges_for("c1")) == 1


def test_concurrent_captures_of_many_intents_are_all_recorded() -> None:
    gateway = SimulatedPaymentGateway()
    intents = [pay(gateway, f"k{i}", amount=100 + i) for i in range(40)]

    def capture(intent: PaymentIntent) -> None:
        for _ in range(3):  # retries
            gateway.capture(intent.id, idempotency_key=f"cap-{intent.id}")

    threads = [threading.Thread(target=capture, args=(i,)) for i in intents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert gateway.captured_total() == sum(100 + i for i in range(40))
    assert len(gateway.ledger) == 80
    assert [e.sequence for e in gateway.ledger] == list(range(1, 81))


# -- bad input leaves the ledger unchanged -------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda g, i: g.authorise(amount=-5, currency="EUR", idempotency_key="x", metadata={}),
        lambda g, i: g.authorise(amount=5.0, currency="EUR", idempotency_key="x", metadata={}),
        lambda g, i: g.authorise(amount=5, currency="EURO", idempotency_key="x", metadata={}),
        lambda g, i: g.authorise(amount=5, currency="EUR", idempotency_key="", metadata={}),
        lambda g, i: g.authorise(amount=5, currency="EUR", idempotency_key="x", metadata={1: 2}),
        lambda g, i: g.authorise(amount=9, currency="EUR", idempotency_key="k1", metadata={}),
        lambda g, i: g.refund(i.id, amount=1, idempotency_key="r"),
        lambda g, i: g.cancel("pi_missing", idempotency_key="c"),
        lambda g, i: g.capture(i.id, idempotency_key="k1"),
    ],
)
def test_refused_calls_leave_the_ledger_unchanged(call: Any) -> None:
    gateway = SimulatedPaymentGateway()
    intent = pay(gateway)
    before = (gateway.ledger, gateway.intents())
    with pytest.raises(
        (ValidationError, IdempotencyConflictError, InvalidTransitionError, LookupError)
    ):
        call(gateway, intent)
    assert (gateway.ledger, gateway.intents()) == before


def test_totals_need_a_currency_when_several_were_used() -> None:
    gateway = SimulatedPaymentGateway()
    for key, currency in (("e", "EUR"), ("y", "JPY")):
        intent = gateway.authorise(amount=500, currency=currency, idempotency_key=key, metadata={})
        gateway.capture(intent.id, idempotency_key=f"{key}-c")
    with pytest.raises(ValidationError):
        gateway.captured_total()
    assert gateway.captured_total("JPY") == 500
    assert gateway.refunded_total("EUR") == 0


# -- options and registration -------------------------------------------------------------


def test_from_options_builds_each_mode() -> None:
    gateway = SimulatedPaymentGateway.from_options(
        {"mode": "random", "seed": 3, "failure_rate": 0.25, "decline_code": "do_not_honor"}
    )
    assert gateway.mode is SimulatedMode.RANDOM
    assert SimulatedPaymentGateway.from_options({}).mode is SimulatedMode.SUCCESS


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "sometimes"},
        {"seed": "42"},
        {"seed": True},
        {"failure_rate": "0.5"},
        {"failure_rate": 1.5},
        {"failure_rate": -0.1},
        {"timeout_outcome": "captured"},
        {"decline_code": ""},
        {"currency": "EUR"},
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        SimulatedPaymentGateway.from_options(options)


def test_set_mode_validates() -> None:
    gateway = SimulatedPaymentGateway()
    with pytest.raises(ValidationError):
        gateway.set_mode("never")
    assert gateway.mode is SimulatedMode.SUCCESS


def test_simulated_is_registered_by_the_builtin_plugin() -> None:
    adapters = collect_adapters(make_plugin_manager(autoload=False))
    assert "simulated" in adapters.payment_gateways.names()
    gateway = adapters.payment_gateways.create("simulated", {"mode": "fail"})
    assert isinstance(gateway, PaymentGateway)
    assert isinstance(gateway, SimulatedPaymentGateway)
    assert gateway.mode is SimulatedMode.FAIL


def test_simulated_is_chosen_by_name_in_the_configuration_end_to_end() -> None:
    config = CarebookConfig.from_mapping(
        {"payment_gateway": "simulated", "payment_gateway_options": {"mode": "success"}}
    )
    cb = bootstrap(
        config, clock=ManualClock(NOW), plugin_manager=make_plugin_manager(autoload=False)
    )
    gateway = cb.payment_gateway
    assert isinstance(gateway, SimulatedPaymentGateway)
    intent = gateway.authorise(amount=4_000, currency="EUR", idempotency_key="p", metadata={})
    assert gateway.capture(intent.id, idempotency_key="c").status is PaymentStatus.CAPTURED
    assert gateway.captured_total() == 4_000
    with pytest.raises(ConfigurationError):
        bootstrap(
            CarebookConfig(payment_gateway="simulated", payment_gateway_options={"mode": 1}),
            plugin_manager=make_plugin_manager(autoload=False),
        )


# -- webhooks ------------------------------------------------------------------------------


def test_webhook_for_produces_signed_events_the_verifier_accepts() -> None:
    gateway = SimulatedPaymentGateway()
    intent = pay(gateway)
    authorised = gateway.webhook_for(intent.id, SECRET, NOW)
    gateway.capture(intent.id, idempotency_key="c1")
    captured = gateway.webhook_for(intent.id, SECRET, NOW.add(seconds=5))
    events = [
        verify_and_parse(hook.body, hook.signature, SECRET, now=NOW.add(seconds=10))
        for hook in (captured, authorised)  # delivered out of order
    ]
    assert [e.status for e in events] == [PaymentStatus.CAPTURED, PaymentStatus.AUTHORISED]
    assert events[0].event_id != events[1].event_id
    state = fold_payment_events(intent.id, [*events, events[0]])
    assert state.status is PaymentStatus.CAPTURED
    assert state.applied == 2


def test_a_webhook_settles_a_pending_intent() -> None:
    gateway = SimulatedPaymentGateway(mode="timeout")
    with pytest.raises(PaymentTimeoutError):
        pay(gateway)
    [pending] = gateway.intents()
    hook = gateway.webhook_for(pending.id, SECRET, NOW)
    assert hook.event.status is PaymentStatus.AUTHORISED
    assert gateway.retrieve(pending.id).status is PaymentStatus.AUTHORISED
