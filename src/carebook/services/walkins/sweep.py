"""Reading every location's wait, and the periodic sweep (no-shows, falling behind).

Both read the organisation's walk-in locations in a constant number of storage calls
(settings, duty, active queues, learned durations), whatever the number of locations
or the length of the history.
"""

from __future__ import annotations

from collections import defaultdict

from attrs import frozen

from carebook.domain.actors import Actor
from carebook.domain.events import Event
from carebook.domain.ids import LocationId, OrganisationId, PractitionerId
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import AppointmentStatus
from carebook.domain.scheduling.calendar import PatientKind
from carebook.domain.walkins.queue import QueueEntry, QueueEntryId, QueueStatus, is_open
from carebook.domain.walkins.waittime import estimate_wait
from carebook.errors import ForbiddenError, NotFoundError
from carebook.ports import UnitOfWork
from carebook.services.context import Deps
from carebook.services.walkins import queue

__all__ = ["LocationWait", "SweepResult", "sweep", "wait_times"]


@frozen(kw_only=True)
class LocationWait:
    """One location's wait for a patient arriving now. ``accepting``: open, someone on
    duty, and the wait within the location's limit."""

    location_id: LocationId
    wait_seconds: int | None
    wait_minutes: int | None
    queue_length: int
    in_session: int
    practitioners_on_duty: int
    open_now: bool
    accepting: bool


@frozen(kw_only=True)
class SweepResult:
    """What one sweep did: entries marked no-show, practitioners found behind, and the
    locations whose estimate was announced."""

    no_shows: tuple[QueueEntryId, ...]
    behind: tuple[PractitionerId, ...]
    announced: tuple[LocationId, ...]


def wait_times(deps: Deps, actor: Actor, organisation_id: OrganisationId) -> list[LocationWait]:
    """Every walk-in location's wait, shortest first (locations not accepting last).

    Anyone may ask: the answer holds ids, counts and minutes only.
    """
    now = deps.clock.now()
    now_s = to_epoch(now)
    with deps.storage.unit_of_work() as uow:
        calendar = uow.calendar.load(organisation_id)
        if calendar is None:
            raise NotFoundError("organisation", organisation_id)
        all_settings = uow.walkins.settings_for(organisation_id)
        ids = [s.location_id for s in all_settings]
        duty: dict[LocationId, list[PractitionerId]] = defaultdict(list)
        for shift in uow.walkins.on_duty(ids):
            duty[shift.location_id].append(shift.practitioner_id)
        entries: dict[LocationId, list[QueueEntry]] = defaultdict(list)
        for entry in uow.walkins.active_entries(ids):
            entries[entry.location_id].append(entry)
        learned: dict[LocationId, dict[PatientKind, int]] = defaultdict(dict)
        for stats in uow.walkins.durations(ids):
            learned[stats.location_id][stats.kind] = stats.mean_seconds
    out: list[tuple[tuple[bool, bool, int, str, int], LocationWait]] = []
    for settings in all_settings:
        lid = settings.location_id
        location = calendar.locations.get(lid)
        if location is None:
            continue
        found = estimate_wait(
            lid,
            now=now_s,
            on_duty=duty[lid],
            entries=entries[lid],
            learned=learned[lid],
            overrun_seconds=settings.overrun_minutes * 60,
        )
        open_now = is_open(location, now_s)
        wait = found.wait_seconds
        accepting = open_now and wait is not None and wait <= settings.wait_limit * 60
        row = LocationWait(
            location_id=lid,
            wait_seconds=wait,
            wait_minutes=found.wait_minutes,
            queue_length=found.waiting,
            in_session=found.in_session,
            practitioners_on_duty=found.on_duty,
            open_now=open_now,
            accepting=accepting,
        )
        out.append(((not accepting, wait is None, wait or 0, location.name, lid.int), row))
    return [row for _, row in sorted(out, key=lambda item: item[0])]


def sweep(
    deps: Deps, actor: Actor, organisation_id: OrganisationId, correlation_id: str | None
) -> SweepResult:
    """No-shows, then estimates: see :meth:`carebook.services.walkins.service.WalkIns.sweep`.

    A waiting patient is a no-show when their practitioner is not in a session and
    ``no_show_grace`` minutes have passed since the later of their reserved start and
    the moment their practitioner became free. Their reservation is cancelled (reason
    ``no_show``). Every location whose estimate moved since it was last announced gets
    a ``WaitTimeChanged`` (cause ``no_show``, ``behind_schedule`` or ``time_passed``).
    """
    if not actor.is_privileged:
        raise ForbiddenError("only the system or an administrator may sweep the queues")
    stamp = deps.stamp(correlation_id)

    def work(uow: UnitOfWork) -> SweepResult:
        all_settings = uow.walkins.settings_for(organisation_id)
        by_location = {s.location_id: s for s in all_settings}
        for location_id in sorted(by_location, key=lambda lid: lid.int):
            uow.walkins.lock_queue(location_id)
        entries = uow.walkins.active_entries(by_location)
        duty = {d.practitioner_id: d for d in uow.walkins.on_duty(by_location)}
        in_session = {
            (e.location_id, e.practitioner_id)
            for e in entries
            if e.status is QueueStatus.IN_SESSION
        }
        events: list[Event] = []
        no_shows: list[QueueEntryId] = []
        for entry in entries:
            if entry.status is not QueueStatus.WAITING:
                continue
            if (entry.location_id, entry.practitioner_id) in in_session:
                continue  # their practitioner is still with someone: not their fault
            ready = entry.reserved_start
            shift = duty.get(entry.practitioner_id)
            if shift is not None and shift.location_id == entry.location_id:
                ready = max(ready, shift.free_since)
            grace = by_location[entry.location_id].no_show_grace
            if stamp.now < ready.add(minutes=grace):
                continue
            appointment = uow.appointments.get(entry.appointment_id)
            if appointment is not None and appointment.status is AppointmentStatus.ARRIVED:
                cancelled, changed = appointment.cancel(
                    stamp, reason="no_show", by=actor.kind.value
                )
                uow.appointments.update(cancelled)
                events += changed
            uow.walkins.update_entry(entry.moved(QueueStatus.NO_SHOW, stamp.now))
            no_shows.append(entry.id)
        gone = set(no_shows)
        swept = {e.location_id for e in entries if e.id in gone}
        behind: list[PractitionerId] = []
        announced: list[LocationId] = []
        for settings in all_settings:
            current = queue.estimate(uow, settings, stamp.now)
            behind += current.behind
            if settings.location_id in swept:
                cause = "no_show"
            else:
                cause = "behind_schedule" if current.behind else "time_passed"
            _, changed = queue.publish(
                uow, stamp, settings, cause, only_if_changed=cause != "no_show", current=current
            )
            if changed:
                announced.append(settings.location_id)
                events += changed
        uow.outbox.append(events)
        return SweepResult(
            no_shows=tuple(no_shows), behind=tuple(behind), announced=tuple(announced)
        )

    result = deps.write(work)
    if result.no_shows or result.announced:
        deps.info(stamp, "swept queues: %d no-shows", len(result.no_shows))
        deps.after_commit()
    return result
