"""Run-time pricing configuration: admin only, audited in the same transaction, bad input
refused with typed errors and nothing changed; patient facts never leak."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from carebook import Actor, Money, RuleRejectedError
from carebook.domain.events import CalendarChanged
from carebook.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaBelowUsageError,
    ValidationError,
)
from carebook.pricing import PromoCode
from carebook.serialization import dumps, event_to_json
from carebook.testing.saga_world import SagaClinic, make_saga_clinic

ADMIN = Actor.admin("admin-jo")


def snapshot(clinic: SagaClinic) -> tuple[object, ...]:
    """Everything a pricing change may touch."""
    org = clinic.org.id
    with clinic.cb.storage.unit_of_work() as uow:
        promo = uow.pricing.get_promo(org, "SPRING")
    return (
        clinic.cb.pricing.config(ADMIN, org),
        clinic.cb.pricing.audit_log(ADMIN, org),
        promo,
        len(clinic.cb.publisher.published),  # type: ignore[attr-defined]
    )


def test_each_change_is_applied_audited_and_announced() -> None:
    clinic = make_saga_clinic()
    org, pricing = clinic.org.id, clinic.cb.pricing
    published = clinic.cb.publisher.published  # type: ignore[attr-defined]
    seen = len(published)
    pricing.set_price(
        ADMIN, organisation_id=org, service_id=clinic.consult.id, price=Money(60_000, "INR")
    )
    pricing.set_price(
        ADMIN,
        organisation_id=org,
        service_id=clinic.consult.id,
        location_id=clinic.loc.id,
        price=Money(55_000, "INR"),
    )
    pricing.set_percentage(ADMIN, organisation_id=org, percentage="15")
    pricing.set_threshold(ADMIN, organisation_id=org, threshold=Decimal("1200.00"))
    pricing.set_daily_quota(ADMIN, organisation_id=org, daily_quota=40)
    pricing.update_settings(
        ADMIN,
        organisation_id=org,
        combine="sum_capped",
        on_quota_exhausted="proceed_without_discount",
    )
    pricing.create_promo_code(ADMIN, organisation_id=org, promo=PromoCode.percent_off("spring", 5))
    pricing.disable_promo_code(ADMIN, organisation_id=org, code="Spring")

    config = pricing.config(ADMIN, org)
    settings = config.settings
    assert (settings.percentage, settings.threshold, settings.daily_quota) == (
        Decimal(15),
        Decimal("1200.00"),
        40,
    )
    assert (settings.combine.value, settings.on_quota_exhausted.value) == (
        "sum_capped",
        "proceed_without_discount",
    )
    assert config.version == 6
    log = pricing.audit_log(ADMIN, org)
    assert [e.change for e in log] == [
        "price_set",
        "price_set",
        *["settings_changed"] * 4,
        "promo_created",
        "promo_disabled",
    ]
    assert all(
        (e.actor_kind, e.actor_ref, e.at) == ("admin", "admin-jo", clinic.clock.now()) for e in log
    )
    assert (log[0].before, json.loads(log[0].after or "")["price"]) == (
        None,
        {"amount": 60_000, "currency": "INR"},
    )
    assert json.loads(log[2].before or "")["percentage"] == "12"
    assert json.loads(log[2].after or "")["percentage"] == "15"
    assert (
        json.loads(log[7].before or "")["active"] is True
        and json.loads(log[7].after or "")["active"] is False
    )
    announced = [e for e in published[seen:] if isinstance(e, CalendarChanged)]
    assert [(e.entity, e.change) for e in announced] == [("pricing", e.change) for e in log]
    # The next booking is priced with the new list: the location's override wins.
    assert clinic.request(0).amount == 55_000
    with pytest.raises(RuleRejectedError) as disabled:
        clinic.request(1, promo="spring")
    assert disabled.value.reason_code == "promo_unknown"


def _changes(clinic: SagaClinic) -> dict[str, Callable[[Actor], object]]:
    org, pricing = clinic.org.id, clinic.cb.pricing
    return {
        "set_price": lambda a: pricing.set_price(
            a, organisation_id=org, service_id=clinic.consult.id, price=Money(1, "INR")
        ),
        "set_percentage": lambda a: pricing.set_percentage(a, organisation_id=org, percentage=50),
        "set_threshold": lambda a: pricing.set_threshold(a, organisation_id=org, threshold=1),
        "set_daily_quota": lambda a: pricing.set_daily_quota(a, organisation_id=org, daily_quota=1),
        "update_settings": lambda a: pricing.update_settings(
            a, organisation_id=org, combine="sum_capped"
        ),
        "create_promo_code": lambda a: pricing.create_promo_code(
            a, organisation_id=org, promo=PromoCode.percent_off("HACK", 90)
        ),
        "disable_promo_code": lambda a: pricing.disable_promo_code(
            a, organisation_id=org, code="SPRING"
        ),
    }


@pytest.mark.parametrize("who", ["patient", "staff"])
def test_patients_and_staff_may_not_change_pricing_and_nothing_changes(who: str) -> None:
    clinic = make_saga_clinic()
    clinic.cb.pricing.create_promo_code(
        ADMIN, organisation_id=clinic.org.id, promo=PromoCode.percent_off("SPRING", 5)
    )
    actor = Actor.patient(clinic.patients[0].id) if who == "patient" else Actor.staff(clinic.loc.id)
    before = snapshot(clinic)
    for name, change in _changes(clinic).items():
        with pytest.raises(ForbiddenError):
            change(actor)
        assert snapshot(clinic) == before, name
    for read in (clinic.cb.pricing.config, clinic.cb.pricing.audit_log, clinic.cb.pricing.quota):
        with pytest.raises(ForbiddenError):
            read(actor, clinic.org.id)


def bad(value: object) -> Any:
    """A value of the wrong type, passed on as a careless caller would."""
    return value


BAD: dict[str, tuple[type[Exception], Callable[[SagaClinic], object]]] = {
    "negative price": (
        ValidationError,
        lambda c: c.cb.pricing.set_price(
            ADMIN, organisation_id=c.org.id, service_id=c.consult.id, price=Money(-1, "INR")
        ),
    ),
    "float price": (  # a wrong Python type: the boundary's TypeError, naming the parameter
        TypeError,
        lambda c: c.cb.pricing.set_price(
            ADMIN, organisation_id=c.org.id, service_id=c.consult.id, price=bad(12.5)
        ),
    ),
    "float money": (ValidationError, lambda c: Money(bad(12.5), "INR")),
    "wrong currency": (
        ValidationError,
        lambda c: c.cb.pricing.set_price(
            ADMIN, organisation_id=c.org.id, service_id=c.consult.id, price=Money(100, "EUR")
        ),
    ),
    "unknown service": (
        NotFoundError,
        lambda c: c.cb.pricing.set_price(
            ADMIN, organisation_id=c.org.id, service_id=bad(c.org.id), price=Money(100, "INR")
        ),
    ),
    "unknown organisation": (
        NotFoundError,
        lambda c: c.cb.pricing.set_daily_quota(ADMIN, organisation_id=bad(c.loc.id), daily_quota=5),
    ),
    "float percentage": (
        ValidationError,
        lambda c: c.cb.pricing.set_percentage(ADMIN, organisation_id=c.org.id, percentage=12.5),
    ),
    "percentage above 100": (
        ValidationError,
        lambda c: c.cb.pricing.set_percentage(ADMIN, organisation_id=c.org.id, percentage=101),
    ),
    "negative threshold": (
        ValidationError,
        lambda c: c.cb.pricing.set_threshold(ADMIN, organisation_id=c.org.id, threshold=-1),
    ),
    "negative quota": (
        ValidationError,
        lambda c: c.cb.pricing.set_daily_quota(ADMIN, organisation_id=c.org.id, daily_quota=-1),
    ),
    "float quota": (
        TypeError,
        lambda c: c.cb.pricing.set_daily_quota(
            ADMIN, organisation_id=c.org.id, daily_quota=bad(2.0)
        ),
    ),
    "quota below today's use": (
        QuotaBelowUsageError,
        lambda c: c.cb.pricing.set_daily_quota(ADMIN, organisation_id=c.org.id, daily_quota=1),
    ),
    "unknown setting": (
        ValidationError,
        lambda c: c.cb.pricing.update_settings(ADMIN, organisation_id=c.org.id, discount=5),
    ),
    "unknown mode": (
        ValidationError,
        lambda c: c.cb.pricing.update_settings(ADMIN, organisation_id=c.org.id, combine="all"),
    ),
    "unknown promo code": (
        NotFoundError,
        lambda c: c.cb.pricing.disable_promo_code(ADMIN, organisation_id=c.org.id, code="NOSUCH"),
    ),
    "duplicate promo code": (
        ConflictError,
        lambda c: c.cb.pricing.create_promo_code(
            ADMIN, organisation_id=c.org.id, promo=PromoCode.percent_off("spring", 9)
        ),
    ),
    "promo not a PromoCode": (
        TypeError,
        lambda c: c.cb.pricing.create_promo_code(
            ADMIN, organisation_id=c.org.id, promo=bad("SPRING")
        ),
    ),
    "unknown promo at booking": (RuleRejectedError, lambda c: c.request(3, promo="NOSUCH")),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_a_typed_error_and_changes_nothing(case: str) -> None:
    clinic = make_saga_clinic()
    clinic.cb.pricing.create_promo_code(
        ADMIN, organisation_id=clinic.org.id, promo=PromoCode.percent_off("SPRING", 5)
    )
    clinic.request(0, discounted=True)
    clinic.request(1, discounted=True)  # today has used 2 units of the quota
    before = snapshot(clinic), clinic.cb.pricing.quota(ADMIN, clinic.org.id), len(clinic.saga_ids)
    error, change = BAD[case]
    with pytest.raises(error):
        change(clinic)
    after = snapshot(clinic), clinic.cb.pricing.quota(ADMIN, clinic.org.id), len(clinic.saga_ids)
    assert after == before


def test_a_quota_equal_to_what_today_used_is_accepted_and_then_full() -> None:
    clinic = make_saga_clinic()
    clinic.request(0, discounted=True)
    clinic.cb.pricing.set_daily_quota(ADMIN, organisation_id=clinic.org.id, daily_quota=1)
    with pytest.raises(RuleRejectedError):
        clinic.request(1, discounted=True)


BIRTH = dt.date(1987, 6, 2)  # planted: today (2 June in Kolkata) is her birthday
# "birthday" as a reason would tell her birthday: only the policy name may show
# (``birthday_or_high_value``, the same for every R1 discount).
PLANTED = re.compile(r"1987-06-02|female|FEMALE|(?<!\w)birthday(?!\w)")


def test_patient_facts_never_reach_events_logs_audit_or_messages(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clinic = make_saga_clinic()
    with caplog.at_level(logging.DEBUG):
        her = clinic.cb.admin.register_patient(
            ADMIN, organisation_id=clinic.org.id, sex="female", birth_date=BIRTH
        )
        assert her.facts.birth_date == BIRTH and "female" not in repr(her)
        clinic.patients[0] = her  # slot 0 is now hers
        saga = clinic.request(0)  # a Consult, below the threshold: the birthday discount
        assert (saga.discount, saga.amount) == ("birthday", 44_000)
        clinic.cb.pricing.set_percentage(ADMIN, organisation_id=clinic.org.id, percentage=20)
        messages = []
        for bad in ({"sex": "female-1987-06-02"}, {"birth_date": "1987-06-02"}, {"sex": 1987}):
            # a wrong value is a ValidationError; a wrong Python type, the boundary's TypeError
            with pytest.raises((ValidationError, TypeError)) as refusal:
                clinic.cb.admin.register_patient(ADMIN, organisation_id=clinic.org.id, **bad)
            messages.append(str(refusal.value))
    events = clinic.cb.sagas.timeline(ADMIN, saga.id) + list(clinic.cb.publisher.published)  # type: ignore[attr-defined]
    texts: dict[str, Any] = {
        "events": [event_to_json(e) for e in events],
        "logs": [r.getMessage() for r in caplog.records],
        "audit": [dumps(e) for e in clinic.cb.pricing.audit_log(ADMIN, clinic.org.id)],
        "reprs": [repr(saga), repr(her), repr(her.facts)],
    }
    assert len(messages) == 3 and not [m for m in messages if "1987" in m]  # never echoed
    for where, lines in texts.items():
        for line in lines:
            leaked = PLANTED.findall(line)
            assert not leaked, (where, leaked, line)
