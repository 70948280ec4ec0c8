"""The pricing repository of the memory storage: configuration, promo codes and uses,
the daily discount quota, and the audit trail.

Committed rows live in :class:`PricingTables` (one per storage); each unit of work stages
its changes in :class:`MemoryPricing` and applies them on commit. Writers hold the
storage's writer lock for their whole unit of work, so reading the quota count and
staging one more reservation cannot interleave with another writer: reserving is atomic.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from carebook.domain.ids import OrganisationId, PatientId, SagaId
from carebook.domain.pricing.config import PricingAuditEntry, PricingConfig, StoredPromo
from carebook.domain.pricing.promo import normalise_code
from carebook.errors import ConflictError

__all__ = ["MemoryPricing", "PricingTables"]

Use = tuple[OrganisationId, str, PatientId]
QuotaKey = tuple[OrganisationId, dt.date]


class PricingTables:
    """Committed pricing state of one memory storage."""

    def __init__(self) -> None:
        self.configs: dict[OrganisationId, PricingConfig] = {}
        self.promos: dict[tuple[OrganisationId, str], StoredPromo] = {}
        self.uses: dict[SagaId, Use] = {}
        self.use_counts: dict[tuple[OrganisationId, str], int] = {}
        self.patient_use_counts: dict[Use, int] = {}
        self.quota: dict[QuotaKey, int] = {}
        self.reservations: dict[SagaId, QuotaKey] = {}
        self.audit: dict[OrganisationId, list[PricingAuditEntry]] = {}

    def put_use(self, saga_id: SagaId, use: Use | None) -> None:
        old = self.uses.pop(saga_id, None)
        for found, step in ((old, -1), (use, 1)):
            if found is None:
                continue
            org, code, _ = found
            self.use_counts[(org, code)] = self.use_counts.get((org, code), 0) + step
            self.patient_use_counts[found] = self.patient_use_counts.get(found, 0) + step
        if use is not None:
            self.uses[saga_id] = use

    def put_reservation(self, saga_id: SagaId, key: QuotaKey | None) -> None:
        old = self.reservations.pop(saga_id, None)
        if old is not None:
            self.quota[old] = self.quota.get(old, 0) - 1
        if key is not None:
            self.reservations[saga_id] = key
            self.quota[key] = self.quota.get(key, 0) + 1


class MemoryPricing:
    """One unit of work's view of the pricing tables."""

    def __init__(
        self, tables: PricingTables, lock: threading.RLock, require_write: Callable[[], None]
    ) -> None:
        self._t = tables
        self._lock = lock
        self._require_write = require_write
        self._configs: dict[OrganisationId, PricingConfig] = {}
        self._promos: dict[tuple[OrganisationId, str], StoredPromo] = {}
        self._uses: dict[SagaId, Use | None] = {}
        self._reservations: dict[SagaId, QuotaKey | None] = {}
        self._audit: list[PricingAuditEntry] = []

    # -- transaction (called by MemoryUnitOfWork under the state lock) --------------
    def check(self) -> None:
        for org, config in self._configs.items():
            stored = self._t.configs.get(org)
            if (stored.version if stored else 0) != config.version - 1:
                raise ConflictError(f"the pricing of organisation {org} was changed concurrently")

    def apply(self) -> None:
        t = self._t
        t.configs.update(self._configs)
        t.promos.update(self._promos)
        for saga_id, use in self._uses.items():
            t.put_use(saga_id, use)
        for saga_id, key in self._reservations.items():
            t.put_reservation(saga_id, key)
        for entry in self._audit:
            t.audit.setdefault(entry.organisation_id, []).append(entry)

    def discard(self) -> None:
        self._configs.clear()
        self._promos.clear()
        self._uses.clear()
        self._reservations.clear()
        self._audit.clear()

    # -- configuration and promo codes ---------------------------------------------------
    def get_config(self, organisation_id: OrganisationId) -> PricingConfig | None:
        if organisation_id in self._configs:
            return self._configs[organisation_id]
        with self._lock:
            return self._t.configs.get(organisation_id)

    def save_config(self, config: PricingConfig) -> None:
        self._require_write()
        current = self.get_config(config.organisation_id)
        if (current.version if current else 0) != config.version - 1:
            raise ConflictError(
                f"the pricing of organisation {config.organisation_id} was changed concurrently"
            )
        self._configs[config.organisation_id] = config

    def get_promo(self, organisation_id: OrganisationId, code: str) -> StoredPromo | None:
        key = (organisation_id, normalise_code(code))
        if key in self._promos:
            return self._promos[key]
        with self._lock:
            return self._t.promos.get(key)

    def save_promo(self, promo: StoredPromo) -> None:
        self._require_write()
        self._promos[(promo.organisation_id, promo.code)] = promo

    # -- promo uses ----------------------------------------------------------------------
    def _use(self, saga_id: SagaId) -> Use | None:
        if saga_id in self._uses:
            return self._uses[saga_id]
        with self._lock:
            return self._t.uses.get(saga_id)

    def promo_usage(
        self, organisation_id: OrganisationId, code: str, patient_id: PatientId
    ) -> tuple[int, int]:
        code = normalise_code(code)
        with self._lock:
            total = self._t.use_counts.get((organisation_id, code), 0)
            mine = self._t.patient_use_counts.get((organisation_id, code, patient_id), 0)
            committed = {s: self._t.uses.get(s) for s in self._uses}
        for saga_id, staged in self._uses.items():
            for found, step in ((committed[saga_id], -1), (staged, 1)):
                if found is not None and found[:2] == (organisation_id, code):
                    total += step
                    mine += step if found[2] == patient_id else 0
        return total, mine

    def record_promo_use(
        self, organisation_id: OrganisationId, code: str, patient_id: PatientId, saga_id: SagaId
    ) -> None:
        self._require_write()
        if self._use(saga_id) is None:
            self._uses[saga_id] = (organisation_id, normalise_code(code), patient_id)

    def release_promo_use(self, saga_id: SagaId) -> bool:
        self._require_write()
        if self._use(saga_id) is None:
            return False
        self._uses[saga_id] = None
        return True

    # -- the daily discount quota ----------------------------------------------------------
    def _reservation(self, saga_id: SagaId) -> QuotaKey | None:
        if saga_id in self._reservations:
            return self._reservations[saga_id]
        with self._lock:
            return self._t.reservations.get(saga_id)

    def quota_used(self, organisation_id: OrganisationId, day: dt.date) -> int:
        key = (organisation_id, day)
        with self._lock:
            used = self._t.quota.get(key, 0)
            committed = {s: self._t.reservations.get(s) for s in self._reservations}
        for saga_id, staged in self._reservations.items():
            used -= committed[saga_id] == key
            used += staged == key
        return used

    def reserve_quota(
        self, organisation_id: OrganisationId, day: dt.date, limit: int, saga_id: SagaId
    ) -> bool:
        self._require_write()  # writers are serialised: the count cannot change under us
        if self._reservation(saga_id) is not None:
            return True
        if self.quota_used(organisation_id, day) >= limit:
            return False
        self._reservations[saga_id] = (organisation_id, day)
        return True

    def release_quota(self, saga_id: SagaId) -> bool:
        self._require_write()
        if self._reservation(saga_id) is None:
            return False
        self._reservations[saga_id] = None
        return True

    # -- audit ---------------------------------------------------------------------------
    def add_audit(self, entry: PricingAuditEntry) -> None:
        self._require_write()
        self._audit.append(entry)

    def audit_log(
        self, organisation_id: OrganisationId, limit: int = 100
    ) -> list[PricingAuditEntry]:
        with self._lock:
            entries = list(self._t.audit.get(organisation_id, ()))
        entries += [e for e in self._audit if e.organisation_id == organisation_id]
        return entries[-limit:] if limit > 0 else []
