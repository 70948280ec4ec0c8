"""Requesting a booking: the saga's first step, in one transaction.

The slot is held, the price calculated (the patient's facts, a promo code, the
organisation's settings and every discount policy) and, for a discounted price, one
unit of the day's discount quota reserved. A refusal (a reservation rule, an unknown
promo code, the quota used up under ``reject``) raises and changes nothing.
"""

from __future__ import annotations

import hashlib

import attrs
import pendulum
from attrs import frozen

from carebook.domain import ids, validators
from carebook.domain.actors import Actor
from carebook.domain.ids import LocationId, PatientId, PractitionerId, SagaId, ServiceId
from carebook.domain.instants import require_aware
from carebook.domain.payments.saga import BookingSaga, SagaStatus
from carebook.domain.pricing.config import PricingConfig
from carebook.domain.pricing.prices import Quote, price_appointment
from carebook.domain.pricing.promo import PromoRequest, normalise_code
from carebook.domain.pricing.quota import apply_quota, quota_day
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.rules import BookingRequest
from carebook.errors import (
    ConflictError,
    IdempotencyConflictError,
    RuleRejectedError,
    SlotUnavailableError,
    ValidationError,
)
from carebook.ports import UnitOfWork
from carebook.services import authz, reservations
from carebook.services.pricing import load_pricing
from carebook.services.saga.runtime import COMMITTED, SagaRuntime, emit

__all__ = ["RequestBooking", "request_booking"]

PROMO_POLICY = "promo_code"


def _promo(value: object) -> str | None:
    return None if value is None else normalise_code(value)


def _start(value: object) -> pendulum.DateTime:
    return require_aware(value, "start")


@frozen(kw_only=True)
class RequestBooking:
    """Book a slot through the payment saga: hold, price, pay, confirm.

    ``promo_code`` is optional (compared case-insensitively). Retrying with the same
    ``idempotency_key`` and request returns the same saga; the same key with another
    request is an IdempotencyConflictError.
    """

    location_id: LocationId = attrs.field(converter=ids.location_id, validator=ids.is_id)
    practitioner_id: PractitionerId = attrs.field(
        converter=ids.practitioner_id, validator=ids.is_id
    )
    patient_id: PatientId = attrs.field(converter=ids.patient_id, validator=ids.is_id)
    service_ids: tuple[ServiceId, ...] = attrs.field(converter=ids.service_ids)
    start: pendulum.DateTime = attrs.field(converter=_start)
    idempotency_key: str = attrs.field(validator=validators.idempotency_key)
    promo_code: str | None = attrs.field(default=None, converter=_promo)


def _fingerprint(cmd: RequestBooking) -> str:
    from carebook.serialization import dumps

    return hashlib.sha256(dumps(attrs.evolve(cmd, idempotency_key="-")).encode()).hexdigest()


def _promo_request(
    uow: UnitOfWork, config: PricingConfig, cmd: RequestBooking
) -> PromoRequest | None:
    if cmd.promo_code is None:
        return None
    stored = uow.pricing.get_promo(config.organisation_id, cmd.promo_code)
    if stored is None or not stored.active:
        return PromoRequest(code=cmd.promo_code)  # acts as unknown: promo_unknown
    uses, mine = uow.pricing.promo_usage(config.organisation_id, cmd.promo_code, cmd.patient_id)
    return PromoRequest(code=cmd.promo_code, definition=stored.promo, uses=uses, patient_uses=mine)


def _hold_and_price(
    rt: SagaRuntime, uow: UnitOfWork, cmd: RequestBooking, saga_id: SagaId, now: pendulum.DateTime
) -> tuple[Appointment, Quote, PricingConfig, pendulum.Date | None]:
    patient, calendar = reservations.load_booking(uow, cmd.patient_id, cmd.location_id)
    request = BookingRequest(
        location_id=cmd.location_id,
        practitioner_id=cmd.practitioner_id,
        patient_id=cmd.patient_id,
        service_ids=cmd.service_ids,
        start=cmd.start,
    )

    def until_paid(draft: Appointment) -> Appointment:
        """Held while the payment may still complete."""
        settings = rt.settings
        minutes = settings.payment_timeout_minutes + settings.confirm_grace_minutes
        return attrs.evolve(draft, hold_expires_at=now.add(minutes=minutes))

    hold = reservations.reserve(uow, rt.deps, calendar, request, now, finish=until_paid)
    config = load_pricing(uow, calendar.organisation.id)
    services = [calendar.service(s) for s in cmd.service_ids]
    quote = price_appointment(
        config.prices_for(services),
        calendar.location(cmd.location_id),
        services,
        now=now,
        patient=patient.facts,
        promo=_promo_request(uow, config, cmd),
        policies=rt.policies,
        settings=config.settings,
    )
    day = None
    if quote.discounted:
        pricing = config.settings
        wanted = quota_day(now, pricing.quota_timezone)
        limit = pricing.daily_quota
        granted = uow.pricing.reserve_quota(config.organisation_id, wanted, limit, saga_id)
        quote = apply_quota(
            quote, day=wanted, limit=limit, granted=granted, on_exhausted=pricing.on_quota_exhausted
        )
        day = wanted if granted else None
    return hold, quote, config, day


def request_booking(
    rt: SagaRuntime, actor: Actor, cmd: RequestBooking, correlation_id: str | None = None
) -> BookingSaga:
    """Start a booking saga (see the module); returns the saga as stored."""
    if not isinstance(cmd, RequestBooking):
        raise ValidationError(f"expected a RequestBooking, got {type(cmd).__name__}")
    rt.require_gateway()
    deps = rt.deps
    stamp = deps.stamp(correlation_id)
    authz.require_may_book(actor, cmd.patient_id, cmd.location_id)
    key = f"{cmd.patient_id}/{cmd.idempotency_key}"
    digest = _fingerprint(cmd)
    replayed: list[BookingSaga] = []

    def work(uow: UnitOfWork) -> BookingSaga:
        existing = uow.sagas.by_idempotency_key(key)
        if existing is not None:
            if existing.request_fingerprint != digest:
                raise IdempotencyConflictError("this idempotency key was used for another request")
            replayed.append(existing)
            return existing
        saga_id = SagaId(deps.new_id())
        hold, quote, config, day = _hold_and_price(rt, uow, cmd, saga_id, stamp.now)
        promo_used = quote.discounted and any(d.policy == PROMO_POLICY for d in quote.discounts)
        if promo_used:
            assert cmd.promo_code is not None
            uow.pricing.record_promo_use(
                config.organisation_id, cmd.promo_code, cmd.patient_id, saga_id
            )
        discount = quote.discount
        saga = BookingSaga(
            id=saga_id,
            organisation_id=config.organisation_id,
            location_id=cmd.location_id,
            patient_id=cmd.patient_id,
            appointment_id=hold.id,
            correlation_id=stamp.correlation_id,
            idempotency_key=key,
            request_fingerprint=digest,
            status=SagaStatus.AWAITING_PAYMENT,
            base_amount=quote.base_total.amount,
            amount=quote.final_total.amount,
            currency=quote.currency,
            discount=discount.reason_code if discount is not None else None,
            discount_policy=discount.policy if discount is not None else None,
            promo_code=cmd.promo_code if promo_used else None,
            quota_day=day,
            requested_at=stamp.now,
            payment_deadline=stamp.now.add(minutes=rt.settings.payment_timeout_minutes),
            updated_at=stamp.now,
        )
        requested, *priced = saga.started_events(stamp, hold.start, hold.end)
        uow.sagas.add(saga)
        emit(uow, saga, [requested, hold.booked_event(stamp), *priced])
        return saga

    try:
        saga = deps.write(work)
    except (SlotUnavailableError, RuleRejectedError, ConflictError) as refusal:
        # A concurrent retry of this very request may have won; return its saga.
        if isinstance(refusal, IdempotencyConflictError):
            raise
        with deps.storage.unit_of_work() as uow:
            winner = uow.sagas.by_idempotency_key(key)
        if winner is None or winner.request_fingerprint != digest:
            raise
        return winner
    if replayed:
        return saga
    # No amount or discount in the log: a discount on a small total is a birthday.
    deps.info(stamp, "booking requested saga=%s appointment=%s", saga.id, saga.appointment_id)
    rt.crashpoint(COMMITTED)
    return saga
