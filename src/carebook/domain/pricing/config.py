"""An organisation's run-time pricing configuration, its promo codes, and the audit trail.

Administrators change these through :class:`carebook.services.admin.pricing.PricingAdmin`;
each change is stored with a :class:`PricingAuditEntry` in the same transaction. Audit
entries hold who (an actor kind and reference), when, and the changed value before and
after as canonical JSON: prices, settings and promo codes, never patient data.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import attrs
import pendulum
from attrs import frozen

from carebook.domain.ids import OrganisationId
from carebook.domain.pricing.prices import PriceList
from carebook.domain.pricing.promo import PromoCode
from carebook.domain.pricing.settings import PricingSettings
from carebook.domain.scheduling.calendar import Service
from carebook.domain.validators import instance_of
from carebook.errors import ValidationError

__all__ = ["PricingAuditEntry", "PricingConfig", "StoredPromo"]


def _version(_: object, __: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("a version is a whole number, zero or more")


@frozen(kw_only=True)
class PricingConfig:
    """The settings and price list of one organisation.

    ``version`` 0 means "never stored" (the defaults); each stored change adds one, and
    storage refuses a change made from a stale version. Without a price list, services
    are charged their own ``Service.price``.
    """

    organisation_id: OrganisationId
    settings: PricingSettings = attrs.field(
        factory=PricingSettings, validator=instance_of(PricingSettings)
    )
    price_list: PriceList | None = attrs.field(
        default=None, validator=instance_of((PriceList, type(None)))
    )
    version: int = attrs.field(default=0, validator=_version)

    def prices_for(self, services: Sequence[Service]) -> PriceList:
        """The price list to quote with: the stored one, or an empty list in the
        currency of the first service's own price."""
        if self.price_list is not None:
            return self.price_list
        if not services:
            raise ValidationError("an appointment needs at least one service to price")
        return PriceList(currency=services[0].price.currency)

    def changed(self, **changes: object) -> PricingConfig:
        """A new version with ``changes`` (``settings``, ``price_list``)."""
        return attrs.evolve(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


@frozen(kw_only=True)
class StoredPromo:
    """A promo code as an organisation keeps it; a disabled code acts as unknown."""

    organisation_id: OrganisationId
    promo: PromoCode = attrs.field(validator=instance_of(PromoCode))
    active: bool = True

    @property
    def code(self) -> str:
        return self.promo.code


@frozen(kw_only=True)
class PricingAuditEntry:
    """One administrator's change: who, when, what, and the value before and after
    (canonical JSON; ``None`` when there was none)."""

    id: uuid.UUID
    organisation_id: OrganisationId
    at: pendulum.DateTime
    actor_kind: str
    actor_ref: str
    change: str
    subject: str
    before: str | None
    after: str | None
    correlation_id: str
