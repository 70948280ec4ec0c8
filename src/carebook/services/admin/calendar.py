"""Setting up the clinic at run time: organisations, locations, people, services.

Administrators do everything here; staff of a location may add closures (including
emergency blocks) and date overrides there, and register patients.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

import attrs

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.events import CalendarChanged
from carebook.domain.ids import (
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import Interval
from carebook.domain.scheduling.calendar import (
    Closure,
    DateOverride,
    Location,
    Organisation,
    Patient,
    PatientKind,
    Practitioner,
    Resource,
    Service,
    WorkingPlan,
)
from carebook.domain.scheduling.patients import Sex
from carebook.errors import ForbiddenError, ValidationError
from carebook.ports import UnitOfWork
from carebook.services import authz
from carebook.services.admin.rows import (
    location,
    locations_of,
    make,
    organisation,
    practitioner,
    save_location,
    save_organisation,
    save_practitioner,
    save_resource,
    save_service,
)
from carebook.services.boundary import checked_api
from carebook.services.context import Deps

__all__ = ["CalendarAdmin"]


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


E = TypeVar("E", bound=_HasId)
Saver = Callable[[UnitOfWork, E], None]
R = TypeVar("R")


@checked_api
class CalendarAdmin:
    """Calendar use cases; each change is one transaction and one CalendarChanged event."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _save(
        self,
        actor: Actor,
        entity: str,
        change: str,
        build: Callable[[UnitOfWork], tuple[E, OrganisationId, Saver[E]]],
        correlation_id: str | None,
    ) -> E:
        stamp = self._deps.stamp(correlation_id)

        def work(uow: UnitOfWork) -> E:
            value, organisation_id, save = build(uow)
            save(uow, value)
            uow.outbox.append(
                [
                    CalendarChanged(
                        **stamp.meta(),  # type: ignore[arg-type]
                        organisation_id=organisation_id,
                        entity=entity,
                        entity_id=value.id,
                        change=change,
                        actor=actor.kind.value,
                    )
                ]
            )
            return value

        value = self._deps.write(work)
        self._deps.info(stamp, "%s %s id=%s", change, entity, value.id)
        self._deps.after_commit()
        return value

    def _new_id(self) -> uuid.UUID:
        return self._deps.new_id()

    # -- organisation and locations -------------------------------------------------
    def create_organisation(
        self,
        actor: Actor,
        *,
        name: str,
        language: str = "en",
        correlation_id: str | None = None,
        **policy: Any,
    ) -> Organisation:
        """Create an organisation (admin only): ``language`` (BCP 47) for recipients with
        none of their own, ``policy`` the BookingPolicy fields."""
        authz.require_admin(actor, "create an organisation")
        from carebook.domain.scheduling.policy import BookingPolicy

        org = make(
            Organisation,
            id=OrganisationId(self._new_id()),
            name=name,
            policy=make(BookingPolicy, **policy),
            language=language,
        )
        return self._save(
            actor,
            "organisation",
            "created",
            lambda uow: (org, org.id, save_organisation),
            correlation_id,
        )

    def add_location(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        correlation_id: str | None = None,
        **fields: Any,
    ) -> Location:
        authz.require_admin(actor, "add a location")

        def build(uow: UnitOfWork) -> tuple[Location, OrganisationId, Saver[Location]]:
            organisation(uow, organisation_id)
            loc = make(
                Location, id=LocationId(self._new_id()), organisation_id=organisation_id, **fields
            )
            return loc, organisation_id, save_location

        return self._save(actor, "location", "created", build, correlation_id)

    def update_location(
        self,
        actor: Actor,
        location_id: LocationId,
        *,
        correlation_id: str | None = None,
        **changes: Any,
    ) -> Location:
        """Change opening hours, policy, name or zone of a location."""
        authz.require_admin(actor, "change a location")
        if "id" in changes or "organisation_id" in changes:
            raise ValidationError("a location's id and organisation cannot change")

        def build(uow: UnitOfWork) -> tuple[Location, OrganisationId, Saver[Location]]:
            loc = make(attrs.evolve, location(uow, location_id), **changes)
            return loc, loc.organisation_id, save_location

        return self._save(actor, "location", "updated", build, correlation_id)

    def add_closure(
        self,
        actor: Actor,
        location_id: LocationId,
        closure: Closure,
        *,
        correlation_id: str | None = None,
    ) -> Location:
        """Close a location for a span (holiday, or an emergency block)."""

        def build(uow: UnitOfWork) -> tuple[Location, OrganisationId, Saver[Location]]:
            loc = location(uow, location_id)
            authz.require_staff_at(actor, loc.id, "close a location")
            loc = attrs.evolve(loc, closures=(*loc.closures, closure))
            return loc, loc.organisation_id, save_location

        return self._save(actor, "location", f"closure:{closure.kind.value}", build, correlation_id)

    # -- practitioners ----------------------------------------------------------------
    def add_practitioner(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        name: str,
        plans: Iterable[WorkingPlan] = (),
        correlation_id: str | None = None,
    ) -> Practitioner:
        authz.require_admin(actor, "add a practitioner")

        def build(uow: UnitOfWork) -> tuple[Practitioner, OrganisationId, Saver[Practitioner]]:
            organisation(uow, organisation_id)
            plan_list = tuple(plans)
            locations_of(uow, organisation_id, (p.location_id for p in plan_list))
            added = make(
                Practitioner,
                id=PractitionerId(self._new_id()),
                organisation_id=organisation_id,
                name=name,
                plans=plan_list,
            )
            return added, organisation_id, save_practitioner

        return self._save(actor, "practitioner", "created", build, correlation_id)

    def set_working_plan(
        self,
        actor: Actor,
        practitioner_id: PractitionerId,
        plan: WorkingPlan,
        *,
        correlation_id: str | None = None,
    ) -> Practitioner:
        """Replace the practitioner's plan at ``plan.location_id`` (or add one)."""
        authz.require_admin(actor, "change a working plan")

        def build(uow: UnitOfWork) -> tuple[Practitioner, OrganisationId, Saver[Practitioner]]:
            current = practitioner(uow, practitioner_id)
            locations_of(uow, current.organisation_id, [plan.location_id])
            plans = [p for p in current.plans if p.location_id != plan.location_id]
            updated = attrs.evolve(current, plans=(*plans, plan))
            return updated, current.organisation_id, save_practitioner

        return self._save(actor, "practitioner", "plan", build, correlation_id)

    def add_date_override(
        self,
        actor: Actor,
        practitioner_id: PractitionerId,
        override: DateOverride,
        *,
        correlation_id: str | None = None,
    ) -> Practitioner:
        """Replace the plan on one date at one location (empty ranges: day off)."""

        def build(uow: UnitOfWork) -> tuple[Practitioner, OrganisationId, Saver[Practitioner]]:
            current = practitioner(uow, practitioner_id)
            locations_of(uow, current.organisation_id, [override.location_id])
            authz.require_staff_at(actor, override.location_id, "change a practitioner's day")
            kept = [
                o
                for o in current.overrides
                if (o.location_id, o.date) != (override.location_id, override.date)
            ]
            updated = attrs.evolve(current, overrides=(*kept, override))
            return updated, current.organisation_id, save_practitioner

        return self._save(actor, "practitioner", "override", build, correlation_id)

    def add_time_off(
        self,
        actor: Actor,
        practitioner_id: PractitionerId,
        interval: Interval,
        *,
        correlation_id: str | None = None,
    ) -> Practitioner:
        authz.require_admin(actor, "record time off")

        def build(uow: UnitOfWork) -> tuple[Practitioner, OrganisationId, Saver[Practitioner]]:
            current = practitioner(uow, practitioner_id)
            updated = attrs.evolve(current, time_off=(*current.time_off, interval))
            return updated, current.organisation_id, save_practitioner

        return self._save(actor, "practitioner", "time_off", build, correlation_id)

    # -- services, resources, patients -----------------------------------------------
    def add_service(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        correlation_id: str | None = None,
        **fields: Any,
    ) -> Service:
        authz.require_admin(actor, "add a service")

        def build(uow: UnitOfWork) -> tuple[Service, OrganisationId, Saver[Service]]:
            organisation(uow, organisation_id)
            service = make(
                Service, id=ServiceId(self._new_id()), organisation_id=organisation_id, **fields
            )
            for pid in service.practitioner_ids:
                practitioner(uow, pid)
            locations_of(uow, organisation_id, service.location_ids)
            return service, organisation_id, save_service

        return self._save(actor, "service", "created", build, correlation_id)

    def add_resource(
        self,
        actor: Actor,
        *,
        location_id: LocationId,
        correlation_id: str | None = None,
        **fields: Any,
    ) -> Resource:
        authz.require_admin(actor, "add a resource")

        def build(uow: UnitOfWork) -> tuple[Resource, OrganisationId, Saver[Resource]]:
            loc = location(uow, location_id)
            resource = make(Resource, id=ResourceId(self._new_id()), location_id=loc.id, **fields)
            return resource, loc.organisation_id, save_resource

        return self._save(actor, "resource", "created", build, correlation_id)

    def register_patient(
        self,
        actor: Actor,
        *,
        organisation_id: OrganisationId,
        kind: PatientKind | str = PatientKind.NEW,
        contact_ref: str | None = None,
        timezone: str | None = None,
        sex: Sex | str | None = None,
        birth_date: dt.date | None = None,
        language: str | None = None,
        correlation_id: str | None = None,
    ) -> Patient:
        """Record a patient (staff of the organisation, admin or system); a wrong value is
        a ValidationError naming the field (:class:`~carebook.scheduling.Patient`).
        ``language`` is their preferred language of messages, a BCP 47 tag."""
        if actor.kind is ActorKind.PATIENT:
            raise ForbiddenError("patients are registered by staff or the host application")
        patient = Patient(
            id=PatientId(self._new_id()),
            organisation_id=organisation_id,
            kind=kind,
            contact_ref=contact_ref,
            timezone=timezone,
            sex=sex,
            birth_date=birth_date,
            language=language,
        )

        def build(uow: UnitOfWork) -> tuple[Patient, OrganisationId, Saver[Patient]]:
            organisation(uow, organisation_id)
            if not authz.works_for(uow, actor, organisation_id):
                raise ForbiddenError("staff register patients only in their own organisation")
            return patient, organisation_id, lambda uow, value: uow.patients.save(value)

        return self._save(actor, "patient", "registered", build, correlation_id)
