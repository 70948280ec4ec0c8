"""Strategies for appointments in any status, with or without a treatment session."""

from __future__ import annotations

from hypothesis import strategies as st

from carebook.domain.ids import (
    AppointmentId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.scheduling.appointment import (
    Appointment,
    AppointmentStatus,
    SessionStatus,
    TreatmentSession,
)
from carebook.testing.strategies.values import aware_datetimes, clean_text, codes, ids

__all__ = ["appointments"]


@st.composite
def appointments(draw: st.DrawFn) -> Appointment:
    """Appointments in any status with consistent times: buffers around ``start``/``end``,
    a hold expiry only when ``proposed``, a session only when arrived or fulfilled."""
    start = draw(aware_datetimes())
    end = start.add(minutes=draw(st.integers(1, 480)))
    status = draw(st.sampled_from(AppointmentStatus))
    created = start.subtract(minutes=draw(st.integers(0, 60 * 24 * 90)))
    session = None
    if status in (AppointmentStatus.ARRIVED, AppointmentStatus.FULFILLED) and draw(st.booleans()):
        done = status is AppointmentStatus.FULFILLED
        session = TreatmentSession(
            status=SessionStatus.COMPLETED if done else SessionStatus.IN_PROGRESS,
            started_at=start,
            completed_at=end if done else None,
        )
    return Appointment(
        id=draw(ids(AppointmentId)),
        organisation_id=draw(ids(OrganisationId)),
        location_id=draw(ids(LocationId)),
        practitioner_id=draw(ids(PractitionerId)),
        patient_id=draw(ids(PatientId)),
        service_ids=draw(st.lists(ids(ServiceId), min_size=1, max_size=3, unique=True)),
        resource_ids=draw(st.lists(ids(ResourceId), max_size=2, unique=True)),
        start=start,
        end=end,
        occupied_start=start.subtract(minutes=draw(st.integers(0, 60))),
        occupied_end=end.add(minutes=draw(st.integers(0, 60))),
        status=status,
        created_at=created,
        hold_expires_at=(
            created.add(minutes=draw(st.integers(1, 1440)))
            if status is AppointmentStatus.PROPOSED
            else None
        ),
        session=session,
        cancel_reason=draw(codes()) if status is AppointmentStatus.CANCELLED else None,
        idempotency_key=draw(st.none() | clean_text(min_size=1, max_size=200)),
        request_fingerprint=draw(
            st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
        ),
        version=draw(st.integers(1, 1000)),
    )
