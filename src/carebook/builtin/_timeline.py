"""A sorted list of occupied spans for one owner, searchable by time."""

from __future__ import annotations

import bisect
import uuid

__all__ = ["Timeline"]

Entry = tuple[int, int, uuid.UUID]


class Timeline:
    """Spans sorted by start. ``overlapping`` costs O(log n + k): it only looks back as
    far as the longest span ever stored, so it grows with the window, not the history."""

    __slots__ = ("entries", "longest")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.longest = 0

    def add(self, start: int, end: int, ident: uuid.UUID) -> None:
        bisect.insort(self.entries, (start, end, ident))
        self.longest = max(self.longest, end - start)

    def remove(self, start: int, end: int, ident: uuid.UUID) -> None:
        i = bisect.bisect_left(self.entries, (start, end, ident))
        if i < len(self.entries) and self.entries[i] == (start, end, ident):
            del self.entries[i]

    def overlapping(self, start: int, end: int) -> list[Entry]:
        lo = bisect.bisect_left(self.entries, (start - self.longest,))
        hi = bisect.bisect_left(self.entries, (end,))
        return [e for e in self.entries[lo:hi] if e[1] > start]
