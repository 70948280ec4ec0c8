"""Busy time as the storage port hands it over: one flat list per search."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Final, NamedTuple

__all__ = ["PATIENT", "PRACTITIONER", "RESOURCE", "BusyInterval", "Span", "index_busy"]

PRACTITIONER: Final = "practitioner"
RESOURCE: Final = "resource"
PATIENT: Final = "patient"

Span = tuple[int, int]
"""A half-open ``[start, end)`` span in epoch seconds."""


class BusyInterval(NamedTuple):
    """``owner`` (a practitioner, resource or patient) is occupied over ``[start, end)``.

    Times are epoch seconds and already include the buffers of the appointment
    (``appointment_id``) that occupies them.
    """

    owner_kind: str
    owner_id: uuid.UUID
    start: int
    end: int
    appointment_id: uuid.UUID


def index_busy(
    busy: Iterable[BusyInterval], *, exclude: uuid.UUID | None = None
) -> dict[tuple[str, uuid.UUID], list[Span]]:
    """Group busy spans by owner, sorted by start; skip appointment ``exclude``."""
    grouped: dict[tuple[str, uuid.UUID], list[Span]] = defaultdict(list)
    for item in busy:
        if item.appointment_id != exclude:
            grouped[(item.owner_kind, item.owner_id)].append((item.start, item.end))
    for spans in grouped.values():
        spans.sort()
    return dict(grouped)
