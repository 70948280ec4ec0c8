"""The clinic's calendar: organisation, locations, practitioners, services, resources.

Opening hours and working plans are local wall-clock ranges in the location's IANA zone;
closures and time off are UTC intervals. Everything here is a frozen value: change it
with ``attrs.evolve`` and store the new version.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools
import re
from collections.abc import Iterable, Mapping

import attrs
from attrs import frozen

from carebook.domain.ids import (
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import Interval
from carebook.domain.money import Money
from carebook.domain.scheduling.patients import (
    PatientFacts,
    Sex,
    to_sex,
    validate_birth_date,
    validate_contact_ref,
)
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.domain.validators import (
    each,
    instance_of,
    time_zone,
    to_enum,
    to_frozenset,
    to_tuple,
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

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _parse_minute(text: str) -> int:
    match = _HHMM.match(text.strip())
    if not match:
        raise ValidationError("a wall-clock time must be HH:MM, from 00:00 to 24:00")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValidationError("a wall-clock time must be HH:MM, from 00:00 to 24:00")
    return hours * 60 + minutes


def _subtract_minutes(
    spans: tuple[tuple[int, int], ...], cuts: tuple[tuple[int, int], ...]
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        pieces = [(start, end)]
        for cut_start, cut_end in cuts:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, cut_start)), (max(s, cut_end), e))
                if piece[0] < piece[1]
            ]
        out.extend(pieces)
    return out


def _nonempty(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{attribute.name} must be a non-empty string")


@frozen(order=True)
class TimeRange:
    """A local wall-clock range ``[start, end)`` within one day, in minutes from midnight.

    ``end_minute`` may be 1440 (midnight at the end of the day).
    """

    start_minute: int
    end_minute: int

    def __attrs_post_init__(self) -> None:
        for value in (self.start_minute, self.end_minute):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError("time range bounds are whole minutes")
        if not 0 <= self.start_minute < self.end_minute <= 1440:
            raise ValidationError("a time range must satisfy 00:00 <= start < end <= 24:00")

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """``TimeRange.parse("09:00-12:30")``; ``24:00`` is allowed as an end."""
        start, sep, end = text.partition("-")
        if not sep:
            raise ValidationError("a time range must be 'HH:MM-HH:MM', such as 09:00-12:30")
        return cls(_parse_minute(start), _parse_minute(end))

    @classmethod
    def of(cls, start: dt.time, end: dt.time | None = None) -> TimeRange:
        """From ``datetime.time`` values; ``end=None`` means end of day."""
        end_minute = 1440 if end is None else end.hour * 60 + end.minute
        return cls(start.hour * 60 + start.minute, end_minute)

    def __str__(self) -> str:
        return f"{self.start_minute // 60:02d}:{self.start_minute % 60:02d}-" + (
            f"{self.end_minute // 60:02d}:{self.end_minute % 60:02d}"
        )


def _ranges(values: Iterable[TimeRange | str]) -> tuple[TimeRange, ...]:
    out = sorted(TimeRange.parse(v) if isinstance(v, str) else v for v in values)
    for before, after in itertools.pairwise(out):
        if after.start_minute < before.end_minute:
            raise ValidationError("the time ranges of one day must not overlap")
    return tuple(out)


def _days(value: Mapping[int, Iterable[TimeRange | str]]) -> dict[int, tuple[TimeRange, ...]]:
    days: dict[int, tuple[TimeRange, ...]] = {}
    for weekday, ranges in value.items():
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError("weekdays are 0 (Monday) to 6 (Sunday)")
        cleaned = _ranges(ranges)
        if cleaned:
            days[int(weekday)] = cleaned
    return days


@frozen
class WeeklyHours:
    """Wall-clock ranges per weekday (0 = Monday ... 6 = Sunday)."""

    days: dict[int, tuple[TimeRange, ...]] = attrs.field(factory=dict, converter=_days)

    @classmethod
    def every_day(cls, *ranges: TimeRange | str, weekdays: Iterable[int] = range(7)) -> WeeklyHours:
        """The same ranges on each of ``weekdays`` (all seven by default)."""
        return cls({day: _ranges(ranges) for day in weekdays})

    def on(self, weekday: int) -> tuple[TimeRange, ...]:
        return self.days.get(weekday, ())

    @functools.cached_property
    def minutes(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Seven tuples (Monday first) of ``(start_minute, end_minute)`` pairs."""
        return tuple(
            tuple((r.start_minute, r.end_minute) for r in self.on(day)) for day in range(7)
        )


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
    label: str = attrs.field(default="", validator=instance_of(str))


@frozen(kw_only=True)
class Organisation:
    """A clinic network: the default policy for its locations."""

    id: OrganisationId
    name: str = attrs.field(validator=_nonempty)
    policy: BookingPolicy = attrs.field(factory=BookingPolicy, validator=instance_of(BookingPolicy))


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

    location_id: LocationId
    hours: WeeklyHours = attrs.field(validator=instance_of(WeeklyHours))
    breaks: WeeklyHours = attrs.field(factory=WeeklyHours, validator=instance_of(WeeklyHours))

    @functools.cached_property
    def week_minutes(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per weekday, the working ``(start_minute, end_minute)`` pairs after breaks."""
        return tuple(
            tuple(_subtract_minutes(self.hours.minutes[day], self.breaks.minutes[day]))
            for day in range(7)
        )


@frozen(kw_only=True)
class DateOverride:
    """Replaces the plan at ``location_id`` on ``date``; empty ``ranges`` is a day off."""

    location_id: LocationId
    date: dt.date
    ranges: tuple[TimeRange, ...] = attrs.field(default=(), converter=_ranges)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.date, dt.datetime) or not isinstance(self.date, dt.date):
            raise ValidationError("an override's date must be a date (not a datetime)")


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


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"{attribute.name} must be a positive whole number of minutes")


def _non_negative(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{attribute.name} must be zero or a positive whole number")


@frozen(kw_only=True)
class Service:
    """Something a patient books: a duration, buffers, a price, who offers it.

    ``needs`` names resource categories: one free resource of each category at the
    location is reserved with the practitioner. ``location_ids`` empty means everywhere.
    """

    id: ServiceId
    organisation_id: OrganisationId
    name: str = attrs.field(validator=_nonempty)
    duration: int = attrs.field(validator=_positive)
    price: Money = attrs.field(validator=instance_of(Money))
    buffer_before: int = attrs.field(default=0, validator=_non_negative)
    buffer_after: int = attrs.field(default=0, validator=_non_negative)
    practitioner_ids: frozenset[PractitionerId] = attrs.field(
        factory=frozenset, converter=to_frozenset
    )
    needs: frozenset[str] = attrs.field(factory=frozenset, converter=to_frozenset)
    location_ids: frozenset[LocationId] = attrs.field(factory=frozenset, converter=to_frozenset)

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

    @property
    def facts(self) -> PatientFacts:
        """What a discount policy may know about this patient."""
        return PatientFacts(sex=self.sex or Sex.UNKNOWN, birth_date=self.birth_date)
