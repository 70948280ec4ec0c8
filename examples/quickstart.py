"""carebook in five minutes: a two-city clinic, from set-up to the event timeline.

Run it with ``python examples/quickstart.py`` (or ``--db clinic.db`` to keep the
database). It stores everything in SQLite, the embedded default, through the
carebook-sqlalchemy adapter; a fresh database file and a fixed ManualClock (Monday 2 June
2025, 09:00 in New York) make the output the same on every run.

What it shows, in order:

1. set up an organisation with offices in New York and Chicago, practitioners,
   services (one needs a hydrotherapy pool) and patients;
2. search free slots and print them in each office's local time;
3. book one (a patient's own booking waits for reception to confirm it);
4. try to book the same slot for someone else and print the refusal's reason code;
5. hold a slot, then turn the hold into a booking;
6. cancel;
7. print the event timeline (the outbox, as published) and the notifications sent.

carebook stores ids, never names: the host application keeps the ``NAMES`` map below,
and so does the printing here.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from pathlib import Path

import pendulum

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    Interval,
    ManualClock,
    Money,
    RuleRejectedError,
    UnknownAdapterError,
    bootstrap,
)
from carebook.builtin.notifiers import RecordingNotifier
from carebook.builtin.publishers import RecordingPublisher
from carebook.scheduling import (
    Appointment,
    AvailabilityQuery,
    BookAppointment,
    CancelAppointment,
    HoldSlot,
    PatientKind,
    Slot,
    WeeklyHours,
    WorkingPlan,
)

WEEKDAYS = range(5)  # Monday to Friday
NAMES: dict[uuid.UUID, str] = {}
"""What the host application knows and carebook does not: people's names."""

ZONES: dict[uuid.UUID, str] = {}
"""Each location's IANA time zone, for printing times the way the office reads them."""


def name(ident: uuid.UUID) -> str:
    return NAMES.get(ident, str(ident)[:8])


def local(slot: Slot) -> str:
    start, end = slot.in_timezone(ZONES[slot.location_id])
    return f"{start.format('ddd D MMM')}  {start.format('HH:mm')}–{end.format('HH:mm')}"


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 74 - len(text)))


def show(appointment: Appointment) -> None:
    start = appointment.start.in_timezone(ZONES[appointment.location_id])
    print(
        f"   {name(appointment.id):<14} {appointment.status.value:<10} "
        f"{start.format('ddd HH:mm zz'):<14} {name(appointment.practitioner_id):<16} "
        f"for {name(appointment.patient_id)}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="carebook in five minutes")
    parser.add_argument("--db", help="SQLite file to use (default: a fresh temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        run(args.db or str(Path(scratch) / "quickstart.db"))


def run(db_path: str) -> None:
    # Monday 2 June 2025, 13:00 UTC = 09:00 in New York = 08:00 in Chicago.
    clock = ManualClock(pendulum.datetime(2025, 6, 2, 13, 0, tz="UTC"))
    config = CarebookConfig(
        storage="sqlalchemy",
        storage_options={"url": f"sqlite:///{db_path}", "migrate": True},
        publisher="recording",
        notifiers=("recording",),
    )
    try:
        cb = bootstrap(config, clock=clock)
    except UnknownAdapterError:
        raise SystemExit(
            "the SQLite storage comes with the adapter: pip install -e adapters/carebook-sqlalchemy"
        ) from None
    try:
        tour(cb, clock)
    finally:
        cb.close()


def tour(cb: Carebook, clock: ManualClock) -> None:
    admin = Actor.admin()

    heading("1. Set up the clinic")
    print("   storage        SQLite file, through the carebook-sqlalchemy adapter")
    org = cb.admin.create_organisation(admin, name="Lakeside Physio", min_notice=60)
    nyc = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="Manhattan",
        timezone="America/New_York",
        opening_hours=WeeklyHours.every_day("08:00-18:00", weekdays=WEEKDAYS),
    )
    chi = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="Chicago Loop",
        timezone="America/Chicago",
        opening_hours=WeeklyHours.every_day("07:00-19:00", weekdays=WEEKDAYS),
    )
    pool = cb.admin.add_resource(admin, location_id=chi.id, name="Pool 1", category="pool")
    lunch = WeeklyHours.every_day("12:00-13:00", weekdays=WEEKDAYS)
    osei = cb.admin.add_practitioner(
        admin,
        organisation_id=org.id,
        name="Dr Ada Osei",
        plans=[
            WorkingPlan(
                location_id=nyc.id,
                hours=WeeklyHours.every_day("09:00-17:00", weekdays=WEEKDAYS),
                breaks=lunch,
            )
        ],
    )
    rivera = cb.admin.add_practitioner(
        admin,
        organisation_id=org.id,
        name="Sam Rivera",
        plans=[
            WorkingPlan(location_id=nyc.id, hours=WeeklyHours.every_day("10:00-14:00")),
            WorkingPlan(
                location_id=chi.id,
                hours=WeeklyHours.every_day("14:00-18:00", weekdays=WEEKDAYS),
            ),
        ],
    )
    park = cb.admin.add_practitioner(
        admin,
        organisation_id=org.id,
        name="Dr Lena Park",
        plans=[
            WorkingPlan(
                location_id=chi.id,
                hours=WeeklyHours.every_day("08:00-16:00", weekdays=WEEKDAYS),
                breaks=lunch,
            )
        ],
    )
    assessment = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Initial assessment",
        duration=45,
        buffer_after=15,
        price=Money(12_000, "USD"),
        practitioner_ids={osei.id, rivera.id, park.id},
    )
    hydro = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Hydrotherapy",
        duration=30,
        buffer_before=10,
        price=Money(8_500, "USD"),
        practitioner_ids={rivera.id, park.id},
        needs={"pool"},
        location_ids={chi.id},
    )
    maya = cb.admin.register_patient(admin, organisation_id=org.id, kind=PatientKind.NEW)
    jon = cb.admin.register_patient(admin, organisation_id=org.id, kind=PatientKind.RETURNING)

    for location in (nyc, chi):
        ZONES[location.id] = location.timezone
    NAMES.update(
        {
            nyc.id: "Manhattan",
            chi.id: "Chicago Loop",
            pool.id: "Pool 1",
            osei.id: "Dr Ada Osei",
            rivera.id: "Sam Rivera",
            park.id: "Dr Lena Park",
            maya.id: "Maya (new)",
            jon.id: "Jon (returning)",
        }
    )
    print(f"   organisation   {org.name}  (min notice {org.policy.min_notice} min)")
    for location in (nyc, chi):
        print(f"   location       {location.name:<14} {location.timezone}")
    for service in (assessment, hydro):
        needs = ", ".join(sorted(service.needs)) or "-"
        print(
            f"   service        {service.name:<20} {service.duration:>3} min  "
            f"{service.price}  needs: {needs}"
        )
    print(f"   now            {clock.now().in_timezone('America/New_York'):%a %d %b %H:%M %Z}")

    heading("2. Free slots tomorrow for an initial assessment (office time)")
    tomorrow = Interval(
        pendulum.datetime(2025, 6, 3, tz="America/New_York"),
        pendulum.datetime(2025, 6, 4, tz="America/New_York"),
    )
    found = cb.booking.search_availability(
        Actor.patient(maya.id),
        org.id,
        AvailabilityQuery(service_ids=[assessment.id], window=tomorrow, patient_id=maya.id),
    )
    # Slots come in time order; equal starts are ordered by name so every run prints alike.
    slots = sorted(found, key=lambda s: (s.start, name(s.location_id), name(s.practitioner_id)))
    print(f"   {len(slots)} free slots; the first four at each office:")
    print(f"   {'office':<14} {'office time':<24} {'UTC':<7} practitioner")
    for location in (nyc, chi):
        for slot in [s for s in slots if s.location_id == location.id][:4]:
            print(
                f"   {location.name:<14} {local(slot):<24} {slot.start:%H:%M}   "
                f"{name(slot.practitioner_id)}"
            )

    heading("3. Maya books the first one with Dr Osei")
    chosen = next(s for s in slots if s.practitioner_id == osei.id)
    booking = BookAppointment(
        location_id=chosen.location_id,
        practitioner_id=chosen.practitioner_id,
        patient_id=maya.id,
        service_ids=[assessment.id],
        start=chosen.start,
        idempotency_key="maya-assessment-1",
    )
    booked = cb.booking.book(Actor.patient(maya.id), booking)
    NAMES[booked.id] = "appointment-1"
    show(booked)
    clock.advance(minutes=3)
    reception = Actor.staff(nyc.id, ref="front-desk-nyc")
    booked = cb.lifecycle.confirm(reception, booked.id)
    print("   reception confirms:")
    show(booked)
    again = cb.booking.book(Actor.patient(maya.id), booking)
    print(
        f"   retry with the same idempotency key returns {name(again.id)}: {again.id == booked.id}"
    )

    heading("4. Jon asks for the same slot: refused")
    clock.advance(minutes=2)
    try:
        cb.booking.book(
            reception,
            BookAppointment(
                location_id=chosen.location_id,
                practitioner_id=chosen.practitioner_id,
                patient_id=jon.id,
                service_ids=[assessment.id],
                start=chosen.start,
                idempotency_key="jon-assessment-1",
            ),
        )
    except RuleRejectedError as refusal:
        print(f"   reason code    {refusal.reason_code}")
        print(f"   message        {refusal.message.replace(str(osei.id), name(osei.id))}")

    heading("5. Jon holds a hydrotherapy slot in Chicago, then books it")
    clock.advance(minutes=5)
    pool_slots = cb.booking.search_availability(
        reception,
        org.id,
        AvailabilityQuery(service_ids=[hydro.id], window=tomorrow, location_ids={chi.id}),
    )
    pick = min(pool_slots, key=lambda s: (s.start, name(s.practitioner_id)))
    print(f"   first pool slot {local(pick)} with {name(pick.practitioner_id)}")
    chicago_desk = Actor.staff(chi.id, ref="front-desk-chi")
    held = cb.booking.hold(
        chicago_desk,
        HoldSlot(
            location_id=chi.id,
            practitioner_id=pick.practitioner_id,
            patient_id=jon.id,
            service_ids=[hydro.id],
            start=pick.start,
        ),
    )
    NAMES[held.id] = "appointment-2"
    assert held.hold_expires_at is not None
    expires = held.hold_expires_at.in_timezone(chi.timezone)
    show(held)
    print(
        f"   the hold keeps {name(pick.resource_ids[0])} and the slot until {expires:%a %H:%M %Z}"
    )
    clock.advance(minutes=4)
    converted = cb.booking.book(
        chicago_desk,
        BookAppointment(
            location_id=chi.id,
            practitioner_id=pick.practitioner_id,
            patient_id=jon.id,
            service_ids=[hydro.id],
            start=pick.start,
            idempotency_key="jon-hydro-1",
            hold_id=held.id,
        ),
    )
    show(converted)

    heading("6. Maya cancels")
    clock.advance(minutes=10)
    cancelled = cb.lifecycle.cancel(
        Actor.patient(maya.id), CancelAppointment(appointment_id=booked.id)
    )
    show(cancelled)
    print(f"   reason         {cancelled.cancel_reason}")

    heading("7. Event timeline (the outbox, as published)")
    assert isinstance(cb.publisher, RecordingPublisher)
    events = cb.publisher.published
    setup = [e for e in events if e.type == "CalendarChanged"]
    print(f"   {len(setup)} CalendarChanged events from the set-up, then:")
    print(f"   {'at (UTC)':<10} {'event':<22} {'appointment':<15} detail")
    for event in events:
        if event.type == "CalendarChanged":
            continue
        detail = " ".join(
            f"{field}={getattr(event, field)}"
            for field in ("status", "reason", "by")
            if hasattr(event, field)
        )
        if hasattr(event, "expires_at"):
            detail = f"expires_at={getattr(event, 'expires_at'):%H:%M} UTC"  # noqa: B009
        appointment_id: uuid.UUID = getattr(event, "appointment_id")  # noqa: B009
        line = (
            f"{event.occurred_at:%H:%M:%S}   {event.type:<22} {name(appointment_id):<15} {detail}"
        )
        print(f"   {line.rstrip()}")

    heading("8. Notifications sent (ids only; the notifier looks up contacts)")
    notifier = cb.notifiers["recording"]
    assert isinstance(notifier, RecordingNotifier)
    print(f"   {'kind':<24} {'to':<13} {'who':<16} appointment")
    for note in notifier.sent:
        print(
            f"   {note.kind:<24} {note.recipient_role:<13} {name(note.recipient_id):<16} "
            f"{name(note.appointment_id)}"
        )
    cb.close()


if __name__ == "__main__":
    main()
