"""One booking process of the SMTP reliability soak (``test_smtp_soak_pg.py``); not a test.

Run as ``python _soak_bookers.py PLAN.json REPORT.json``: it opens its own Carebook on
the soak's PostgreSQL database (the real system clock, ``dispatch="manual"``: the
workers deliver), then books and cancels in its own organisation until the plan's
``stop_at`` (epoch seconds), pacing itself to ``rate`` commands a second.

- Three bookings in four are **reminder visits**: they start in the 12 hours after
  ``quiet_from + 24 h``, so their 24-hour reminder falls inside the organisation's quiet
  hours and is moved to ``quiet_from``, a moment inside the run (see the test's
  docstring). The others are **far visits**, three or more days ahead, whose reminders
  are not due in the run.
- After about a third of the bookings it cancels one of its own booked visits, chosen at
  random among those whose reminder is still at least ``cancel_margin`` seconds away
  (so a cancelled visit was cancelled before its reminder time, never around it).

Each practitioner is paired with one patient, so no two bookings ever compete for a
practitioner or a patient: every refusal is a failure. The report (JSON) counts what it
did; anything unexpected ends the process with status 1 and the traceback in the report.
Nothing about patients is printed.
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum

from carebook import (
    Actor,
    AppointmentId,
    Carebook,
    CarebookConfig,
    LocationId,
    PatientId,
    PractitionerId,
    ServiceId,
    bootstrap,
)
from carebook.scheduling import BookAppointment, CancelAppointment

REMINDER_SHARE = 0.75
CANCEL_SHARE = 0.3
DAY = 86_400


def _slots(
    practitioners: list[str], patients: list[str], first: int, last: int, step: int
) -> Iterator[tuple[str, str, int]]:
    """Back-to-back starts on the ``step`` grid (from midnight UTC) in ``[first, last)``,
    practitioner k with patient k."""
    start = -(-first // step) * step
    while start < last:
        for practitioner, patient in zip(practitioners, patients, strict=True):
            yield practitioner, patient, start
        start += step


def run(plan: dict[str, Any], report: dict[str, Any]) -> None:
    rng = random.Random(plan["seed"])
    cb = bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": plan["url"]},
            notifiers=(),
            dispatch="manual",
        )
    )
    try:
        _loop(cb, plan, report, rng)
    finally:
        cb.close()


def _loop(cb: Carebook, plan: dict[str, Any], report: dict[str, Any], rng: random.Random) -> None:
    step = plan["slot_minutes"] * 60
    quiet_from: int = plan["quiet_from"]
    practitioners: list[str] = plan["practitioner_ids"]
    patients: list[str] = plan["patient_ids"]
    reminder_slots = _slots(
        practitioners, patients, quiet_from + DAY, quiet_from + DAY + plan["quiet_seconds"], step
    )
    far_first = (int(time.time()) // DAY + 3) * DAY
    far_slots = _slots(practitioners, patients, far_first, far_first + 30 * DAY, step)
    staff = Actor.staff(LocationId(uuid.UUID(plan["location_id"])))
    # (appointment id, epoch seconds of its reminder) of the visits still booked
    booked: list[tuple[str, int]] = []
    counts = {"booked": 0, "booked_reminder": 0, "booked_far": 0, "cancelled": 0}
    began = time.monotonic()
    period = 1.0 / plan["rate"]
    n = 0
    while time.time() < plan["stop_at"]:
        # Open-loop pacing: the n-th command is due at began + n * period.
        wait = began + n * period - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        n += 1
        reminder = rng.random() < REMINDER_SHARE
        practitioner, patient, start = next(reminder_slots if reminder else far_slots)
        appointment = cb.booking.book(
            staff,
            BookAppointment(
                location_id=LocationId(uuid.UUID(plan["location_id"])),
                practitioner_id=PractitionerId(uuid.UUID(practitioner)),
                patient_id=PatientId(uuid.UUID(patient)),
                service_ids=(ServiceId(uuid.UUID(plan["service_id"])),),
                start=pendulum.from_timestamp(start),
                idempotency_key=f"soak-{plan['index']}-{n}",
            ),
        )
        counts["booked"] += 1
        counts["booked_reminder" if reminder else "booked_far"] += 1
        due = quiet_from if reminder else start - DAY
        booked.append((str(appointment.id), due))
        if rng.random() < CANCEL_SHARE:
            safe = [i for i, (_, d) in enumerate(booked) if d - time.time() > plan["cancel_margin"]]
            if safe:
                chosen = booked.pop(rng.choice(safe))[0]
                cb.lifecycle.cancel(
                    staff, CancelAppointment(appointment_id=AppointmentId(uuid.UUID(chosen)))
                )
                counts["cancelled"] += 1
    report.update(counts, seconds=time.monotonic() - began)


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[1]).read_text())
    report: dict[str, Any] = {"index": plan["index"]}
    status = 0
    try:
        run(plan, report)
    except BaseException:
        report["error"] = traceback.format_exc()
        status = 1
    Path(argv[2]).write_text(json.dumps(report))
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
