"""Who is acting: a patient, staff of some locations, an administrator, or the system."""

from __future__ import annotations

import enum

import attrs
from attrs import frozen

from carebook.domain import ids
from carebook.domain.ids import LocationId, PatientId
from carebook.domain.validators import MAX_NAME, text, to_enum
from carebook.errors import ValidationError

__all__ = ["Actor", "ActorKind"]


class ActorKind(enum.StrEnum):
    """The four kinds of caller a use case distinguishes."""

    PATIENT = "patient"
    STAFF = "staff"
    ADMIN = "admin"
    SYSTEM = "system"


def _kind(value: object) -> ActorKind:
    return to_enum(ActorKind, value, "kind")


@frozen
class Actor:
    """The caller of a use case. Build one with the named constructors.

    A wrong ``kind``, a ``ref`` that is not clean text, or a patient without a
    ``patient_id`` (or anyone else with one) is a ValidationError here, at construction.
    """

    kind: ActorKind = attrs.field(converter=_kind)
    ref: str = attrs.field(default="", validator=text(MAX_NAME, allow_empty=True))
    patient_id: PatientId | None = attrs.field(
        default=None,
        converter=ids.optional_patient_id,
        validator=attrs.validators.optional(ids.is_id),
    )
    location_ids: frozenset[LocationId] = attrs.field(
        factory=frozenset, converter=ids.location_id_set, validator=ids.each_id
    )

    def __attrs_post_init__(self) -> None:
        if (self.kind is ActorKind.PATIENT) != (self.patient_id is not None):
            raise ValidationError("patient_id is given for a patient actor, and only for one")

    @classmethod
    def patient(cls, patient_id: PatientId) -> Actor:
        return cls(ActorKind.PATIENT, ref=str(patient_id), patient_id=patient_id)

    @classmethod
    def staff(cls, *location_ids: LocationId, ref: str = "staff") -> Actor:
        return cls(ActorKind.STAFF, ref=ref, location_ids=frozenset(location_ids))

    @classmethod
    def admin(cls, ref: str = "admin") -> Actor:
        return cls(ActorKind.ADMIN, ref=ref)

    @classmethod
    def system(cls, ref: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, ref=ref)

    @property
    def is_privileged(self) -> bool:
        """Admin or system: may act anywhere."""
        return self.kind in (ActorKind.ADMIN, ActorKind.SYSTEM)

    def works_at(self, location_id: LocationId) -> bool:
        return self.is_privileged or (
            self.kind is ActorKind.STAFF and location_id in self.location_ids
        )
