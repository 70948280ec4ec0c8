"""The carebook worker next to a host app, on SQLite.

Run it with ``python examples/worker_on_sqlite.py``. It

1. sets up a clinic in a fresh SQLite file with ``dispatch="manual"`` (the host's
   requests never wait for a notifier), books a visit and holds a slot that expires;
2. starts ``python -m carebook worker`` in a subprocess on the same file, configured by
   ``CAREBOOK_*`` environment variables;
3. waits until the worker has delivered the booking's notice and cancelled the expired
   hold, shows that a second worker on the same file is refused, and stops the first with
   SIGTERM (exit status 0).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pendulum

from carebook import Actor, CarebookConfig, ManualClock, Money, bootstrap
from carebook.scheduling import (
    AppointmentStatus,
    BookAppointment,
    HoldSlot,
    WeeklyHours,
    WorkingPlan,
)

BERLIN = "Europe/Berlin"


def worker_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREBOOK_")}
    env.update(
        CAREBOOK_DATABASE_URL=url,
        CAREBOOK_WORKER_NAME="example-worker",
        CAREBOOK_POLL_INTERVAL="0.1",
        CAREBOOK_PERIOD_EXPIRE_HOLDS="0.2",
        CAREBOOK_NOTIFIERS="logging",
    )
    return env


def main() -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='carebook-worker-')) / 'clinic.db'}"
    # The host's clock is a fixed morning in 2025: the hold below has long expired for the
    # worker, which keeps real time.
    clock = ManualClock(pendulum.datetime(2025, 6, 2, 7, 0, tz="UTC"))
    config = CarebookConfig(
        storage="sqlalchemy",
        storage_options={"url": url, "migrate": True},
        notifiers=(),
        dispatch="manual",
    )
    cb = bootstrap(config, clock=clock)
    admin = Actor.admin()
    org = cb.admin.create_organisation(admin, name="Worker Clinic")
    office = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="Mitte",
        timezone=BERLIN,
        opening_hours=WeeklyHours.every_day("08:00-18:00"),
    )
    plan = [WorkingPlan(location_id=office.id, hours=WeeklyHours.every_day("09:00-17:00"))]
    doctor = cb.admin.add_practitioner(admin, organisation_id=org.id, name="Dr Grey", plans=plan)
    visit = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Visit",
        duration=30,
        price=Money(6_000, "EUR"),
        practitioner_ids={doctor.id},
    )
    ana = cb.admin.register_patient(admin, organisation_id=org.id)
    ben = cb.admin.register_patient(admin, organisation_id=org.id)
    desk = Actor.staff(office.id)
    slot = {"location_id": office.id, "practitioner_id": doctor.id, "service_ids": [visit.id]}
    cb.booking.book(
        desk,
        BookAppointment(
            **slot,
            patient_id=ana.id,
            start=pendulum.datetime(2025, 6, 4, 10, tz=BERLIN),
            idempotency_key="ana-1",
        ),
    )
    hold = cb.booking.hold(
        desk,
        HoldSlot(**slot, patient_id=ben.id, start=pendulum.datetime(2025, 6, 4, 11, tz=BERLIN)),
    )
    print(f"1. host: booked a visit, held a slot; {len(cb.events.pending(100))} events wait")

    worker = subprocess.Popen(
        [sys.executable, "-m", "carebook", "worker"],
        env=worker_env(url),
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        cancelled = cb.queries.get_appointment(Actor.system(), hold.id).status
        if cancelled is AppointmentStatus.CANCELLED and not cb.events.pending(100):
            break
        time.sleep(0.1)
    else:
        worker.kill()
        raise SystemExit("the worker did not finish its round in time")
    print("2. worker: the hold is cancelled and every event is delivered")

    second = subprocess.run(
        [sys.executable, "-m", "carebook", "worker", "--once"],
        env=worker_env(url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    print(f"3. a second worker on this SQLite file: exit {second.returncode}")
    print(f"   {second.stderr.strip().splitlines()[-1][:72]}...")

    worker.send_signal(signal.SIGTERM)
    _, log = worker.communicate(timeout=30)
    print(f"4. SIGTERM: the worker exits {worker.returncode}")
    notices = [line for line in log.splitlines() if "notify kind=" in line]
    print(f"   its log: {len(notices)} notice sent, ids only: {notices[0].split('] ', 1)[1][:41]}")
    expired = [line for line in log.splitlines() if "holds_expired=1" in line]
    print(f"   its log: a round with holds_expired=1: {bool(expired)}")
    cb.close()
    if worker.returncode != 0:
        raise SystemExit(worker.returncode)


if __name__ == "__main__":
    main()
