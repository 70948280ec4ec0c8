"""Strategies for the clients' booking commands."""

from __future__ import annotations

from hypothesis import strategies as st

from carebook.domain.ids import AppointmentId, LocationId, PatientId, PractitionerId, ServiceId
from carebook.services.booking.commands import BookAppointment, CancelAppointment, HoldSlot
from carebook.testing.strategies.values import St, aware_datetimes, clean_text, codes, ids

__all__ = [
    "book_appointment_commands",
    "cancel_appointment_commands",
    "commands",
    "hold_slot_commands",
]


def _service_lists() -> St[list[ServiceId]]:
    return st.lists(ids(ServiceId), min_size=1, max_size=3, unique=True)


def hold_slot_commands() -> St[HoldSlot]:
    return st.builds(
        HoldSlot,
        location_id=ids(LocationId),
        practitioner_id=ids(PractitionerId),
        patient_id=ids(PatientId),
        service_ids=_service_lists(),
        start=aware_datetimes(),
    )


def book_appointment_commands() -> St[BookAppointment]:
    return st.builds(
        BookAppointment,
        location_id=ids(LocationId),
        practitioner_id=ids(PractitionerId),
        patient_id=ids(PatientId),
        service_ids=_service_lists(),
        start=aware_datetimes(),
        idempotency_key=clean_text(min_size=1, max_size=200),
        hold_id=st.none() | ids(AppointmentId),
    )


def cancel_appointment_commands() -> St[CancelAppointment]:
    return st.builds(
        CancelAppointment,
        appointment_id=ids(AppointmentId),
        reason=codes(),
        note=st.none() | clean_text(max_size=200),
    )


def commands() -> St[HoldSlot | BookAppointment | CancelAppointment]:
    """Any client command."""
    return st.one_of(
        hold_slot_commands(), book_appointment_commands(), cancel_appointment_commands()
    )
