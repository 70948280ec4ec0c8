"""Busy time as the storage port hands it over: one flat list per search."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Final, NamedTuple

__all__ = [
    "PATIENT",
    "PRACTITIONER",
    "RESOURCE",
    "BusyIndex",
    "BusyInterval",
    "Span",
    "index_busy",
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
