"""The clinic's calendar: organisation, locations, practitioners, services, resources.

Opening hours and working plans are local wall-clock ranges in the location's IANA zone;
closures and time off are UTC intervals. Everything here is a frozen value: change it
with ``attrs.evolve`` and store the new version.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools

import attrs
from attrs import frozen

from carebook.domain import ids
from carebook.domain.ids import (
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import Interval, require_date
from carebook.domain.languages import canonical_language, optional_language
from carebook.domain.money import Money
from carebook.domain.scheduling.hours import TimeRange, WeeklyHours, subtract_minutes, to_ranges
from carebook.domain.scheduling.patients import (
    PatientFacts,
    Sex,
    to_sex,
    validate_birth_date,
    validate_contact_ref,
)
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.domain.validators import (
    MAX_NAME,
    check_text,
    each,
    instance_of,
    text,
    time_zone,
    to_enum,
    to_frozenset,
    to_tuple,
    whole_number,
)
from carebook.errors import ValidationError

__all__ = [
    "Closure",
    "ClosureKind",
    "DateOverride",
    "Location",
    "Organisation",
    "Patient",
    "PatientKind",
    "Practitioner",
    "Resource",
    "ResourceKind",
    "Service",
    "TimeRange",
    "WeeklyHours",
    "WorkingPlan",
]


def _nonempty(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    """A name: clean text of 1 to MAX_NAME characters, not only spaces."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{attribute.name} must be a non-empty string")
    check_text(value, attribute.name, MAX_NAME)


def _categories(value: object) -> frozenset[str]:
    names = to_frozenset(value)  # type: ignore[arg-type]
    for name in names:
        check_text(name, "needs", MAX_NAME)
    return names


class ClosureKind(enum.StrEnum):
    """A planned closure, or an emergency block of a time range."""

    CLOSURE = "closure"
    EMERGENCY = "emergency"


def _closure_kind(value: object) -> ClosureKind:
    return to_enum(ClosureKind, value, "kind")


@frozen(kw_only=True)
class Closure:
    """A span when the location takes no appointments (holiday, emergency block)."""

    interval: Interval = attrs.field(validator=instance_of(Interval))
    kind: ClosureKind = attrs.field(default=ClosureKind.CLOSURE, converter=_closure_kind)
    label: str = attrs.field(default="", validator=text(MAX_NAME, allow_empty=True))


@frozen(kw_only=True)
class Organisation:
    """A clinic network: the default policy for its locations."""

    id: OrganisationId
    name: str = attrs.field(validator=_nonempty)
    policy: BookingPolicy = attrs.field(factory=BookingPolicy, validator=instance_of(BookingPolicy))
    language: str = attrs.field(default="en", converter=canonical_language)
    """The language of messages to recipients who have no preferred one (BCP 47)."""


@frozen(kw_only=True)
class Location:
    """A clinic office in one IANA time zone, with weekly opening hours and closures."""

    id: LocationId
    organisation_id: OrganisationId
    name: str = attrs.field(validator=_nonempty)
    timezone: str = attrs.field(validator=time_zone)
    opening_hours: WeeklyHours = attrs.field(
        factory=WeeklyHours, validator=instance_of(WeeklyHours)
    )
    closures: tuple[Closure, ...] = attrs.field(
        default=(), converter=to_tuple, validator=each(Closure)
    )
    policy: BookingPolicy | None = attrs.field(
        default=None, validator=instance_of((BookingPolicy, type(None)))
    )


@frozen(kw_only=True)
class WorkingPlan:
    """When a practitioner works at one location, week by week, minus breaks."""

    location_id: LocationId = attrs.field(converter=ids.location_id, validator=ids.is_id)
    hours: WeeklyHours = attrs.field(validator=instance_of(WeeklyHours))
    breaks: WeeklyHours = attrs.field(factory=WeeklyHours, validator=instance_of(WeeklyHours))

    @functools.cached_property
    def week_minutes(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per weekday, the working ``(start_minute, end_minute)`` pairs after breaks."""
        return tuple(
            tuple(subtract_minutes(self.hours.minutes[day], self.breaks.minutes[day]))
            for day in range(7)
        )


def _override_date(_: object, __: attrs.Attribute[dt.date], value: object) -> None:
    require_date(value, "an override's date")


@frozen(kw_only=True)
class DateOverride:
    """Replaces the plan at ``location_id`` on ``date``; empty ``ranges`` is a day off."""

    location_id: LocationId = attrs.field(converter=ids.location_id, validator=ids.is_id)
    date: dt.date = attrs.field(validator=_override_date)
    ranges: tuple[TimeRange, ...] = attrs.field(default=(), converter=to_ranges)


@frozen(kw_only=True)
class Practitioner:
    """A clinician with working plans per location, date overrides and time off."""

    id: PractitionerId
    organisation_id: OrganisationId
    name: str = attrs.field(validator=_nonempty)
    plans: tuple[WorkingPlan, ...] = attrs.field(
        default=(), converter=to_tuple, validator=each(WorkingPlan)
    )
    overrides: tuple[DateOverride, ...] = attrs.field(
        default=(), converter=to_tuple, validator=each(DateOverride)
    )
    time_off: tuple[Interval, ...] = attrs.field(
        default=(), converter=to_tuple, validator=each(Interval)
    )

    def plan_at(self, location_id: LocationId) -> WorkingPlan | None:
        return next((p for p in self.plans if p.location_id == location_id), None)

    @property
    def location_ids(self) -> frozenset[LocationId]:
        return frozenset(p.location_id for p in self.plans) | frozenset(
            o.location_id for o in self.overrides
        )


class ResourceKind(enum.StrEnum):
    """What a bookable resource is: a room or a piece of equipment."""

    ROOM = "room"
    EQUIPMENT = "equipment"


def _resource_kind(value: object) -> ResourceKind:
    return to_enum(ResourceKind, value, "kind")


@frozen(kw_only=True)
class Resource:
    """A bookable room or piece of equipment at one location, of one ``category``."""

    id: ResourceId
    location_id: LocationId
    name: str = attrs.field(validator=_nonempty)
    category: str = attrs.field(validator=_nonempty)
    kind: ResourceKind = attrs.field(default=ResourceKind.ROOM, converter=_resource_kind)


MAX_SERVICE_MINUTES = 1440
"""The longest service, and the longest buffer before or after it: one day."""


@frozen(kw_only=True)
class Service:
    """Something a patient books: a duration, buffers, a price, who offers it.

    ``duration`` is 1 to 1440 minutes, each buffer 0 to 1440.
    ``needs`` names resource categories: one free resource of each category at the
    location is reserved with the practitioner. ``location_ids`` empty means everywhere.
    """

    id: ServiceId
    organisation_id: OrganisationId
    name: str = attrs.field(validator=_nonempty)
    duration: int = attrs.field(validator=whole_number(1, MAX_SERVICE_MINUTES))
    price: Money = attrs.field(validator=instance_of(Money))
    buffer_before: int = attrs.field(default=0, validator=whole_number(0, MAX_SERVICE_MINUTES))
    buffer_after: int = attrs.field(default=0, validator=whole_number(0, MAX_SERVICE_MINUTES))
    practitioner_ids: frozenset[PractitionerId] = attrs.field(
        factory=frozenset, converter=ids.practitioner_id_set, validator=ids.each_id
    )
    needs: frozenset[str] = attrs.field(factory=frozenset, converter=_categories)
    location_ids: frozenset[LocationId] = attrs.field(
        factory=frozenset, converter=ids.location_id_set, validator=ids.each_id
    )

    def offered_at(self, location_id: LocationId) -> bool:
        return not self.location_ids or location_id in self.location_ids


class PatientKind(enum.StrEnum):
    """New patients get longer first visits; returning ones the usual length."""

    NEW = "new"
    RETURNING = "returning"


def _patient_kind(value: object) -> PatientKind:
    return to_enum(PatientKind, value, "kind")


def _optional_sex(value: object) -> Sex | None:
    return None if value is None else to_sex(value)


@frozen(kw_only=True)
class Patient:
    """A patient as the core knows them: an id, new or returning, opaque contact ref.

    Names and contact details live in the host application; ``contact_ref`` is an opaque
    key a notifier adapter can resolve (at most 200 characters, no control characters),
    and is kept out of ``repr``. ``sex`` and
    ``birth_date`` are optional facts the discount policies may look at (R1's birthday
    discount); they are patient data, kept out of ``repr``, events, logs, audit entries
    and exception messages.
    """

    id: PatientId
    organisation_id: OrganisationId
    kind: PatientKind = attrs.field(default=PatientKind.NEW, converter=_patient_kind)
    contact_ref: str | None = attrs.field(default=None, repr=False, validator=validate_contact_ref)
    timezone: str | None = attrs.field(default=None, validator=attrs.validators.optional(time_zone))
    sex: Sex | None = attrs.field(default=None, converter=_optional_sex, repr=False)
    birth_date: dt.date | None = attrs.field(
        default=None, validator=validate_birth_date, repr=False
    )
    language: str | None = attrs.field(default=None, converter=optional_language)
    """The preferred language of messages (a BCP 47 tag such as ``"hi-IN"``), or None
    for the organisation's."""

    @property
    def facts(self) -> PatientFacts:
        """What a discount policy may know about this patient."""
        return PatientFacts(sex=self.sex or Sex.UNKNOWN, birth_date=self.birth_date)
