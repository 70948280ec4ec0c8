"""A clinic for booking-saga tests, built through the public API.

``make_saga_clinic()`` returns a :class:`SagaClinic`: one organisation with one location
in Asia/Kolkata open around the clock, ``practitioners`` practitioners working around the
clock, a ``Consult`` (INR 500.00: no discount) and a ``Package`` (INR 1,500.00: above
R1's threshold of 1,000.00, so discounted 12%), one patient per practitioner, a
:class:`ManualClock` at :data:`T0` and a :class:`SimulatedPaymentGateway`. Slot ``n``
belongs to practitioner and patient ``n % practitioners``, so requests for different
slots never compete. Storage, gateway and dispatch mode can be chosen; calling it again
with the same storage and gateway after :meth:`SagaClinic.restart` is a process restart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pendulum

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    Money,
    bootstrap,
)
from carebook.builtin.clocks import ManualClock
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.domain.ids import OrganisationId, SagaId
from carebook.domain.payments.payment import PaymentIntent, PaymentStatus
from carebook.domain.payments.saga import BookingSaga, Compensation, SagaStatus
from carebook.ports import Storage
from carebook.scheduling import (
    Location,
    Organisation,
    Patient,
    Practitioner,
    Service,
)
from carebook.services.saga.request import RequestBooking
from carebook.testing.clinic import ClinicBuilder, open_carebook

__all__ = [
    "SECRET",
    "T0",
    "SagaClinic",
    "make_saga_clinic",
    "money_problems",
    "quota_problems",
]

T0 = pendulum.datetime(2025, 6, 2, 0, 30, tz="UTC")
"""Monday 06:00 in Kolkata (the default quota zone): quota day 2025-06-02."""
SECRET = "whsec_saga_tests"
"""The webhook secret the clinic's Carebook accepts."""
SLOT_MINUTES = 30


@attrs.define
class SagaClinic:
    cb: Carebook
    clock: ManualClock
    gateway: SimulatedPaymentGateway
    org: Organisation
    loc: Location
    practitioners: list[Practitioner]
    consult: Service
    package: Service
    patients: list[Patient]
    config: CarebookConfig
    saga_ids: list[SagaId] = attrs.field(factory=list)

    @property
    def admin(self) -> Actor:
        return Actor.admin()

    def slot(self, n: int) -> tuple[Practitioner, Patient, pendulum.DateTime]:
        count = len(self.practitioners)
        start = T0.add(days=1).start_of("day").add(minutes=SLOT_MINUTES * (n // count))
        return self.practitioners[n % count], self.patients[n % count], start

    def command(
        self, n: int, *, discounted: bool = False, key: str | None = None, promo: str | None = None
    ) -> RequestBooking:
        practitioner, patient, start = self.slot(n)
        return RequestBooking(
            location_id=self.loc.id,
            practitioner_id=practitioner.id,
            patient_id=patient.id,
            service_ids=[(self.package if discounted else self.consult).id],
            start=start,
            idempotency_key=key or f"slot-{n}-{uuid.uuid4().hex[:8]}",
            promo_code=promo,
        )

    def request(self, n: int, **kwargs: Any) -> BookingSaga:
        """Request slot ``n`` as its patient (remembered in :attr:`saga_ids`)."""
        command = self.command(n, **kwargs)
        saga = self.cb.sagas.request(Actor.patient(command.patient_id), command)
        if saga.id not in self.saga_ids:
            self.saga_ids.append(saga.id)
        return saga

    def restart(self, gateway: SimulatedPaymentGateway | None = None) -> SagaClinic:
        """A new Carebook on the same storage (and gateway, unless given): what a process
        restart keeps. Nothing in memory carries over but the storage itself."""
        gateway = gateway or self.gateway
        cb = bootstrap(
            self.config, storage=self.cb.storage, clock=self.clock, payment_gateway=gateway
        )
        return attrs.evolve(self, cb=cb, gateway=gateway)

    def sagas(self) -> list[BookingSaga]:
        """Every saga :meth:`request` started, as stored now."""
        with self.cb.storage.unit_of_work() as uow:
            found = [uow.sagas.get(saga_id) for saga_id in self.saga_ids]
        return [saga for saga in found if saga is not None]


def make_saga_clinic(
    *,
    practitioners: int = 4,
    storage: Storage | None = None,
    storage_name: str = "memory",
    storage_options: dict[str, Any] | None = None,
    gateway: SimulatedPaymentGateway | None = None,
    dispatch: str = "inline",
    saga_options: dict[str, Any] | None = None,
) -> SagaClinic:
    config = CarebookConfig(
        storage=storage_name,
        storage_options=storage_options or {},
        notifiers=(),
        publisher="recording",
        dispatch=dispatch,
        saga_options={"webhook_secret": SECRET, **(saga_options or {})},
    )
    gateway = gateway or SimulatedPaymentGateway()
    cb, clock = open_carebook(config, start=T0, storage=storage, payment_gateway=gateway)
    clinic = ClinicBuilder.create(
        cb, "Saga Clinic", min_notice=0, horizon_days=365, slot_interval=SLOT_MINUTES
    )
    loc = clinic.location("Mumbai", timezone="Asia/Kolkata", hours="00:00-24:00")
    team = [
        clinic.practitioner(f"Dr Saga {n + 1}", loc, hours="00:00-24:00")
        for n in range(practitioners)
    ]

    def service(name: str, price: int) -> Service:
        return clinic.service(
            name, practitioners=team, duration=SLOT_MINUTES, price=Money(price, "INR")
        )

    consult, package = service("Consult", 50_000), service("Package", 150_000)
    patients = clinic.patients(practitioners)
    return SagaClinic(cb, clock, gateway, clinic.org, loc, team, consult, package, patients, config)


def money_problems(
    sagas: Sequence[BookingSaga], gateway: SimulatedPaymentGateway, *, settled: bool
) -> list[str]:
    """What breaks the saga's money promises, checked against the gateway's ledger:
    no intent captured twice, a confirmed saga keeps exactly its amount, a failed one
    keeps nothing and holds no authorisation, and (``settled``: after a resume) every
    saga is finished and what was captured net equals the confirmed bookings."""
    problems: list[str] = []
    by_saga: dict[str, list[PaymentIntent]] = {}
    for intent in gateway.intents():
        by_saga.setdefault(intent.metadata.get("saga_id", ""), []).append(intent)
    captures: dict[str, int] = {}
    for entry in gateway.ledger:
        if entry.kind is PaymentStatus.CAPTURED:
            captures[entry.intent_id] = captures.get(entry.intent_id, 0) + 1
    problems += [f"intent {i} captured {n} times" for i, n in captures.items() if n > 1]
    for saga in sagas:
        intents = by_saga.get(str(saga.id), [])
        kept = sum(i.amount_captured - i.amount_refunded for i in intents)
        if len(intents) > 1:
            problems.append(f"saga {saga.id} has {len(intents)} payment intents")
        if saga.status is SagaStatus.CONFIRMED and kept != saga.amount:
            problems.append(f"confirmed saga {saga.id} keeps {kept}, not {saga.amount}")
        if saga.status is SagaStatus.FAILED:
            if kept != 0:
                problems.append(f"failed saga {saga.id} keeps {kept}")
            if any(i.status is PaymentStatus.AUTHORISED for i in intents):
                problems.append(f"failed saga {saga.id} still holds an authorisation")
        if kept not in (0, saga.amount):
            problems.append(f"saga {saga.id} keeps {kept} of {saga.amount}")
        if settled and not saga.finished:
            problems.append(f"saga {saga.id} is unfinished ({saga.status.value})")
    if settled:
        confirmed = sum(s.amount for s in sagas if s.status is SagaStatus.CONFIRMED)
        if gateway.net_captured("INR") != confirmed:
            problems.append(f"net captured {gateway.net_captured('INR')} != confirmed {confirmed}")
    return problems


def quota_problems(
    sagas: Sequence[BookingSaga], used: Callable[[OrganisationId, dt.date], int]
) -> list[str]:
    """The quota used each day equals the units held by sagas (reserved and not yet
    released); a failed saga holds none. Once every saga is settled, that is the number
    of confirmed discounted bookings."""
    problems: list[str] = []
    held: dict[tuple[OrganisationId, dt.date], int] = {}
    for saga in sagas:
        if saga.quota_day is None:
            continue
        key = (saga.organisation_id, saga.quota_day)
        holding = Compensation.RELEASE_DISCOUNT not in saga.compensated
        held[key] = held.get(key, 0) + holding
        if holding and saga.status is SagaStatus.FAILED:
            problems.append(f"failed saga {saga.id} kept its quota unit")
    for (org, day), count in held.items():
        if used(org, day) != count:
            problems.append(f"quota of {day} used {used(org, day)}, held by {count} sagas")
    return problems
