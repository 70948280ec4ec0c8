"""Strategies for domain events: one per field name, so every event type is covered."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st

from carebook.domain.events import EVENT_TYPES, Event
from carebook.domain.ids import (
    AppointmentId,
    EventId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    SagaId,
)
from carebook.domain.scheduling.appointment import AppointmentStatus
from carebook.testing.strategies.values import St, aware_datetimes, codes, ids

__all__ = ["events", "events_of_type"]


_EVENT_FIELDS: dict[str, St[Any]] = {
    "event_id": ids(EventId),
    "occurred_at": aware_datetimes(),
    "correlation_id": st.text(max_size=64),
    "organisation_id": ids(OrganisationId),
    "appointment_id": ids(AppointmentId),
    "location_id": ids(LocationId),
    "practitioner_id": ids(PractitionerId),
    "patient_id": ids(PatientId),
    "start": aware_datetimes(),
    "end": aware_datetimes(),
    "expires_at": aware_datetimes(),
    "status": st.sampled_from([AppointmentStatus.PENDING.value, AppointmentStatus.BOOKED.value]),
    "reason": codes(),
    "by": st.sampled_from(["patient", "staff", "admin", "system"]),
    "entity": codes(),
    "entity_id": st.uuids(),
    "change": codes(),
    "actor": codes(),
    "wait_minutes": st.none() | st.integers(0, 100_000),
    "previous_wait_minutes": st.none() | st.integers(0, 100_000),
    "queue_length": st.integers(0, 100_000),
    "practitioners_on_duty": st.integers(0, 10_000),
    "cause": codes(),
    "saga_id": ids(SagaId),
    "base_amount": st.integers(0, 10**12),
    "amount": st.integers(0, 10**12),
    "currency": st.sampled_from(["EUR", "INR", "JPY", "KWD", "USD"]),
    "discount": st.none() | codes(),
    "quota_day": st.dates(),
    "intent_id": st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=40),
    "step": codes(),
    "previous_start": aware_datetimes(),
    "previous_end": aware_datetimes(),
    "previous_location_id": ids(LocationId),
    "previous_practitioner_id": ids(PractitionerId),
    "reschedules": st.integers(1, 1000),
    "overridden": st.booleans(),
    "offset_minutes": st.integers(1, 43_200),
}


def events_of_type(cls: type[Event]) -> St[Event]:
    """Instances of the event class ``cls``; KeyError names a field with no strategy yet."""
    missing = [f.name for f in attrs.fields(cls) if f.name not in _EVENT_FIELDS]
    if missing:
        raise KeyError(f"no strategy for {cls.__name__} field(s) {missing}")
    return st.builds(cls, **{f.name: _EVENT_FIELDS[f.name] for f in attrs.fields(cls)})


def events() -> St[Event]:
    """Any domain event: one of every class in ``EVENT_TYPES``."""
    return st.one_of([events_of_type(cls) for cls in EVENT_TYPES])
