"""Typed identifiers, one per aggregate (UUID-based).

They are ``NewType``s over :class:`uuid.UUID`: free at run time, distinct to mypy.

Where an id enters (a command's field, a use case's argument) it may also be given in
its string form, the way JSON carries it (``"6f1c...-..."``): :func:`parse_id` turns it
into the UUID, and a string that is not a UUID is a
:class:`~carebook.errors.ValidationError` naming the field (never quoting the value).
The typed converters below (``location_id``, ``patient_id``, ...) do this for attrs
fields, paired with the validator :func:`is_id`, which names the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, NewType

import attrs

from carebook.errors import ValidationError

__all__ = [
    "ID_TYPES",
    "AppointmentId",
    "EventId",
    "LocationId",
    "OrganisationId",
    "PatientId",
    "PractitionerId",
    "ResourceId",
    "SagaId",
    "ServiceId",
    "appointment_id",
    "each_id",
    "is_id",
    "location_id",
    "location_id_set",
    "new_uuid",
    "optional_appointment_id",
    "optional_location_id",
    "optional_patient_id",
    "parse_id",
    "patient_id",
    "practitioner_id",
    "practitioner_id_set",
    "service_id",
    "service_ids",
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

ID_TYPES = (
    OrganisationId,
    LocationId,
    PractitionerId,
    ServiceId,
    ResourceId,
    PatientId,
    AppointmentId,
    EventId,
    SagaId,
)
"""Every id type of the kernel (features add their own NewTypes over UUID, such as the
walk-in queue's ``QueueEntryId``)."""

_UUID = uuid.UUID


def new_uuid() -> uuid.UUID:
    """A fresh random UUID (services call this; the domain never does)."""
    return uuid.uuid4()


def _id_message(field: str) -> str:
    return f"{field} must be a UUID (or its string form)"


def parse_id(value: object, field: str) -> uuid.UUID:
    """``value`` as a UUID: a UUID as it is, a string parsed; anything else, and a string
    that is not a UUID, is a ValidationError naming ``field`` (the value is not quoted)."""
    if type(value) is _UUID:
        return value
    if isinstance(value, str):
        try:
            return _UUID(value)
        except ValueError:
            raise ValidationError(_id_message(field)) from None
    if isinstance(value, uuid.UUID):
        return value
    raise ValidationError(f"{_id_message(field)}, got {type(value).__name__}")


def _lenient(value: Any) -> Any:
    """The UUID a string stands for; any other value unchanged (:func:`is_id` then
    refuses it, naming the field)."""
    if isinstance(value, str):
        try:
            return _UUID(value)
        except ValueError:
            return value
    return value


def is_id(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: the field holds a UUID (wrap it in
    ``attrs.validators.optional`` where None is allowed)."""
    if not isinstance(value, uuid.UUID):
        raise ValidationError(_id_message(attribute.name))


def each_id(_: object, attribute: attrs.Attribute[Any], value: Iterable[object]) -> None:
    """An attrs validator: every item of the collection is a UUID."""
    for item in value:
        if not isinstance(item, uuid.UUID):
            raise ValidationError(f"{attribute.name} must hold UUIDs (or their string form)")


def _id_set(value: Any) -> Any:
    """A collection of ids (or their string forms) as a frozenset; a string or a
    non-collection is refused rather than split into characters."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(
            f"expected a collection of ids (list, tuple or set), got {type(value).__name__}"
        )
    return frozenset(_lenient(v) for v in value)


def location_id_set(value: Iterable[LocationId | str]) -> frozenset[LocationId]:
    """An attrs converter: location ids (or their string forms) as a frozenset (pair it
    with :func:`each_id`)."""
    return _id_set(value)  # type: ignore[no-any-return]


def practitioner_id_set(value: Iterable[PractitionerId | str]) -> frozenset[PractitionerId]:
    """An attrs converter: practitioner ids (or their string forms) as a frozenset."""
    return _id_set(value)  # type: ignore[no-any-return]


def location_id(value: LocationId | str) -> LocationId:
    """An attrs converter: a LocationId, or its string form (see :func:`is_id`)."""
    return _lenient(value)  # type: ignore[no-any-return]


def optional_location_id(value: LocationId | str | None) -> LocationId | None:
    return _lenient(value)  # type: ignore[no-any-return]


def practitioner_id(value: PractitionerId | str) -> PractitionerId:
    return _lenient(value)  # type: ignore[no-any-return]


def optional_practitioner_id(value: PractitionerId | str | None) -> PractitionerId | None:
    return _lenient(value)  # type: ignore[no-any-return]


def patient_id(value: PatientId | str) -> PatientId:
    return _lenient(value)  # type: ignore[no-any-return]


def optional_patient_id(value: PatientId | str | None) -> PatientId | None:
    return _lenient(value)  # type: ignore[no-any-return]


def service_id(value: ServiceId | str) -> ServiceId:
    return _lenient(value)  # type: ignore[no-any-return]


def appointment_id(value: AppointmentId | str) -> AppointmentId:
    return _lenient(value)  # type: ignore[no-any-return]


def optional_appointment_id(value: AppointmentId | str | None) -> AppointmentId | None:
    return _lenient(value)  # type: ignore[no-any-return]


def service_ids(value: Iterable[ServiceId | str]) -> tuple[ServiceId, ...]:
    """An attrs converter: the services of a request, in order, each named once and at
    least one (ids or their string forms)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("service_ids must be a sequence of service ids")
    ids = tuple(_lenient(v) for v in value)
    for item in ids:
        if not isinstance(item, uuid.UUID):
            raise ValidationError(_id_message("service_ids"))
    if not ids:
        raise ValidationError("name at least one service")
    if len(set(ids)) != len(ids):
        raise ValidationError("a service is named twice")
    return ids
