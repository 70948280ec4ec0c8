"""The booking saga through the public API, with memory storage and the simulated gateway."""

from __future__ import annotations

import logging
from typing import Any

import pendulum
import pytest

from carebook import Actor, RuleRejectedError
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.domain.events import Event
from carebook.domain.payments.payment import PaymentIntent
from carebook.domain.payments.saga import SagaStatus
from carebook.errors import (
    AdapterError,
    ConfigurationError,
    ForbiddenError,
    IdempotencyConflictError,
    NotFoundError,
    WebhookSignatureError,
)
from carebook.payments import PaymentStatus
from carebook.testing.saga_world import (
    SECRET,
    SagaClinic,
    make_saga_clinic,
    money_problems,
    quota_problems,
)

HAPPY = [
    "BookingRequested",
    "AppointmentHeld",
    "PricingCalculated",
    "DiscountQuotaReserved",
    "PaymentCompleted",
    "AppointmentBooked",
    "BookingConfirmed",
]


def types(events: list[Event]) -> list[str]:
    return [e.type for e in events]


def timeline(clinic: SagaClinic, saga_id: object) -> list[str]:
    return types(clinic.cb.sagas.timeline(clinic.admin, saga_id))  # type: ignore[arg-type]


def settled(clinic: SagaClinic) -> None:
    sagas = clinic.sagas()
    assert money_problems(sagas, clinic.gateway, settled=True) == []
    with clinic.cb.storage.unit_of_work() as uow:
        assert quota_problems(sagas, uow.pricing.quota_used) == []


def test_a_discounted_booking_is_priced_reserved_paid_and_confirmed() -> None:
    clinic = make_saga_clinic()
    saga = clinic.request(0, discounted=True)
    assert saga.status is SagaStatus.CONFIRMED
    assert (saga.base_amount, saga.amount, saga.discount) == (150_000, 132_000, "high_value")
    assert timeline(clinic, saga.id) == HAPPY
    appointment = clinic.cb.queries.get_appointment(clinic.admin, saga.appointment_id)
    assert appointment.status.value == "booked"
    assert clinic.gateway.captured_total() == 132_000
    assert clinic.cb.pricing.quota(clinic.admin, clinic.org.id).used == 1
    assert clinic.cb.events.pending() == []  # inline dispatch published everything
    settled(clinic)


def test_a_full_price_booking_takes_no_quota() -> None:
    clinic = make_saga_clinic()
    saga = clinic.request(0)
    assert saga.status is SagaStatus.CONFIRMED and saga.quota_day is None
    assert "DiscountQuotaReserved" not in timeline(clinic, saga.id)
    assert clinic.cb.pricing.quota(clinic.admin, clinic.org.id).used == 0


def test_a_declined_payment_is_compensated_in_order() -> None:
    clinic = make_saga_clinic(gateway=SimulatedPaymentGateway(mode="fail"))
    saga = clinic.request(0, discounted=True)
    assert (saga.status, saga.failure_reason) == (SagaStatus.FAILED, "card_declined")
    assert timeline(clinic, saga.id) == [
        *HAPPY[:4],
        "PaymentFailed",
        "CompensationTriggered",
        "DiscountQuotaReleased",
        "AppointmentCancelled",
        "BookingFailed",
    ]
    hold = clinic.cb.queries.get_appointment(clinic.admin, saga.appointment_id)
    assert (hold.status.value, hold.cancel_reason) == ("cancelled", "booking_failed")
    assert clinic.cb.pricing.quota(clinic.admin, clinic.org.id).used == 0
    assert clinic.gateway.captured_total() == 0
    again = clinic.request(0, discounted=True)  # the slot and the quota are free again
    assert again.status is SagaStatus.FAILED
    settled(clinic)


def test_an_exhausted_quota_rejects_at_once_and_changes_nothing() -> None:
    clinic = make_saga_clinic()
    clinic.cb.pricing.set_daily_quota(clinic.admin, organisation_id=clinic.org.id, daily_quota=1)
    clinic.request(0, discounted=True)
    before = _free(clinic)
    with pytest.raises(RuleRejectedError) as refusal:
        clinic.request(1, discounted=True)
    assert refusal.value.reason_code == "discount_quota_exhausted"
    assert _free(clinic) == before  # no hold was left behind
    assert clinic.gateway.captured_total() == 132_000  # only the first booking paid
    assert clinic.request(1).status is SagaStatus.CONFIRMED  # full price needs no quota


def test_an_exhausted_quota_may_proceed_at_full_price() -> None:
    clinic = make_saga_clinic()
    clinic.cb.pricing.update_settings(
        clinic.admin,
        organisation_id=clinic.org.id,
        daily_quota=1,
        on_quota_exhausted="proceed_without_discount",
    )
    first, second = clinic.request(0, discounted=True), clinic.request(1, discounted=True)
    assert (first.amount, first.discount) == (132_000, "high_value")
    assert (second.amount, second.discount, second.quota_day) == (150_000, None, None)
    assert second.status is SagaStatus.CONFIRMED


def test_the_quota_day_turns_at_midnight_in_the_quota_zone() -> None:
    clinic = make_saga_clinic()
    clinic.cb.pricing.set_daily_quota(clinic.admin, organisation_id=clinic.org.id, daily_quota=1)
    clinic.clock.set(pendulum.datetime(2025, 6, 2, 23, 59, 59, tz="Asia/Kolkata"))
    assert clinic.request(0, discounted=True).quota_day == pendulum.Date(2025, 6, 2)
    clinic.clock.advance(seconds=1)
    assert clinic.request(1, discounted=True).quota_day == pendulum.Date(2025, 6, 3)


def test_a_promo_code_discounts_counts_and_is_released_on_failure() -> None:
    from carebook.pricing import PromoCode

    gateway = SimulatedPaymentGateway(mode="fail")
    clinic = make_saga_clinic(gateway=gateway)
    clinic.cb.pricing.create_promo_code(
        clinic.admin,
        organisation_id=clinic.org.id,
        promo=PromoCode.percent_off("WELCOME", 10, max_uses=1),
    )
    failed = clinic.request(0, promo="welcome")
    assert (failed.discount, failed.promo_code, failed.status) == (
        "promo_code",
        "WELCOME",
        SagaStatus.FAILED,
    )
    gateway.set_mode("success")
    paid = clinic.request(1, promo="WELCOME")  # the failed booking gave its use back
    assert (paid.amount, paid.status) == (45_000, SagaStatus.CONFIRMED)
    with pytest.raises(RuleRejectedError) as used_up:
        clinic.request(2, promo="WELCOME")
    assert used_up.value.reason_code == "promo_exhausted"
    with pytest.raises(RuleRejectedError) as unknown:
        clinic.request(3, promo="NOPE")
    assert unknown.value.reason_code == "promo_unknown"


def test_retrying_a_request_returns_the_same_saga_and_charges_once() -> None:
    clinic = make_saga_clinic()
    command = clinic.command(0, key="retry-me")
    patient = Actor.patient(command.patient_id)
    first = clinic.cb.sagas.request(patient, command)
    assert clinic.cb.sagas.request(patient, command) == first
    assert clinic.gateway.captured_total() == 50_000
    elsewhere = clinic.command(4, key="retry-me")  # the same patient, another slot
    assert elsewhere.patient_id == command.patient_id
    with pytest.raises(IdempotencyConflictError):
        clinic.cb.sagas.request(patient, elsewhere)


def test_a_patient_sees_only_their_own_saga() -> None:
    clinic = make_saga_clinic()
    saga = clinic.request(0)
    owner, other = Actor.patient(saga.patient_id), Actor.patient(clinic.patients[1].id)
    assert clinic.cb.sagas.status(owner, saga.id) == saga
    assert types(clinic.cb.sagas.timeline(owner, saga.id))[-1] == "BookingConfirmed"
    with pytest.raises(NotFoundError):
        clinic.cb.sagas.status(other, saga.id)
    with pytest.raises(NotFoundError):
        clinic.cb.sagas.timeline(other, saga.id)
    with pytest.raises(ForbiddenError):
        clinic.cb.sagas.status(Actor.staff(), saga.id)
    assert clinic.cb.sagas.status(Actor.staff(clinic.loc.id), saga.id) == saga
    with pytest.raises(NotFoundError):
        clinic.cb.sagas.request(owner, clinic.command(1))  # a patient books for themselves


def test_one_correlation_id_is_on_every_event_and_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clinic = make_saga_clinic(gateway=SimulatedPaymentGateway(mode="fail"))
    command = clinic.command(0, discounted=True)
    with caplog.at_level(logging.INFO, logger="carebook"):
        saga = clinic.cb.sagas.request(
            Actor.patient(command.patient_id), command, correlation_id="corr-42"
        )
    assert {e.correlation_id for e in clinic.cb.sagas.timeline(clinic.admin, saga.id)} == {
        "corr-42"
    }
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("carebook")]
    assert lines and all("[corr-42]" in line for line in lines)


def test_a_payment_past_its_deadline_fails_the_booking_and_frees_everything() -> None:
    gateway = SimulatedPaymentGateway(mode="timeout")
    clinic = make_saga_clinic(gateway=gateway, dispatch="manual")
    saga = clinic.cb.sagas.advance(clinic.request(0, discounted=True).id)  # the call times out
    assert (saga.status, saga.last_error) == (SagaStatus.AWAITING_PAYMENT, "payment_timeout")
    clinic.clock.advance(minutes=16)  # past the 15-minute limit
    gateway.set_mode("success")  # the provider answers again (it had authorised meanwhile)
    clinic.cb.sagas.resume()
    final = clinic.cb.sagas.status(clinic.admin, saga.id)
    assert (final.status, final.failure_reason) == (SagaStatus.FAILED, "payment_timeout")
    steps = timeline(clinic, saga.id)
    assert steps[4:] == [
        "PaymentFailed",
        "CompensationTriggered",
        "DiscountQuotaReleased",
        "AppointmentCancelled",
        "PaymentCancelled",  # the timed-out call had authorised: released, nothing charged
        "BookingFailed",
    ]
    assert clinic.cb.pricing.quota(clinic.admin, clinic.org.id).used == 0
    settled(clinic)


def test_a_timed_out_payment_is_retried_with_the_same_key_and_charged_once() -> None:
    gateway = SimulatedPaymentGateway(mode="timeout")
    clinic = make_saga_clinic(gateway=gateway, dispatch="manual")
    saga = clinic.cb.sagas.advance(clinic.request(0).id)
    assert saga.status is SagaStatus.AWAITING_PAYMENT
    gateway.set_mode("success")
    clinic.cb.events.dispatch()  # the dispatcher delivers BookingRequested: the saga moves on
    final = clinic.cb.sagas.status(clinic.admin, saga.id)
    assert final.status is SagaStatus.CONFIRMED
    assert [e.kind.value for e in gateway.charges_for(saga.key("authorise"))] == [
        "pending",
        "authorised",
    ]
    assert len(gateway.charges_for(saga.key("capture"))) == 1
    settled(clinic)


class HeldPending(SimulatedPaymentGateway):
    """A provider that keeps new payments pending until told to settle them."""

    def __init__(self) -> None:
        super().__init__(mode="timeout", timeout_outcome="authorised")
        self.settle = False

    def retrieve(self, intent_id: str) -> PaymentIntent:
        if not self.settle:
            return next(i for i in self.intents() if i.id == intent_id)
        return super().retrieve(intent_id)

    def authorise(self, **kwargs: Any) -> PaymentIntent:
        if not self.settle and any(
            i.idempotency_key == kwargs["idempotency_key"] for i in self.intents()
        ):
            return next(i for i in self.intents() if i.idempotency_key == kwargs["idempotency_key"])
        return super().authorise(**kwargs)


def test_a_success_arriving_after_the_deadline_is_refunded_not_confirmed() -> None:
    gateway = HeldPending()
    clinic = make_saga_clinic(gateway=gateway, dispatch="manual")
    saga = clinic.cb.sagas.advance(clinic.request(0, discounted=True).id)
    clinic.clock.advance(minutes=20)
    clinic.cb.sagas.resume()
    waiting = clinic.cb.sagas.status(clinic.admin, saga.id)
    # The booking failed (hold and quota released); the payment is still unknown.
    assert waiting.status is SagaStatus.COMPENSATING and waiting.last_error == "payment_unsettled"
    assert clinic.cb.pricing.quota(clinic.admin, clinic.org.id).used == 0
    hold = clinic.cb.queries.get_appointment(clinic.admin, saga.appointment_id)
    assert hold.status.value == "cancelled"
    # Now the provider settles it, and someone captures it: a late success.
    gateway.settle = True
    gateway.set_mode("success")
    intent = gateway.retrieve(gateway.intents()[0].id)
    gateway.capture(intent.id, idempotency_key="provider-side-capture")
    hook = gateway.webhook_for(intent.id, SECRET, clinic.clock.now())
    outcome = clinic.cb.sagas.handle_webhook(hook.body, hook.signature)
    assert (outcome.result, outcome.status) == ("applied", SagaStatus.FAILED)
    assert timeline(clinic, saga.id)[-3:] == [
        "CompensationFailed",
        "PaymentRefunded",
        "BookingFailed",
    ]
    assert gateway.net_captured() == 0 and gateway.captured_total() == 132_000
    settled(clinic)


def test_webhooks_are_verified_applied_once_and_order_free() -> None:
    gateway = SimulatedPaymentGateway(mode="timeout")
    clinic = make_saga_clinic(gateway=gateway, dispatch="manual")
    saga = clinic.cb.sagas.advance(clinic.request(0).id)
    intent = gateway.intents()[0]
    now = clinic.clock.now()
    pending = gateway.webhook_for(intent.id, SECRET, now)  # settles it: authorised
    with pytest.raises(WebhookSignatureError):
        clinic.cb.sagas.handle_webhook(pending.body, pending.signature.replace("v1=", "v1=0"))
    with pytest.raises(WebhookSignatureError):
        clinic.cb.sagas.handle_webhook(pending.body.replace(b"pi_", b"px_"), pending.signature)
    assert clinic.cb.sagas.status(clinic.admin, saga.id).payment_status is None
    gateway.set_mode("success")
    applied = clinic.cb.sagas.handle_webhook(pending.body, pending.signature)
    assert (applied.result, applied.status) == ("applied", SagaStatus.CONFIRMED)
    assert clinic.cb.sagas.handle_webhook(pending.body, pending.signature).result == "duplicate"
    captured = gateway.webhook_for(intent.id, SECRET, now)
    late_old = gateway.webhook_for(intent.id, SECRET, now)
    for hook in (captured, pending, late_old, captured):
        clinic.cb.sagas.handle_webhook(hook.body, hook.signature)
    final = clinic.cb.sagas.status(clinic.admin, saga.id)
    assert (final.status, final.payment_status) == (SagaStatus.CONFIRMED, PaymentStatus.CAPTURED)
    assert gateway.captured_total() == 50_000
    settled(clinic)


def test_webhooks_need_a_configured_secret_and_options_are_checked() -> None:
    from carebook import CarebookConfig, bootstrap

    cb = bootstrap(CarebookConfig(notifiers=(), payment_gateway="simulated"))
    with pytest.raises(ConfigurationError):
        cb.sagas.handle_webhook(b"{}", "t=1,v1=" + "0" * 64)
    for options in ({"payment_timeout": 3}, {"payment_timeout_minutes": 0}):
        with pytest.raises(ConfigurationError):
            bootstrap(CarebookConfig(saga_options=options))
    assert "whsec" not in repr(make_saga_clinic().cb.sagas.runtime.settings)


def test_without_a_gateway_the_saga_refuses_to_start() -> None:
    from carebook import CarebookConfig, bootstrap

    clinic = make_saga_clinic()
    cb = bootstrap(CarebookConfig(notifiers=()), storage=clinic.cb.storage, clock=clinic.clock)
    command = clinic.command(0)
    with pytest.raises(ConfigurationError):
        cb.sagas.request(Actor.patient(command.patient_id), command)


def test_a_hold_cancelled_while_paying_refunds_instead_of_confirming() -> None:
    clinic = make_saga_clinic(dispatch="manual")
    saga = clinic.request(0)
    from carebook.scheduling import CancelAppointment

    clinic.cb.lifecycle.cancel(clinic.admin, CancelAppointment(appointment_id=saga.appointment_id))
    final = clinic.cb.sagas.advance(saga.id)
    assert (final.status, final.failure_reason) == (SagaStatus.FAILED, "appointment_cancelled")
    settled(clinic)


def test_resume_after_a_restart_finishes_every_saga() -> None:
    clinic = make_saga_clinic(
        dispatch="manual", gateway=SimulatedPaymentGateway(mode="random", seed=7, failure_rate=0.4)
    )
    for n in range(8):
        clinic.request(n, discounted=n % 2 == 0)
    assert all(s.status is SagaStatus.AWAITING_PAYMENT for s in clinic.sagas())
    restarted = clinic.restart()
    outcome = restarted.cb.sagas.resume()
    assert sum(outcome.values()) == 8 and set(outcome) <= {"confirmed", "failed"}
    assert {"confirmed", "failed"} <= set(outcome)
    settled(restarted)
    assert restarted.cb.sagas.resume() == {}  # nothing left to do


def _free(clinic: SagaClinic) -> list[pendulum.DateTime]:
    from carebook import Interval
    from carebook.scheduling import AvailabilityQuery

    _, _, start = clinic.slot(0)
    query = AvailabilityQuery(
        service_ids=[clinic.consult.id], window=Interval(start, start.add(hours=2))
    )
    return [
        s.start for s in clinic.cb.booking.search_availability(clinic.admin, clinic.org.id, query)
    ]


class FlakyCancel(SimulatedPaymentGateway):
    """Cancelling an authorisation fails once (the provider is down), then works."""

    def __init__(self) -> None:
        super().__init__(mode="timeout")
        self.failures = 1

    def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        if self.failures:
            self.failures -= 1
            raise AdapterError("the provider is unavailable")
        return super().cancel(intent_id, idempotency_key=idempotency_key)


def test_a_failed_compensation_is_recorded_and_retried_never_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = FlakyCancel()
    clinic = make_saga_clinic(gateway=gateway, dispatch="manual")
    saga = clinic.cb.sagas.advance(clinic.request(0, discounted=True).id)
    gateway.set_mode("success")
    clinic.clock.advance(minutes=16)
    with caplog.at_level(logging.WARNING, logger="carebook.saga"):
        assert clinic.cb.sagas.resume() == {"compensating": 1}
    stuck = clinic.cb.sagas.status(clinic.admin, saga.id)
    assert (stuck.attempts, stuck.last_error) == (2, "AdapterError")  # one payment wait, one void
    assert timeline(clinic, saga.id)[-1] == "CompensationFailed"
    assert any("compensation void_payment" in r.getMessage() for r in caplog.records)
    assert clinic.cb.sagas.resume() == {"failed": 1}
    assert timeline(clinic, saga.id)[-3:] == [
        "CompensationFailed",
        "PaymentCancelled",
        "BookingFailed",
    ]
    settled(clinic)


def test_with_inline_dispatch_the_saga_events_retry_a_timed_out_payment() -> None:
    clinic = make_saga_clinic(gateway=SimulatedPaymentGateway(mode="timeout"))
    saga = clinic.request(0)  # each call times out once; delivering the events retries it
    assert saga.status is SagaStatus.CONFIRMED
    assert clinic.cb.sagas.status(clinic.admin, saga.id) == saga
    assert clinic.gateway.captured_total() == 50_000
    settled(clinic)
