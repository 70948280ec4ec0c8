"""Reminders across a daylight-saving change, with quiet hours, in each patient's language.

Run it with ``python examples/reminders.py``. A fresh SQLite file and a ManualClock make
the output the same on every run.

1. A Berlin clinic keeps the default reminders (24 h and 2 h before) with quiet hours
   22:00-07:00; three patients book around the night Berlin's clocks go forward
   (02:00 on Sunday 30 March 2025). Cy cancels.
2. The clock moves on in 30-minute steps, and each step runs what the worker would
   (``cb.events.run_pending``): each reminder goes once, at an exact elapsed time (24 h
   before Sunday 10:00 summer time is Saturday 09:00 winter time), moved earlier out of
   the quiet hours (Ben's 2 h reminder would be 06:30: it goes at 22:00 the evening
   before), and none for the cancelled visit.
3. What each patient read, in their language, in Berlin time.

carebook stores ids, never names: the ``NAMES`` map below is the host's.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from pathlib import Path

import pendulum

from carebook import Actor, CarebookConfig, ManualClock, Money, bootstrap
from carebook.builtin.contacts import RecordingChannel, StaticDirectory
from carebook.reminders import ReminderPolicy
from carebook.scheduling import BookAppointment, CancelAppointment, WeeklyHours, WorkingPlan

BERLIN = "Europe/Berlin"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'reminders.db'}")


def run(url: str) -> None:
    clock = ManualClock(pendulum.datetime(2025, 3, 28, 12, 0, tz=BERLIN))  # Friday noon
    email = RecordingChannel("email")
    directory = StaticDirectory(
        {f"crm-{n}": {"email": f"{n}@example.test"} for n in ("ana", "ben", "cy")}
    )
    cb = bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": url, "migrate": True},
            notifiers=(),
            dispatch="manual",
        ),
        clock=clock,
        channel_notifiers={"email": email},
        contacts=directory,
    )
    admin = Actor.admin()
    org = cb.admin.create_organisation(admin, name="Praxis Mitte", min_notice=0)
    office = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="Mitte",
        timezone=BERLIN,
        opening_hours=WeeklyHours.every_day("07:00-19:00"),
    )
    plan = [WorkingPlan(location_id=office.id, hours=WeeklyHours.every_day("07:00-18:00"))]
    doctor = cb.admin.add_practitioner(admin, organisation_id=org.id, name="Dr Roth", plans=plan)
    visit = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Check-up",
        duration=30,
        price=Money(6_000, "EUR"),
        practitioner_ids={doctor.id},
    )
    cb.reminders.set_policy(
        admin, org.id, ReminderPolicy(quiet_from=dt.time(22), quiet_until=dt.time(7))
    )
    patients = {
        "Ana": cb.admin.register_patient(
            admin, organisation_id=org.id, contact_ref="crm-ana", language="hi"
        ),
        "Ben": cb.admin.register_patient(
            admin, organisation_id=org.id, contact_ref="crm-ben", language="de"
        ),
        "Cy": cb.admin.register_patient(
            admin, organisation_id=org.id, contact_ref="crm-cy", language="en"
        ),
    }
    names: dict[uuid.UUID, str] = {p.id: name for name, p in patients.items()}
    starts = {
        "Ana": pendulum.datetime(2025, 3, 30, 10, 0, tz=BERLIN),  # Sunday, summer time
        "Ben": pendulum.datetime(2025, 3, 31, 8, 30, tz=BERLIN),  # Monday
        "Cy": pendulum.datetime(2025, 3, 30, 16, 0, tz=BERLIN),
    }
    print("1. three visits around the change to summer time; quiet hours 22:00-07:00")
    booked = {}
    for name, start in starts.items():
        booked[name] = cb.booking.book(
            Actor.staff(office.id),
            BookAppointment(
                location_id=office.id,
                practitioner_id=doctor.id,
                patient_id=patients[name].id,
                service_ids=[visit.id],
                start=start,
                idempotency_key=f"book-{name}",
            ),
        )
        print(f"   {name:<4} {_local(start)}")
    cb.lifecycle.cancel(Actor.staff(office.id), CancelAppointment(appointment_id=booked["Cy"].id))
    print("   Cy cancels")
    cb.events.run_pending()
    email.messages.clear()  # the booking notices; only reminders from here on

    print("2. the worker's rounds, every 30 minutes until Monday 09:00")
    sent: list[tuple[str, int]] = []
    while clock.now() < pendulum.datetime(2025, 3, 31, 9, 0, tz=BERLIN):
        clock.advance(minutes=30)
        before = len(email.messages)
        cb.events.run_pending()
        for message in email.messages[before:]:
            name = names[message.notification.recipient_id]
            visit_start = message.context.start
            assert visit_start is not None
            hours = round((visit_start - clock.now()).total_seconds() / 3600)
            sent.append((name, hours))
            print(f"   {_local(clock.now())} {name:<4} {hours:>2} h before {_local(visit_start)}")
    twice = len(sent) != len(set(sent))
    print(f"3. {len(sent)} reminders, none for Cy, {'some' if twice else 'none'} twice")
    for message in email.messages:
        name = names[message.notification.recipient_id]
        print(f"   {name:<4} [{message.rendered.locale}] {message.rendered.subject}")
    cb.close()


def _local(instant: pendulum.DateTime) -> str:
    local = instant.in_tz(BERLIN)
    return f"{local.format('ddd HH:mm')} {local.tzname():<4}"


if __name__ == "__main__":
    main()
