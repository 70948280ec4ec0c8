"""The calendar admin's lookups and savers: a row by id or NotFoundError, and the
value builder that turns a wrong keyword into a ValidationError."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from carebook.domain.ids import LocationId, OrganisationId, PractitionerId
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Practitioner,
    Resource,
    Service,
)
from carebook.errors import NotFoundError, ValidationError
from carebook.ports import UnitOfWork

R = TypeVar("R")


def make(factory: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Build a value; an unknown or missing keyword is a ValidationError, not TypeError."""
    try:
        return factory(*args, **kwargs)
    except TypeError as exc:
        raise ValidationError(f"invalid fields: {exc}") from None


def save_organisation(uow: UnitOfWork, value: Organisation) -> None:
    uow.calendar.save_organisation(value)


def save_location(uow: UnitOfWork, value: Location) -> None:
    uow.calendar.save_location(value)


def save_practitioner(uow: UnitOfWork, value: Practitioner) -> None:
    uow.calendar.save_practitioner(value)


def save_service(uow: UnitOfWork, value: Service) -> None:
    uow.calendar.save_service(value)


def save_resource(uow: UnitOfWork, value: Resource) -> None:
    uow.calendar.save_resource(value)


def organisation(uow: UnitOfWork, organisation_id: OrganisationId) -> Organisation:
    org = uow.calendar.get_organisation(organisation_id)
    if org is None:
        raise NotFoundError("organisation", organisation_id)
    return org


def location(uow: UnitOfWork, location_id: LocationId) -> Location:
    loc = uow.calendar.get_location(location_id)
    if loc is None:
        raise NotFoundError("location", location_id)
    return loc


def practitioner(uow: UnitOfWork, practitioner_id: PractitionerId) -> Practitioner:
    found = uow.calendar.get_practitioner(practitioner_id)
    if found is None:
        raise NotFoundError("practitioner", practitioner_id)
    return found


def locations_of(
    uow: UnitOfWork, organisation_id: OrganisationId, location_ids: Iterable[LocationId]
) -> None:
    for location_id in location_ids:
        if location(uow, location_id).organisation_id != organisation_id:
            raise ValidationError(f"location {location_id} belongs to another organisation")
