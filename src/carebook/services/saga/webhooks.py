"""A payment provider's webhook, applied to its booking saga once.

1. The signature is verified over the raw body (HMAC-SHA256, timestamp tolerance; see
   :mod:`carebook.domain.payments.webhooks`); nothing unsigned is parsed.
2. The saga is found by the intent id, or through the intent's ``saga_id`` metadata
   (asked of the gateway) when the saga never learnt the intent (a timed-out call).
3. In one transaction the provider's event id is recorded in the inbox (a duplicate
   stops here) and the status is remembered on the saga; a status never moves
   backwards, so events may come in any order.
4. The saga is moved on: the gateway (the source of truth) is asked again by the step
   that runs. A saga that already failed gets its late success voided: an authorisation
   cancelled, a capture refunded; never a booking confirmed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final

from attrs import frozen

from carebook.domain.ids import EventId, SagaId
from carebook.domain.payments.payment import PaymentStatus
from carebook.domain.payments.saga import NO_MONEY_HELD, BookingSaga, SagaStatus
from carebook.domain.payments.webhooks import verify_and_parse
from carebook.errors import ConfigurationError, ConflictError, NotFoundError
from carebook.ports import UnitOfWork
from carebook.services.saga.runtime import SagaRuntime
from carebook.services.saga.steps import void_payment

__all__ = ["WEBHOOK_CONSUMER", "WebhookOutcome", "handle_webhook"]

WEBHOOK_CONSUMER: Final = "payment_webhook"
"""The inbox consumer name under which provider event ids are recorded."""
_NAMESPACE = uuid.UUID("5b0c7c55-2a41-4f4e-9a53-4c6f6f6b6d65")


@frozen
class WebhookOutcome:
    """``applied``, ``duplicate`` (seen before) or ``ignored`` (no saga of ours), the
    saga's id and status afterwards."""

    result: str
    saga_id: SagaId | None = None
    status: SagaStatus | None = None


def _find(rt: SagaRuntime, intent_id: str) -> BookingSaga | None:
    with rt.deps.storage.unit_of_work() as uow:
        saga = uow.sagas.by_intent(intent_id)
    if saga is not None:
        return saga
    try:
        intent = rt.require_gateway().retrieve(intent_id)
    except NotFoundError:
        return None  # not a payment of this gateway's
    try:
        saga_id = SagaId(uuid.UUID(intent.metadata.get("saga_id", "")))
    except ValueError:
        return None
    with rt.deps.storage.unit_of_work() as uow:
        return uow.sagas.get(saga_id)


def handle_webhook(
    rt: SagaRuntime,
    advance: Callable[[SagaId], BookingSaga],
    body: bytes,
    signature: str | None,
) -> WebhookOutcome:
    """Verify, deduplicate and apply one webhook (see the module)."""
    secret = rt.settings.webhook_secret
    if secret is None:
        raise ConfigurationError("set saga_options={'webhook_secret': ...} to accept webhooks")
    event = verify_and_parse(
        body, signature, secret, now=rt.deps.clock.now(), tolerance=rt.settings.webhook_tolerance
    )
    found = _find(rt, event.intent_id)
    if found is None:
        return WebhookOutcome("ignored")
    inbox_id = EventId(uuid.uuid5(_NAMESPACE, event.event_id))
    stamp = rt.stamp(found)

    def work(uow: UnitOfWork) -> BookingSaga | None:
        if not uow.inbox.record(WEBHOOK_CONSUMER, inbox_id):
            return None
        current = uow.sagas.get(found.id)
        assert current is not None
        seen = current.observe(event.status, event.intent_id).touched(stamp)
        uow.sagas.update(seen)
        return seen

    for attempt in range(3):  # another coordinator may move the saga meanwhile
        try:
            saga = rt.deps.write(work)
            break
        except ConflictError:
            if attempt == 2:
                raise
    if saga is None:
        with rt.deps.storage.unit_of_work() as uow:
            current = uow.sagas.get(found.id) or found
        return WebhookOutcome("duplicate", current.id, current.status)
    rt.info(saga, "webhook %s applied to saga=%s", event.type, saga.id)
    if saga.status is SagaStatus.FAILED and event.status not in NO_MONEY_HELD:
        if event.status is not PaymentStatus.PENDING:
            void_payment(rt, saga)  # a late success: never confirmed, given back
        rt.deps.after_commit()
        saga = advance(saga.id)
    elif not saga.finished:
        saga = advance(saga.id)
    return WebhookOutcome("applied", saga.id, saga.status)
