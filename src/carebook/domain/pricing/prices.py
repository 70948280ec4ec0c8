"""Prices: a price list with per-location overrides, and the quote of one appointment.

How a service's price is found at a location (the first that exists wins):

1. a **location override** in the :class:`PriceList` for ``(location, service)``;
2. the price list's **base price** for the service;
3. the service's own ``Service.price``.

The **currency comes from the location**: ``PriceList.currency_for(location_id)`` is the
location's entry in ``location_currencies``, else the list's ``currency``. A price found
in another currency is a ValidationError (give that location an override), never a
silent conversion. Negative prices are ValidationErrors; so are floats (Money refuses
them). A :class:`Quote` lists each service's line, the base total, the discounts applied
and the final total; see :mod:`carebook.domain.pricing.discounts` for how discounts combine and
round.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence

import attrs
from attrs import frozen

from carebook.domain import ids
from carebook.domain.ids import LocationId, ServiceId
from carebook.domain.money import Money, sum_money
from carebook.domain.pricing.discounts import (
    DiscountContext,
    DiscountOffer,
    DiscountPolicy,
    combine_offers,
    evaluate_discounts,
)
from carebook.domain.pricing.promo import PromoRequest
from carebook.domain.pricing.settings import CombineMode, PricingSettings
from carebook.domain.scheduling.calendar import Location, Service
from carebook.domain.scheduling.patients import PatientFacts
from carebook.domain.validators import each, instance_of, to_enum, to_tuple
from carebook.errors import RuleRejectedError, ValidationError

__all__ = ["PriceEntry", "PriceList", "PriceSource", "Quote", "QuoteLine", "price_appointment"]


class PriceSource(enum.StrEnum):
    """Where a quote line's price came from."""

    LOCATION_OVERRIDE = "location_override"
    PRICE_LIST = "price_list"
    SERVICE = "service"


def _price(_: object, __: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError(f"a price must be Money, got {type(value).__name__}")
    if value.is_negative:
        raise ValidationError("a price cannot be negative")


@frozen(kw_only=True)
class PriceEntry:
    """One price: for ``service_id`` everywhere (``location_id=None``) or at one location."""

    service_id: ServiceId = attrs.field(converter=ids.service_id, validator=ids.is_id)
    price: Money = attrs.field(validator=_price)
    location_id: LocationId | None = attrs.field(
        default=None,
        converter=ids.optional_location_id,
        validator=attrs.validators.optional(ids.is_id),
    )


def _currency(_: object, __: attrs.Attribute[str], value: object) -> None:
    Money.zero(value)  # type: ignore[arg-type]  # Money validates type and code


def _currencies(value: object) -> tuple[tuple[LocationId, str], ...]:
    """A mapping (or pairs) of location id to currency code, as sorted pairs."""
    pairs = value.items() if isinstance(value, Mapping) else to_tuple(value)  # type: ignore[arg-type]
    out: dict[LocationId, str] = {}
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValidationError("location_currencies maps location ids to currency codes")
        location_id, code = pair
        Money.zero(code)  # validates the code
        out[location_id] = code
    return tuple(sorted(out.items(), key=lambda item: str(item[0])))


@frozen(kw_only=True)
class PriceList:
    """Base prices by service and overrides by (location, service); immutable.

    Build it with :meth:`of`; change it with :meth:`with_price`, which returns a new list.
    """

    currency: str = attrs.field(validator=_currency)
    entries: tuple[PriceEntry, ...] = attrs.field(
        default=(), converter=to_tuple, validator=each(PriceEntry)
    )
    location_currencies: tuple[tuple[LocationId, str], ...] = attrs.field(
        factory=dict, converter=_currencies
    )

    def __attrs_post_init__(self) -> None:
        seen: set[tuple[LocationId | None, ServiceId]] = set()
        for entry in self.entries:
            key = (entry.location_id, entry.service_id)
            if key in seen:
                raise ValidationError(f"service {entry.service_id} is priced twice")
            seen.add(key)
            if entry.location_id is not None:
                expected = self.currency_for(entry.location_id)
                if entry.price.currency != expected:
                    raise ValidationError(
                        f"location {entry.location_id} charges {expected}: "
                        f"its price entries must be in {expected}"
                    )

    @classmethod
    def of(
        cls,
        currency: str,
        prices: Mapping[ServiceId, Money] | None = None,
        overrides: Mapping[tuple[LocationId, ServiceId], Money] | None = None,
        location_currencies: Mapping[LocationId, str] | None = None,
    ) -> PriceList:
        """From plain mappings: ``prices[service_id]``, ``overrides[(location_id, service_id)]``."""
        entries = [PriceEntry(service_id=s, price=p) for s, p in (prices or {}).items()]
        entries += [
            PriceEntry(service_id=s, price=p, location_id=loc)
            for (loc, s), p in (overrides or {}).items()
        ]
        return cls(
            currency=currency, entries=entries, location_currencies=location_currencies or {}
        )

    def with_price(
        self, service_id: ServiceId, price: Money, *, location_id: LocationId | None = None
    ) -> PriceList:
        """A new list with this price set (replacing any for the same service and place)."""
        kept = [
            e for e in self.entries if (e.location_id, e.service_id) != (location_id, service_id)
        ]
        entry = PriceEntry(service_id=service_id, price=price, location_id=location_id)
        return attrs.evolve(self, entries=[*kept, entry])

    def currency_for(self, location_id: LocationId) -> str:
        """The currency ``location_id`` charges in."""
        return dict(self.location_currencies).get(location_id, self.currency)

    def price_for(self, location_id: LocationId, service: Service) -> tuple[Money, PriceSource]:
        """The service's price at the location and where it came from (see the module)."""
        found: dict[LocationId | None, Money] = {
            e.location_id: e.price for e in self.entries if e.service_id == service.id
        }
        if location_id in found:
            price, source = found[location_id], PriceSource.LOCATION_OVERRIDE
        elif None in found:
            price, source = found[None], PriceSource.PRICE_LIST
        else:
            price, source = service.price, PriceSource.SERVICE
        if price.is_negative:
            raise ValidationError(f"service {service.id} has a negative price")
        expected = self.currency_for(location_id)
        if price.currency != expected:
            raise ValidationError(
                f"service {service.id} is priced in {price.currency}; "
                f"location {location_id} charges {expected}"
            )
        return price, source


def _source(value: object) -> PriceSource:
    return to_enum(PriceSource, value, "source")


@frozen(kw_only=True)
class QuoteLine:
    """One service's price in a quote."""

    service_id: ServiceId
    price: Money
    source: PriceSource = attrs.field(converter=_source)


@frozen(kw_only=True)
class Quote:
    """The price of one appointment: lines, base total, discounts, final total.

    ``final_total == base_total - discount_total`` and
    ``0 <= discount_total <= base_total`` always hold (checked on construction).
    """

    location_id: LocationId
    lines: tuple[QuoteLine, ...] = attrs.field(converter=to_tuple, validator=each(QuoteLine))
    base_total: Money = attrs.field(validator=instance_of(Money))
    discounts: tuple[DiscountOffer, ...] = attrs.field(
        default=(), converter=to_tuple, validator=each(DiscountOffer)
    )
    discount_total: Money = attrs.field(validator=instance_of(Money))
    final_total: Money = attrs.field(validator=instance_of(Money))
    combine: CombineMode = CombineMode.BEST_SINGLE

    def __attrs_post_init__(self) -> None:
        if sum_money((line.price for line in self.lines), self.base_total.currency) != (
            self.base_total
        ):
            raise ValidationError("a quote's base total must be the sum of its lines")
        if not Money.zero(self.base_total.currency) <= self.discount_total <= self.base_total:
            raise ValidationError("a discount must lie between zero and the base total")
        if self.final_total != self.base_total - self.discount_total:
            raise ValidationError("a quote's final total must be base total minus discount")

    @property
    def currency(self) -> str:
        return self.base_total.currency

    @property
    def discounted(self) -> bool:
        """True when a discount applies (the saga then reserves the day's quota)."""
        return not self.discount_total.is_zero

    @property
    def discount(self) -> DiscountOffer | None:
        """The largest applied discount (the only one under ``best_single``), or None."""
        return self.discounts[0] if self.discounts else None

    def without_discount(self) -> Quote:
        """This quote at full price (the quota ran out and the settings say proceed)."""
        return attrs.evolve(
            self,
            discounts=(),
            discount_total=Money.zero(self.currency),
            final_total=self.base_total,
        )


def price_appointment(
    price_list: PriceList,
    location: Location,
    services: Sequence[Service],
    *,
    now: dt.datetime | None = None,
    patient: PatientFacts | None = None,
    promo: PromoRequest | None = None,
    policies: Iterable[DiscountPolicy] = (),
    settings: PricingSettings | None = None,
) -> Quote:
    """Price ``services`` at ``location`` and apply the ``policies``' discounts.

    Lines are in the order of ``services``. With no policies the quote is at full price
    and ``now`` may be omitted; with policies, ``now`` (an aware instant) is required.
    If any policy rejects (an unknown or expired promo code...), this raises
    :class:`~carebook.errors.RuleRejectedError` with that reason code: a code the patient
    gave is never silently ignored. Use
    :func:`~carebook.domain.pricing.discounts.evaluate_discounts`
    to inspect rejections without raising.
    """
    if not isinstance(location, Location):
        raise ValidationError(f"location must be a Location, got {type(location).__name__}")
    if not services:
        raise ValidationError("an appointment needs at least one service to price")
    settings = settings if settings is not None else PricingSettings()
    lines = []
    for service in services:
        if not isinstance(service, Service):
            raise ValidationError(f"services must be Service values, got {type(service).__name__}")
        if service.organisation_id != location.organisation_id:
            raise ValidationError(f"service {service.id} belongs to another organisation")
        price, source = price_list.price_for(location.id, service)
        lines.append(QuoteLine(service_id=service.id, price=price, source=source))
    base = sum_money((line.price for line in lines), price_list.currency_for(location.id))
    policies = tuple(policies)
    applied: tuple[DiscountOffer, ...] = ()
    discount = Money.zero(base.currency)
    if policies:
        if now is None:
            raise ValidationError("pricing with discount policies needs 'now'")
        context = DiscountContext(
            base_total=base,
            timezone=location.timezone,
            now=now,
            settings=settings,
            patient=patient,
            promo=promo,
        )
        outcome = evaluate_discounts(policies, context)
        if outcome.rejections:
            first = outcome.rejections[0]
            raise RuleRejectedError(first.reason_code, f"discount {first.policy} refused")
        applied, discount = combine_offers(outcome.offers, base, settings.combine)
    return Quote(
        location_id=location.id,
        lines=lines,
        base_total=base,
        discounts=applied,
        discount_total=discount,
        final_total=base - discount,
        combine=settings.combine,
    )
