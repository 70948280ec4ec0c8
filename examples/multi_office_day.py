"""One seeded day at three walk-in offices, staffed two ways, and a chart of the waits.

Run it with ``python examples/multi_office_day.py`` (``--seed N`` draws another day,
``--png PATH`` chooses the chart's file). It calls the library's use cases as a host
application would, on memory storage and a ``ManualClock``:

1. set up three offices in London, busy at different times (Northgate in the morning,
   Market Square at lunch, Riverside in the evening), six practitioners who may work at
   any of them, and walk-ins; then replay six past Mondays of check-ins, the history
   ``cb.staffing.forecast`` reads from storage;
2. draw the day from the same pattern: arrivals, new and returning patients, visit
   lengths (some overrun), patients who never show up when called or give up waiting;
3. run that day minute by minute twice, with the same 48 practitioner-hours: with the
   current staffing (at every office one practitioner 08-16 and one 12-20) and with the
   plan from ``cb.staffing.plan``, applied with ``cb.staffing.apply_plan``;
4. print a summary per office, and chart the live wait estimate
   (``cb.walkins.wait_times``) through the day. The chart needs matplotlib
   (``pip install 'carebook[plot]'``); without it the summary is still printed.

Patients appear as counts only, never by name or id.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

import attrs
import pendulum
from _office_sim import (
    CLOSE,
    DAY_MINUTES,
    OFFICES,
    OPEN,
    Arrival,
    Shift,
    Tally,
    draw_chart,
    draw_day,
    heading,
    hours,
    print_summary,
    staffed,
)

from carebook import (
    Actor,
    CarebookConfig,
    ManualClock,
    Money,
    bootstrap,
)
from carebook.scheduling import (
    DateOverride,
    PatientKind,
    WeeklyHours,
    WorkingPlan,
)
from carebook.staffing import (
    DemandForecast,
    ForecastModel,
    StaffAvailability,
    StaffingPlan,
    StaffingRules,
)
from carebook.walkins import CheckedIn, CheckIn, QueueEntryId

ZONE, DAY = "Europe/London", dt.date(2026, 6, 1)  # a Monday
HISTORY_WEEKS, WAIT_LIMIT, SHIFT_HOURS = 6, 45, 8
# Blocks of 4 hours; a visit costs about 20 minutes of practitioner time (0.3 x 30 + 0.7 x 15).
RULES = StaffingRules(block_hours=4, day_start_hour=OPEN, day_end_hour=CLOSE, visit_minutes=20)
ADMIN, SYSTEM = Actor.admin(), Actor.system()


def at(date: dt.date, minute: int) -> pendulum.DateTime:
    return pendulum.datetime(date.year, date.month, date.day, OPEN, tz=ZONE).add(minutes=minute)


class Clinic:
    """The organisation, set up through ``cb.admin`` and ``cb.walkins``, with its history."""

    def __init__(self, seed: int) -> None:
        self.clock = clock = ManualClock(at(DAY - dt.timedelta(weeks=HISTORY_WEEKS), 0))
        self.cb = cb = bootstrap(CarebookConfig(notifiers=(), dispatch="manual"), clock=clock)
        # A practitioner running late may still see their patients up to 3 hours late.
        org = cb.admin.create_organisation(ADMIN, name="Three Rivers", session_window_after=180)
        self.org, hours = org.id, WeeklyHours.every_day(f"{OPEN:02d}:00-{CLOSE:02d}:00")
        self.offices = [
            cb.admin.add_location(
                ADMIN, organisation_id=org.id, name=name, timezone=ZONE, opening_hours=hours
            ).id
            for name in OFFICES
        ]
        plans = [WorkingPlan(location_id=office, hours=hours) for office in self.offices]
        self.staff = [
            cb.admin.add_practitioner(ADMIN, organisation_id=org.id, name=f"P{n}", plans=plans)
            for n in range(1, 7)
        ]
        visit = cb.admin.add_service(
            ADMIN,
            organisation_id=org.id,
            name="Walk-in visit",
            duration=15,  # one slot
            price=Money(4_500, "GBP"),
            practitioner_ids={p.id for p in self.staff},
        )
        for office in self.offices:
            cb.walkins.configure(ADMIN, office, service_id=visit.id, wait_limit=WAIT_LIMIT)
        self.desks = [Actor.staff(office) for office in self.offices]
        # The past Mondays, replayed at their times: one practitioner on duty per office,
        # and each patient leaves the queue at once (the forecast counts check-ins).
        rng = random.Random(f"{seed}-history")
        for weeks_back in range(HISTORY_WEEKS, 0, -1):
            day = DAY - dt.timedelta(weeks=weeks_back)
            clock.set(at(day, 0))
            for o, office in enumerate(self.offices):
                cb.walkins.on_duty(self.desks[o], office, self.staff[o].id)
            for arrival in draw_day(rng):
                clock.set(at(day, arrival.minute))
                desk = self.desks[arrival.office]
                patient = cb.admin.register_patient(desk, organisation_id=org.id, kind=arrival.kind)
                checked = CheckIn(location_id=self.offices[arrival.office], patient_id=patient.id)
                outcome = cb.walkins.check_in(desk, checked)
                if isinstance(outcome, CheckedIn):
                    cb.walkins.leave_queue(desk, outcome.entry.id)
            clock.set(at(day, DAY_MINUTES))
            for o, office in enumerate(self.offices):
                cb.walkins.off_duty(self.desks[o], office, self.staff[o].id)


def current_roster(clinic: Clinic) -> list[Shift]:
    """At every office one practitioner 08-16 and one 12-20, written as each
    practitioner's date overrides for the day (a day off at the other offices)."""
    shifts = [
        Shift(2 * o + late, o, 8 + 4 * late, 16 + 4 * late) for o in range(3) for late in (0, 1)
    ]
    for s in shifts:
        for o, office in enumerate(clinic.offices):
            ranges = [f"{s.start:02d}:00-{s.end:02d}:00"] if o == s.office else []
            override = DateOverride(location_id=office, date=DAY, ranges=ranges)
            clinic.cb.admin.add_date_override(ADMIN, clinic.staff[s.practitioner].id, override)
    return shifts


def planned_roster(clinic: Clinic) -> tuple[list[Shift], StaffingPlan, DemandForecast]:
    """Forecast the day from the stored history, plan the same hours, apply the plan."""
    cb, org = clinic.cb, clinic.org
    model = ForecastModel(weeks=HISTORY_WEEKS)
    forecast = cb.staffing.forecast(ADMIN, org, week_start=DAY, model=model)
    staff = [
        StaffAvailability.from_practitioner(p, max_hours=SHIFT_HOURS, min_hours=SHIFT_HOURS)
        for p in clinic.staff
    ]
    plan = cb.staffing.plan(ADMIN, org, dates=[DAY], staff=staff, forecast=forecast, rules=RULES)
    cb.staffing.apply_plan(ADMIN, org, plan)
    index = {p.id: n for n, p in enumerate(clinic.staff)}
    shifts = [
        Shift(
            index[a.practitioner_id], clinic.offices.index(a.location_id), a.start_hour, a.end_hour
        )
        for a in plan.assignments
    ]
    return shifts, plan, forecast


@attrs.frozen
class Visit:
    arrival: Arrival
    checked_in: CheckedIn
    practitioner: int
    reserved: int  # minute of the reserved start, after opening


def simulate(
    clinic: Clinic, shifts: Sequence[Shift], arrivals: Sequence[Arrival]
) -> tuple[list[Tally], list[list[float]]]:
    """The day, minute by minute: a tally per office, and each office's wait estimate
    every 5 minutes from opening to closing."""
    cb, desks, offices = clinic.cb, clinic.desks, clinic.offices
    tallies = [Tally() for _ in OFFICES]
    series: list[list[float]] = [[] for _ in OFFICES]
    where: dict[int, int] = {}  # practitioner -> the office they are on duty at
    since: dict[int, int] = {}  # practitioner -> on duty since (minute)
    session: dict[int, tuple[Visit, int]] = {}  # practitioner -> visit, minute it ends
    waiting: dict[QueueEntryId, Visit] = {}
    holder = {p.id: n for n, p in enumerate(clinic.staff)}
    pending, minute = list(arrivals), 0
    while minute < DAY_MINUTES or waiting or session or where:
        clinic.clock.set(at(DAY, minute))
        for p, (visit, ends) in sorted(session.items()):  # sessions ending now
            if ends <= minute:
                cb.lifecycle.complete_session(desks[where[p]], visit.checked_in.appointment.id)
                tallies[where[p]].seen += 1
                del session[p]
        hour = OPEN + minute / 60
        for p, practitioner in enumerate(clinic.staff):  # the roster
            due = next(
                (s.office for s in shifts if s.practitioner == p and s.start <= hour < s.end), None
            )
            busy = p in session or any(v.practitioner == p for v in waiting.values())
            if p in where and where[p] != due and not busy:  # their shift there is over
                office = where.pop(p)
                cb.walkins.off_duty(desks[office], offices[office], practitioner.id)
                tallies[office].on_duty += minute - since[p]
            if p not in where and due is not None:
                cb.walkins.on_duty(desks[due], offices[due], practitioner.id)
                where[p], since[p] = due, minute
        while pending and pending[0].minute == minute:  # walk-ins arriving now
            arrival = pending.pop(0)
            desk, tally = desks[arrival.office], tallies[arrival.office]
            patient = cb.admin.register_patient(desk, organisation_id=clinic.org, kind=arrival.kind)
            checked = CheckIn(location_id=offices[arrival.office], patient_id=patient.id)
            outcome = cb.walkins.check_in(desk, checked)
            tally.arrived += 1
            if isinstance(outcome, CheckedIn):
                entry = outcome.entry
                reserved = (entry.reserved_start - at(DAY, 0)).in_minutes()
                waiting[entry.id] = Visit(arrival, outcome, holder[entry.practitioner_id], reserved)
            else:  # NoAvailability: the wait would be over the limit, or nobody is on duty
                tally.turned_away += 1
        for entry_id, visit in list(waiting.items()):  # patients giving up
            patience = visit.arrival.patience
            if patience is not None and minute >= visit.arrival.minute + patience:
                cb.walkins.leave_queue(Actor.patient(visit.checked_in.entry.patient_id), entry_id)
                tallies[visit.arrival.office].left += 1
                del waiting[entry_id]
        for p, office in sorted(where.items()):  # a free practitioner calls their next patient
            ready = [
                v
                for v in waiting.values()
                if v.practitioner == p and v.reserved <= minute and not v.arrival.no_show
            ]
            if p not in session and ready:
                visit = waiting.pop(min(ready, key=lambda v: v.reserved).checked_in.entry.id)
                cb.lifecycle.start_session(desks[office], visit.checked_in.appointment.id)
                session[p] = visit, minute + visit.arrival.service
                tallies[office].waits.append(minute - visit.arrival.minute)
                tallies[office].busy += visit.arrival.service
        for entry_id in cb.walkins.sweep(SYSTEM, clinic.org).no_shows:  # after their grace
            tallies[waiting.pop(entry_id).arrival.office].no_shows += 1
        if minute % 5 == 0 and minute < DAY_MINUTES:
            now = {w.location_id: w.wait_minutes for w in cb.walkins.wait_times(ADMIN, clinic.org)}
            for o, office_id in enumerate(offices):
                wait = now.get(office_id)
                series[o].append(math.nan if wait is None else float(wait))
        minute += 1
    return tallies, series


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a day at three walk-in offices, two rosters")
    parser.add_argument("--seed", type=int, default=2026, help="draws the history and the day")
    parser.add_argument(
        "--png",
        type=Path,
        default=Path(tempfile.gettempdir()) / "multi_office_day.png",
        help="where to write the chart (default: multi_office_day.png in the temp directory)",
    )
    args = parser.parse_args(argv)
    arrivals = draw_day(random.Random(f"{args.seed}-day"))
    fixed, planned = Clinic(args.seed), Clinic(args.seed)
    current = current_roster(fixed)
    shifts, plan, forecast = planned_roster(planned)

    heading(f"{DAY:%A} {DAY.day} {DAY:%B %Y} at three walk-in offices ({ZONE}), seed {args.seed}")
    start, end = at(DAY - dt.timedelta(weeks=HISTORY_WEEKS), 0), at(DAY, 0)
    stored = planned.cb.staffing.demand_history(ADMIN, planned.org, start=start, end=end)
    print(f"   history: {len(stored)} check-ins stored over the {HISTORY_WEEKS} Mondays before")
    new = sum(a.kind is PatientKind.NEW for a in arrivals)
    returning = len(arrivals) - new
    print(f"   walk-ins drawn for the day: {len(arrivals)} ({new} new, {returning} returning)")

    heading("Staffing: practitioners per office and 4-hour block")
    print(
        f"   {'office':<15}{'block':<13}{'walk-ins: forecast':>19}{'drawn':>7}"
        f"{'current':>9}{'plan':>6}"
    )
    for o, name in enumerate(OFFICES):
        for first in RULES.block_starts:
            last = first + RULES.block_hours
            expected = sum(forecast.on(planned.offices[o], DAY, h) for h in range(first, last))
            drawn = sum(a.office == o and first <= OPEN + a.minute // 60 < last for a in arrivals)
            print(
                f"   {name:<15}{first:02d}:00-{last:02d}:00{expected:>19.1f}{drawn:>7}"
                f"{staffed(current, o, first):>9}{staffed(shifts, o, first):>6}"
            )
    print(f"   practitioner-hours: current {hours(current)}, demand-based plan {hours(shifts)}")
    proof = "optimal" if plan.optimal else f"at least {plan.bound_share:.1%} of the optimum"
    print(f"   the plan covers {plan.coverage_share:.1%} of the forecast demand ({proof})")

    results, series = {}, {}
    for run, clinic, roster in (("current", fixed, current), ("plan", planned, shifts)):
        results[run], series[run] = simulate(clinic, roster, arrivals)
    print_summary(results)
    lost = {run: sum(t.turned_away for t in tallies) for run, tallies in results.items()}
    print(f"\n   turned away: current staffing {lost['current']}, demand-based plan {lost['plan']}")
    print(
        f"   both runs staff {hours(current)} practitioner-hours: "
        "the plan only moves them to where the demand is"
    )

    runs = {
        "current staffing (fixed roster)": series["current"],
        "demand-based plan": series["plan"],
    }
    if draw_chart(args.png, runs, day=DAY, zone=ZONE, limit=WAIT_LIMIT):
        print(f"   chart: {args.png}")
    else:
        print("   no chart: matplotlib is not installed (install carebook[plot] for the chart)")


if __name__ == "__main__":
    main()
