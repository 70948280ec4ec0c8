"""Patients over SQLAlchemy."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, bindparam, select

from carebook.domain.ids import PatientId
from carebook.domain.scheduling.calendar import Patient
from carebook.serialization import dumps, loads
from carebook_sqlalchemy.repositories.base import ORGS, PATIENTS, Rows

__all__ = ["PatientRepository"]


class PatientRepository:
    """``uow.patients``; a read also notes the calendar version of the patient's organisation."""

    def __init__(
        self, conn: Connection, *, write: bool, seen_versions: dict[uuid.UUID, int]
    ) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)
        self._seen_versions = seen_versions

    def get(self, patient_id: PatientId) -> Patient | None:
        """The patient, and (in the same statement) the calendar version of their
        organisation, which saves the calendar load that usually follows a query."""
        row = self._conn.execute(_PATIENT_WITH_VERSION, {"id": patient_id}).first()
        if row is None:
            return None
        patient = loads(row.data, Patient)
        self._seen_versions[patient.organisation_id] = int(row.calendar_version)
        return patient

    def save(self, patient: Patient) -> None:
        self._rows.upsert(
            PATIENTS,
            {"id": patient.id, "organisation_id": patient.organisation_id, "data": dumps(patient)},
        )


_PATIENT_WITH_VERSION = (
    select(PATIENTS.c.data, ORGS.c.calendar_version)
    .join(ORGS, ORGS.c.id == PATIENTS.c.organisation_id)
    .where(PATIENTS.c.id == bindparam("id"))
)
