"""Releasing expired holds before a write claims their time: holds past their expiry stop
blocking (``blocks_time`` false) in the span and for the owners a new or moved appointment
occupies. The hold itself stays ``proposed`` until the expiry sweep cancels it."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, or_, update

from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook_sqlalchemy.repositories.base import APPOINTMENTS, APPT_RESOURCES
from carebook_sqlalchemy.repositories.locks import LOCK_KEYS, taking_locks

__all__ = ["release_expired_holds"]


def release_expired_holds(
    conn: Connection, appointment: Appointment, start: int, end: int, now: int, keys: list[int]
) -> None:
    """Holds past their expiry stop blocking time before a new row claims it (the
    hold itself stays ``proposed`` until the expiry sweep cancels it). On PostgreSQL
    (``keys`` given) the release writes the owners' time, so it takes their locks."""
    release, resources = (
        (_LOCKED_RELEASE_APPOINTMENTS, _LOCKED_RELEASE_RESOURCES)
        if keys
        else (_RELEASE_APPOINTMENTS, _RELEASE_RESOURCES)
    )
    params = {
        **({LOCK_KEYS: keys} if keys else {}),
        "start": start,
        "end": end,
        "now": now,
        "practitioner": appointment.practitioner_id,
        "patient": appointment.patient_id,
        "resources": list(appointment.resource_ids),
    }
    conn.execute(release, params)
    if appointment.resource_ids:
        conn.execute(resources, params)


# Holds that no longer block (not busy.hold_blocks): ``:now`` is busy.now_epoch and the
# hold_expires_at columns hold busy.expiry_epoch.
_EXPIRED_OVERLAPPING = (
    APPOINTMENTS.c.status == AppointmentStatus.PROPOSED.value,
    APPOINTMENTS.c.blocks_time.is_(True),
    APPOINTMENTS.c.hold_expires_at <= bindparam("now"),
    APPOINTMENTS.c.occupied_start < bindparam("end"),
    APPOINTMENTS.c.occupied_end > bindparam("start"),
)
_RELEASE_APPOINTMENTS = (
    update(APPOINTMENTS)
    .where(
        *_EXPIRED_OVERLAPPING,
        or_(
            APPOINTMENTS.c.practitioner_id == bindparam("practitioner"),
            APPOINTMENTS.c.patient_id == bindparam("patient"),
        ),
    )
    .values(blocks_time=False)
)
_RELEASE_RESOURCES = (
    update(APPT_RESOURCES)
    .where(
        APPT_RESOURCES.c.resource_id.in_(bindparam("resources", expanding=True)),
        APPT_RESOURCES.c.blocks_time.is_(True),
        APPT_RESOURCES.c.hold_expires_at <= bindparam("now"),
        APPT_RESOURCES.c.occupied_start < bindparam("end"),
        APPT_RESOURCES.c.occupied_end > bindparam("start"),
    )
    .values(blocks_time=False)
)
# PostgreSQL: the same, once the owners' locks are taken. In the statement itself, not
# before it: a writer that stalls between its busy read and the release holds no lock,
# so a confirmation of the hold it is about to release goes first and the release,
# let in after it, re-checks the row (READ COMMITTED) and leaves it alone.
_LOCKED_RELEASE_APPOINTMENTS = _RELEASE_APPOINTMENTS.where(taking_locks())
_LOCKED_RELEASE_RESOURCES = _RELEASE_RESOURCES.where(taking_locks())
