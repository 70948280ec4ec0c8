"""Storage contract: ``uow.pricing`` (configuration, promo codes and uses, the daily
discount quota, the audit trail).

Part of :class:`~carebook.testing.contracts.storage.StorageContract`, which runs it
with every other part; subclass this class alone to run only this part:

```python
class TestMyPricing(PricingStorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        ...
```

The quota tests include a race: many threads, each in its own write unit of work, reserve
the last units of one day; exactly ``limit`` of them may succeed.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal

import pendulum
import pytest

from carebook.domain.ids import OrganisationId, SagaId
from carebook.domain.money import Money
from carebook.domain.pricing.config import PricingAuditEntry, PricingConfig, StoredPromo
from carebook.domain.pricing.prices import PriceList
from carebook.domain.pricing.promo import PromoCode
from carebook.domain.pricing.settings import PricingSettings
from carebook.errors import ConflictError, StorageError, TransientStorageError
from carebook.ports import Storage, UnitOfWork
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, StorageContractBase

__all__ = ["PricingStorageContract"]

DAY = pendulum.Date(2030, 1, 7)


def saga_id() -> SagaId:
    return SagaId(uuid.uuid4())


def audit_entry(org: OrganisationId, change: str, minute: int = 0) -> PricingAuditEntry:
    return PricingAuditEntry(
        id=uuid.uuid4(),
        organisation_id=org,
        at=NOW.add(minutes=minute),
        actor_kind="admin",
        actor_ref="admin-7",
        change=change,
        subject="settings",
        before='{"percentage":"12"}',
        after='{"percentage":"15"}',
        correlation_id=uuid.uuid4().hex,
    )


def _reserve(uow: UnitOfWork, *, org: OrganisationId, limit: int, saga: SagaId) -> bool:
    return uow.pricing.reserve_quota(org, DAY, limit, saga)


class PricingStorageContract(StorageContractBase):
    """What every adapter's ``uow.pricing`` must do."""

    # -- configuration ------------------------------------------------------------------
    def test_a_config_reads_back_equal_and_versions_guard_it(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        assert self.read(storage, lambda u: u.pricing.get_config(org)) is None
        prices = PriceList.of(
            "EUR",
            prices={clinic.service.id: Money(9_000, "EUR")},
            overrides={(clinic.location.id, clinic.service.id): Money(9_500, "EUR")},
        )
        first = PricingConfig(organisation_id=org).changed(
            settings=PricingSettings(percentage=Decimal("12.5"), daily_quota=7),
            price_list=prices,
        )
        self.write(storage, lambda u: u.pricing.save_config(first))
        assert self.read(storage, lambda u: u.pricing.get_config(org)) == first
        second = first.changed(settings=PricingSettings(threshold=500))
        self.write(storage, lambda u: u.pricing.save_config(second))
        with pytest.raises(ConflictError):
            self.write(storage, lambda u: u.pricing.save_config(first.changed()))
        assert self.read(storage, lambda u: u.pricing.get_config(org)) == second

    # -- promo codes ----------------------------------------------------------------------
    def test_promo_codes_are_found_case_insensitively_and_replaced_whole(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        promo = StoredPromo(
            organisation_id=org,
            promo=PromoCode.percent_off(
                "Monsoon", Decimal(20), valid_from=NOW, max_uses=5, min_spend=Money(100, "EUR")
            ),
        )
        self.write(storage, lambda u: u.pricing.save_promo(promo))
        assert self.read(storage, lambda u: u.pricing.get_promo(org, "monsoon")) == promo
        disabled = StoredPromo(organisation_id=org, promo=promo.promo, active=False)
        self.write(storage, lambda u: u.pricing.save_promo(disabled))
        assert self.read(storage, lambda u: u.pricing.get_promo(org, "MONSOON")) == disabled
        assert self.read(storage, lambda u: u.pricing.get_promo(org, "OTHER")) is None

    def test_promo_uses_count_once_per_saga_and_release_once(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        alice, bob = clinic.patients[0].id, clinic.patients[1].id
        first, second, third = saga_id(), saga_id(), saga_id()

        def record(u: UnitOfWork) -> None:
            u.pricing.record_promo_use(org, "SPRING", alice, first)
            u.pricing.record_promo_use(org, "spring", alice, first)  # the same saga again
            u.pricing.record_promo_use(org, "SPRING", alice, second)
            u.pricing.record_promo_use(org, "SPRING", bob, third)

        self.write(storage, record)
        assert self.read(storage, lambda u: u.pricing.promo_usage(org, "spring", alice)) == (3, 2)
        assert self.write(storage, lambda u: u.pricing.release_promo_use(first)) is True
        assert self.write(storage, lambda u: u.pricing.release_promo_use(first)) is False
        assert self.read(storage, lambda u: u.pricing.promo_usage(org, "SPRING", alice)) == (2, 1)

    # -- the daily discount quota ------------------------------------------------------
    def test_the_quota_grants_up_to_its_limit_once_per_saga(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        sagas = [saga_id() for _ in range(3)]
        granted = [
            self.write(storage, functools.partial(_reserve, org=org, limit=2, saga=s))
            for s in sagas
        ]
        assert granted == [True, True, False]
        again = self.write(storage, lambda u: u.pricing.reserve_quota(org, DAY, 2, sagas[0]))
        assert again is True  # already held: not a second unit
        assert self.read(storage, lambda u: u.pricing.quota_used(org, DAY)) == 2
        assert self.read(storage, lambda u: u.pricing.quota_used(org, DAY.add(days=1))) == 0

    def test_releasing_is_idempotent_and_frees_a_unit(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        first, second = saga_id(), saga_id()
        self.write(storage, lambda u: u.pricing.reserve_quota(org, DAY, 1, first))
        assert self.write(storage, lambda u: u.pricing.release_quota(first)) is True
        assert self.write(storage, lambda u: u.pricing.release_quota(first)) is False
        assert self.read(storage, lambda u: u.pricing.quota_used(org, DAY)) == 0
        assert self.write(storage, lambda u: u.pricing.reserve_quota(org, DAY, 1, second))

    def test_a_reservation_rolled_back_takes_nothing(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        with storage.unit_of_work(write=True) as uow:
            assert uow.pricing.reserve_quota(org, DAY, 1, saga_id())
            assert uow.pricing.quota_used(org, DAY) == 1
        assert self.read(storage, lambda u: u.pricing.quota_used(org, DAY)) == 0

    def test_racing_writers_get_exactly_the_limit(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org, limit, racers = clinic.organisation.id, 5, 16
        outcomes: list[bool] = []
        lock = threading.Lock()
        start = threading.Barrier(racers)

        def race() -> None:
            saga = saga_id()
            start.wait()
            for _ in range(50):  # transient conflicts are retried, as run_write does
                try:
                    won = self.write(
                        storage, lambda u: u.pricing.reserve_quota(org, DAY, limit, saga)
                    )
                except TransientStorageError:
                    continue
                with lock:
                    outcomes.append(bool(won))
                return

        threads = [threading.Thread(target=race) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(outcomes) == racers
        assert outcomes.count(True) == limit
        assert self.read(storage, lambda u: u.pricing.quota_used(org, DAY)) == limit

    # -- audit ---------------------------------------------------------------------------
    def test_the_audit_trail_is_kept_oldest_first(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        entries = [audit_entry(org, f"change_{n}", minute=n) for n in range(3)]
        for entry in entries:
            with storage.unit_of_work(write=True) as uow:
                uow.pricing.add_audit(entry)
                uow.commit()
        assert self.read(storage, lambda u: u.pricing.audit_log(org)) == entries
        assert self.read(storage, lambda u: u.pricing.audit_log(org, limit=2)) == entries[1:]

    def test_a_read_only_unit_of_work_changes_no_pricing(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        writes: list[Callable[[UnitOfWork], object]] = [
            lambda u: u.pricing.save_config(PricingConfig(organisation_id=org).changed()),
            lambda u: u.pricing.reserve_quota(org, DAY, 3, saga_id()),
            lambda u: u.pricing.add_audit(audit_entry(org, "x")),
        ]
        for change in writes:
            with storage.unit_of_work() as uow, pytest.raises(StorageError):
                change(uow)
        assert self.read(storage, lambda u: u.pricing.quota_used(org, DAY)) == 0
        assert self.read(storage, lambda u: u.pricing.audit_log(org)) == []
