"""The booking saga: three bookings, their event timelines, and the pricing audit trail.

Run it with ``python examples/booking_saga.py``. Memory storage, the simulated payment
gateway and a fixed ManualClock (Monday 2 June 2025, 11:30 in Mumbai) make the output
the same on every run.

1. An administrator sets the day's discount quota (audited).
2. Maya books a Facial and a Peel (INR 1,100.00, above R1's threshold of 1,000.00): the
   saga prices it 12% off, reserves a unit of the day's quota, takes the payment and
   confirms the booking.
3. Jon books the same pair; his card is declined: the saga compensates (quota unit
   released, slot hold released) and the booking fails.
4. The administrator lowers the quota to what today has used (lowering it further is
   refused), and Ravi's discounted request is refused at once with
   ``discount_quota_exhausted``: nothing held, priced or charged.

carebook stores ids, never names: the ``NAMES`` map below is the host application's.
The price comes from the saga's record (``cb.sagas.status``, an authorised query), not
from the events: events carry no amounts or discounts, since a discount on a small total
would tell every reader that today is the patient's birthday. The timeline is the saga's
own record too, and shows the discount quota steps that never reach the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pendulum

from carebook import (
    Actor,
    CarebookConfig,
    Event,
    ManualClock,
    Money,
    PatientId,
    RuleRejectedError,
    bootstrap,
)
from carebook.payments import BookingSaga, RequestBooking, SimulatedPaymentGateway
from carebook.pricing import QuotaBelowUsageError
from carebook.scheduling import WeeklyHours, WorkingPlan

ZONE = "Asia/Kolkata"
NAMES: dict[PatientId, str] = {}

clock = ManualClock(pendulum.datetime(2025, 6, 2, 11, 30, tz=ZONE))
gateway = SimulatedPaymentGateway(mode="success")
cb = bootstrap(CarebookConfig(notifiers=()), clock=clock, payment_gateway=gateway)
admin = Actor.admin("ops-anna")


def money(amount: int) -> str:
    return Money(amount, "INR").format()


def local(instant: pendulum.DateTime) -> str:
    return instant.in_timezone(ZONE).format("HH:mm:ss")


def detail(event: Event) -> str:
    """The fields worth reading, per event type (ids stay out of the way)."""
    fields: dict[str, Callable[[Any], str]] = {
        "AppointmentHeld": lambda e: f"until {local(e.expires_at)}",
        "DiscountQuotaReserved": lambda e: f"quota day {e.quota_day}",
        "DiscountQuotaReleased": lambda e: f"quota day {e.quota_day}",
        "PaymentCompleted": lambda e: f"intent {e.intent_id}",
        "AppointmentBooked": lambda e: f"status {e.status}",
        "PaymentFailed": lambda e: f"reason {e.reason}",
        "CompensationTriggered": lambda e: f"reason {e.reason}",
        "AppointmentCancelled": lambda e: f"reason {e.reason}",
        "BookingFailed": lambda e: f"reason {e.reason}",
    }
    show = fields.get(event.type)
    return show(event) if show else ""


def show(title: str, saga: BookingSaga) -> None:
    print(f"\n{title}")
    reason = f" ({saga.failure_reason})" if saga.failure_reason else ""
    print(f"   status   {saga.status.value}{reason}")
    record = cb.sagas.status(admin, saga.id)  # the price lives on the saga's record
    print(
        f"   price    base {money(record.base_amount)}, to pay {money(record.amount)}, "
        f"discount {record.discount_policy}"
    )
    for event in cb.sagas.timeline(admin, saga.id):
        print(f"   {local(event.occurred_at)}   {event.type:<22} {detail(event)}".rstrip())


# -- the clinic ----------------------------------------------------------------------------
org = cb.admin.create_organisation(admin, name="Sea Breeze Skin Clinic", min_notice=60)
mumbai = cb.admin.add_location(
    admin,
    organisation_id=org.id,
    name="Bandra",
    timezone=ZONE,
    opening_hours=WeeklyHours.every_day("09:00-19:00"),
)
doctor = cb.admin.add_practitioner(
    admin,
    organisation_id=org.id,
    name="Dr Meera Rao",
    plans=[WorkingPlan(location_id=mumbai.id, hours=WeeklyHours.every_day("10:00-18:00"))],
)
facial, peel = (
    cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name=name,
        duration=30,
        price=Money(price, "INR"),
        practitioner_ids={doctor.id},
    )
    for name, price in (("Facial", 60_000), ("Peel", 50_000))
)
for name in ("Maya", "Jon", "Ravi"):
    NAMES[cb.admin.register_patient(admin, organisation_id=org.id).id] = name
maya, jon, ravi = list(NAMES)


def request(patient: PatientId, hour: int) -> BookingSaga:
    command = RequestBooking(
        location_id=mumbai.id,
        practitioner_id=doctor.id,
        patient_id=patient,
        service_ids=[facial.id, peel.id],
        start=pendulum.datetime(2025, 6, 3, hour, tz=ZONE),
        idempotency_key=f"{NAMES[patient].lower()}-tuesday",
    )
    return cb.sagas.request(Actor.patient(patient), command)


print("Booking saga demo: Sea Breeze Skin Clinic, Bandra (Mumbai), Monday 2 June 2025")
cb.pricing.set_daily_quota(admin, organisation_id=org.id, daily_quota=2)
print("   the discount quota is 2 bookings a day (days start at midnight, Asia/Kolkata)")

# -- 1. paid and confirmed -----------------------------------------------------------------
show("1. Maya: Facial + Peel, INR 1100.00, paid", request(maya, 10))

# -- 2. declined and compensated -----------------------------------------------------------
clock.advance(minutes=2)
gateway.set_mode("fail")
show("2. Jon: the same services, card declined", request(jon, 11))
gateway.set_mode("success")

# -- 3. the day's quota used up ------------------------------------------------------------
clock.advance(minutes=2)
print("\n3. Ravi: the same services, once the day's discount quota is used up")
used = cb.pricing.quota(admin, org.id)
try:
    cb.pricing.set_daily_quota(admin, organisation_id=org.id, daily_quota=0)
except QuotaBelowUsageError as refusal:
    print(
        f"   today used {used.used} of {used.limit}: "
        f"a quota of 0 is refused ({refusal.reason_code})"
    )
cb.pricing.set_daily_quota(admin, organisation_id=org.id, daily_quota=1)
print("   the administrator sets it to 1: used up")
captured = gateway.captured_total()
try:
    request(ravi, 12)
except RuleRejectedError as refusal:
    print(f"   refused  {refusal.reason_code}")
holds = cb.queries.patient_appointments(admin, ravi)
charged = money(gateway.captured_total() - captured)
print(f"   nothing stored or charged: {len(holds)} holds, no timeline, {charged} charged")

# -- the money and the audit trail -----------------------------------------------------------
print("\nPayments (the gateway's ledger)")
for entry in gateway.ledger:
    print(f"   {entry.kind.value:<11} {money(entry.amount)}")
print(f"   net captured {money(gateway.net_captured())}")

print("\nPricing audit trail")
for change in cb.pricing.audit_log(admin, org.id):
    before = json.loads(change.before or "{}").get("daily_quota")
    after = json.loads(change.after or "{}").get("daily_quota")
    print(
        f"   {local(change.at)}   {change.change:<16} by {change.actor_kind}:{change.actor_ref}"
        f"   daily_quota {before} -> {after}"
    )
