"""What a storage holds, read through the Storage port, to compare before and after a call.

:func:`storage_state` reads one clinic's rows (its calendar, patients, appointments,
pricing, audit trail, promo codes, walk-in queues and duty, unfinished sagas) and the
whole outbox. Every write carebook commits appends an event to the outbox, so with
``dispatch="manual"`` (nothing delivered, nothing marked) an unchanged outbox already
means nothing was committed; the rows make the comparison exact. An adapter may compare
more (carebook-sqlalchemy's tests dump every table).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from carebook.domain.ids import OrganisationId, PatientId
from carebook.ports import Storage

__all__ = ["storage_state"]

_EVERYTHING = 1_000_000


def storage_state(
    storage: Storage,
    organisation_id: OrganisationId,
    patient_ids: Iterable[PatientId],
    promo_codes: Collection[str] = (),
) -> tuple[Any, ...]:
    """A comparable picture of everything ``storage`` holds for the organisation."""
    patients = sorted(patient_ids, key=str)
    with storage.unit_of_work() as uow:
        calendar = uow.calendar.load(organisation_id)
        locations = sorted(calendar.locations, key=str) if calendar else []
        return (
            calendar,
            [uow.patients.get(p) for p in patients],
            [uow.appointments.for_patient(p) for p in patients],
            uow.outbox.pending(_EVERYTHING),
            uow.pricing.get_config(organisation_id),
            uow.pricing.audit_log(organisation_id, _EVERYTHING),
            [uow.pricing.get_promo(organisation_id, code) for code in sorted(promo_codes)],
            [uow.walkins.get_settings(loc) for loc in locations],
            uow.walkins.active_entries(locations),
            uow.walkins.on_duty(locations),
            uow.sagas.unfinished(_EVERYTHING, None),
        )
