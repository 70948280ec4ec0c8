"""A clinic's day with the carebook worker: real e-mail, reminders, three languages.

Run it with ``python examples/clinic_day_worker.py`` (it needs ``carebook-smtp[test]``
for the local SMTP server; the README's test command installs it). It

1. starts a local SMTP server (aiosmtpd, through ``carebook_smtp.testing``) and sets up a
   Berlin clinic in a fresh SQLite file; the host app writes with ``dispatch="manual"``,
   so no request waits for an e-mail;
2. starts ``python -m carebook worker`` in a subprocess on the same file, configured by a
   TOML file: the ``smtp`` channel, a static contact directory, and a *file clock* whose
   time this script moves (the worker keeps the demo's time, not the wall clock's);
3. books three visits for Monday and cancels one; the worker sends the notices;
4. moves the shared clock to each reminder's time (24 h and 2 h before each visit) and
   waits for the worker to send it; the cancelled visit gets none;
5. prints what each patient received, in their language, and the calendar entry of the
   ``.ics`` attached to their last notice (title, local time, status), and stops the worker with
   SIGTERM (exit status 0).

carebook stores ids, never names or addresses: ``PATIENTS`` below is the host's.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pendulum

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    LocationId,
    Money,
    OrganisationId,
    PractitionerId,
    ServiceId,
    bootstrap,
)
from carebook.builtin.clocks import FileClock
from carebook.scheduling import BookAppointment, CancelAppointment, WeeklyHours, WorkingPlan
from carebook_smtp.testing import SmtpTestServer

BERLIN = "Europe/Berlin"
# The host's own records: name, language, e-mail address, and Monday's visit.
PATIENTS = {
    "Ana": ("hi", "ana@example.test", (10, 0)),
    "Ben": ("de", "ben@example.test", (11, 30)),
    "Cy": ("en", "cy@example.test", (15, 0)),
}


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def worker_config(folder: Path, url: str, clock: FileClock, smtp: SmtpTestServer) -> Path:
    addresses = "\n".join(
        f"crm-{name.lower()} = {{ email = {toml_string(email)} }}"
        for name, (_, email, _) in PATIENTS.items()
    )
    path = folder / "worker.toml"
    path.write_text(
        f"""[worker]
database_url = {toml_string(url)}
name = "clinic-day-worker"
poll_interval = 0.05
notifiers = []
channels = ["smtp"]
contacts = "static"
clock = "file"

[worker.periods]
dispatch = 0.1
send_reminders = 0.1

[worker.clock_options]
path = {toml_string(str(clock.path))}

[worker.channel_options.smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
sender = "praxis@example.test"
sender_name = "Praxis Mitte"

[worker.contacts_options.addresses]
{addresses}
""",
        encoding="utf-8",
    )
    return path


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"the worker did not {what} within {timeout:g} s")
        time.sleep(0.05)


def more_than(smtp: SmtpTestServer, count: int) -> bool:
    return len(smtp.mailbox) > count


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="carebook-day-") as name, SmtpTestServer() as smtp:
        run(Path(name), smtp)


def run(folder: Path, smtp: SmtpTestServer) -> None:
    url = f"sqlite:///{folder / 'clinic.db'}"
    # Friday noon in Berlin: the time the host and the worker share.
    clock = FileClock.create(folder / "now", pendulum.datetime(2025, 6, 6, 12, 0, tz=BERLIN))
    cb = bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": url, "migrate": True},
            notifiers=(),
            dispatch="manual",
        ),
        clock=clock,
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
    plan = [WorkingPlan(location_id=office.id, hours=WeeklyHours.every_day("08:00-18:00"))]
    doctor = cb.admin.add_practitioner(admin, organisation_id=org.id, name="Dr Roth", plans=plan)
    visit = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Check-up",
        duration=30,
        price=Money(6_000, "EUR"),
        practitioner_ids={doctor.id},
    )
    print("1. a Berlin clinic on SQLite; reminders 24 h and 2 h before (the default)")

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "carebook",
            "worker",
            "--config",
            str(worker_config(folder, url, clock, smtp)),
        ],
        env={k: v for k, v in os.environ.items() if not k.startswith("CAREBOOK_")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        print("2. the worker runs in a subprocess, on the shared clock")
        by_address = book_and_cancel(cb, org.id, office.id, doctor.id, visit.id)
        wait_for("send the notices", lambda: len(smtp.mailbox) == 4)
        print(f"   the worker sent {len(smtp.mailbox)} notices (3 booked, 1 cancelled)")

        print("4. the clock moves to each reminder; the worker sends it")
        monday = pendulum.datetime(2025, 6, 9, tz=BERLIN)
        due = sorted(
            (monday.add(hours=h, minutes=m).subtract(minutes=offset), name, offset)
            for name, (_, _, (h, m)) in PATIENTS.items()
            if name != "Cy"
            for offset in (24 * 60, 2 * 60)
        )
        for instant, name, offset in due:
            before = len(smtp.mailbox)
            clock.set(instant)
            wait_for(f"send {name}'s reminder", functools.partial(more_than, smtp, before))
            mail = smtp.messages()[-1]
            who = by_address[str(mail["To"])]
            local = instant.in_tz(BERLIN).format("ddd HH:mm")
            print(f"   {local}  {who:<4} {offset // 60:>2} h before  [{mail['Content-Language']}]")
        clock.set(monday.add(hours=18))
        settle = len(smtp.mailbox)
        time.sleep(1.0)  # a second of worker rounds after the last visit: nothing more
        print(f"   after the last visit: {len(smtp.mailbox) - settle} more, none for Cy")

        print("5. what each patient received")
        for who in PATIENTS:
            received = [m for m in smtp.messages() if by_address[str(m["To"])] == who]
            for mail in received:
                print(f"   {who:<4} [{mail['Content-Language']}] {mail['Subject']}")
            entries = [s for s in map(ics_summary, received) if s]
            print(f"   {who:<4} .ics: {entries[-1]}")
    finally:
        worker.send_signal(signal.SIGTERM)
        _, log = worker.communicate(timeout=30)
        cb.close()
    print(f"6. SIGTERM: the worker exits {worker.returncode}")
    if worker.returncode != 0:
        print(log, file=sys.stderr)
        raise SystemExit(1)


def book_and_cancel(
    cb: Carebook,
    org_id: OrganisationId,
    office_id: LocationId,
    doctor_id: PractitionerId,
    visit_id: ServiceId,
) -> dict[str, str]:
    """Books each patient's Monday visit and cancels Cy's; returns address -> name."""
    admin = Actor.admin()
    print("3. three visits on Monday 9 June; Cy cancels")
    booked = {}
    for name, (language, _, (hour, minute)) in PATIENTS.items():
        patient = cb.admin.register_patient(
            admin, organisation_id=org_id, contact_ref=f"crm-{name.lower()}", language=language
        )
        start = pendulum.datetime(2025, 6, 9, hour, minute, tz=BERLIN)
        booked[name] = cb.booking.book(
            Actor.staff(office_id),
            BookAppointment(
                location_id=office_id,
                practitioner_id=doctor_id,
                patient_id=patient.id,
                service_ids=[visit_id],
                start=start,
                idempotency_key=f"book-{name}",
            ),
        )
        print(f"   {name:<4} Mon {start.format('HH:mm')}  language {language}")
    cb.lifecycle.cancel(Actor.staff(office_id), CancelAppointment(appointment_id=booked["Cy"].id))
    return {email: name for name, (_, email, _) in PATIENTS.items()}


def ics_summary(mail: EmailMessage) -> str | None:
    for part in mail.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            for event in icalendar.Calendar.from_ical(payload).walk("VEVENT"):
                start = event.decoded("DTSTART")
                when = f"{start:%a %d %b %H:%M} {start.tzinfo}"
                return f"{event.get('SUMMARY')}, {when}, {event.get('STATUS')}"
    return None


if __name__ == "__main__":
    main()
