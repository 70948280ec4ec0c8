"""Owner locks on PostgreSQL: writers of one owner's time queue, in one order, before they
write it.

An exclusion constraint inserts a row's index entry first and looks for clashes after,
so two transactions inserting clashing rows at the same moment can each find the other's
uncommitted row and wait for it: a deadlock (40P01) that PostgreSQL breaks after
``deadlock_timeout`` by failing one of them. Under a crowd after one slot these came in
storms. So every statement that writes time an appointment occupies first takes a
transaction-level advisory lock per owner (practitioner, patient, each resource), in
ascending key order: contenders for a common owner then run one after another, and
locks taken in one order cannot wait in a cycle. The loser, let in after the winner
committed, meets the winner's row at the constraint: ``slot_unavailable``, at once.

The locks ride inside the statement that writes (no extra round trip) and end with the
transaction. SQLite needs none: its writers are serialised by ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Table, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects import postgresql

from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.busy import PATIENT, PRACTITIONER, RESOURCE

__all__ = ["LOCK_KEYS", "lock_keys", "locked_insert", "owners_locked", "taking_locks"]

LOCK_KEYS = "lock_keys"
"""The bind parameter holding a statement's sorted lock keys."""

_NAMESPACE = b"carebook/owner-time/"


def _key(kind: str, owner: uuid.UUID) -> int:
    digest = hashlib.blake2b(_NAMESPACE + kind.encode() + owner.bytes, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_keys(appointment: Appointment) -> list[int]:
    """The advisory lock keys of the owners whose time ``appointment`` occupies, sorted:
    a signed 64-bit hash of a namespace, the kind of owner and its id."""
    owners: Iterable[tuple[str, uuid.UUID]] = (
        (PRACTITIONER, appointment.practitioner_id),
        (PATIENT, appointment.patient_id),
        *((RESOURCE, rid) for rid in appointment.resource_ids),
    )
    return sorted({_key(kind, owner) for kind, owner in owners})


def owners_locked() -> Any:
    """``SELECT count(*)`` after taking the lock of every key in ``:lock_keys``, one
    after another in ascending order; it waits while another transaction holds one."""
    keys = select(
        func.unnest(cast(bindparam(LOCK_KEYS), postgresql.ARRAY(BigInteger))).label("k")
    ).subquery("owners")
    ordered = select(keys.c.k).order_by(keys.c.k).subquery("ordered")
    return select(func.count(func.pg_advisory_xact_lock(ordered.c.k)).label("locked"))


def locked_insert(table: Table) -> Any:
    """``INSERT INTO table`` of one row from bind parameters named after its columns, which
    first takes the owners' locks (:func:`owners_locked`)."""
    names = [c.name for c in table.columns]
    # The psycopg dialect sends each parameter with its type (``%(id)s::UUID``).
    row = [bindparam(c.name, type_=c.type) for c in table.columns]
    locked = owners_locked().subquery("locked")
    return table.insert().from_select(names, select(*row).select_from(locked))


def taking_locks() -> Any:
    """A condition that is always true, once the owners' locks are taken: for the WHERE
    of an UPDATE (an uncorrelated subquery runs at most once, before the row is written)."""
    return owners_locked().scalar_subquery() >= literal_column("0")
