"""Typed identifiers, one per aggregate (UUID-based).

They are ``NewType``s over :class:`uuid.UUID`: free at run time, distinct to mypy.
"""

from __future__ import annotations

import uuid
from typing import NewType

__all__ = [
    "AppointmentId",
    "EventId",
    "LocationId",
    "OrganisationId",
    "PatientId",
    "PractitionerId",
    "ResourceId",
    "SagaId",
    "ServiceId",
    "new_uuid",
]

OrganisationId = NewType("OrganisationId", uuid.UUID)
LocationId = NewType("LocationId", uuid.UUID)
PractitionerId = NewType("PractitionerId", uuid.UUID)
ServiceId = NewType("ServiceId", uuid.UUID)
ResourceId = NewType("ResourceId", uuid.UUID)
PatientId = NewType("PatientId", uuid.UUID)
AppointmentId = NewType("AppointmentId", uuid.UUID)
EventId = NewType("EventId", uuid.UUID)
SagaId = NewType("SagaId", uuid.UUID)


def new_uuid() -> uuid.UUID:
    """A fresh random UUID (services call this; the domain never does)."""
    return uuid.uuid4()
