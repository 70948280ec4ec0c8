"""The booking saga and the pricing administration on SQL storage (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from carebook import Actor
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.payments import SagaStatus
from carebook.scheduling import Patient
from carebook.testing.saga_world import SagaClinic, make_saga_clinic, money_problems
from carebook_sqlalchemy import SqlStorage

ADMIN = Actor.admin("ops")


@pytest.fixture
def clinic(db_url: str) -> Iterator[SagaClinic]:
    clinic = make_saga_clinic(storage=SqlStorage(db_url, migrate=True))
    yield clinic
    clinic.cb.close()


def test_patient_facts_are_stored_and_read_back(clinic: SagaClinic) -> None:
    her = clinic.cb.admin.register_patient(
        ADMIN, organisation_id=clinic.org.id, sex="female", birth_date=dt.date(1987, 6, 2)
    )
    with clinic.cb.storage.unit_of_work() as uow:
        stored = uow.patients.get(her.id)
    assert isinstance(stored, Patient)
    assert stored == her and (stored.sex, stored.birth_date) == ("female", dt.date(1987, 6, 2))


def test_a_birthday_booking_is_discounted_paid_and_confirmed(clinic: SagaClinic) -> None:
    her = clinic.cb.admin.register_patient(
        ADMIN, organisation_id=clinic.org.id, sex="female", birth_date=dt.date(1987, 6, 2)
    )
    clinic.patients[0] = her  # slot 0 is hers; today (2 June in Kolkata) is her birthday
    saga = clinic.request(0)
    assert (saga.status, saga.discount, saga.amount) == (SagaStatus.CONFIRMED, "birthday", 44_000)
    types = [e.type for e in clinic.cb.sagas.timeline(Actor.patient(her.id), saga.id)]
    assert types[-3:] == ["PaymentCompleted", "AppointmentBooked", "BookingConfirmed"]
    assert clinic.cb.pricing.quota(ADMIN, clinic.org.id).used == 1
    assert clinic.cb.sagas.resume() == {}
    assert money_problems(clinic.sagas(), clinic.gateway, settled=True) == []


def test_a_declined_booking_gives_back_its_quota_and_its_promo_use(db_url: str) -> None:
    from carebook.pricing import PromoCode

    gateway = SimulatedPaymentGateway(mode="fail")
    clinic = make_saga_clinic(storage=SqlStorage(db_url, migrate=True), gateway=gateway)
    try:
        org = clinic.org.id
        clinic.cb.pricing.create_promo_code(
            ADMIN, organisation_id=org, promo=PromoCode.percent_off("ONCE", 10, max_uses=1)
        )
        failed = clinic.request(0, promo="once")
        assert (failed.status, failed.failure_reason) == (SagaStatus.FAILED, "card_declined")
        with clinic.cb.storage.unit_of_work() as uow:
            assert uow.pricing.promo_usage(org, "ONCE", failed.patient_id) == (0, 0)
            assert uow.pricing.quota_used(org, failed.requested_at.date()) == 0
        gateway.set_mode("success")
        assert clinic.request(1, promo="ONCE").status is SagaStatus.CONFIRMED
        log = clinic.cb.pricing.audit_log(ADMIN, org)
        assert [(e.change, e.actor_ref) for e in log] == [("promo_created", "ops")]
    finally:
        clinic.cb.close()
