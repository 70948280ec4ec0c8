"""Run-time pricing configuration: prices, the discount settings, promo codes.

Only an administrator (or the system) may change them; a patient or staff actor gets
ForbiddenError. Every change is one transaction holding the new configuration, an
audit entry (actor, time, the value before and after: prices, settings or a promo code,
never patient data) and a ``CalendarChanged`` event (entity ``pricing``). Bad input (a
float or negative price, a price in the wrong currency, an unknown promo code, a daily
quota below what today already used) raises a typed error and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs

from carebook.domain.actors import Actor
from carebook.domain.events import CalendarChanged, EventStamp
from carebook.domain.ids import LocationId, OrganisationId, ServiceId
from carebook.domain.instants import require_date
from carebook.domain.money import Money
from carebook.domain.pricing.config import PricingAuditEntry, PricingConfig, StoredPromo
from carebook.domain.pricing.prices import PriceEntry, PriceList
from carebook.domain.pricing.promo import PromoCode, normalise_code
from carebook.domain.pricing.quota import DailyQuota, quota_day
from carebook.domain.pricing.settings import PricingSettings
from carebook.domain.validators import MAX_PAGE, check_whole
from carebook.errors import ConflictError, NotFoundError, QuotaBelowUsageError, ValidationError
from carebook.ports import UnitOfWork
from carebook.serialization import dumps
from carebook.services import authz
from carebook.services.boundary import checked_api
from carebook.services.context import Deps
from carebook.services.pricing import load_pricing

__all__ = ["PricingAdmin"]

#: ``build(uow, config)`` returns the new config (or None: unchanged), the audit's subject,
#: and the value before and after as JSON.
Build = Callable[[UnitOfWork, PricingConfig], tuple[PricingConfig | None, str, str | None, str]]


def _json(value: object) -> str | None:
    return None if value is None else dumps(value)


@checked_api
class PricingAdmin:
    """``cb.pricing``: prices, discount settings and promo codes, changed at run time."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _change(
        self,
        actor: Actor,
        organisation_id: OrganisationId,
        change: str,
        build: Build,
        correlation_id: str | None,
    ) -> PricingConfig:
        authz.require_admin(actor, "change prices or discounts")
        stamp = self._deps.stamp(correlation_id)

        def work(uow: UnitOfWork) -> PricingConfig:
            if uow.calendar.get_organisation(organisation_id) is None:
                raise NotFoundError("organisation", organisation_id)
            config = load_pricing(uow, organisation_id)
            new, subject, before, after = build(uow, config)
            if new is not None:
                uow.pricing.save_config(new)
            self._audit(uow, stamp, actor, organisation_id, change, subject, before, after)
            return new or config

        config = self._deps.write(work)
        self._deps.info(stamp, "pricing %s organisation=%s", change, organisation_id)
        self._deps.after_commit()
        return config

    def _audit(
        self,
        uow: UnitOfWork,
        stamp: EventStamp,
        actor: Actor,
        organisation_id: OrganisationId,
        change: str,
        subject: str,
        before: str | None,
        after: str,
    ) -> None:
        uow.pricing.add_audit(
            PricingAuditEntry(
                id=self._deps.new_id(),
                organisation_id=organisation_id,
                at=stamp.now,
                actor_kind=actor.kind.value,
                actor_ref=actor.ref,
                change=change,
                subject=subject,
                before=before,
                after=after,
                correlation_id=stamp.correlation_id,
            )
        )
        event = CalendarChanged(
            **stamp.meta(),  # type: ignore[arg-type]
            organisation_id=organisation_id,
            entity="pricing",
            entity_id=organisation_id,
            change=change,
            actor=actor.kind.value,
        )
        uow.outbox.append([event])

    # -- reading ---------------------------------------------------------------------------
    def config(self, actor: Actor, organisation_id: OrganisationId) -> PricingConfig:
        """The organisation's pricing (the defaults if never changed); admin only."""
        authz.require_admin(actor, "read the pricing configuration")
        with self._deps.storage.unit_of_work() as uow:
            return load_pricing(uow, organisation_id)

    def audit_log(
        self, actor: Actor, organisation_id: OrganisationId, limit: int = 100
    ) -> list[PricingAuditEntry]:
        """The latest ``limit`` (1 to 10,000) changes, oldest first; admin only."""
        authz.require_admin(actor, "read the pricing audit trail")
        check_whole(limit, "limit", 1, MAX_PAGE)
        with self._deps.storage.unit_of_work() as uow:
            return uow.pricing.audit_log(organisation_id, limit)

    def quota(
        self, actor: Actor, organisation_id: OrganisationId, day: dt.date | None = None
    ) -> DailyQuota:
        """A day's discount quota (default: today in the quota zone); admin only."""
        authz.require_admin(actor, "read the discount quota")
        if day is not None:
            require_date(day, "day")
        with self._deps.storage.unit_of_work() as uow:
            settings = load_pricing(uow, organisation_id).settings
            day = day or quota_day(self._deps.clock.now(), settings.quota_timezone)
            used = uow.pricing.quota_used(organisation_id, day)
        return DailyQuota(day=day, limit=max(settings.daily_quota, used), used=used)

    # -- prices ------------------------------------------------------------------------------
    def set_price(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        service_id: ServiceId,
        price: Money,
        location_id: LocationId | None = None,
        correlation_id: str | None = None,
    ) -> PricingConfig:
        """Set a service's base price, or (with ``location_id``) its price there."""
        authz.require_admin(actor, "change prices or discounts")
        entry = PriceEntry(service_id=service_id, price=price, location_id=location_id)

        def build(
            uow: UnitOfWork, config: PricingConfig
        ) -> tuple[PricingConfig, str, str | None, str]:
            service = uow.calendar.get_service(service_id)
            if service is None or service.organisation_id != organisation_id:
                raise NotFoundError("service", service_id)
            if location_id is not None:
                location = uow.calendar.get_location(location_id)
                if location is None or location.organisation_id != organisation_id:
                    raise NotFoundError("location", location_id)
            prices = config.price_list or PriceList(currency=service.price.currency)
            if location_id is None and price.currency != prices.currency:
                raise ValidationError(
                    f"the price list charges {prices.currency}: price must be in {prices.currency}"
                )
            old = next(
                (
                    e
                    for e in prices.entries
                    if (e.location_id, e.service_id) == (location_id, service_id)
                ),
                None,
            )
            new_list = prices.with_price(service_id, price, location_id=location_id)
            subject = f"price:{service_id}" + (f"@{location_id}" if location_id else "")
            return config.changed(price_list=new_list), subject, _json(old), dumps(entry)

        return self._change(actor, organisation_id, "price_set", build, correlation_id)

    def set_price_list(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        price_list: PriceList,
        correlation_id: str | None = None,
    ) -> PricingConfig:
        """Replace the whole price list (currencies per location included)."""

        def build(
            _: UnitOfWork, config: PricingConfig
        ) -> tuple[PricingConfig, str, str | None, str]:
            before = _json(config.price_list)
            return config.changed(price_list=price_list), "price_list", before, dumps(price_list)

        return self._change(actor, organisation_id, "price_list_replaced", build, correlation_id)

    # -- discount settings ---------------------------------------------------------------------
    def update_settings(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        correlation_id: str | None = None,
        **changes: Any,
    ) -> PricingConfig:
        """Change any :class:`PricingSettings` fields (``percentage``, ``threshold``,
        ``combine``, ``on_quota_exhausted``, ``daily_quota``, ``quota_timezone``).

        A ``daily_quota`` below the discounted bookings today already has raises
        :class:`~carebook.errors.QuotaBelowUsageError`."""
        authz.require_admin(actor, "change prices or discounts")
        known = {a.name for a in attrs.fields(PricingSettings)}
        unknown = set(changes) - known
        if unknown or not changes:
            raise ValidationError(f"name pricing settings to change, from {sorted(known)}")

        def build(
            uow: UnitOfWork, config: PricingConfig
        ) -> tuple[PricingConfig, str, str | None, str]:
            settings = attrs.evolve(config.settings, **changes)
            day = quota_day(self._deps.clock.now(), settings.quota_timezone)
            used = uow.pricing.quota_used(organisation_id, day)
            if settings.daily_quota < used:
                raise QuotaBelowUsageError(
                    f"a daily quota of {settings.daily_quota} is below the {used} discounted "
                    f"bookings already made on {day}"
                )
            before, after = dumps(config.settings), dumps(settings)
            return config.changed(settings=settings), "settings", before, after

        return self._change(actor, organisation_id, "settings_changed", build, correlation_id)

    def set_percentage(
        self, actor: Actor, *, organisation_id: OrganisationId, percentage: object
    ) -> PricingConfig:
        """R1's percentage (a Decimal, int or numeric string; floats are refused)."""
        return self.update_settings(actor, organisation_id=organisation_id, percentage=percentage)

    def set_threshold(
        self, actor: Actor, *, organisation_id: OrganisationId, threshold: object
    ) -> PricingConfig:
        """R1's threshold in major units of the clinic's currency."""
        return self.update_settings(actor, organisation_id=organisation_id, threshold=threshold)

    def set_daily_quota(
        self, actor: Actor, *, organisation_id: OrganisationId, daily_quota: int
    ) -> PricingConfig:
        """R2's discounted bookings per day (not below what today already used)."""
        return self.update_settings(actor, organisation_id=organisation_id, daily_quota=daily_quota)

    # -- promo codes ---------------------------------------------------------------------------
    def _promo_change(
        self,
        actor: Actor,
        organisation_id: OrganisationId,
        change: str,
        edit: Callable[[StoredPromo | None], StoredPromo],
        code: str,
        correlation_id: str | None,
    ) -> StoredPromo:
        saved: list[StoredPromo] = []

        def build(uow: UnitOfWork, _: PricingConfig) -> tuple[None, str, str | None, str]:
            old = uow.pricing.get_promo(organisation_id, code)
            new = edit(old)
            uow.pricing.save_promo(new)
            saved.append(new)
            return None, f"promo:{new.code}", _json(old), dumps(new)

        self._change(actor, organisation_id, change, build, correlation_id)
        return saved[0]

    def create_promo_code(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        promo: PromoCode,
        correlation_id: str | None = None,
    ) -> StoredPromo:
        """Add a promo code; ConflictError if the organisation already has that code."""

        def edit(old: StoredPromo | None) -> StoredPromo:
            if old is not None:
                raise ConflictError(f"promo code {promo.code} already exists")
            return StoredPromo(organisation_id=organisation_id, promo=promo)

        return self._promo_change(
            actor, organisation_id, "promo_created", edit, promo.code, correlation_id
        )

    def disable_promo_code(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        code: str,
        correlation_id: str | None = None,
    ) -> StoredPromo:
        """Stop a promo code from applying (it then acts as unknown); NotFoundError if
        the organisation has no such code."""
        code = normalise_code(code)

        def edit(old: StoredPromo | None) -> StoredPromo:
            if old is None:
                raise NotFoundError("promo code", code)
            return attrs.evolve(old, active=False)

        return self._promo_change(
            actor, organisation_id, "promo_disabled", edit, code, correlation_id
        )
