"""A read-only snapshot of one organisation's calendar, loaded in one storage call."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from attrs import frozen

from carebook.domain.ids import LocationId, PractitionerId, ResourceId, ServiceId
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Practitioner,
    Resource,
    Service,
)
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.errors import NotFoundError

__all__ = ["ClinicCalendar"]


@frozen
class ClinicCalendar:
    """Everything availability and the reservation rules read, besides busy time."""

    organisation: Organisation
    locations: dict[LocationId, Location] = attrs.field(factory=dict)
    practitioners: dict[PractitionerId, Practitioner] = attrs.field(factory=dict)
    services: dict[ServiceId, Service] = attrs.field(factory=dict)
    resources: dict[ResourceId, Resource] = attrs.field(factory=dict)

    @classmethod
    def build(
        cls,
        organisation: Organisation,
        locations: Iterable[Location] = (),
        practitioners: Iterable[Practitioner] = (),
        services: Iterable[Service] = (),
        resources: Iterable[Resource] = (),
    ) -> ClinicCalendar:
        return cls(
            organisation,
            {x.id: x for x in locations},
            {x.id: x for x in practitioners},
            {x.id: x for x in services},
            {x.id: x for x in resources},
        )

    def policy_for(self, location_id: LocationId) -> BookingPolicy:
        """The location's policy override, else the organisation's default."""
        location = self.location(location_id)
        return location.policy or self.organisation.policy

    def location(self, location_id: LocationId) -> Location:
        try:
            return self.locations[location_id]
        except KeyError:
            raise NotFoundError("location", location_id) from None

    def practitioner(self, practitioner_id: PractitionerId) -> Practitioner:
        try:
            return self.practitioners[practitioner_id]
        except KeyError:
            raise NotFoundError("practitioner", practitioner_id) from None

    def service(self, service_id: ServiceId) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise NotFoundError("service", service_id) from None

    def resources_at(self, location_id: LocationId, category: str) -> list[Resource]:
        """Resources of ``category`` at the location, in a stable order."""
        return sorted(
            (
                r
                for r in self.resources.values()
                if r.location_id == location_id and r.category == category
            ),
            key=lambda r: (r.name, str(r.id)),
        )
