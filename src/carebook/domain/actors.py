"""Who is acting: a patient, staff of some locations, an administrator, or the system."""

from __future__ import annotations

import enum

import attrs
from attrs import frozen

from carebook.domain.ids import LocationId, PatientId
from carebook.domain.validators import to_frozenset

__all__ = ["Actor", "ActorKind"]


class ActorKind(enum.StrEnum):
    """The four kinds of caller a use case distinguishes."""

    PATIENT = "patient"
    STAFF = "staff"
    ADMIN = "admin"
    SYSTEM = "system"


@frozen
class Actor:
    """The caller of a use case. Build one with the named constructors."""

    kind: ActorKind
    ref: str = ""
    patient_id: PatientId | None = None
    location_ids: frozenset[LocationId] = attrs.field(factory=frozenset, converter=to_frozenset)

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
