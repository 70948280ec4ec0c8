"""The reminder scan: one page of upcoming appointments per write unit of work.

It reads only appointments that occupy their time and are still owed a reminder: for
some offset of any policy, they start within that offset (plus the largest shift quiet
hours can cause) of ``now`` and the ledger has no entry for that offset at their start.
By the start-time index and the ledger's key, a steady tick reads only what became due
since the last; the decision is the domain's (:func:`carebook.domain.reminders.reminders_to_send`).
Each reminder sent is recorded in the ledger in the same unit of work that appends its
``ReminderDue`` event, keyed by (appointment, offset, start): when two workers race, one
records it and the other writes nothing; a moved appointment (a new start) gets fresh
reminders, and a cancelled, no-show or fulfilled one is never scanned.
"""

from __future__ import annotations

from carebook.domain import events as ev
from carebook.domain.ids import AppointmentId, LocationId, OrganisationId
from carebook.domain.instants import to_epoch
from carebook.domain.reminders import (
    DEFAULT_POLICY,
    ReminderPolicy,
    reminders_to_send,
    scan_windows,
)
from carebook.errors import NotFoundError
from carebook.ports import UnitOfWork
from carebook.services.context import Deps

__all__ = ["PAGE", "send_due"]

PAGE = 200
"""Appointments per unit of work."""


def send_due(deps: Deps, correlation_id: str | None = None) -> int:
    """Send every reminder due now; returns how many were sent."""
    stamp = deps.stamp(correlation_id)
    now_s = to_epoch(stamp.now)
    with deps.storage.unit_of_work() as uow:
        windows = scan_windows([DEFAULT_POLICY, *uow.reminders.policies()], now_s)
    if not windows:
        return 0
    until = max(last for _, last in windows)
    policies: dict[OrganisationId, ReminderPolicy] = {}
    zones: dict[LocationId, str] = {}
    total = 0
    after: AppointmentId | None = None

    def page(uow: UnitOfWork) -> tuple[int, AppointmentId | None, int]:
        found = uow.reminders.upcoming(now_s, until, PAGE, after, unsettled=windows)
        ledger = uow.reminders.sent([a.id for a in found])
        events: list[ev.Event] = []
        for appointment in found:
            org = appointment.organisation_id
            if org not in policies:
                policies[org] = uow.reminders.policy(org) or DEFAULT_POLICY
            if appointment.location_id not in zones:
                location = uow.calendar.get_location(appointment.location_id)
                if location is None:
                    raise NotFoundError("location", appointment.location_id)
                zones[appointment.location_id] = location.timezone
            start_s = to_epoch(appointment.start)
            already = frozenset(o for a, o, s in ledger if a == appointment.id and s == start_s)
            send, passed = reminders_to_send(
                appointment.start,
                policies[org],
                zones[appointment.location_id],
                stamp.now,
                already,
            )
            # Settled without a message: passed unsent, or an offset of another
            # organisation's policy (so the scan stops finding this appointment for it).
            foreign = [
                o
                for o, last in windows
                if o not in policies[org].offsets and start_s <= last and o not in already
            ]
            for offset in (*passed, *foreign):
                uow.reminders.record((appointment.id, offset, start_s), now_s)
            if send is not None and uow.reminders.record((appointment.id, send, start_s), now_s):
                events.append(
                    ev.ReminderDue(
                        **stamp.meta(),  # type: ignore[arg-type]
                        organisation_id=org,
                        appointment_id=appointment.id,
                        location_id=appointment.location_id,
                        practitioner_id=appointment.practitioner_id,
                        patient_id=appointment.patient_id,
                        start=appointment.start,
                        offset_minutes=send,
                    )
                )
        uow.outbox.append(events)
        return len(events), (found[-1].id if found else None), len(found)

    while True:
        sent, last, size = deps.write(page)
        total += sent
        if size < PAGE:
            break
        after = last
    if total:
        deps.info(stamp, "sent %d reminders", total)
        deps.after_commit()
    return total
