"""Strategies for calendar rows: booking policies, organisations, locations,
practitioners, services, resources and patients."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from carebook.domain.ids import (
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.scheduling.calendar import (
    Closure,
    ClosureKind,
    DateOverride,
    Location,
    Organisation,
    Patient,
    PatientKind,
    Practitioner,
    Resource,
    ResourceKind,
    Service,
    WorkingPlan,
)
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.testing.strategies.values import (
    St,
    clean_text,
    codes,
    day_ranges,
    ids,
    intervals,
    money,
    names,
    timezones,
    weekly_hours,
)

__all__ = [
    "booking_policies",
    "locations",
    "organisations",
    "patients",
    "practitioners",
    "resources",
    "services",
]


def booking_policies() -> St[BookingPolicy]:
    """Any policy the validators accept."""
    return st.builds(
        BookingPolicy,
        slot_interval=st.integers(1, 1440),
        min_notice=st.integers(0, 525_600),
        horizon_days=st.integers(1, 3660),
        hold_minutes=st.integers(1, 1440),
        cancel_notice=st.integers(0, 525_600),
        reschedule_notice=st.integers(0, 525_600),
        max_reschedules=st.integers(0, 100),
        session_window_before=st.integers(0, 1440),
        session_window_after=st.integers(0, 1440),
        no_show_grace=st.integers(0, 1440),
        require_confirmation=st.booleans(),
    )


def organisations() -> St[Organisation]:
    return st.builds(Organisation, id=ids(OrganisationId), name=names(), policy=booking_policies())


def locations() -> St[Location]:
    """Locations with opening hours, closures and an optional policy override."""
    closures = st.builds(
        Closure,
        interval=intervals(),
        kind=st.sampled_from(ClosureKind),
        label=clean_text(max_size=200),
    )
    return st.builds(
        Location,
        id=ids(LocationId),
        organisation_id=ids(OrganisationId),
        name=names(),
        timezone=timezones(),
        opening_hours=weekly_hours(),
        closures=st.lists(closures, max_size=3),
        policy=st.none() | booking_policies(),
    )


def practitioners() -> St[Practitioner]:
    """Practitioners with plans, breaks, date overrides and time off."""
    plans = st.builds(
        WorkingPlan, location_id=ids(LocationId), hours=weekly_hours(), breaks=weekly_hours()
    )
    overrides = st.builds(
        DateOverride,
        location_id=ids(LocationId),
        date=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
        ranges=day_ranges(),
    )
    return st.builds(
        Practitioner,
        id=ids(PractitionerId),
        organisation_id=ids(OrganisationId),
        name=names(),
        plans=st.lists(plans, max_size=3),
        overrides=st.lists(overrides, max_size=3),
        time_off=st.lists(intervals(), max_size=3),
    )


def services() -> St[Service]:
    return st.builds(
        Service,
        id=ids(ServiceId),
        organisation_id=ids(OrganisationId),
        name=names(),
        duration=st.integers(1, 480),
        price=money(),
        buffer_before=st.integers(0, 60),
        buffer_after=st.integers(0, 60),
        practitioner_ids=st.frozensets(ids(PractitionerId), max_size=3),
        needs=st.frozensets(codes(), max_size=3),
        location_ids=st.frozensets(ids(LocationId), max_size=3),
    )


def resources() -> St[Resource]:
    return st.builds(
        Resource,
        id=ids(ResourceId),
        location_id=ids(LocationId),
        name=names(),
        category=codes(),
        kind=st.sampled_from(ResourceKind),
    )


def patients() -> St[Patient]:
    return st.builds(
        Patient,
        id=ids(PatientId),
        organisation_id=ids(OrganisationId),
        kind=st.sampled_from(PatientKind),
        contact_ref=st.none()
        | st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40),
        timezone=st.none() | timezones(),
    )
