"""The daily discount quota and promo-code limits under concurrency, through the saga.

200 discounted bookings race against a quota of 20 from 20 threads, each with its own
database connection: exactly 20 get the discount. With ``proceed_without_discount`` the
other 180 are booked at full price; with ``reject`` they are refused with
``discount_quota_exhausted`` and leave nothing behind. A promo code limited to 10 uses,
raced for by 60 requests, is used exactly 10 times.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from carebook import Actor, RuleRejectedError
from carebook.domain.payments.saga import BookingSaga, SagaStatus
from carebook.testing.saga_world import SagaClinic, make_saga_clinic, money_problems
from carebook_sqlalchemy import SqlStorage

BOOKINGS = 200
QUOTA = 20
THREADS = 20


@pytest.fixture
def clinic(pg_url: str) -> Iterator[SagaClinic]:
    storage = SqlStorage(pg_url, migrate=True, pool_size=THREADS)
    clinic = make_saga_clinic(practitioners=10, storage=storage)
    yield clinic
    clinic.cb.close()


def _race(
    clinic: SagaClinic, bookings: int = BOOKINGS, promo: str | None = None
) -> tuple[list[BookingSaga], list[str]]:
    commands = [
        clinic.command(n, discounted=promo is None, key=f"race-{n}", promo=promo)
        for n in range(bookings)
    ]
    booked: list[BookingSaga] = []
    refused: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        start.wait()
        for command in commands[index::THREADS]:
            try:
                saga = clinic.cb.sagas.request(Actor.patient(command.patient_id), command)
            except RuleRejectedError as refusal:
                with lock:
                    refused.append(refusal.reason_code)
                continue
            with lock:
                booked.append(saga)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return booked, refused


@pytest.mark.postgres
def test_200_concurrent_discounted_bookings_get_exactly_20_discounts(clinic: SagaClinic) -> None:
    admin, org = Actor.admin(), clinic.org.id
    clinic.cb.pricing.update_settings(
        admin, organisation_id=org, daily_quota=QUOTA, on_quota_exhausted="proceed_without_discount"
    )
    booked, refused = _race(clinic)
    assert refused == [] and len(booked) == BOOKINGS
    assert all(s.status is SagaStatus.CONFIRMED for s in booked)
    discounted = [s for s in booked if s.discount is not None]
    assert len(discounted) == QUOTA
    assert {s.amount for s in discounted} == {132_000}
    assert {s.amount for s in booked if s.discount is None} == {150_000}
    assert clinic.cb.pricing.quota(admin, org).used == QUOTA
    assert money_problems(booked, clinic.gateway, settled=True) == []


@pytest.mark.postgres
def test_under_reject_the_bookings_past_the_quota_are_refused_and_leave_nothing(
    clinic: SagaClinic,
) -> None:
    admin, org = Actor.admin(), clinic.org.id
    clinic.cb.pricing.set_daily_quota(admin, organisation_id=org, daily_quota=QUOTA)
    booked, refused = _race(clinic)
    assert len(booked) == QUOTA
    assert refused == ["discount_quota_exhausted"] * (BOOKINGS - QUOTA)
    assert clinic.cb.pricing.quota(admin, org).used == QUOTA
    with clinic.cb.storage.unit_of_work() as uow:
        held = [a for p in clinic.patients for a in uow.appointments.for_patient(p.id)]
    assert len(held) == QUOTA  # the refused requests left no hold behind


@pytest.mark.postgres
def test_a_promo_code_limited_to_10_uses_is_used_exactly_10_times_under_a_race(
    clinic: SagaClinic,
) -> None:
    from carebook.pricing import PromoCode

    admin, org = Actor.admin(), clinic.org.id
    clinic.cb.pricing.create_promo_code(
        admin, organisation_id=org, promo=PromoCode.percent_off("RACE10", 10, max_uses=10)
    )
    booked, refused = _race(clinic, bookings=60, promo="RACE10")
    assert len(booked) == 10
    assert all(s.promo_code == "RACE10" and s.status is SagaStatus.CONFIRMED for s in booked)
    assert refused == ["promo_exhausted"] * 50
    with clinic.cb.storage.unit_of_work() as uow:
        assert uow.pricing.promo_usage(org, "RACE10", booked[0].patient_id)[0] == 10
