"""The booking saga as a pure state machine: where a booking stands, what comes next.

A saga starts when a booking is requested (the slot is held, the price calculated and,
for a discounted price, one unit of the day's discount quota reserved) and ends
``confirmed`` or ``failed``::

    awaiting_payment --paid, booking confirmed--> confirmed
          |  declined, timed out, hold lost
          v
    compensating --discount released, hold released, payment voided--> failed

Every change returns ``(new_saga, events)`` with the version bumped; nothing here reads
a clock or calls a gateway. :meth:`BookingSaga.next_action` tells the coordinator
(:mod:`carebook.services.saga.service`) what to do next. Gateway idempotency keys are derived
from the saga id and the step (:meth:`BookingSaga.key`), so a retried step never acts
twice at the payment provider.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
from attrs import frozen

from carebook.domain import events as ev
from carebook.domain.ids import AppointmentId, LocationId, OrganisationId, PatientId, SagaId
from carebook.domain.payments.payment import PaymentIntent, PaymentStatus, later_status
from carebook.domain.validators import to_enum, to_frozenset
from carebook.errors import InvalidTransitionError

__all__ = [
    "NO_MONEY_HELD",
    "BookingSaga",
    "Compensation",
    "SagaAction",
    "SagaStatus",
]


class SagaStatus(enum.StrEnum):
    """Where a booking saga stands; ``confirmed`` and ``failed`` are final."""

    AWAITING_PAYMENT = "awaiting_payment"
    COMPENSATING = "compensating"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class Compensation(enum.StrEnum):
    """The compensation steps, in the order they run."""

    RELEASE_DISCOUNT = "release_discount"
    RELEASE_HOLD = "release_hold"
    VOID_PAYMENT = "void_payment"


class SagaAction(enum.StrEnum):
    """What the coordinator does next for a saga (``none``: it is finished)."""

    PAY = "pay"
    TIME_OUT = "time_out"
    RELEASE_DISCOUNT = "release_discount"
    RELEASE_HOLD = "release_hold"
    VOID_PAYMENT = "void_payment"
    FAIL = "fail"
    NONE = "none"


NO_MONEY_HELD = frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.REFUNDED})
"""Payment statuses that leave nothing to cancel or refund."""

_A = SagaStatus.AWAITING_PAYMENT
_C = SagaStatus.COMPENSATING


def _status(value: object) -> SagaStatus:
    return to_enum(SagaStatus, value, "status")


def _payment(value: object) -> PaymentStatus | None:
    return None if value is None else to_enum(PaymentStatus, value, "payment_status")


def _compensations(value: object) -> frozenset[Compensation]:
    return frozenset(to_enum(Compensation, v, "compensated") for v in to_frozenset(value))  # type: ignore[arg-type]


@frozen(kw_only=True)
class BookingSaga:
    """One booking's saga: ids, the price, the payment, and how far it got.

    ``amount`` (to pay) and ``base_amount`` are minor units of ``currency``;
    ``discount`` is the applied discount's reason code (``birthday``, ``high_value``,
    ``promo_code``...) and ``discount_policy`` the policy that gave it. The price and
    the discount stay on this record, read through an authorised query
    (``cb.sagas.status``); no event carries them, since a discount on a small total
    says that today is the patient's birthday. ``quota_day`` is set when a unit
    of that day's discount quota was reserved, ``promo_code`` when a promo use was
    recorded. ``payment_deadline`` bounds the wait for the payment. ``compensated``
    holds the compensation steps already done. Ids and codes only: no patient data.
    """

    id: SagaId
    organisation_id: OrganisationId
    location_id: LocationId
    patient_id: PatientId
    appointment_id: AppointmentId
    correlation_id: str
    idempotency_key: str
    request_fingerprint: str
    status: SagaStatus = attrs.field(converter=_status)
    base_amount: int
    amount: int
    currency: str
    discount: str | None = attrs.field(default=None, repr=False)
    discount_policy: str | None = None
    promo_code: str | None = None
    quota_day: dt.date | None = None
    requested_at: pendulum.DateTime
    payment_deadline: pendulum.DateTime
    updated_at: pendulum.DateTime
    intent_id: str | None = None
    payment_status: PaymentStatus | None = attrs.field(default=None, converter=_payment)
    failure_reason: str | None = None
    compensated: frozenset[Compensation] = attrs.field(factory=frozenset, converter=_compensations)
    attempts: int = 0
    last_error: str | None = None
    version: int = 1

    # -- queries ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.status in (SagaStatus.CONFIRMED, SagaStatus.FAILED)

    @property
    def discounted(self) -> bool:
        return self.discount is not None

    def key(self, step: str) -> str:
        """The payment idempotency key of ``step`` (``authorise``, ``capture``...)."""
        return f"{self.id}:{step}"

    @property
    def may_hold_money(self) -> bool:
        """False only when the payment is known to have left nothing to give back."""
        return self.amount > 0 and self.payment_status not in NO_MONEY_HELD

    def next_action(self, now: dt.datetime) -> SagaAction:
        """What the coordinator must do next at ``now``."""
        if self.status is _A:
            return SagaAction.TIME_OUT if now >= self.payment_deadline else SagaAction.PAY
        if self.status is _C:
            done = self.compensated
            if Compensation.RELEASE_DISCOUNT not in done and (
                self.quota_day is not None or self.promo_code is not None
            ):
                return SagaAction.RELEASE_DISCOUNT
            if Compensation.RELEASE_HOLD not in done:
                return SagaAction.RELEASE_HOLD
            if Compensation.VOID_PAYMENT not in done and self.may_hold_money:
                return SagaAction.VOID_PAYMENT
            return SagaAction.FAIL
        return SagaAction.NONE

    # -- changes -----------------------------------------------------------------------
    def _event(self, cls: Callable[..., ev.Event], stamp: ev.EventStamp, **extra: Any) -> ev.Event:
        return cls(
            **stamp.meta(),
            organisation_id=self.organisation_id,
            saga_id=self.id,
            appointment_id=self.appointment_id,
            location_id=self.location_id,
            patient_id=self.patient_id,
            **extra,
        )

    def _evolve(self, stamp: ev.EventStamp, **changes: Any) -> BookingSaga:
        return attrs.evolve(self, version=self.version + 1, updated_at=stamp.now, **changes)

    def _require(self, *statuses: SagaStatus, action: str) -> None:
        if self.status not in statuses:
            raise InvalidTransitionError("booking saga", self.status.value, action)

    def started_events(
        self, stamp: ev.EventStamp, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[ev.Event]:
        """The events of a new saga: requested, priced and (if discounted) quota held."""
        events = [
            self._event(ev.BookingRequested, stamp, start=start, end=end),
            self._event(ev.PricingCalculated, stamp),
        ]
        if self.quota_day is not None:
            events.append(self._event(ev.DiscountQuotaReserved, stamp, quota_day=self.quota_day))
        return events

    def observe(self, status: PaymentStatus, intent_id: str | None = None) -> BookingSaga:
        """Remember what the provider said; a status never moves backwards (webhooks may
        come late, twice or out of order). No version bump: callers store it with a
        change, or with :meth:`touched`. The rule is
        :func:`~carebook.domain.payments.payment.later_status`."""
        status = later_status(self.payment_status, status)
        return attrs.evolve(self, payment_status=status, intent_id=self.intent_id or intent_id)

    def touched(self, stamp: ev.EventStamp) -> BookingSaga:
        """The same saga, as a new version (after :meth:`observe`)."""
        return self._evolve(stamp)

    def waiting(self, stamp: ev.EventStamp, error: str) -> BookingSaga:
        """A payment call failed transiently (a timeout...): try again later."""
        self._require(_A, _C, SagaStatus.FAILED, action="retry a payment for")
        return self._evolve(stamp, attempts=self.attempts + 1, last_error=error)

    def confirm(
        self, stamp: ev.EventStamp, intent: PaymentIntent | None
    ) -> tuple[BookingSaga, list[ev.Event]]:
        """Paid (``intent`` captured; None for a free booking) and the hold booked."""
        self._require(_A, action="confirm")
        new = self._with_capture(stamp, intent, status=SagaStatus.CONFIRMED, last_error=None)
        return new, [*self._completed(stamp, intent), new._event(ev.BookingConfirmed, stamp)]

    def _with_capture(
        self, stamp: ev.EventStamp, intent: PaymentIntent | None, **changes: Any
    ) -> BookingSaga:
        seen = self if intent is None else self.observe(intent.status, intent.id)
        return seen._evolve(stamp, **changes)

    def _completed(self, stamp: ev.EventStamp, intent: PaymentIntent | None) -> list[ev.Event]:
        if intent is None:
            return []
        return [self._event(ev.PaymentCompleted, stamp, intent_id=intent.id)]

    def captured_but_lost(
        self, stamp: ev.EventStamp, intent: PaymentIntent | None, reason: str
    ) -> tuple[BookingSaga, list[ev.Event]]:
        """Paid, but the hold is gone (expired, cancelled): compensate, refunding."""
        self._require(_A, action="compensate")
        new = self._with_capture(stamp, intent, status=_C, failure_reason=reason)
        trigger = new._event(ev.CompensationTriggered, stamp, reason=reason)
        return new, [*self._completed(stamp, intent), trigger]

    def payment_failed(
        self, stamp: ev.EventStamp, reason: str, intent: PaymentIntent | None = None
    ) -> tuple[BookingSaga, list[ev.Event]]:
        """Declined, or not paid in time: compensate."""
        self._require(_A, action="fail the payment of")
        seen = self if intent is None else self.observe(intent.status, intent.id)
        new = seen._evolve(stamp, status=_C, failure_reason=reason)
        return new, [
            new._event(ev.PaymentFailed, stamp, reason=reason),
            new._event(ev.CompensationTriggered, stamp, reason=reason),
        ]

    def hold_lost(self, stamp: ev.EventStamp, reason: str) -> tuple[BookingSaga, list[ev.Event]]:
        """The hold is gone before the payment was taken: compensate."""
        self._require(_A, action="compensate")
        new = self._evolve(stamp, status=_C, failure_reason=reason)
        return new, [new._event(ev.CompensationTriggered, stamp, reason=reason)]

    def _compensated(self, stamp: ev.EventStamp, step: Compensation, **changes: Any) -> BookingSaga:
        self._require(_C, action=f"run {step.value} for")
        return self._evolve(
            stamp, compensated=self.compensated | {step}, last_error=None, **changes
        )

    def discount_released(self, stamp: ev.EventStamp) -> tuple[BookingSaga, list[ev.Event]]:
        new = self._compensated(stamp, Compensation.RELEASE_DISCOUNT)
        if self.quota_day is None:
            return new, []
        return new, [new._event(ev.DiscountQuotaReleased, stamp, quota_day=self.quota_day)]

    def hold_released(self, stamp: ev.EventStamp) -> BookingSaga:
        """The appointment's own AppointmentCancelled event tells the story."""
        return self._compensated(stamp, Compensation.RELEASE_HOLD)

    def payment_voided(
        self, stamp: ev.EventStamp, intent: PaymentIntent | None
    ) -> tuple[BookingSaga, list[ev.Event]]:
        """The payment keeps nothing: ``intent`` was cancelled (an authorisation),
        refunded, declined, or there was none. Also used for a late success that
        arrives after the saga failed."""
        seen = self if intent is None else self.observe(intent.status, intent.id)
        if self.status is SagaStatus.FAILED:
            new = seen._evolve(stamp)
        else:
            new = seen._compensated(stamp, Compensation.VOID_PAYMENT)
        if intent is None:
            return new, []
        if intent.status is PaymentStatus.CANCELLED:
            return new, [new._event(ev.PaymentCancelled, stamp, intent_id=intent.id)]
        if intent.amount_refunded > 0:
            return new, [new._event(ev.PaymentRefunded, stamp, intent_id=intent.id)]
        return new, []

    def compensation_failed(
        self, stamp: ev.EventStamp, step: Compensation, error: str
    ) -> tuple[BookingSaga, list[ev.Event]]:
        """A compensation step failed: recorded (and retried later), never dropped."""
        new = self._evolve(stamp, attempts=self.attempts + 1, last_error=error)
        return new, [new._event(ev.CompensationFailed, stamp, step=step.value, reason=error)]

    def failed(self, stamp: ev.EventStamp) -> tuple[BookingSaga, list[ev.Event]]:
        """Every compensation is done: the saga ends without a booking."""
        if self.next_action(stamp.now) is not SagaAction.FAIL:
            raise InvalidTransitionError("booking saga", self.status.value, "fail")
        new = self._evolve(stamp, status=SagaStatus.FAILED)
        reason = self.failure_reason or "failed"
        return new, [new._event(ev.BookingFailed, stamp, reason=reason)]
