"""An organisation's pricing as a use case reads it: what the saga prices with and what
the pricing admin (:mod:`carebook.services.admin.pricing`) changes."""

from __future__ import annotations

from carebook.domain.ids import OrganisationId
from carebook.domain.pricing.config import PricingConfig
from carebook.ports import UnitOfWork

__all__ = ["load_pricing"]


def load_pricing(uow: UnitOfWork, organisation_id: OrganisationId) -> PricingConfig:
    """The organisation's stored pricing, or the defaults (version 0)."""
    return uow.pricing.get_config(organisation_id) or PricingConfig(organisation_id=organisation_id)
