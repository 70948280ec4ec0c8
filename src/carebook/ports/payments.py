"""The payment port: :class:`PaymentGateway`, the payment-intent lifecycle.

It returns :class:`~carebook.domain.payments.payment.PaymentIntent` values (the values
and status rules live in :mod:`carebook.domain.payments.payment`). Every implementation
runs :class:`carebook.testing.contracts.PaymentGatewayContract`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from carebook.domain.payments.payment import PaymentIntent

__all__ = ["PaymentGateway"]


@runtime_checkable
class PaymentGateway(Protocol):
    """Payment-intent lifecycle; every call that changes anything carries an idempotency key.

    - ``authorise`` creates an intent (``authorised``, ``failed``, or ``pending`` when
      the outcome is not yet known); ``capture`` charges an ``authorised`` intent in
      full; ``cancel`` releases an ``authorised`` one; ``refund`` returns up to what was
      captured and not yet refunded; ``retrieve`` reads an intent as it is now.
    - The **same key with the same parameters** returns the intent and acts no second
      time; the **same key with different parameters** (or another operation) raises
      :class:`~carebook.errors.IdempotencyConflictError`.
    - A transition the status does not allow raises
      :class:`~carebook.errors.InvalidTransitionError`; an unknown intent
      :class:`~carebook.errors.NotFoundError`; a refund above what is refundable
      :class:`~carebook.errors.ValidationError`. None of them changes anything.
    - A call whose outcome is unknown raises :class:`~carebook.errors.PaymentTimeoutError`
      (an :class:`~carebook.errors.AdapterError`): the provider may have acted, so retry
      with the same key, or ``retrieve``. Other provider failures are ``AdapterError``.
    """

    def authorise(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> PaymentIntent: ...
    def capture(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...
    def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...
    def refund(self, intent_id: str, *, amount: int, idempotency_key: str) -> PaymentIntent: ...
    def retrieve(self, intent_id: str) -> PaymentIntent: ...
