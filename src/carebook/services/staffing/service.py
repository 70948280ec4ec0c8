"""Staffing from demand (``cb.staffing``): history, forecast, plan, and applying a plan.

Demand is counted from storage: every walk-in check-in, and every appointment booked at
the organisation's locations (walk-in reservations are counted once, as their check-in;
holds, cancellations and entries in error are not demand). The forecast and the plan
are the pure functions of :mod:`carebook.domain.staffing.forecast` and
:mod:`carebook.domain.staffing.plan`; applying a plan writes each planned practitioner's
date overrides in one transaction, with one ``CalendarChanged`` event per practitioner.

Only an administrator (or the system) reads demand and plans staff: a plan moves people
between locations, which no single location's staff decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs
import pendulum

from carebook.domain.actors import Actor
from carebook.domain.events import CalendarChanged
from carebook.domain.ids import OrganisationId
from carebook.domain.instants import require_aware, require_date, to_epoch
from carebook.domain.scheduling.appointment import AppointmentStatus
from carebook.domain.scheduling.calendar import PatientKind, Practitioner
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.staffing.forecast import (
    DemandForecast,
    DemandKind,
    DemandRecord,
    ForecastModel,
    forecast_demand,
)
from carebook.domain.staffing.plan import (
    StaffAvailability,
    StaffingPlan,
    StaffingProblem,
    StaffingRules,
    plan_staffing,
)
from carebook.errors import NotFoundError, ValidationError
from carebook.ports import UnitOfWork
from carebook.services import authz
from carebook.services.boundary import checked_api
from carebook.services.context import Deps

__all__ = ["Staffing"]

_NOT_DEMAND = frozenset(
    {AppointmentStatus.PROPOSED, AppointmentStatus.CANCELLED, AppointmentStatus.ENTERED_IN_ERROR}
)


def _calendar(uow: UnitOfWork, organisation_id: OrganisationId) -> ClinicCalendar:
    calendar = uow.calendar.load(organisation_id)
    if calendar is None:
        raise NotFoundError("organisation", organisation_id)
    return calendar


@checked_api
class Staffing:
    """Demand history, forecasts and staffing plans of one organisation."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def demand_history(
        self,
        actor: Actor,
        organisation_id: OrganisationId,
        *,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[DemandRecord]:
        """Check-ins and bookings at the organisation's locations in ``[start, end)``,
        oldest first (ids, instants and kinds only)."""
        authz.require_admin(actor, "read demand history")
        begin = require_aware(start, "start")
        finish = require_aware(end, "end")
        if finish <= begin:
            raise ValidationError("the history window must end after it starts")
        with self._deps.storage.unit_of_work() as uow:
            calendar = _calendar(uow, organisation_id)
            locations = sorted(calendar.locations)
            entries = uow.walkins.check_ins(locations, begin, finish)
            booked = uow.appointments.starting_between(locations, to_epoch(begin), to_epoch(finish))
        walk_in_appointments = {e.appointment_id for e in entries if e.walk_in}
        kinds = {e.appointment_id: e.kind for e in entries}  # known once checked in
        records = [
            DemandRecord(
                location_id=e.location_id,
                at=e.checked_in_at,
                kind=DemandKind.WALK_IN,
                patient_kind=e.kind,
            )
            for e in entries
            if e.walk_in
        ]
        for appointment in booked:
            if appointment.id in walk_in_appointments or appointment.status in _NOT_DEMAND:
                continue
            records.append(
                DemandRecord(
                    location_id=appointment.location_id,
                    at=appointment.start,
                    kind=DemandKind.BOOKING,
                    patient_kind=kinds.get(appointment.id, PatientKind.RETURNING),
                )
            )
        return sorted(records, key=lambda r: (r.at, str(r.location_id)))

    def forecast(
        self,
        actor: Actor,
        organisation_id: OrganisationId,
        *,
        week_start: dt.date,
        model: ForecastModel | None = None,
    ) -> DemandForecast:
        """The demand forecast for the week from ``week_start`` (a local date), from the
        ``model.weeks`` weeks of stored history before it."""
        authz.require_admin(actor, "forecast demand")
        require_date(week_start, "week_start")
        model = model or ForecastModel()
        with self._deps.storage.unit_of_work() as uow:
            zones = {
                loc.id: loc.timezone for loc in _calendar(uow, organisation_id).locations.values()
            }
        # A day of margin on each side covers every zone; forecast_demand itself keeps
        # only the records of the weeks it models, by local date.
        first = pendulum.datetime(week_start.year, week_start.month, week_start.day, tz="UTC")
        history = self.demand_history(
            actor,
            organisation_id,
            start=first.subtract(days=7 * model.weeks + 1),
            end=first.add(days=1),
        )
        return forecast_demand(history, timezones=zones, week_start=week_start, model=model)

    def plan(
        self,
        actor: Actor,
        organisation_id: OrganisationId,
        *,
        dates: Iterable[dt.date],
        staff: Iterable[StaffAvailability],
        forecast: DemandForecast,
        rules: StaffingRules | None = None,
    ) -> StaffingPlan:
        """A staffing plan for ``dates`` covering ``forecast`` (see docs/staffing.md).

        Every planned practitioner and location must belong to the organisation."""
        authz.require_admin(actor, "plan staffing")
        problem = StaffingProblem.from_forecast(
            forecast, dates=dates, staff=staff, rules=rules or StaffingRules()
        )
        with self._deps.storage.unit_of_work() as uow:
            calendar = _calendar(uow, organisation_id)
        _require_members(calendar, problem)
        return plan_staffing(problem)

    def apply_plan(
        self,
        actor: Actor,
        organisation_id: OrganisationId,
        plan: StaffingPlan,
        *,
        correlation_id: str | None = None,
    ) -> list[Practitioner]:
        """Write the plan as date overrides (replacing any on the same date and location)
        of every planned practitioner, in one transaction; returns them as saved."""
        authz.require_admin(actor, "apply a staffing plan")
        stamp = self._deps.stamp(correlation_id)

        def work(uow: UnitOfWork) -> list[Practitioner]:
            calendar = _calendar(uow, organisation_id)
            _require_members(calendar, plan.problem)
            current = [calendar.practitioner(m.practitioner_id) for m in plan.problem.staff]
            planned = plan.working_plan_overrides(current)
            saved: list[Practitioner] = []
            for practitioner in current:
                overrides = planned[practitioner.id]
                replaced = {(o.location_id, o.date) for o in overrides}
                kept = [
                    o for o in practitioner.overrides if (o.location_id, o.date) not in replaced
                ]
                updated = attrs.evolve(practitioner, overrides=(*kept, *overrides))
                uow.calendar.save_practitioner(updated)
                saved.append(updated)
            uow.outbox.append(
                [
                    CalendarChanged(
                        **stamp.meta(),  # type: ignore[arg-type]
                        organisation_id=organisation_id,
                        entity="practitioner",
                        entity_id=p.id,
                        change="staffing_plan",
                        actor=actor.kind.value,
                    )
                    for p in saved
                ]
            )
            return saved

        saved = self._deps.write(work)
        self._deps.info(stamp, "applied staffing plan practitioners=%d", len(saved))
        self._deps.after_commit()
        return saved


def _require_members(calendar: ClinicCalendar, problem: StaffingProblem) -> None:
    """NotFoundError unless every location and practitioner is the organisation's."""
    for location_id in problem.location_ids:
        calendar.location(location_id)
    for member in problem.staff:
        calendar.practitioner(member.practitioner_id)
        for location_id in member.location_ids:
            calendar.location(location_id)
