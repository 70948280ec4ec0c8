"""Writing a carebook plugin: a reservation rule and an audit observer.

Run it with ``python examples/custom_rule_plugin.py``.

A plugin is any object (usually a module) with functions marked ``@carebook.hookimpl``
whose names match the hooks in ``carebook.hookspecs``. This one

- adds the reservation rule ``no_lunch_bookings``: nothing may be booked over the
  location's lunch hour (12:00-13:00 local time), whatever the practitioner's plan says;
  the rule also filters the availability search (its ``offered`` method), so a search
  never offers a lunch-time slot that booking would then refuse;
- observes every committed event with ``carebook_on_event`` and prints an audit line
  made of ids only (never names: events carry none).

An installed plugin is found through the ``carebook`` entry-point group (see
docs/writing-an-adapter.md); a script or a test passes it to ``make_plugin_manager``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pendulum

import carebook
from carebook import (
    Actor,
    CarebookConfig,
    Event,
    Interval,
    Money,
    RuleRejectedError,
    bootstrap,
)
from carebook.builtin.clocks import ManualClock
from carebook.hookspecs import EventContext, RuleRegister
from carebook.plugins import make_plugin_manager
from carebook.scheduling import (
    AvailabilityQuery,
    BookAppointment,
    Rejection,
    RuleContext,
    SearchContext,
    WeeklyHours,
    WorkingPlan,
)

LUNCH_START = dt.time(12, 0)
LUNCH_END = dt.time(13, 0)


class NoLunchBookings:
    """Refuse any booking whose service time overlaps the location's lunch hour."""

    code = "no_lunch_bookings"
    order = 550  # after location_closed (500), before practitioner_unavailable (600)

    def check(self, ctx: RuleContext) -> Rejection | None:
        if _over_lunch(ctx.request.start, ctx.shape.duration, ctx.location.timezone):
            return Rejection(
                self.code,
                f"location {ctx.location.id} takes no bookings between "
                f"{LUNCH_START:%H:%M} and {LUNCH_END:%H:%M}",
            )
        return None

    def offered(self, ctx: SearchContext, starts: Sequence[int]) -> Iterable[int]:
        """The same answer as ``check``, for every start of one practitioner at once."""
        zone = ctx.location.timezone
        duration = ctx.shape.duration
        return [t for t in starts if not _over_lunch(pendulum.from_timestamp(t), duration, zone)]


def _over_lunch(start: pendulum.DateTime, seconds: int, timezone: str) -> bool:
    """Whether service time ``[start, start + seconds)`` overlaps lunch, local time."""
    local = start.in_timezone(timezone)
    end = local.add(seconds=seconds)
    lunch_start = local.replace(hour=LUNCH_START.hour, minute=LUNCH_START.minute, second=0)
    lunch_end = local.replace(hour=LUNCH_END.hour, minute=LUNCH_END.minute, second=0)
    return local < lunch_end and lunch_start < end


class ClinicPolicyPlugin:
    """The plugin object: one method per hook it implements."""

    def __init__(self) -> None:
        self.audit: list[str] = []

    @carebook.hookimpl
    def carebook_register_reservation_rules(self, register: RuleRegister) -> None:
        register(NoLunchBookings())

    @carebook.hookimpl
    def carebook_on_event(self, event: Event, context: EventContext) -> None:
        # Delivery is at least once: a real audit sink would skip known event ids.
        appointment = getattr(event, "appointment_id", None)
        line = (
            f"audit[{context.instance_name}] {event.type:<20} event={str(event.event_id)[:8]} "
            f"appointment={str(appointment)[:8] if appointment else '-':<8} "
            f"correlation={event.correlation_id[:8]}"
        )
        self.audit.append(line)
        print(f"   {line}")


def main() -> None:
    plugin = ClinicPolicyPlugin()
    clock = ManualClock(pendulum.datetime(2025, 6, 2, 13, 0, tz="UTC"))  # Mon 09:00 EDT
    cb = bootstrap(
        CarebookConfig(name="lunch-demo", notifiers=()),
        plugin_manager=make_plugin_manager(plugins=[plugin]),
        clock=clock,
    )

    print("== the reservation pipeline, in order")
    for rule in cb.rules:
        marker = "   <- from the plugin" if rule.code == NoLunchBookings.code else ""
        print(f"   {rule.order:>5}  {rule.code}{marker}")

    print("\n== set-up (each change is an event the observer sees)")
    admin = Actor.admin()
    org = cb.admin.create_organisation(admin, name="Midtown Clinic")
    office = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="Midtown",
        timezone="America/New_York",
        opening_hours=WeeklyHours.every_day("08:00-18:00", weekdays=range(5)),
    )
    # No lunch break in this plan: only the plugin's rule keeps lunch free.
    doctor = cb.admin.add_practitioner(
        admin,
        organisation_id=org.id,
        name="Dr Noor Haddad",
        plans=[
            WorkingPlan(
                location_id=office.id,
                hours=WeeklyHours.every_day("09:00-17:00", weekdays=range(5)),
            )
        ],
    )
    checkup = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Check-up",
        duration=30,
        price=Money(6_000, "USD"),
        practitioner_ids={doctor.id},
    )
    patient = cb.admin.register_patient(admin, organisation_id=org.id)
    desk = Actor.staff(office.id)

    def book(hour: int, minute: int, key: str) -> None:
        start = pendulum.datetime(2025, 6, 3, hour, minute, tz=office.timezone)
        print(f"\n== book Tue {start:%H:%M} {start:%Z}")
        try:
            appointment = cb.booking.book(
                desk,
                BookAppointment(
                    location_id=office.id,
                    practitioner_id=doctor.id,
                    patient_id=patient.id,
                    service_ids=[checkup.id],
                    start=start,
                    idempotency_key=key,
                ),
            )
        except RuleRejectedError as refusal:
            print(f"   refused        reason_code={refusal.reason_code}")
            print(f"   message        {refusal.message.replace(str(office.id), office.name)}")
        else:
            print(f"   booked         status={appointment.status.value}")

    # The plugin's rule filters the search too: no lunch-time start is offered.
    window = Interval(
        pendulum.datetime(2025, 6, 3, 11, 30, tz=office.timezone),
        pendulum.datetime(2025, 6, 3, 13, 30, tz=office.timezone),
    )
    free = cb.booking.search_availability(
        desk, org.id, AvailabilityQuery(service_ids=[checkup.id], window=window)
    )
    local = ", ".join(f"{s.start.in_timezone(office.timezone):%H:%M}" for s in free)
    print(f"\n== free starts around lunch: {local}")
    print("   (the plugin's rule filters the search: nothing between 12:00 and 13:00)")

    book(12, 15, "lunch-1")
    book(11, 0, "morning-1")
    print(f"\n{len(plugin.audit)} audit lines written")
    cb.close()


if __name__ == "__main__":
    main()
