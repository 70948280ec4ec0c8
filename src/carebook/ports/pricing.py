"""The pricing storage port: :class:`PricingRepository` (configuration, promo codes and
their uses, the daily discount quota, the audit trail), reached through
:attr:`carebook.ports.storage.UnitOfWork.pricing`.

Every implementation runs :class:`carebook.testing.contracts.PricingStorageContract`.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from carebook.domain.ids import OrganisationId, PatientId, SagaId
from carebook.domain.pricing.config import PricingAuditEntry, PricingConfig, StoredPromo

__all__ = ["PricingRepository"]


class PricingRepository(Protocol):
    """Pricing configuration, promo codes and their uses, the daily discount quota, and
    the audit trail of administrators' changes.

    :meth:`reserve_quota` is atomic under concurrency in every adapter: of many writers
    racing for the last unit, exactly one gets it. Reserving and releasing are
    idempotent per saga, so a retried step never takes or gives back a unit twice.
    """

    def get_config(self, organisation_id: OrganisationId) -> PricingConfig | None: ...
    def save_config(self, config: PricingConfig) -> None:
        """Store ``config`` (version 1 inserts; version n replaces n - 1, else ConflictError)."""
        ...

    def get_promo(self, organisation_id: OrganisationId, code: str) -> StoredPromo | None:
        """The code; in a write unit of work, no other writer may count or record its
        uses until this one ends (so usage limits hold under concurrency)."""
        ...

    def save_promo(self, promo: StoredPromo) -> None:
        """Insert or replace the organisation's promo code ``promo.code``."""
        ...

    def promo_usage(
        self, organisation_id: OrganisationId, code: str, patient_id: PatientId
    ) -> tuple[int, int]:
        """How many recorded uses the code has: in total, and by this patient."""
        ...

    def record_promo_use(
        self, organisation_id: OrganisationId, code: str, patient_id: PatientId, saga_id: SagaId
    ) -> None:
        """Count one use of the code by the patient for this saga (once per saga)."""
        ...

    def release_promo_use(self, saga_id: SagaId) -> bool:
        """Forget the saga's use; False if there was none (already released)."""
        ...

    def reserve_quota(
        self, organisation_id: OrganisationId, day: dt.date, limit: int, saga_id: SagaId
    ) -> bool:
        """Take one unit of the day's discount quota for the saga, if fewer than ``limit``
        are used; False when none is left. Atomic. True without taking another unit if
        the saga already holds one."""
        ...

    def release_quota(self, saga_id: SagaId) -> bool:
        """Give back the saga's unit; False if it holds none (already released)."""
        ...

    def quota_used(self, organisation_id: OrganisationId, day: dt.date) -> int: ...
    def add_audit(self, entry: PricingAuditEntry) -> None: ...
    def audit_log(
        self, organisation_id: OrganisationId, limit: int = 100
    ) -> list[PricingAuditEntry]:
        """The organisation's audit entries, oldest first (at most ``limit``, the latest)."""
        ...
