"""R2, the daily discount quota, as pure decisions.

A quota day is a **calendar day in the configured zone** (``PricingSettings.quota_timezone``,
default ``Asia/Kolkata``), and local **midnight is the boundary**: 23:59:59.999 and
00:00:00 local fall on different days, whatever the zone's UTC offset (+05:30 for
Kolkata) or daylight saving. The atomic reservation itself belongs to the storage; this
module says which day an instant counts against, what a count allows, and
(:func:`apply_quota`) what a booking is charged once the storage has answered.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import attrs
import pendulum
from attrs import frozen

from carebook.domain.instants import require_aware, zone
from carebook.domain.pricing.prices import Quote
from carebook.domain.pricing.settings import QuotaExhaustedBehaviour
from carebook.domain.validators import to_enum
from carebook.errors import RuleRejectedError, ValidationError

__all__ = ["QUOTA_EXHAUSTED", "DailyQuota", "apply_quota", "quota_day"]

QUOTA_EXHAUSTED: Final = "discount_quota_exhausted"


def quota_day(instant: dt.datetime, zone_name: str) -> pendulum.Date:
    """The calendar date ``instant`` falls on in ``zone_name`` (its quota day key)."""
    local = require_aware(instant, "instant").in_timezone(zone(zone_name))
    return pendulum.Date(local.year, local.month, local.day)


def _day(_: object, __: attrs.Attribute[dt.date], value: object) -> None:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError("a quota day must be a date (not a datetime)")


def _count(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{attribute.name} must be a whole number, zero or more")


@frozen(kw_only=True)
class DailyQuota:
    """One day's discount quota: ``used`` of ``limit`` discounted bookings.

    ``used`` never exceeds ``limit``: lowering a limit below what a day has already used
    is a ValidationError, so nothing already granted is taken back.
    """

    day: dt.date = attrs.field(validator=_day)
    limit: int = attrs.field(validator=_count)
    used: int = attrs.field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        if self.used > self.limit:
            raise ValidationError(
                f"a quota of {self.limit} is below the {self.used} already used on {self.day}"
            )

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    @property
    def can_reserve(self) -> bool:
        return self.used < self.limit

    def reserve(self) -> DailyQuota:
        """One more used; RuleRejectedError ``discount_quota_exhausted`` if none is left."""
        if not self.can_reserve:
            raise _exhausted(self.limit, self.day)
        return attrs.evolve(self, used=self.used + 1)

    def release(self) -> DailyQuota:
        """One fewer used (a compensation); ValidationError if nothing is reserved."""
        if self.used == 0:
            raise ValidationError(f"nothing is reserved on {self.day} to release")
        return attrs.evolve(self, used=self.used - 1)

    def with_limit(self, limit: int) -> DailyQuota:
        """The same day with another limit (ValidationError if below ``used``)."""
        return attrs.evolve(self, limit=limit)


def apply_quota(
    quote: Quote,
    *,
    day: dt.date,
    limit: int,
    granted: bool,
    on_exhausted: QuotaExhaustedBehaviour | str,
) -> Quote:
    """The quote to charge, once the storage was asked for one unit of ``day``'s quota
    of ``limit`` for a discounted quote (``granted``: it had one left).

    A quote without a discount, or one whose unit was granted, comes back unchanged. An
    exhausted quota either raises RuleRejectedError ``discount_quota_exhausted``
    (``reject``) or returns the quote at full price (``proceed_without_discount``).
    """
    behaviour = to_enum(QuotaExhaustedBehaviour, on_exhausted, "on_exhausted")
    if not quote.discounted or granted:
        return quote
    if behaviour is QuotaExhaustedBehaviour.REJECT:
        raise _exhausted(limit, day)
    return quote.without_discount()


def _exhausted(limit: int, day: dt.date) -> RuleRejectedError:
    return RuleRejectedError(QUOTA_EXHAUSTED, f"the discount quota of {limit} for {day} is used up")
