"""Prices, discount policies, promo codes and the daily discount quota.

The pure pricing functions, and the values an administrator sets at run time through
``cb.pricing`` (:class:`PricingAdmin`); see docs/pricing-and-payments.md.
"""

from carebook.domain.money import (
    apply_percentage,
    sum_money,
)
from carebook.domain.pricing.config import (
    PricingAuditEntry,
    PricingConfig,
    StoredPromo,
)
from carebook.domain.pricing.discounts import (
    DiscountContext,
    DiscountOffer,
    DiscountOutcome,
    DiscountPolicy,
    DiscountRejection,
    evaluate_discounts,
)
from carebook.domain.pricing.policies import (
    BirthdayOrHighValue,
    PromoCodePolicy,
    builtin_discount_policies,
    celebrates_birthday,
)
from carebook.domain.pricing.prices import (
    PriceEntry,
    PriceList,
    PriceSource,
    Quote,
    QuoteLine,
    price_appointment,
)
from carebook.domain.pricing.promo import (
    PromoCode,
    PromoKind,
    PromoRequest,
)
from carebook.domain.pricing.quota import (
    DailyQuota,
    apply_quota,
    quota_day,
)
from carebook.domain.pricing.settings import (
    CombineMode,
    PricingSettings,
    QuotaExhaustedBehaviour,
)
from carebook.errors import (
    QuotaBelowUsageError,
)
from carebook.services.admin.pricing import (
    PricingAdmin,
)

__all__ = [
    "BirthdayOrHighValue",
    "CombineMode",
    "DailyQuota",
    "DiscountContext",
    "DiscountOffer",
    "DiscountOutcome",
    "DiscountPolicy",
    "DiscountRejection",
    "PriceEntry",
    "PriceList",
    "PriceSource",
    "PricingAdmin",
    "PricingAuditEntry",
    "PricingConfig",
    "PricingSettings",
    "PromoCode",
    "PromoCodePolicy",
    "PromoKind",
    "PromoRequest",
    "QuotaBelowUsageError",
    "QuotaExhaustedBehaviour",
    "Quote",
    "QuoteLine",
    "StoredPromo",
    "apply_percentage",
    "apply_quota",
    "builtin_discount_policies",
    "celebrates_birthday",
    "evaluate_discounts",
    "price_appointment",
    "quota_day",
    "sum_money",
]
