"""Commands a client sends. Frozen, validated at construction, JSON round-trippable."""

from __future__ import annotations

import hashlib

import attrs
import pendulum
from attrs import frozen

from carebook.domain import validators
from carebook.domain.ids import AppointmentId, LocationId, PatientId, PractitionerId, ServiceId
from carebook.domain.instants import require_aware
from carebook.errors import ValidationError

__all__ = ["BookAppointment", "CancelAppointment", "HoldSlot", "fingerprint", "scoped_key"]


def _services(value: object) -> tuple[ServiceId, ...]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ValidationError("service_ids must be a sequence of service ids")
    ids = tuple(value)
    if not ids:
        raise ValidationError("name at least one service")
    if len(set(ids)) != len(ids):
        raise ValidationError("a service is named twice")
    return ids


def _start(value: object) -> pendulum.DateTime:
    return require_aware(value, "start")


@frozen(kw_only=True)
class HoldSlot:
    """Hold a slot (FHIR ``proposed``) for the policy's ``hold_minutes``."""

    location_id: LocationId
    practitioner_id: PractitionerId
    patient_id: PatientId
    service_ids: tuple[ServiceId, ...] = attrs.field(converter=_services)
    start: pendulum.DateTime = attrs.field(converter=_start)


@frozen(kw_only=True)
class BookAppointment:
    """Book a slot (optionally the one held by ``hold_id``).

    Retrying with the same ``idempotency_key`` and the same request returns the same
    appointment; the same key with a different request is an IdempotencyConflictError.
    """

    location_id: LocationId
    practitioner_id: PractitionerId
    patient_id: PatientId
    service_ids: tuple[ServiceId, ...] = attrs.field(converter=_services)
    start: pendulum.DateTime = attrs.field(converter=_start)
    idempotency_key: str = attrs.field(validator=validators.idempotency_key)
    hold_id: AppointmentId | None = None


@frozen(kw_only=True)
class CancelAppointment:
    """Cancel with a reason code; ``note`` is free text kept out of events and logs."""

    appointment_id: AppointmentId
    reason: str = "patient_request"
    note: str | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip() or len(self.reason) > 64:
            raise ValidationError("a cancellation reason is a short code, e.g. 'patient_request'")


def scoped_key(command: BookAppointment) -> str:
    """The stored key: idempotency keys are scoped to the patient, so one patient's key
    never collides with (or reveals) another's."""
    return f"{command.patient_id}/{command.idempotency_key}"


def fingerprint(command: BookAppointment) -> str:
    """A digest of everything in the request except its idempotency key."""
    from carebook.serialization import dumps

    body = dumps(attrs.evolve(command, idempotency_key="-"))
    return hashlib.sha256(body.encode()).hexdigest()
