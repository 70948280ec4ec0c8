"""Moving a visit without losing it: reschedule in one step, on SQLite.

Run it with ``python examples/reschedule_a_visit.py``. A fresh SQLite file and a fixed
ManualClock (Monday 2 June 2025, 09:00 in Berlin) make the output the same on every run.

1. Ana books Wednesday 10:00 with Dr Grey;
2. she moves it to 15:00 with Dr Blue (a retry of the same request moves nothing);
3. Ben cannot take 15:00 any more, but 10:00 is free again and he books it;
4. a second move by Ana is over the clinic's limit; reception overrides it, with a reason;
5. the event timeline and the notices, in Berlin time.

carebook stores ids, never names: the ``NAMES`` map below is the host's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum

from carebook import (
    Actor,
    CarebookConfig,
    ManualClock,
    Money,
    PatientId,
    PractitionerId,
    RuleRejectedError,
    bootstrap,
)
from carebook.builtin.notifiers import RecordingNotifier
from carebook.events import AppointmentBooked, AppointmentRescheduled
from carebook.scheduling import (
    Appointment,
    BookAppointment,
    RescheduleAppointment,
    WeeklyHours,
    WorkingPlan,
)

BERLIN = "Europe/Berlin"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="carebook-reschedule-"))
    clock = ManualClock(pendulum.datetime(2025, 6, 2, 7, 0, tz="UTC"))
    notices = RecordingNotifier()
    config = CarebookConfig(
        storage="sqlalchemy",
        storage_options={"url": f"sqlite:///{folder / 'clinic.db'}", "migrate": True},
        dispatch="manual",
    )
    cb = bootstrap(config, clock=clock, notifiers={"recording": notices})
    admin = Actor.admin()
    org = cb.admin.create_organisation(admin, name="Moving Clinic", max_reschedules=1)
    office = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="Mitte",
        timezone=BERLIN,
        opening_hours=WeeklyHours.every_day("08:00-18:00"),
    )
    plan = [WorkingPlan(location_id=office.id, hours=WeeklyHours.every_day("09:00-17:00"))]
    grey = cb.admin.add_practitioner(admin, organisation_id=org.id, name="Dr Grey", plans=plan)
    blue = cb.admin.add_practitioner(admin, organisation_id=org.id, name="Dr Blue", plans=plan)
    visit = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Visit",
        duration=30,
        price=Money(6_000, "EUR"),
        practitioner_ids={grey.id, blue.id},
    )
    ana = cb.admin.register_patient(admin, organisation_id=org.id)
    ben = cb.admin.register_patient(admin, organisation_id=org.id)
    names = {grey.id: "Dr Grey", blue.id: "Dr Blue", ana.id: "Ana", ben.id: "Ben"}
    desk = Actor.staff(office.id)

    def wednesday(hour: int) -> pendulum.DateTime:
        return pendulum.datetime(2025, 6, 4, hour, tz=BERLIN)

    def local(instant: pendulum.DateTime) -> str:
        return instant.in_timezone(BERLIN).format("ddd HH:mm")

    def book(
        patient_id: PatientId, practitioner_id: PractitionerId, hour: int, key: str
    ) -> Appointment:
        return cb.booking.book(
            desk,
            BookAppointment(
                location_id=office.id,
                practitioner_id=practitioner_id,
                patient_id=patient_id,
                service_ids=[visit.id],
                start=wednesday(hour),
                idempotency_key=key,
            ),
        )

    print("1. Ana books")
    booked = book(ana.id, grey.id, 10, "ana")
    print(f"   {local(booked.start)}  {names[booked.practitioner_id]}  {booked.status.value}")

    print("2. Ana moves it")
    move = RescheduleAppointment(
        appointment_id=booked.id, start=wednesday(15), practitioner_id=blue.id, idempotency_key="m1"
    )
    moved = cb.lifecycle.reschedule(Actor.patient(ana.id), move)
    retried = cb.lifecycle.reschedule(Actor.patient(ana.id), move)
    print(f"   {local(moved.start)}  {names[moved.practitioner_id]}  {moved.status.value}")
    print(f"   same appointment: {moved.id == booked.id}; retry moved again: {retried != moved}")

    print("3. Ben tries both times")
    try:
        book(ben.id, blue.id, 15, "ben-15")
    except RuleRejectedError as refused:
        print(f"   15:00 with Dr Blue refused: {refused.reason_code}")
    bens = book(ben.id, grey.id, 10, "ben-10")
    print(f"   10:00 with Dr Grey booked: {bens.status.value}")

    print("4. a second move")
    later = RescheduleAppointment(appointment_id=booked.id, start=wednesday(16))
    try:
        cb.lifecycle.reschedule(Actor.patient(ana.id), later)
    except RuleRejectedError as refused:
        print(f"   by Ana refused: {refused.reason_code}")
    override = RescheduleAppointment(
        appointment_id=booked.id, start=wednesday(16), override_reason="Dr Blue runs late"
    )
    again = cb.lifecycle.reschedule(desk, override)
    print(f"   by reception, overriding: {local(again.start)}, moves so far {len(again.moves)}")

    print("5. timeline and notices")
    for event in cb.events.pending(100):
        if isinstance(event, AppointmentRescheduled):
            print(
                f"   AppointmentRescheduled  {local(event.previous_start)} -> "
                f"{local(event.start)}  overridden={event.overridden}"
            )
        elif isinstance(event, AppointmentBooked):
            print(f"   AppointmentBooked       {local(event.start)}  {names[event.patient_id]}")
    cb.events.dispatch()
    for notice in notices.sent:
        if notice.kind == "appointment_rescheduled":
            print(f"   {notice.kind}  {notice.recipient_role:<21} {names[notice.recipient_id]}")


if __name__ == "__main__":
    main()
