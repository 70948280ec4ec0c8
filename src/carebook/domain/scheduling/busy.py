"""Busy time as the storage port hands it over: one flat list per search; and when a
hold stops being busy time, the one comparison every storage and the aggregate use.

Holds, to the microsecond (docs/guarantees.md, "Holds keep their slot until their expiry"):

- A hold's expiry is a whole second: :func:`hold_expiry` rounds a finer one up, in the
  holder's favour. ``Appointment`` applies it to ``hold_expires_at``, so the expiry it
  reports (and announces in ``AppointmentHeld``) is exactly the one enforced.
- Storages keep that expiry as :func:`expiry_epoch` and compare it with
  :func:`now_epoch` of the caller's ``now`` by :func:`hold_blocks`: ``now < expiry``.
  ``now`` rounds down, so for a whole-second expiry this is exact to the microsecond: a
  hold expiring at 08:10:01 blocks at 08:10:00.999999 and is free at 08:10:01.
  A SQL storage writes the same test as ``hold_expires_at > :now``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Final, NamedTuple

import pendulum

from carebook.domain.instants import epoch_ceil, to_epoch

__all__ = [
    "PATIENT",
    "PRACTITIONER",
    "RESOURCE",
    "BusyIndex",
    "BusyInterval",
    "Span",
    "expiry_epoch",
    "hold_blocks",
    "hold_expiry",
    "index_busy",
    "now_epoch",
    "owner_key",
]

PRACTITIONER: Final = "practitioner"
RESOURCE: Final = "resource"
PATIENT: Final = "patient"

Span = tuple[int, int]
"""A half-open ``[start, end)`` span in epoch seconds."""


class BusyInterval(NamedTuple):
    """``owner`` (a practitioner, resource or patient) is occupied over ``[start, end)``.

    Times are epoch seconds and already include the buffers of the appointment that
    occupies them. ``appointment_id`` names it where the storage knows it cheaply; a
    storage may leave it None (the SQL one does: it applies ``exclude`` itself, and a
    search of thousands of spans then parses no ids).
    """

    owner_kind: str
    owner_id: uuid.UUID
    start: int
    end: int
    appointment_id: uuid.UUID | None = None


BusyIndex = dict[tuple[str, int], list[Span]]
"""Busy spans by ``(owner_kind, owner_id.int)``: integer keys hash in C, UUIDs do not."""


def index_busy(busy: Iterable[BusyInterval], *, exclude: uuid.UUID | None = None) -> BusyIndex:
    """Group busy spans by owner, sorted by start; skip appointment ``exclude`` (spans
    without an ``appointment_id`` are kept: their storage already left it out).

    Look an owner up with :func:`owner_key`.
    """
    grouped: BusyIndex = defaultdict(list)
    skip = exclude.int if exclude is not None else None
    owner: uuid.UUID | None = None
    kind = ""
    spans: list[Span] = []
    for item in busy:
        # Storages tend to return one owner's spans together: look the list up per run.
        if item.owner_id is not owner or item.owner_kind != kind:
            owner, kind = item.owner_id, item.owner_kind
            spans = grouped[(kind, owner.int)]
        if skip is None or item.appointment_id is None or item.appointment_id.int != skip:
            spans.append((item.start, item.end))
    for found in grouped.values():
        found.sort()
    return {key: found for key, found in grouped.items() if found}


def owner_key(kind: str, owner_id: uuid.UUID) -> tuple[str, int]:
    """The key of ``owner_id`` in a :data:`BusyIndex`."""
    return kind, owner_id.int


# -- holds: the one comparison ------------------------------------------------------------


def hold_expiry(expires_at: pendulum.DateTime | None) -> pendulum.DateTime | None:
    """``expires_at`` rounded up to a whole second (None stays None): a hold is never
    cut short, and its expiry is exactly what an epoch-second storage keeps."""
    if expires_at is None or expires_at.microsecond == 0:
        return expires_at
    return expires_at + dt.timedelta(microseconds=1_000_000 - expires_at.microsecond)


def expiry_epoch(expires_at: dt.datetime) -> int:
    """The epoch second a storage keeps for a hold expiring at ``expires_at`` (rounded
    up, like :func:`hold_expiry`)."""
    return epoch_ceil(expires_at)


def now_epoch(now: dt.datetime) -> int:
    """The epoch second ``now`` is compared with a hold's expiry in (rounded down)."""
    return to_epoch(now)


def hold_blocks(expiry: int, now: int) -> bool:
    """Whether a hold still blocks its time: ``expiry`` from :func:`expiry_epoch`, ``now``
    from :func:`now_epoch`. Half-open: at its expiry a hold is free."""
    return now < expiry
