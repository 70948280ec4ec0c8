"""The PaymentGateway contract: idempotency, status transitions, refund limits.

The ``gateway`` fixture yields a fresh gateway that **approves** authorisations (a
provider's sandbox with an always-approved test card; for the simulated gateway, mode
``success``). Everything is checked through the port itself, ``retrieve`` included, so
the suite runs against any provider.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from carebook.domain.payments.payment import PaymentIntent, PaymentStatus
from carebook.errors import (
    IdempotencyConflictError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
)
from carebook.ports import PaymentGateway

__all__ = ["PaymentGatewayContract"]

AMOUNT = 12_345
META = {"appointment_id": "3f0c8a52-0000-4000-8000-000000000001", "step": "pay"}


class PaymentGatewayContract:
    """Every PaymentGateway adapter passes these tests; override the ``gateway`` fixture."""

    @pytest.fixture
    def gateway(self) -> Iterator[PaymentGateway]:
        """The gateway under test, approving authorisations; the adapter overrides this."""
        raise NotImplementedError("override the 'gateway' fixture in your test class")

    @staticmethod
    def authorise(gateway: PaymentGateway, key: str = "auth-1", **kw: Any) -> PaymentIntent:
        args: dict[str, Any] = {"amount": AMOUNT, "currency": "EUR", "metadata": dict(META)}
        return gateway.authorise(idempotency_key=key, **(args | kw))

    @classmethod
    def captured(cls, gateway: PaymentGateway, key: str = "auth-1") -> PaymentIntent:
        intent = cls.authorise(gateway, key)
        return gateway.capture(intent.id, idempotency_key=f"{key}-capture")

    # -- shape ----------------------------------------------------------------------------

    def test_gateway_satisfies_the_payment_gateway_protocol(self, gateway: PaymentGateway) -> None:
        assert isinstance(gateway, PaymentGateway)

    def test_authorise_holds_the_amount(self, gateway: PaymentGateway) -> None:
        intent = self.authorise(gateway)
        assert intent.status is PaymentStatus.AUTHORISED
        assert (intent.amount, intent.currency) == (AMOUNT, "EUR")
        assert intent.idempotency_key == "auth-1"
        assert intent.metadata == META
        assert (intent.amount_captured, intent.amount_refunded) == (0, 0)
        assert gateway.retrieve(intent.id) == intent

    def test_different_keys_make_different_intents(self, gateway: PaymentGateway) -> None:
        assert self.authorise(gateway, "a").id != self.authorise(gateway, "b").id

    # -- idempotency ----------------------------------------------------------------------

    def test_the_same_key_and_parameters_return_the_same_intent(
        self, gateway: PaymentGateway
    ) -> None:
        first = self.authorise(gateway)
        again = self.authorise(gateway)
        assert again.id == first.id
        assert again.status is PaymentStatus.AUTHORISED

    @pytest.mark.parametrize(
        "changed",
        [{"amount": AMOUNT + 1}, {"currency": "USD"}, {"metadata": {"appointment_id": "other"}}],
    )
    def test_the_same_key_with_other_parameters_is_a_conflict(
        self, gateway: PaymentGateway, changed: dict[str, Any]
    ) -> None:
        first = self.authorise(gateway)
        with pytest.raises(IdempotencyConflictError):
            self.authorise(gateway, **changed)
        assert gateway.retrieve(first.id) == first

    def test_a_key_used_for_one_operation_cannot_be_reused_for_another(
        self, gateway: PaymentGateway
    ) -> None:
        intent = self.authorise(gateway)
        with pytest.raises(IdempotencyConflictError):
            gateway.capture(intent.id, idempotency_key="auth-1")
        assert gateway.retrieve(intent.id).status is PaymentStatus.AUTHORISED

    def test_a_repeated_capture_charges_once(self, gateway: PaymentGateway) -> None:
        intent = self.authorise(gateway)
        first = gateway.capture(intent.id, idempotency_key="cap-1")
        again = gateway.capture(intent.id, idempotency_key="cap-1")
        assert first.status is again.status is PaymentStatus.CAPTURED
        assert gateway.retrieve(intent.id).amount_captured == AMOUNT

    def test_a_repeated_refund_refunds_once(self, gateway: PaymentGateway) -> None:
        intent = self.captured(gateway)
        gateway.refund(intent.id, amount=1_000, idempotency_key="ref-1")
        gateway.refund(intent.id, amount=1_000, idempotency_key="ref-1")
        assert gateway.retrieve(intent.id).amount_refunded == 1_000
        with pytest.raises(IdempotencyConflictError):
            gateway.refund(intent.id, amount=2_000, idempotency_key="ref-1")
        assert gateway.retrieve(intent.id).amount_refunded == 1_000

    def test_concurrent_retries_of_one_key_make_one_intent(self, gateway: PaymentGateway) -> None:
        ids: list[str] = []
        lock = threading.Lock()

        def pay() -> None:
            intent = self.authorise(gateway, "race")
            with lock:
                ids.append(intent.id)

        threads = [threading.Thread(target=pay) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(ids) == 8
        assert len(set(ids)) == 1

    # -- transitions ----------------------------------------------------------------------

    def test_capture_charges_the_authorised_amount(self, gateway: PaymentGateway) -> None:
        intent = self.captured(gateway)
        assert intent.status is PaymentStatus.CAPTURED
        assert intent.amount_captured == AMOUNT
        assert intent.refundable == AMOUNT

    def test_cancel_releases_an_authorised_intent(self, gateway: PaymentGateway) -> None:
        intent = self.authorise(gateway)
        cancelled = gateway.cancel(intent.id, idempotency_key="cancel-1")
        assert cancelled.status is PaymentStatus.CANCELLED
        assert cancelled.amount_captured == 0
        with pytest.raises(InvalidTransitionError):
            gateway.capture(intent.id, idempotency_key="cap-late")
        assert gateway.retrieve(intent.id).status is PaymentStatus.CANCELLED

    def test_a_captured_intent_cannot_be_captured_again_or_cancelled(
        self, gateway: PaymentGateway
    ) -> None:
        intent = self.captured(gateway)
        with pytest.raises(InvalidTransitionError):
            gateway.capture(intent.id, idempotency_key="cap-2")
        with pytest.raises(InvalidTransitionError):
            gateway.cancel(intent.id, idempotency_key="cancel-2")
        assert gateway.retrieve(intent.id) == intent

    def test_an_uncaptured_intent_cannot_be_refunded(self, gateway: PaymentGateway) -> None:
        intent = self.authorise(gateway)
        with pytest.raises(InvalidTransitionError):
            gateway.refund(intent.id, amount=1, idempotency_key="ref-early")
        assert gateway.retrieve(intent.id) == intent

    def test_partial_then_full_refund(self, gateway: PaymentGateway) -> None:
        intent = self.captured(gateway)
        part = gateway.refund(intent.id, amount=345, idempotency_key="ref-a")
        assert part.status is PaymentStatus.PARTIALLY_REFUNDED
        assert (part.amount_refunded, part.refundable) == (345, AMOUNT - 345)
        rest = gateway.refund(intent.id, amount=AMOUNT - 345, idempotency_key="ref-b")
        assert rest.status is PaymentStatus.REFUNDED
        assert rest.is_final and rest.refundable == 0

    def test_a_refund_above_what_is_refundable_is_refused(self, gateway: PaymentGateway) -> None:
        intent = self.captured(gateway)
        with pytest.raises(ValidationError):
            gateway.refund(intent.id, amount=AMOUNT + 1, idempotency_key="ref-big")
        gateway.refund(intent.id, amount=AMOUNT - 1, idempotency_key="ref-most")
        with pytest.raises(ValidationError):
            gateway.refund(intent.id, amount=2, idempotency_key="ref-over")
        assert gateway.retrieve(intent.id).amount_refunded == AMOUNT - 1
        # the refused key was not consumed: it may be used for a valid refund
        assert gateway.refund(intent.id, amount=1, idempotency_key="ref-over").is_final

    @pytest.mark.parametrize("amount", [0, -1, 10.5, True])
    def test_bad_amounts_are_validation_errors(self, gateway: PaymentGateway, amount: Any) -> None:
        with pytest.raises(ValidationError):
            self.authorise(gateway, amount=amount)
        intent = self.captured(gateway, "good")
        with pytest.raises(ValidationError):
            gateway.refund(intent.id, amount=amount, idempotency_key="ref-bad")
        assert gateway.retrieve(intent.id).amount_refunded == 0

    def test_an_unknown_intent_is_not_found(self, gateway: PaymentGateway) -> None:
        with pytest.raises(NotFoundError):
            gateway.retrieve("pi_does_not_exist")
        with pytest.raises(NotFoundError):
            gateway.capture("pi_does_not_exist", idempotency_key="cap-x")
        with pytest.raises(NotFoundError):
            gateway.refund("pi_does_not_exist", amount=1, idempotency_key="ref-x")
