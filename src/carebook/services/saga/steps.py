"""The saga's steps and compensations: each one transaction (plus at most a few payment
calls made before it), each idempotent.

A payment call carries the key of its step (``<saga id>:authorise``, ``:capture``,
``:cancel``, ``:refund``), so running a step again after a crash asks the provider the
same question and moves no money twice. A step's result is recorded with the saga's
version check: of two coordinators running one saga, one records and the other gets a
ConflictError and re-reads. Each function returns the saga as it now stands in storage
and whether it moved on (False: it has to wait, e.g. a payment call failed transiently
and is retried later).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from carebook.domain.events import Event
from carebook.domain.payments.payment import PaymentIntent, PaymentStatus
from carebook.domain.payments.saga import BookingSaga, Compensation, SagaAction
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.errors import AdapterError, CarebookError, InvalidTransitionError, RuleRejectedError
from carebook.ports import UnitOfWork
from carebook.services.saga.runtime import (
    COMMITTED,
    COMPENSATING,
    GATEWAY_CALLED,
    SagaRuntime,
    emit,
    store,
)

__all__ = ["STEPS", "Step", "void_payment"]

Step = tuple[BookingSaga, bool]
"""The saga as stored after a step, and whether it moved on."""

log = logging.getLogger("carebook.saga")
_MONEY_KEPT = (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED)


def _record(
    rt: SagaRuntime, saga: BookingSaga, change: Callable[[UnitOfWork], None], point: str
) -> None:
    rt.deps.write(change)
    rt.crashpoint(COMMITTED)
    if point != COMMITTED:
        rt.crashpoint(point)


def _save(
    rt: SagaRuntime, new: BookingSaga, events: list[Event], point: str = COMMITTED
) -> BookingSaga:
    _record(rt, new, lambda uow: store(uow, new, events), point)
    return new


def _hold_gone(rt: SagaRuntime, saga: BookingSaga) -> str | None:
    """Why the saga's hold can no longer be booked, or None if it still can."""
    with rt.deps.storage.unit_of_work() as uow:
        hold = uow.appointments.get(saga.appointment_id)
    if hold is None or hold.status is not AppointmentStatus.PROPOSED:
        return "appointment_cancelled"
    return None if hold.occupies(rt.deps.clock.now()) else "hold_expired"


def _wait(rt: SagaRuntime, saga: BookingSaga, error: Exception) -> Step:
    reason = getattr(error, "reason_code", None) or type(error).__name__
    log.warning(
        "[%s] payment for saga=%s must wait: %s",
        saga.correlation_id,
        saga.id,
        reason,
        extra={"correlation_id": saga.correlation_id},
    )
    return _save(rt, saga.waiting(rt.stamp(saga), reason), []), False


# -- forward ------------------------------------------------------------------------------
def pay(rt: SagaRuntime, saga: BookingSaga) -> Step:
    """Authorise and capture the amount, then confirm the booking (one transaction).

    A saga that waited or was retried first checks that its hold still stands (a
    patient may have cancelled it meanwhile), so that no money moves for nothing; a
    fresh one skips the read: the confirming transaction checks the hold anyway, and a
    hold gone by then is compensated with a refund."""
    gone = _hold_gone(rt, saga) if saga.version > 1 or saga.attempts else None
    if gone is not None:
        # Money may already have moved (a crash after the capture): compensation voids it.
        new, events = saga.hold_lost(rt.stamp(saga), gone)
        return _save(rt, new, events), True
    if saga.amount == 0:
        return _confirm(rt, saga, None)
    gateway = rt.require_gateway()
    try:
        intent = gateway.authorise(
            amount=saga.amount,
            currency=saga.currency,
            idempotency_key=saga.key("authorise"),
            metadata={"saga_id": str(saga.id), "appointment_id": str(saga.appointment_id)},
        )
        rt.crashpoint(GATEWAY_CALLED)
        if intent.status is PaymentStatus.AUTHORISED:
            intent = gateway.capture(intent.id, idempotency_key=saga.key("capture"))
            rt.crashpoint(GATEWAY_CALLED)
    except AdapterError as exc:  # a timeout may have acted: the same keys are retried
        return _wait(rt, saga, exc)
    if intent.status in _MONEY_KEPT:
        return _confirm(rt, saga, intent)
    if intent.status is PaymentStatus.PENDING:
        seen = saga.observe(intent.status, intent.id)
        return _wait(rt, seen, AdapterError("payment_pending"))
    reason = intent.failure_code or f"payment_{intent.status.value}"
    new, events = saga.payment_failed(rt.stamp(saga), reason, intent)
    _save(rt, new, events)
    rt.info(saga, "payment failed saga=%s reason=%s", saga.id, reason)
    return new, True


def _confirm(rt: SagaRuntime, saga: BookingSaga, intent: PaymentIntent | None) -> Step:
    stamp = rt.stamp(saga)
    outcome: list[BookingSaga] = []

    def work(uow: UnitOfWork) -> None:
        hold = uow.appointments.get(saga.appointment_id)
        try:
            if hold is None:
                raise InvalidTransitionError("appointment", "gone", "book")
            booked, booked_events = hold.finalise_hold(stamp, confirmed=True)
        except (RuleRejectedError, InvalidTransitionError) as lost:
            reason = lost.reason_code or "appointment_cancelled"
            new, events = saga.captured_but_lost(stamp, intent, reason)
            store(uow, new, events)
            outcome.append(new)
            return
        new, events = saga.confirm(stamp, intent)
        uow.sagas.update(new)
        uow.appointments.update(booked)
        emit(uow, new, [*events[:-1], *booked_events, events[-1]])
        outcome.append(new)

    _record(rt, saga, work, COMMITTED)
    stored = outcome[-1]
    rt.info(saga, "booking %s saga=%s", stored.failure_reason or "confirmed", saga.id)
    return stored, True


def time_out(rt: SagaRuntime, saga: BookingSaga) -> Step:
    """Not paid by the deadline: the booking fails (a late success is voided)."""
    new, events = saga.payment_failed(rt.stamp(saga), "payment_timeout")
    _save(rt, new, events)
    rt.info(saga, "payment timed out saga=%s", saga.id)
    return new, True


# -- compensation -------------------------------------------------------------------------
def _failed(rt: SagaRuntime, saga: BookingSaga, step: Compensation, error: Exception) -> Step:
    reason = getattr(error, "reason_code", None) or type(error).__name__
    log.warning(
        "[%s] compensation %s of saga=%s failed (%s); it will be retried",
        saga.correlation_id,
        step.value,
        saga.id,
        reason,
        extra={"correlation_id": saga.correlation_id},
    )
    new, events = saga.compensation_failed(rt.stamp(saga), step, reason)
    return _save(rt, new, events), False


def release_discount(rt: SagaRuntime, saga: BookingSaga) -> Step:
    new, events = saga.discount_released(rt.stamp(saga))

    def work(uow: UnitOfWork) -> None:
        uow.sagas.update(new)
        uow.pricing.release_quota(saga.id)
        uow.pricing.release_promo_use(saga.id)
        emit(uow, new, events)

    _record(rt, new, work, COMPENSATING)
    return new, True


def release_hold(rt: SagaRuntime, saga: BookingSaga) -> Step:
    stamp = rt.stamp(saga)
    new = saga.hold_released(stamp)

    def work(uow: UnitOfWork) -> None:
        uow.sagas.update(new)
        hold: Appointment | None = uow.appointments.get(saga.appointment_id)
        if hold is not None and hold.status is AppointmentStatus.PROPOSED:
            cancelled, events = hold.cancel(stamp, reason="booking_failed", by="system")
            uow.appointments.update(cancelled)
            emit(uow, new, events)

    _record(rt, new, work, COMPENSATING)
    return new, True


def _settle(rt: SagaRuntime, saga: BookingSaga) -> PaymentIntent:
    """The saga's payment as the provider sees it now. Without a known intent the
    authorisation is asked again with its key: it answers without acting if it was
    made, and if it never reached the provider it is made now and cancelled next."""
    gateway = rt.require_gateway()
    if saga.intent_id is not None:
        return gateway.retrieve(saga.intent_id)
    return gateway.authorise(
        amount=saga.amount,
        currency=saga.currency,
        idempotency_key=saga.key("authorise"),
        metadata={"saga_id": str(saga.id), "appointment_id": str(saga.appointment_id)},
    )


def void_payment(rt: SagaRuntime, saga: BookingSaga) -> Step:
    """Make sure the failed booking keeps no money: cancel an authorisation, refund a
    capture. Also run for a saga already failed when a late success arrives (then
    nothing is recorded unless money had to go back)."""
    step = Compensation.VOID_PAYMENT
    gateway = rt.require_gateway()
    acted = False
    try:
        intent = _settle(rt, saga)
        rt.crashpoint(GATEWAY_CALLED)
        if intent.status is PaymentStatus.AUTHORISED:
            intent = gateway.cancel(intent.id, idempotency_key=saga.key("cancel"))
            acted = True
            rt.crashpoint(GATEWAY_CALLED)
        elif intent.status in _MONEY_KEPT and intent.refundable > 0:
            intent = gateway.refund(
                intent.id, amount=intent.refundable, idempotency_key=saga.key("refund")
            )
            acted = True
            rt.crashpoint(GATEWAY_CALLED)
    except CarebookError as exc:
        return _failed(rt, saga, step, exc)
    if intent.status is PaymentStatus.PENDING:
        return _failed(rt, saga.observe(intent.status, intent.id), step, _UnsettledError())
    if saga.finished and not acted:
        return saga, False
    new, events = saga.payment_voided(rt.stamp(saga), intent)
    _save(rt, new, events, COMPENSATING)
    rt.info(saga, "payment voided saga=%s status=%s", saga.id, intent.status.value)
    return new, True


class _UnsettledError(AdapterError):
    reason_code = "payment_unsettled"


def fail(rt: SagaRuntime, saga: BookingSaga) -> Step:
    new, events = saga.failed(rt.stamp(saga))
    _save(rt, new, events)
    rt.info(saga, "booking failed saga=%s reason=%s", saga.id, new.failure_reason)
    return new, True


STEPS: dict[SagaAction, Callable[[SagaRuntime, BookingSaga], Step]] = {
    SagaAction.PAY: pay,
    SagaAction.TIME_OUT: time_out,
    SagaAction.RELEASE_DISCOUNT: release_discount,
    SagaAction.RELEASE_HOLD: release_hold,
    SagaAction.VOID_PAYMENT: void_payment,
    SagaAction.FAIL: fail,
}
"""The function that runs each action (:meth:`BookingSaga.next_action`)."""
