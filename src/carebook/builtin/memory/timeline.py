"""A sorted list of occupied spans for one owner, searchable by time."""

from __future__ import annotations

import bisect

from carebook.domain.scheduling.busy import BusyInterval

__all__ = ["Timeline"]

Entry = tuple[int, int, int, BusyInterval, int | None]
"""``(start, end, appointment_id.int, busy_interval, hold_expiry_epoch_or_None)``; the
expiry is :func:`~carebook.domain.scheduling.busy.expiry_epoch` of the hold's."""


class Timeline:
    """Spans sorted by start. ``overlapping`` costs O(log n + k): it only looks back as
    far as the longest span ever stored, so it grows with the window, not the history.
    Entries carry their ready-made BusyInterval, so a search allocates nothing per hit."""

    __slots__ = ("entries", "longest")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.longest = 0

    def add(self, busy: BusyInterval, expires: int | None) -> None:
        assert busy.appointment_id is not None, "the memory storage names every span"
        entry = (busy.start, busy.end, busy.appointment_id.int, busy, expires)
        bisect.insort(self.entries, entry)
        self.longest = max(self.longest, busy.end - busy.start)

    def remove(self, busy: BusyInterval) -> None:
        assert busy.appointment_id is not None, "the memory storage names every span"
        key = (busy.start, busy.end, busy.appointment_id.int)
        i = bisect.bisect_left(self.entries, key)
        if i < len(self.entries) and self.entries[i][:3] == key:
            del self.entries[i]

    def overlapping(self, start: int, end: int) -> list[Entry]:
        lo = bisect.bisect_left(self.entries, (start - self.longest,))
        hi = bisect.bisect_left(self.entries, (end,))
        return [e for e in self.entries[lo:hi] if e[1] > start]
