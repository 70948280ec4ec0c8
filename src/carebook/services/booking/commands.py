"""Commands a client sends. Frozen, validated at construction, JSON round-trippable."""

from __future__ import annotations

import hashlib

import attrs
import pendulum
from attrs import frozen

from carebook.domain import ids, validators
from carebook.domain.ids import AppointmentId, LocationId, PatientId, PractitionerId, ServiceId
from carebook.domain.instants import require_aware
from carebook.errors import ValidationError

__all__ = [
    "BookAppointment",
    "CancelAppointment",
    "HoldSlot",
    "RescheduleAppointment",
    "fingerprint",
    "move_fingerprint",
    "scoped_key",
]


def _start(value: object) -> pendulum.DateTime:
    return require_aware(value, "start")


@frozen(kw_only=True)
class HoldSlot:
    """Hold a slot (FHIR ``proposed``) for the policy's ``hold_minutes``."""

    location_id: LocationId = attrs.field(converter=ids.location_id, validator=ids.is_id)
    practitioner_id: PractitionerId = attrs.field(
        converter=ids.practitioner_id, validator=ids.is_id
    )
    patient_id: PatientId = attrs.field(converter=ids.patient_id, validator=ids.is_id)
    service_ids: tuple[ServiceId, ...] = attrs.field(converter=ids.service_ids)
    start: pendulum.DateTime = attrs.field(converter=_start)


@frozen(kw_only=True)
class BookAppointment:
    """Book a slot (optionally the one held by ``hold_id``).

    Retrying with the same ``idempotency_key`` and the same request returns the same
    appointment; the same key with a different request is an IdempotencyConflictError.
    """

    location_id: LocationId = attrs.field(converter=ids.location_id, validator=ids.is_id)
    practitioner_id: PractitionerId = attrs.field(
        converter=ids.practitioner_id, validator=ids.is_id
    )
    patient_id: PatientId = attrs.field(converter=ids.patient_id, validator=ids.is_id)
    service_ids: tuple[ServiceId, ...] = attrs.field(converter=ids.service_ids)
    start: pendulum.DateTime = attrs.field(converter=_start)
    idempotency_key: str = attrs.field(validator=validators.idempotency_key)
    hold_id: AppointmentId | None = attrs.field(
        default=None,
        converter=ids.optional_appointment_id,
        validator=attrs.validators.optional(ids.is_id),
    )


@frozen(kw_only=True)
class CancelAppointment:
    """Cancel with a reason code; ``note`` is free text kept out of events and logs."""

    appointment_id: AppointmentId = attrs.field(converter=ids.appointment_id, validator=ids.is_id)
    reason: str = "patient_request"
    note: str | None = attrs.field(
        default=None,
        repr=False,
        validator=validators.optional_text(validators.MAX_NOTE, allow_empty=True),
    )

    def __attrs_post_init__(self) -> None:
        if (
            not isinstance(self.reason, str)
            or not self.reason.strip()
            or len(self.reason) > 64
            or not validators.is_clean_text(self.reason)
        ):
            raise ValidationError("a cancellation reason is a short code, e.g. 'patient_request'")


@frozen(kw_only=True)
class RescheduleAppointment:
    """Move an appointment to ``start``, and to another ``practitioner_id`` or
    ``location_id`` where given (None: the current one). Its services stay; resources
    are chosen again for the new slot.

    ``idempotency_key``: retrying with the same key and request returns the moved
    appointment without moving it again; the same key with another request is an
    IdempotencyConflictError. ``override_reason``: staff (never a patient) overriding
    the reschedule notice and limit say why; the reason is recorded with the move and
    kept out of events and logs.
    """

    appointment_id: AppointmentId = attrs.field(converter=ids.appointment_id, validator=ids.is_id)
    start: pendulum.DateTime = attrs.field(converter=_start)
    practitioner_id: PractitionerId | None = attrs.field(
        default=None,
        converter=ids.optional_practitioner_id,
        validator=attrs.validators.optional(ids.is_id),
    )
    location_id: LocationId | None = attrs.field(
        default=None,
        converter=ids.optional_location_id,
        validator=attrs.validators.optional(ids.is_id),
    )
    idempotency_key: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(validators.idempotency_key)
    )
    override_reason: str | None = attrs.field(
        default=None, repr=False, validator=validators.optional_text(validators.MAX_NOTE)
    )


def move_fingerprint(command: RescheduleAppointment) -> str:
    """A digest of a reschedule request except its idempotency key."""
    from carebook.serialization import dumps

    body = dumps(attrs.evolve(command, idempotency_key=None))
    return hashlib.sha256(body.encode()).hexdigest()


def scoped_key(command: BookAppointment) -> str:
    """The stored key: idempotency keys are scoped to the patient, so one patient's key
    never collides with (or reveals) another's."""
    return f"{command.patient_id}/{command.idempotency_key}"


def fingerprint(command: BookAppointment) -> str:
    """A digest of everything in the request except its idempotency key."""
    from carebook.serialization import dumps

    body = dumps(attrs.evolve(command, idempotency_key="-"))
    return hashlib.sha256(body.encode()).hexdigest()
